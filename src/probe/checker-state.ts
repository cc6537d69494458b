// The per-checker retry machine, as keepalived runs it after every attempt:
// - success: the retry count resets; a checker that was down comes up.
// - failure while up: retry again after delay_before_retry, `retry` times; the failure after
//   those declares it down (so 1 + retry consecutive failures take it down).
// - failure while down: nothing changes, the next attempt waits delay_loop.
// - the very first attempt decides at once, retries or not: a checker that starts up (not
//   alpha) goes down on its first failure, as keepalived 2.2.7 does ("for non alpha mode,
//   one failure is enough initially": it starts each checker with its retries used up).
//   Seen in the VM: keepalived removed a refused real server 1 s after start, with retry 3.
// - a dynamic weight (misc_dynamic exit 2-255, FILE_CHECK) stays until a later success
//   reports another: keepalived leaves the weight unchanged on exit 0 and on failures.
// Pure: the scheduler feeds outcomes in and applies the returned delay.
import type { CheckOutcome } from './outcome.js';

export interface RetryConfig {
  retry: number;
  delayBeforeRetryMs: number;
  delayLoopMs: number;
}

export interface CheckerState {
  up: boolean;
  hasRun: boolean;
  /** Failures already retried in the current run of failures. */
  retryIt: number;
  /** Last dynamic weight reported while up (misc_dynamic, FILE_CHECK), if any. */
  weight: number | null;
  weightMode: 'set' | 'add' | null;
  lastReason: string;
}

export interface Step {
  state: CheckerState;
  /** Wait before the next attempt. */
  nextDelayMs: number;
  /** Set when the checker's up/down state flipped on this attempt. */
  transition: 'up' | 'down' | null;
}

/** alpha: the checker starts down and must succeed once before counting as up. */
export function initialState(alpha: boolean): CheckerState {
  return { up: !alpha, hasRun: false, retryIt: 0, weight: null, weightMode: null, lastReason: alpha ? 'alpha: not checked yet' : 'not checked yet' };
}

/**
 * The retry machine in place, for the scheduler's hot path (no allocation per attempt):
 * records `o` in `s` and returns the transition, if any. `afterAttempt` is the pure form.
 */
export function applyAttempt(s: CheckerState, o: CheckOutcome, cfg: RetryConfig): 'up' | 'down' | null {
  const wasUp = s.up;
  const firstRun = !s.hasRun;
  s.hasRun = true;
  s.lastReason = o.reason;
  if (o.up) {
    s.up = true;
    s.retryIt = 0;
    if (o.weight !== undefined) {
      s.weight = o.weight;
      s.weightMode = o.weightMode ?? 'set';
    }
    return wasUp ? null : 'up';
  }
  if (firstRun || (wasUp && s.retryIt >= cfg.retry)) {
    s.up = false;
    s.retryIt = 0;
    return wasUp ? 'down' : null;
  }
  if (wasUp) s.retryIt++;
  return null;
}

/** Wait before the next attempt, from the state the last attempt left. */
export function nextDelay(s: CheckerState, cfg: RetryConfig): number {
  return s.up && s.retryIt > 0 ? cfg.delayBeforeRetryMs : cfg.delayLoopMs;
}

export function afterAttempt(s: CheckerState, o: CheckOutcome, cfg: RetryConfig): Step {
  const state = { ...s };
  const transition = applyAttempt(state, o, cfg);
  return { state, nextDelayMs: nextDelay(state, cfg), transition };
}
