// track_process decisions, pure: whether a process matches a vrrp_track_process, and how the
// count of matching processes moves the tracked process's status (quorum, quorum_max,
// fork_delay, terminate_delay), as keepalived 2.2.7 decides them. The effect on each
// instance (weight, reverse, FAULT at weight 0) is tracking.ts's, like any up/down object.
import type { TrackProcess } from '../config/model.js';

/** What is read of one process: its comm (15 characters) and its raw /proc/PID/cmdline. */
export interface ProcessInfo {
  pid: number;
  comm: string;
  /** argv, each argument NUL-terminated, as the kernel exposes it (latin1). */
  cmdline: string;
}

type MatchDef = Pick<TrackProcess, 'process' | 'params' | 'paramMatch' | 'fullCommand'>;

/**
 * The process's name is its comm, or argv[0] with full_command. Parameters (argv[1..], each
 * NUL-terminated) are compared when asked: exact (the same list), partial (the list begins
 * with the configured words), initial (as partial, but the last configured word may be a
 * prefix of the process's).
 */
export function processMatches(def: MatchDef, p: Pick<ProcessInfo, 'comm' | 'cmdline'>, useCmdline = def.fullCommand): boolean {
  const nul = p.cmdline.indexOf('\0');
  const name = useCmdline ? (nul < 0 ? p.cmdline : p.cmdline.slice(0, nul)) : p.comm;
  if (name !== def.process) return false;
  if (def.paramMatch === 'none') return true;
  const actual = useCmdline && nul >= 0 ? p.cmdline.slice(nul + 1) : '';
  const wanted = def.params.map((w) => `${w}\0`).join('');
  if (def.paramMatch === 'exact') return actual === wanted;
  if (actual.length < wanted.length) return false;
  if (wanted === '') return true;
  if (def.paramMatch === 'partial') return actual.startsWith(wanted);
  return actual.startsWith(wanted.slice(0, -1));
}

type QuorumDef = Pick<TrackProcess, 'quorum' | 'quorumMax' | 'forkDelayMs' | 'terminateDelayMs'>;

export interface QuorumState {
  /** Matching processes counted now. */
  count: number;
  /** The status the instances see. */
  up: boolean;
  /** A delayed change under way: gaining quorum after a fork, losing it after an exit. */
  timer: 'fork' | 'terminate' | null;
}

/** What a change asks of the I/O shell besides the new state. */
export interface QuorumStep {
  state: QuorumState;
  /** Start the state's timer for this many ms (replacing any running one). */
  startTimerMs?: number;
  /** Stop the running timer. */
  cancelTimer?: boolean;
}

export function inQuorum(def: QuorumDef, count: number): boolean {
  return count >= def.quorum && count <= def.quorumMax;
}

/** The status found by the scan at start: no delay applies. */
export function initialQuorum(def: QuorumDef, count: number): QuorumState {
  return { count, up: inQuorum(def, count), timer: null };
}

/**
 * One more matching process. Only crossing a bound matters (reaching quorum, or going past
 * quorum_max). A pending terminate delay is cancelled (the loss did not last); a fork waits
 * fork_delay before the gain is believed; anything else (exec, a comm change, the scan)
 * counts at once.
 */
export function processAdded(def: QuorumDef, s: QuorumState, via: 'fork' | 'exec'): QuorumStep {
  const count = s.count + 1;
  if (count !== def.quorum && count !== def.quorumMax + 1) return { state: { ...s, count } };
  if (s.timer === 'terminate') return { state: { count, up: count === def.quorum, timer: null }, cancelTimer: true };
  if (via === 'fork' && def.forkDelayMs > 0) return { state: { ...s, count, timer: 'fork' }, startTimerMs: def.forkDelayMs };
  return { state: { ...s, count, up: count === def.quorum } };
}

/**
 * One matching process fewer: it exited, changed its name or exec'd something else. Crossing
 * below quorum (or back under quorum_max) cancels a pending fork delay; an exit waits
 * terminate_delay before the loss is believed.
 */
export function processRemoved(def: QuorumDef, s: QuorumState, via: 'exit' | 'renamed'): QuorumStep {
  const count = s.count - 1;
  if (s.count !== def.quorum && count !== def.quorumMax) return { state: { ...s, count } };
  if (s.timer === 'fork') return { state: { count, up: count === def.quorumMax, timer: null }, cancelTimer: true };
  if (via === 'exit' && def.terminateDelayMs > 0) return { state: { ...s, count, timer: 'terminate' }, startTimerMs: def.terminateDelayMs };
  return { state: { ...s, count, up: count === def.quorumMax } };
}

/** A delay ran out: the status is whatever the count says now. */
export function delayExpired(def: QuorumDef, s: QuorumState): QuorumState {
  return { count: s.count, up: inQuorum(def, s.count), timer: null };
}
