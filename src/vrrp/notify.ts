// Notify scripts and the vrrp_notify_fifo, as keepalived runs them: argv without a shell
// (the config parser already split the command the way keepalived does), started in the
// order the state machine emitted them, not awaited (a slow script must not hold VRRP up),
// as the script's own user, else script_user, else root; with enable_script_security an
// insecure script is refused instead of being run as root.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsc, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { Logger } from '../log/logger.js';
import { lookupUser, scriptInsecurity, type RunAs } from '../check/script-security.js';

export interface ScriptPolicy {
  /** global_defs script_user: the default user for scripts without their own. */
  scriptUser: { user: string; group: string | null } | null;
  enableScriptSecurity: boolean;
}

export interface ScriptToRun {
  argv: string[];
  user: string | null;
  group: string | null;
}

export type RunAsDecision = { ok: true; runAs: RunAs | null } | { ok: false; why: string };

/** Who a script runs as, or why it must not run at all. */
export function decideRunAs(s: ScriptToRun, policy: ScriptPolicy, insecure = scriptInsecurity): RunAsDecision {
  if (s.argv.length === 0) return { ok: false, why: 'empty command' };
  const user = s.user ?? policy.scriptUser?.user ?? null;
  const group = s.user ? s.group : policy.scriptUser?.group ?? null;
  let runAs: RunAs | null = null;
  if (user) {
    runAs = lookupUser(user, group);
    if (!runAs) return { ok: false, why: `unknown user ${user}${group ? `:${group}` : ''}` };
  }
  if (policy.enableScriptSecurity) {
    const why = insecure(s.argv[0]!, runAs ?? { uid: 0, gid: 0 });
    if (why) return { ok: false, why: `insecure script (enable_script_security): ${why}` };
  }
  return { ok: true, runAs };
}

export class NotifyRunner {
  constructor(
    private readonly policy: ScriptPolicy,
    private readonly log: Logger,
  ) {}

  /** Starts the script and returns at once; its exit is only logged. */
  run(s: ScriptToRun): void {
    const d = decideRunAs(s, this.policy);
    if (!d.ok) {
      this.log.error({ script: s.argv.join(' ') }, `not running notify script: ${d.why}`);
      return;
    }
    const child = spawn(s.argv[0]!, s.argv.slice(1), {
      stdio: 'ignore',
      detached: true, // its own process group: our TERM must not reach it through the tty
      ...(d.runAs ? { uid: d.runAs.uid, gid: d.runAs.gid } : {}),
    });
    child.once('error', (e) => this.log.error({ script: s.argv.join(' ') }, `notify script failed to start: ${e.message}`));
    child.once('exit', (code, signal) => {
      if (code !== 0) this.log.warn({ script: s.argv.join(' '), code, signal }, 'notify script exited with failure');
    });
    child.unref();
  }
}

/** The line keepalived writes to the notify FIFO for an instance or a sync group. */
export function fifoLine(kind: 'INSTANCE' | 'GROUP', name: string, state: string, priority?: number): string {
  return kind === 'INSTANCE' ? `INSTANCE "${name}" ${state} ${priority ?? 0}\n` : `GROUP "${name}" ${state}\n`;
}

/**
 * vrrp_notify_fifo: created if missing, opened read-write and non-blocking so a missing
 * reader never blocks VRRP (lines are dropped while nobody reads and the pipe is full).
 */
export class NotifyFifo {
  private fd: number | null = null;

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {
    if (!existsSync(path)) execFileSync('mkfifo', ['-m', '0600', path]);
    if (!statSync(path).isFIFO()) throw new Error(`vrrp_notify_fifo ${path} exists and is not a FIFO`);
    this.fd = openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK);
  }

  write(line: string): void {
    if (this.fd === null) return;
    try {
      writeSync(this.fd, line);
    } catch (err) {
      this.log.warn({ fifo: this.path }, `notify fifo write dropped: ${(err as Error).message}`);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * vrrp_notify_fifo_script: keepalived starts it once with the FIFO's path as its last
 * argument, as a long-lived reader of the lines, and stops it (TERM) when VRRP stops.
 */
export function startFifoScript(s: ScriptToRun, fifoPath: string, policy: ScriptPolicy, log: Logger): ChildProcess | null {
  const d = decideRunAs(s, policy);
  if (!d.ok) {
    log.error({ script: s.argv.join(' ') }, `not running notify fifo script: ${d.why}`);
    return null;
  }
  const child = spawn(s.argv[0]!, [...s.argv.slice(1), fifoPath], {
    stdio: 'ignore',
    detached: true,
    ...(d.runAs ? { uid: d.runAs.uid, gid: d.runAs.gid } : {}),
  });
  child.once('error', (e) => log.error({ script: s.argv.join(' ') }, `notify fifo script failed to start: ${e.message}`));
  child.unref();
  return child;
}
