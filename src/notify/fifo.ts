// The notify FIFOs (notify_fifo, vrrp_notify_fifo, lvs_notify_fifo): which ones a process
// opens, the lines keepalived 2.2.7 writes to them, and the FIFOs themselves with their
// reader scripts. The VRRP child writes instance and sync group lines, the checker child
// virtual and real server lines; both write to the global notify_fifo, as keepalived's do.
import { chownSync, closeSync, constants as fsc, existsSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { GlobalDefs, NotifyFifo, ScriptSpec } from '../config/model.js';
import { describeEnd, ownerOf, type Ids, type ScriptHost } from '../script/index.js';

export type FifoSide = 'vrrp' | 'lvs';

export interface FifoPlan extends NotifyFifo {
  /** The keyword that named it: `notify_fifo`, `vrrp_notify_fifo`, `lvs_notify_fifo`. */
  keyword: string;
}

/**
 * The FIFOs one child opens, global first, with keepalived's rules for overlaps: a side FIFO
 * on the global FIFO's path is dropped (its lines would be written twice), and when the
 * VRRP and LVS FIFOs share a path and both have a script, the LVS script is dropped.
 * `notes` are keepalived's log lines for what it dropped.
 */
export function fifoPlan(g: Pick<GlobalDefs, 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo'>, side: FifoSide): { fifos: FifoPlan[]; notes: string[] } {
  const fifos: FifoPlan[] = [];
  const notes: string[] = [];
  if (g.notifyFifo) fifos.push({ keyword: 'notify_fifo', ...g.notifyFifo });
  const own = side === 'vrrp' ? g.vrrpNotifyFifo : g.lvsNotifyFifo;
  if (!own) return { fifos, notes };
  if (g.notifyFifo && g.notifyFifo.path === own.path) {
    const which = side === 'vrrp' ? 'vrrp' : 'LVS';
    notes.push(`notify FIFO ${own.path} has been specified for global and ${which} FIFO - ignoring ${which} FIFO`);
    return { fifos, notes };
  }
  let script = own.script;
  if (side === 'lvs' && script && g.vrrpNotifyFifo?.path === own.path && g.vrrpNotifyFifo.script) {
    notes.push('LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script');
    script = null;
  }
  fifos.push({ keyword: `${side}_notify_fifo`, path: own.path, script, owner: own.owner });
  return { fifos, notes };
}

/** A VRRP state a FIFO line names (keepalived's words), or a priority event. */
export type VrrpFifoState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED' | 'MASTER_PRIORITY' | 'BACKUP_PRIORITY' | 'MASTER_RX_LOWER_PRI';

/** `INSTANCE "VI_1" MASTER 150`; a sync group's priority is always 0. */
export function vrrpFifoLine(kind: 'INSTANCE' | 'GROUP', name: string, state: VrrpFifoState, priority = 0): string {
  return `${kind} "${name}" ${state} ${kind === 'GROUP' ? 0 : priority}\n`;
}

/** `VS [10.0.0.1]:tcp:80 UP` (the endpoint in keepalived's FMT_VS form). */
export function virtualServerFifoLine(vs: string, up: boolean): string {
  return `VS ${vs} ${up ? 'UP' : 'DOWN'}\n`;
}

/** `RS [192.168.0.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN`. */
export function realServerFifoLine(rs: string, vs: string, up: boolean): string {
  return `RS ${rs} ${vs} ${up ? 'UP' : 'DOWN'}\n`;
}

/**
 * The chown keepalived makes of a FIFO it created: none when the owner is the daemon itself,
 * else only the ids that differ (-1 leaves one as it is).
 */
export function fifoChown(owner: Ids, self: Ids): Ids | null {
  if (owner.uid === self.uid && owner.gid === self.gid) return null;
  return { uid: owner.uid === self.uid ? -1 : owner.uid, gid: owner.gid === self.gid ? -1 : owner.gid };
}

export interface FifoLog {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
}

interface OpenFifo {
  plan: FifoPlan;
  fd: number;
  created: boolean;
  reader: AbortController | null;
}

/**
 * One child's open notify FIFOs. Each is created if missing, its script started with the
 * FIFO's path as last argument, then opened read-write and non-blocking, as keepalived does:
 * a missing or slow reader never blocks VRRP (lines are dropped while the pipe is full).
 */
export class NotifyFifos {
  private open: OpenFifo[] = [];
  readonly key: string;

  constructor(
    plan: { fifos: FifoPlan[]; notes: string[] },
    side: FifoSide,
    private readonly scripts: ScriptHost,
    private readonly log: FifoLog,
  ) {
    this.key = JSON.stringify(plan.fifos);
    for (const note of plan.notes) log.info({}, note);
    for (const f of plan.fifos) {
      const opened = this.openOne(f, side);
      if (opened) this.open.push(opened);
    }
  }

  get paths(): string[] {
    return this.open.map((f) => f.plan.path);
  }

  private openOne(plan: FifoPlan, side: FifoSide): OpenFifo | null {
    const kind = plan.keyword === 'notify_fifo' ? '' : `${side}_`;
    const { who, self } = this.scripts.runAs(ownerOf(plan.owner?.user ?? null, plan.owner?.group ?? null));
    if (!who.ok) {
      // keepalived drops the FIFO when it reads the line
      this.log.warn(
        { fifo: plan.path, why: who.why },
        who.ownUser
          ? `Invalid user/group for ${kind}notify fifo ${plan.path} - ignoring`
          : `Failed to set default user for ${kind}notify fifo ${plan.path} - ignoring`,
      );
      return null;
    }
    let created = false;
    try {
      if (!existsSync(plan.path)) {
        // keepalived's mkfifo(0644) under the daemon's umask (0177 unless -u): mkfifo -m alone ignores the umask
        execFileSync('mkfifo', ['-m', (0o644 & ~process.umask()).toString(8), plan.path], { stdio: 'ignore' });
        created = true;
        const owner = fifoChown(who.ids, self);
        if (owner) {
          try {
            chownSync(plan.path, owner.uid, owner.gid);
          } catch {
            this.log.warn({ fifo: plan.path }, `Failed to set uid:gid for fifo ${plan.path}`);
          }
        }
      } else if (!statSync(plan.path).isFIFO()) {
        this.log.warn({ fifo: plan.path }, `Unable to open ${kind}notify fifo ${plan.path} - it exists and is not a FIFO`);
        return null;
      }
    } catch {
      this.log.warn({ fifo: plan.path }, `Unable to create ${kind}notify fifo ${plan.path}`);
      return null;
    }
    const reader = plan.script ? this.startReader(plan.script, plan.path, side) : null;
    try {
      const fd = openSync(plan.path, fsc.O_RDWR | fsc.O_NONBLOCK | fsc.O_NOFOLLOW);
      return { plan, fd, created, reader };
    } catch (err) {
      this.log.warn({ fifo: plan.path }, `Unable to open ${kind}notify fifo ${plan.path} - errno ${(err as NodeJS.ErrnoException).errno ?? ''}`.trimEnd());
      if (created) unlinkSync(plan.path);
      return null;
    }
  }

  /** The FIFO's script runs until the FIFO closes or the daemon stops (keepalived gives it no timeout). */
  private startReader(script: ScriptSpec, path: string, side: FifoSide): AbortController | null {
    const p = this.scripts.verdict(script.argv[0] ?? '', ownerOf(script.user, script.group));
    if (!p.ok) return null; // logged when the config was loaded
    const stop = new AbortController();
    void this.scripts.run(p, [...script.argv.slice(1), path], Infinity, stop.signal).then((end) => {
      this.log.info({ script: script.command, result: describeEnd(end) }, `${side} notify fifo script terminated`);
    });
    return stop;
  }

  /**
   * Ends the FIFOs' scripts, as keepalived does first thing at shutdown (with every other
   * script): the STOP lines written after that reach only readers of the daemon's own.
   */
  endReaders(): void {
    for (const f of this.open) f.reader?.abort();
  }

  write(line: string): void {
    for (const f of this.open) {
      try {
        writeSync(f.fd, line);
      } catch (err) {
        this.log.warn({ fifo: f.plan.path }, `notify fifo write dropped: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Unlinks the FIFOs this process created (first, so a reader that loops reopening the
   * path cannot reopen it), closes them and ends their scripts.
   */
  close(): void {
    for (const f of this.open.splice(0)) {
      if (f.created) {
        try {
          unlinkSync(f.plan.path);
        } catch {
          // already gone: nothing to undo
        }
      }
      closeSync(f.fd);
      f.reader?.abort();
    }
  }
}
