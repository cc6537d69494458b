// What a child applies to itself from global_defs' process keywords, decided as keepalived
// 2.2.7 decides it (lib/process.c set_process_priorities, set_process_cpu_affinity):
//   - ROLE_rt_priority: SCHED_RR at that priority, with RLIMIT_RTTIME of ROLE_rlimit_rttime
//     (the soft limit at half: SIGXCPU, a warning; the hard one: SIGKILL; our default differs,
//     see DEFAULT_RTTIME_US). The nice value is then not set.
//   - otherwise ROLE_priority, when not 0: that nice value.
//   - ROLE_no_swap: every page locked in memory.
//   - ROLE_cpu_affinity: those CPUs; a CPU the host does not have voids the whole set (keepalived
//     refuses it when it reads the config, on the host it runs on).
//   - max_auto_priority above 0: a child whose timers run more than min_auto_priority_delay
//     late switches to SCHED_RR at the lowest priority, then one step up each time it is late
//     again, up to max_auto_priority, with RLIMIT_RTTIME of ROLE_rlimit_rttime.
import type { GlobalDefs } from '../config/model.js';

export type ProcessRole = 'vrrp' | 'checker';

/**
 * RLIMIT_RTTIME when ROLE_rlimit_rttime is not written. keepalived's default, 10 ms, is sized
 * for its C loop; a Node child also compiles and collects garbage on its event loop's
 * thread, and at 10 ms the VRRP child was killed (SIGKILL at the hard limit) on its first
 * transition to MASTER. The limit stays a guard against a loop that never sleeps.
 */
export const DEFAULT_RTTIME_US = 200_000;

/** What the host offers: SCHED_RR's range and the CPUs online. */
export interface HostLimits {
  rtPriorityMin: number;
  rtPriorityMax: number;
  onlineCpus: number;
}

export interface ProcessPlan {
  /** SCHED_RR for the event loop's thread; null: the normal scheduler. */
  realtime: { priority: number; rttimeUs: number } | null;
  /** setpriority() for every thread; null: left as inherited. */
  nice: number | null;
  lockMemory: boolean;
  /** sched_setaffinity() for every thread; null: left as inherited. */
  cpus: number[] | null;
  /** Raise to real-time when late (max_auto_priority); null: never. */
  autoRaise: { maxPriority: number; minDelayMs: number; rttimeUs: number } | null;
  /** Settings refused here, each a sentence for the log. */
  refused: string[];
}

export function processPlan(g: GlobalDefs, role: ProcessRole, host: HostLimits): ProcessPlan {
  const s = g.processSettings[role];
  const refused: string[] = [];
  let realtime: ProcessPlan['realtime'] = null;
  if (s.rtPriority !== null) {
    const priority = Math.min(host.rtPriorityMax, Math.max(host.rtPriorityMin, s.rtPriority));
    realtime = { priority, rttimeUs: s.rlimitRttimeUs ?? DEFAULT_RTTIME_US };
  }
  let cpus: number[] | null = null;
  if (s.cpuAffinity.length > 0) {
    const missing = s.cpuAffinity.filter((c) => c >= host.onlineCpus);
    if (missing.length === 0) cpus = [...s.cpuAffinity];
    else
      refused.push(`${role}_cpu_affinity names CPU ${missing.join(', ')}, but this host has CPUs 0-${host.onlineCpus - 1}: the ${role} process keeps its CPUs`);
  }
  const maxAuto = Math.min(g.maxAutoPriority, host.rtPriorityMax);
  return {
    realtime,
    nice: realtime === null && s.nice !== 0 ? s.nice : null,
    lockMemory: s.noSwap,
    cpus,
    autoRaise: maxAuto > 0 ? { maxPriority: maxAuto, minDelayMs: g.minAutoPriorityDelayUs / 1000, rttimeUs: s.rlimitRttimeUs ?? DEFAULT_RTTIME_US } : null,
    refused,
  };
}

/** The next step of max_auto_priority from `current` (0: not real-time), or null at the top. */
export function nextAutoPriority(current: number, maxPriority: number, host: HostLimits): number | null {
  if (current === 0) return host.rtPriorityMin <= maxPriority ? host.rtPriorityMin : null;
  return current < maxPriority ? current + 1 : null;
}
