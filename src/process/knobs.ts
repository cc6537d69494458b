// Applies a child's process plan (plan.ts) to the process and keeps it as keepalived does:
// applied once the child has started, dropped while a reload is applied (a burst of work on
// the event loop's thread must not run at real-time priority, where RLIMIT_RTTIME would kill
// it) and applied again after it, and, with max_auto_priority, raised when the event loop
// runs late. Every refusal by the kernel is a warning; the child runs on without the setting.
import { cpus } from 'node:os';
import { processPlan, nextAutoPriority, type HostLimits, type ProcessPlan, type ProcessRole } from './plan.js';
import type { GlobalDefs } from '../config/model.js';
import * as native from '../native/process-knobs.js';

/** The system calls, as a port (tests pass a recorder). */
export interface ProcessSystem {
  host(): HostLimits;
  /** This process's thread ids, the event loop's first. */
  threads(): number[];
  setRealtimePriority(tid: number, priority: number): void;
  getNiceness(tid: number): number;
  setNiceness(tid: number, nice: number): void;
  lockMemory(): void;
  unlockMemory(): void;
  setCpuAffinity(tid: number, cpus: number[]): void;
  getRealtimeTimeLimit(): { softUs: number; hardUs: number };
  setRealtimeTimeLimit(softUs: number, hardUs: number): void;
  /** Calls `handler` on each SIGXCPU (RLIMIT_RTTIME's soft limit); must hold before the limit is set. */
  onRealtimeLimitWarning(handler: () => void): void;
  /** Calls `tick(lateMs)` every `everyMs` with how late the tick ran; returns a stop function. */
  watchLateness(everyMs: number, tick: (lateMs: number) => void): () => void;
}

export interface KnobsLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export const linuxProcessSystem: ProcessSystem = {
  host: () => {
    const { min, max } = native.realtimePriorityRange();
    return { rtPriorityMin: min, rtPriorityMax: max, onlineCpus: Math.max(1, cpus().length) }; // keepalived: sysconf(_SC_NPROCESSORS_ONLN)
  },
  threads: native.threadIds,
  setRealtimePriority: native.setRealtimePriority,
  getNiceness: native.getNiceness,
  setNiceness: native.setNiceness,
  lockMemory: native.lockMemory,
  unlockMemory: native.unlockMemory,
  setCpuAffinity: native.setCpuAffinity,
  getRealtimeTimeLimit: native.getRealtimeTimeLimit,
  setRealtimeTimeLimit: native.setRealtimeTimeLimit,
  onRealtimeLimitWarning: (handler) => void process.on('SIGXCPU', handler),
  watchLateness: (everyMs, tick) => {
    let due = performance.now() + everyMs;
    const t = setInterval(() => {
      const now = performance.now();
      tick(Math.max(0, now - due));
      due = now + everyMs;
    }, everyMs);
    t.unref();
    return () => clearInterval(t);
  },
};

const ROLE_NAME: Record<ProcessRole, string> = { vrrp: 'VRRP', checker: 'checker' };

export class ProcessKnobs {
  private plan: ProcessPlan | null = null;
  private host: HostLimits | null = null;
  /** SCHED_RR priority now in force on the event loop's thread (0: none). */
  private rtPriority = 0;
  private niceSet = false;
  private originalNice = 0;
  private memoryLocked = false;
  private originalRttime: { softUs: number; hardUs: number } | null = null;
  private stopWatching: (() => void) | null = null;
  private warningHandlerSet = false;

  constructor(
    private readonly role: ProcessRole,
    private readonly log: KnobsLog,
    private readonly sys: ProcessSystem = linuxProcessSystem,
  ) {}

  /** What is in force now (for tests and the status dump). */
  get state(): { rtPriority: number; niceSet: boolean; memoryLocked: boolean } {
    return { rtPriority: this.rtPriority, niceSet: this.niceSet, memoryLocked: this.memoryLocked };
  }

  /** Applies the settings of `g` (a start, or the end of a reload). */
  apply(g: GlobalDefs): void {
    this.suspend();
    this.host ??= this.read('read the scheduler limits', () => this.sys.host()) ?? { rtPriorityMin: 1, rtPriorityMax: 99, onlineCpus: 1 };
    this.plan = processPlan(g, this.role, this.host);
    this.resume();
  }

  /** Back to the normal scheduler, nice and unlocked memory (keepalived: reset_process_priorities). */
  suspend(): void {
    this.stopWatching?.();
    this.stopWatching = null;
    const loop = process.pid;
    if (this.rtPriority > 0) {
      if (this.attempt('leave real-time scheduling', () => this.sys.setRealtimePriority(loop, 0))) this.rtPriority = 0;
    }
    if (this.originalRttime) {
      const o = this.originalRttime;
      if (this.attempt('restore RLIMIT_RTTIME', () => this.sys.setRealtimeTimeLimit(o.softUs, o.hardUs))) this.originalRttime = null;
    }
    if (this.niceSet) {
      for (const tid of this.threads()) this.attempt(`restore the nice value of thread ${tid}`, () => this.sys.setNiceness(tid, this.originalNice));
      this.niceSet = false;
    }
    if (this.memoryLocked) {
      this.attempt('unlock memory', () => this.sys.unlockMemory());
      this.memoryLocked = false;
    }
  }

  /** Applies the last plan again (after a reload that kept the running config). */
  resume(): void {
    const plan = this.plan;
    if (!plan) return;
    for (const why of plan.refused) this.log.warn(why);
    const name = ROLE_NAME[this.role];
    if (plan.cpus) {
      const set = plan.cpus;
      for (const tid of this.threads()) this.attempt(`set the CPU affinity of thread ${tid} to ${set.join(' ')}`, () => this.sys.setCpuAffinity(tid, set));
    }
    if (plan.realtime) this.raiseTo(plan.realtime.priority, plan.realtime.rttimeUs);
    else if (plan.nice !== null) {
      const nice = plan.nice;
      const threads = this.threads();
      const original = this.read('read the nice value', () => this.sys.getNiceness(threads[0] ?? process.pid));
      if (original !== undefined) {
        this.originalNice = original;
        this.niceSet = true;
        for (const tid of threads) this.attempt(`set the nice value of thread ${tid} to ${nice}`, () => this.sys.setNiceness(tid, nice));
      }
    }
    if (plan.lockMemory && this.attempt(`lock the ${name} process in memory`, () => this.sys.lockMemory())) this.memoryLocked = true;
    const auto = plan.autoRaise;
    if (auto) {
      const everyMs = Math.min(1000, Math.max(10, auto.minDelayMs));
      this.stopWatching = this.sys.watchLateness(everyMs, (lateMs) => {
        if (lateMs <= auto.minDelayMs) return;
        const next = nextAutoPriority(this.rtPriority, auto.maxPriority, this.host!);
        if (next === null) return;
        this.log.warn(
          `a ${name} timer ran ${(lateMs / 1000).toFixed(3)} s late: raising to real-time priority ${next} (max_auto_priority ${auto.maxPriority})`,
        );
        // keepalived keeps a real-time limit already in force and sets ROLE_rlimit_rttime otherwise
        this.raiseTo(next, this.originalRttime ? null : auto.rttimeUs);
      });
    }
  }

  /** SCHED_RR at `priority`; the RLIMIT_RTTIME first, so a runaway loop is stopped from the first moment. */
  private raiseTo(priority: number, rttimeUs: number | null): void {
    if (rttimeUs !== null && !this.originalRttime) {
      if (!this.warningHandlerSet) {
        this.warningHandlerSet = true;
        this.sys.onRealtimeLimitWarning(() =>
          this.log.warn(
            `${ROLE_NAME[this.role]} process has used too much CPU time at real-time priority without sleeping; ${this.role}_rlimit_rttime may need to be increased`,
          ),
        );
      }
      const original = this.read('read RLIMIT_RTTIME', () => this.sys.getRealtimeTimeLimit());
      if (original === undefined) return;
      if (!this.attempt(`set RLIMIT_RTTIME to ${rttimeUs} us`, () => this.sys.setRealtimeTimeLimit(Math.floor(rttimeUs / 2), rttimeUs))) return;
      this.originalRttime = original;
    }
    if (
      this.attempt(`switch the ${ROLE_NAME[this.role]} process to real-time priority ${priority}`, () => this.sys.setRealtimePriority(process.pid, priority))
    ) {
      this.rtPriority = priority;
    }
  }

  private threads(): number[] {
    return this.read('list the threads', () => this.sys.threads()) ?? [process.pid];
  }

  /** Runs one system call; a refusal is a warning and false. */
  private attempt(what: string, call: () => void): boolean {
    return this.read(what, () => (call(), true)) ?? false;
  }

  /** Reads through one system call; a refusal is a warning and undefined. */
  private read<T>(what: string, call: () => T): T | undefined {
    try {
      return call();
    } catch (err) {
      this.log.warn(`cannot ${what}: ${(err as Error).message}`);
      return undefined;
    }
  }
}
