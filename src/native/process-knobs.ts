/**
 * The process-level system calls of the native addon (native/keepalived_native.c, the
 * "process-level settings" part): scheduling policy and priority, nice, memory locking, CPU
 * affinity, RLIMIT_RTTIME. Thread ids are Linux tids (0: the calling thread); the nice value
 * and the affinity belong to each thread on Linux, so callers apply them to every thread.
 * Each call throws an Error with `code` (errno name) when the kernel refuses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadNativeAddon } from './index.js';

interface ProcessCalls {
  setRealtimePriority(tid: number, priority: number): void;
  realtimePriorityRange(): [number, number];
  setNiceness(tid: number, nice: number): void;
  getNiceness(tid: number): number;
  lockMemoryRange(start: number, length: number): void;
  unlockMemory(): void;
  setCpuAffinity(tid: number, cpus: number[]): void;
  getCpuAffinity(tid: number): number[];
  setRealtimeTimeLimit(softUs: number, hardUs: number): void;
  getRealtimeTimeLimit(): [number, number];
}

const calls = (): ProcessCalls => loadNativeAddon() as unknown as ProcessCalls;

/** SCHED_RR at `priority` for one thread (reset on fork), or SCHED_OTHER for 0. */
export function setRealtimePriority(tid: number, priority: number): void {
  calls().setRealtimePriority(tid, priority);
}

export function realtimePriorityRange(): { min: number; max: number } {
  const [min, max] = calls().realtimePriorityRange();
  return { min, max };
}

export function setNiceness(tid: number, nice: number): void {
  calls().setNiceness(tid, nice);
}

export function getNiceness(tid: number): number {
  return calls().getNiceness(tid);
}

/**
 * Locks in memory the pages of the program's files (node, libnode, libc, the addons: code and
 * data), of malloc's main heap and of the main stack, each as it is touched (mlock2 with
 * MLOCK_ONFAULT). Not V8's heap nor its JIT code, which keepalived's mlockall() would lock:
 * V8 gives pages it frees back with madvise(MADV_DONTNEED) and aborts the process when that
 * fails, and Linux refuses it on locked pages (seen: "Check failed: 0 == ret" in
 * OS::SetPermissions, at the isolate's tear-down and when a worker thread reserved its code
 * range under MCL_FUTURE). Returns how many bytes of mappings were locked.
 */
export function lockMemory(): number {
  const c = calls();
  let locked = 0;
  try {
    for (const r of lockableRanges(readFileSync('/proc/self/maps', 'utf8'))) {
      c.lockMemoryRange(r.start, r.end - r.start);
      locked += r.end - r.start;
    }
  } catch (err) {
    c.unlockMemory();
    throw err;
  }
  return locked;
}

/** munlockall(). */
export function unlockMemory(): void {
  calls().unlockMemory();
}

/** The mappings lockMemory locks, from a /proc/PID/maps text: file-backed ones, [heap], [stack]. */
export function lockableRanges(maps: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s+(.*)$/.exec(line);
    const path = m?.[3]?.trim() ?? '';
    if (!m || !(path.startsWith('/') || path === '[heap]' || path === '[stack]')) continue;
    // groups 1 and 2 are not optional: a match always has them
    const start = parseInt(m[1]!, 16);
    const end = parseInt(m[2]!, 16);
    // neighbours merge into one call
    if (out.at(-1)?.end === start) out.at(-1)!.end = end;
    else out.push({ start, end });
  }
  return out;
}

export function setCpuAffinity(tid: number, cpus: number[]): void {
  calls().setCpuAffinity(tid, cpus);
}

export function getCpuAffinity(tid: number): number[] {
  return calls().getCpuAffinity(tid);
}

/** RLIMIT_RTTIME in µs; -1: no limit. */
export function setRealtimeTimeLimit(softUs: number, hardUs: number): void {
  calls().setRealtimeTimeLimit(softUs, hardUs);
}

export function getRealtimeTimeLimit(): { softUs: number; hardUs: number } {
  const [softUs, hardUs] = calls().getRealtimeTimeLimit();
  return { softUs, hardUs };
}

/** The ids of this process's threads (the first is the process id: the event loop's). */
export function threadIds(): number[] {
  return readdirSync('/proc/self/task')
    .map(Number)
    .sort((a, b) => (a === process.pid ? -1 : b === process.pid ? 1 : a - b));
}
