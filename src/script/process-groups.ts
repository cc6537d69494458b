// Every script runs in its own process group (a new session: setsid), and everything in
// that group is bounded by the script's timeout: at the deadline, or when the run is
// aborted (its script removed by a reload, its checker stopped), the group gets SIGTERM and,
// `killGraceMs` later, SIGKILL, as keepalived treats a timed-out vrrp_script or MISC_CHECK.
// Unlike keepalived, that also holds for what a script leaves behind after it exits (its
// background children stay in its group until the deadline) and for notify scripts, and
// `stop()` ends every group still alive, so no script outlives the process that ran it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Ids } from './users.js';

export interface Launch {
  program: string;
  args: readonly string[];
  /** uid:gid to run as (supplementary groups are dropped). */
  ids: Ids;
  /** A `</path` test: run by /bin/sh as keepalived's system() does. */
  shell?: boolean;
  timeoutMs: number;
  /** Aborting ends the run (result `aborted`) and the whole group. */
  signal?: AbortSignal;
}

export type ScriptEnd =
  | { how: 'exit'; code: number }
  | { how: 'signal'; signal: NodeJS.Signals }
  | { how: 'timeout'; ms: number }
  | { how: 'aborted' }
  | { how: 'spawn-failed'; error: string };

/** One line for logs: `exit 3`, `timeout after 300 ms`, ... */
export function describeEnd(e: ScriptEnd): string {
  switch (e.how) {
    case 'exit':
      return `exit ${e.code}`;
    case 'signal':
      return `killed by ${e.signal}`;
    case 'timeout':
      return `timeout after ${e.ms} ms`;
    case 'aborted':
      return 'aborted';
    case 'spawn-failed':
      return `spawn failed: ${e.error}`;
  }
}

interface Group {
  pgid: number;
  leaderExited: boolean;
  deadline: NodeJS.Timeout | null;
  kill: NodeJS.Timeout | null;
  gone: () => void;
  done: Promise<void>;
}

/** How a shell would quote the words keepalived passes to system(): each in '...'. */
function shellLine(program: string, args: readonly string[]): string {
  const q = (w: string) => `'${w.replaceAll("'", "'\\''")}'`;
  return [program, ...args.map(q)].join(' ');
}

export class ProcessGroups {
  private readonly groups = new Map<number, Group>();
  private readonly killGraceMs: number;

  constructor(opts: { killGraceMs?: number } = {}) {
    this.killGraceMs = opts.killGraceMs ?? 2000;
  }

  /** Process group ids still alive (or being killed). */
  get live(): number[] {
    return [...this.groups.keys()];
  }

  /** Runs one script; resolves with how its own process ended (or the timeout). */
  run(l: Launch): Promise<ScriptEnd> {
    if (l.signal?.aborted) return Promise.resolve({ how: 'aborted' });
    return new Promise((resolve) => {
      let settled = false;
      const settle = (e: ScriptEnd) => {
        if (settled) return;
        settled = true;
        l.signal?.removeEventListener('abort', onAbort);
        resolve(e);
      };
      const [file, argv] = l.shell ? ['/bin/sh', ['-c', shellLine(l.program, l.args)]] : [l.program, l.args];
      let child;
      try {
        // running as ourselves needs no change of ids (and a non-root process may make none)
        const self = l.ids.uid === process.geteuid?.() && l.ids.gid === process.getegid?.();
        child = spawn(file, argv, { stdio: 'ignore', detached: true, ...(self ? {} : { uid: l.ids.uid, gid: l.ids.gid }) });
      } catch (e) {
        settle({ how: 'spawn-failed', error: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
        return;
      }
      child.once('error', (e: NodeJS.ErrnoException) => settle({ how: 'spawn-failed', error: e.code ?? e.message }));
      const pid = child.pid;
      if (pid === undefined) return; // the 'error' event follows
      const g = this.track(pid);
      // Infinity: a script with no deadline (a notify FIFO's reader)
      if (Number.isFinite(l.timeoutMs)) {
        g.deadline = setTimeout(() => {
          g.deadline = null;
          if (!g.leaderExited) settle({ how: 'timeout', ms: l.timeoutMs });
          this.terminate(g);
        }, l.timeoutMs);
        g.deadline.unref();
      }
      const onAbort = () => {
        settle({ how: 'aborted' });
        this.terminate(g);
      };
      l.signal?.addEventListener('abort', onAbort, { once: true });
      child.once('exit', (code, signal) => {
        g.leaderExited = true;
        settle(code === null ? { how: 'signal', signal: signal! } : { how: 'exit', code });
        // nothing left behind: done with this group; otherwise the deadline ends the rest
        if (g.kill === null && !this.alive(g)) this.forget(g);
      });
    });
  }

  /** SIGTERM to every group, SIGKILL `graceMs` later; resolves once all are gone. */
  async stop(graceMs = 1000): Promise<void> {
    const all = [...this.groups.values()];
    for (const g of all) this.terminate(g, graceMs);
    await Promise.all(all.map((g) => g.done));
  }

  private track(pgid: number): Group {
    let gone!: () => void;
    const done = new Promise<void>((r) => (gone = r));
    const g: Group = { pgid, leaderExited: false, deadline: null, kill: null, gone, done };
    this.groups.set(pgid, g);
    return g;
  }

  private forget(g: Group): void {
    if (g.deadline) clearTimeout(g.deadline);
    if (g.kill) clearInterval(g.kill);
    g.deadline = g.kill = null;
    if (this.groups.get(g.pgid) === g) this.groups.delete(g.pgid);
    g.gone();
  }

  /**
   * Whether the group still has members of ours. Once its leader is reaped, a live process
   * whose pid is the group's number is a newcomer that reused it, not ours.
   */
  private alive(g: Group): boolean {
    if (g.leaderExited && existsSync(`/proc/${g.pgid}`)) return false;
    try {
      process.kill(-g.pgid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  private signal(g: Group, sig: NodeJS.Signals): void {
    if (!this.alive(g)) return;
    try {
      process.kill(-g.pgid, sig);
    } catch {
      /* gone meanwhile */
    }
  }

  private terminate(g: Group, graceMs = this.killGraceMs): void {
    if (g.deadline) clearTimeout(g.deadline);
    g.deadline = null;
    if (g.kill) return; // already on its way out
    if (!this.alive(g)) {
      // a leader not reaped yet is ending by itself: its exit forgets the group
      if (g.leaderExited) this.forget(g);
      return;
    }
    this.signal(g, 'SIGTERM');
    const started = Date.now();
    let killed = false;
    // look often, so a group that obeys SIGTERM is done with at once, not after the grace
    g.kill = setInterval(() => {
      if (!this.alive(g)) {
        if (g.leaderExited || killed) this.forget(g);
        return;
      }
      if (!killed && Date.now() - started >= graceMs) {
        killed = true;
        this.signal(g, 'SIGKILL');
      } else if (killed && Date.now() - started >= graceMs + 1000) {
        this.forget(g); // unreaped zombies of a slow init: nothing more to send them
      }
    }, 20);
    g.kill.unref();
  }
}
