// track_process: counts the running processes that match each vrrp_track_process and tells
// the engine when one's status (quorum gained or lost) changes. The decisions are
// track-process.ts's; this shell feeds them a /proc scan at start and the kernel's process
// events after it (ProcessPort.subscribe: the netlink proc connector). Where the host has no
// connector (a network namespace other than the initial one, or a kernel without
// CONFIG_PROC_EVENTS) it re-scans /proc every POLL_MS instead: keepalived 2.2.7 has no such
// fallback (it warns that track_process will not work, and runs without it).
import { readdirSync, readFileSync } from 'node:fs';
import type { Clock } from '../clock/index.js';
import type { TrackProcess } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import type { ProcEvent } from '../netlink/index.js';
import {
  delayExpired,
  initialQuorum,
  processAdded,
  processMatches,
  processRemoved,
  type ProcessInfo,
  type QuorumState,
  type QuorumStep,
} from './track-process.js';

export type { ProcessInfo };

/** The host's processes (the real one reads /proc and the proc connector). */
export interface ProcessPort {
  /** Every process running now. */
  list(): ProcessInfo[];
  /** One process as it is now; null once it is gone. */
  read(pid: number): ProcessInfo | null;
  /** Kernel process events; rejects where there are none. `lost`: events were dropped. */
  subscribe(onEvent: (ev: ProcEvent) => void, lost: () => void): Promise<{ close(): void }>;
}

export const POLL_MS = 1_000;

interface Tracked {
  def: TrackProcess;
  pids: Set<number>;
  state: QuorumState;
  timer: unknown;
}

export class ProcessTracker {
  private readonly tracked = new Map<string, Tracked>();
  private events: { close(): void } | null = null;
  private poller: unknown = null;
  private stopped = false;

  constructor(
    defs: readonly TrackProcess[],
    private readonly port: ProcessPort,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly onStatus: (name: string, up: boolean) => void,
  ) {
    for (const def of defs) this.tracked.set(def.name, { def, pids: new Set(), state: initialQuorum(def, 0), timer: null });
    this.rescan(false);
  }

  get defs(): TrackProcess[] {
    return [...this.tracked.values()].map((t) => t.def);
  }

  /** Quorum now, by vrrp_track_process name. */
  up(name: string): boolean | undefined {
    return this.tracked.get(name)?.state.up;
  }

  /** Events first; the scan in the constructor already counted what runs. */
  async start(): Promise<void> {
    if (this.tracked.size === 0) return;
    try {
      const sub = await this.port.subscribe(
        (ev) => this.onEvent(ev),
        () => this.rescan(true),
      );
      if (this.stopped) sub.close();
      else this.events = sub;
      // a process that started between the scan and the subscription
      this.rescan(true);
    } catch (err) {
      if (this.stopped) return;
      this.log.warn({ reason: (err as Error).message }, `track_process: no kernel process events here, polling /proc every ${POLL_MS / 1000} s`);
      this.poll();
    }
  }

  stop(): void {
    this.stopped = true;
    this.events?.close();
    this.events = null;
    this.clock.clearTimer(this.poller);
    for (const t of this.tracked.values()) this.clock.clearTimer(t.timer);
  }

  private poll(): void {
    this.poller = this.clock.setTimer(
      () => {
        if (this.stopped) return;
        this.rescan(true);
        this.poll();
      },
      POLL_MS,
      true,
    );
  }

  /**
   * Counts from a full listing: new matches as execs, missing ones as exits. At start
   * (`notify` false) the count simply becomes the status, as keepalived's initial scan does.
   */
  private rescan(notify: boolean): void {
    const procs = this.port.list();
    for (const t of this.tracked.values()) {
      const now = new Set(procs.filter((p) => processMatches(t.def, p)).map((p) => p.pid));
      if (!notify) {
        t.pids = now;
        t.state = initialQuorum(t.def, now.size);
        continue;
      }
      for (const pid of [...t.pids]) if (!now.has(pid)) this.remove(t, pid, 'exit');
      for (const pid of now) if (!t.pids.has(pid)) this.add(t, pid, 'exec');
    }
  }

  private onEvent(ev: ProcEvent): void {
    if (this.stopped) return;
    switch (ev.kind) {
      case 'fork':
        // a thread is not a process
        if (ev.childPid !== ev.childTgid) return;
        for (const t of this.tracked.values()) if (t.pids.has(ev.parentTgid)) this.add(t, ev.childTgid, 'fork');
        return;
      case 'exec': {
        if (ev.pid !== ev.tgid) return;
        const p = this.port.read(ev.tgid);
        if (!p) return;
        this.check(p, false);
        return;
      }
      case 'comm':
        if (ev.pid !== ev.tgid) return;
        for (const t of this.tracked.values()) {
          if (!t.def.fullCommand && t.pids.has(ev.tgid) && ev.comm !== t.def.process) this.remove(t, ev.tgid, 'renamed');
        }
        this.check({ pid: ev.tgid, comm: ev.comm, cmdline: '' }, true);
        return;
      case 'exit':
        if (ev.pid !== ev.tgid) return;
        for (const t of this.tracked.values()) if (t.pids.has(ev.tgid)) this.remove(t, ev.tgid, 'exit');
        return;
      case 'listening':
        return;
    }
  }

  /** A process that exec'd (or renamed itself, `commOnly`): counted where it matches now, not where it no longer does. */
  private check(p: ProcessInfo, commOnly: boolean): void {
    for (const t of this.tracked.values()) {
      if (commOnly && t.def.fullCommand) continue;
      if (processMatches(t.def, p)) {
        if (!t.pids.has(p.pid)) this.add(t, p.pid, 'exec');
      } else if (t.pids.has(p.pid)) this.remove(t, p.pid, 'renamed');
    }
  }

  private add(t: Tracked, pid: number, via: 'fork' | 'exec'): void {
    if (t.pids.has(pid)) return;
    t.pids.add(pid);
    this.apply(t, processAdded(t.def, t.state, via));
  }

  private remove(t: Tracked, pid: number, via: 'exit' | 'renamed'): void {
    if (!t.pids.delete(pid)) return;
    this.apply(t, processRemoved(t.def, t.state, via));
  }

  private apply(t: Tracked, step: QuorumStep): void {
    const was = t.state.up;
    t.state = step.state;
    if (step.cancelTimer || step.startTimerMs !== undefined) {
      this.clock.clearTimer(t.timer);
      t.timer = null;
    }
    if (step.startTimerMs !== undefined) {
      t.timer = this.clock.setTimer(
        () => {
          t.timer = null;
          const before = t.state.up;
          t.state = delayExpired(t.def, t.state);
          this.report(t, before);
        },
        step.startTimerMs,
        true,
      );
    }
    this.report(t, was);
  }

  private report(t: Tracked, was: boolean): void {
    if (t.state.up === was) return;
    // keepalived's wording
    this.log.info({ trackProcess: t.def.name, processes: t.state.count }, `Quorum ${t.state.up ? 'gained' : 'lost'} for tracked process ${t.def.name}`);
    this.onStatus(t.def.name, t.state.up);
  }
}

/** comm from /proc/PID/stat and /proc/PID/cmdline; null for a process gone, or a zombie (as keepalived skips them). */
export function readProcess(pid: number, procRoot = '/proc'): ProcessInfo | null {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
    // "PID (COMM) STATE ...": the comm may itself hold parentheses
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (open < 0 || close < open || stat[close + 2] === 'Z') return null;
    const cmdline = readFileSync(`${procRoot}/${pid}/cmdline`, 'latin1');
    return { pid, comm: stat.slice(open + 1, close), cmdline };
  } catch {
    return null;
  }
}

/** Every process under /proc (threads are not listed there, only in /proc/PID/task). */
export function listProcesses(procRoot = '/proc'): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of readdirSync(procRoot)) {
    if (!/^[1-9]\d*$/.test(name)) continue;
    const p = readProcess(Number(name), procRoot);
    if (p) out.push(p);
  }
  return out;
}
