// Forking a child, and forking one early. A child's Node start and module loading take longer
// than anything the parent does before it can fork it (importing the daemon, reading and
// validating the config), and the child does nothing but ask for its config once up: so the
// command forks the children the config is likely to need first, and the Supervisor adopts
// them once the config is accepted (bench/README.md, "Start-up"). A child forked early that
// the config turns out not to need, or whose command line differs from the one the accepted
// config gives, is killed before it has done anything (it waits for its config).
import { fork, type ChildProcess } from 'node:child_process';
import type { ChildRole } from './ipc.js';

export interface ChildSpec {
  role: ChildRole;
  /** The JS module forked for this child. */
  modulePath: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Node flags for the child. Never inherited: the parent's own (`-e`, `--inspect`) would break it. */
  execArgv?: string[];
}

/** Forks one child as the Supervisor runs it. */
export function forkChild(spec: ChildSpec): ChildProcess {
  return fork(spec.modulePath, spec.args, {
    env: { ...process.env, ...spec.env, KEEPALIVED_TS_ROLE: spec.role },
    execArgv: spec.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // a config snapshot travels as bytes, not as JSON text
    serialization: 'advanced',
  });
}

const sameSpec = (a: ChildSpec, b: ChildSpec): boolean =>
  a.role === b.role &&
  a.modulePath === b.modulePath &&
  JSON.stringify([a.args, a.env ?? {}, a.execArgv ?? []]) === JSON.stringify([b.args, b.env ?? {}, b.execArgv ?? []]);

/**
 * A child forked before the Supervisor runs: it keeps what the child says meanwhile (its
 * config request) for whoever adopts it.
 */
export class EarlyChild {
  readonly proc: ChildProcess;
  private readonly backlog: unknown[] = [];
  private readonly keep = (m: unknown) => void this.backlog.push(m);
  private readonly ignoreError = () => undefined;
  private taken = false;

  constructor(readonly spec: ChildSpec) {
    this.proc = forkChild(spec);
    this.proc.on('message', this.keep);
    // a child gone before it is adopted must not take the parent down
    this.proc.on('error', this.ignoreError);
  }

  /**
   * The process and the messages it sent so far, when it runs what `spec` asks and is still
   * alive; null otherwise (then discard() it). Once only.
   */
  adopt(spec: ChildSpec): { proc: ChildProcess; backlog: unknown[] } | null {
    const alive = this.proc.exitCode === null && this.proc.signalCode === null && this.proc.connected;
    if (this.taken || !alive || !sameSpec(this.spec, spec)) return null;
    this.taken = true;
    this.proc.off('message', this.keep);
    this.proc.off('error', this.ignoreError);
    return { proc: this.proc, backlog: this.backlog.splice(0) };
  }

  /** Kills it unless adopted: it has not started anything yet (it waits for its config). */
  discard(): void {
    if (this.taken) return;
    this.taken = true;
    this.proc.off('message', this.keep);
    this.proc.kill('SIGKILL');
    if (this.proc.connected) this.proc.disconnect();
  }
}
