// The per-checker retry machine, as keepalived runs it after every attempt:
// - success: the retry count resets; a checker that was down comes up.
// - failure while up: retry again after delay_before_retry, `retry` times; the failure after
//   those declares it down (so 1 + retry consecutive failures take it down).
// - failure while down: nothing changes, the next attempt waits delay_loop.
// - the very first attempt decides at once for a checker that starts down (alpha) and
//   spends its retries for one that starts up.
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

export function afterAttempt(s: CheckerState, o: CheckOutcome, cfg: RetryConfig): Step {
  if (o.up) {
    const weighted = o.weight !== undefined;
    const state: CheckerState = {
      up: true, hasRun: true, retryIt: 0,
      weight: weighted ? o.weight! : s.weight, weightMode: weighted ? o.weightMode ?? 'set' : s.weightMode, lastReason: o.reason,
    };
    return { state, nextDelayMs: cfg.delayLoopMs, transition: s.up ? null : 'up' };
  }
  if ((s.up || !s.hasRun) && s.retryIt >= cfg.retry) {
    return {
      state: { ...s, up: false, hasRun: true, retryIt: 0, lastReason: o.reason },
      nextDelayMs: cfg.delayLoopMs,
      transition: s.up ? 'down' : null,
    };
  }
  if (s.up) {
    return { state: { ...s, hasRun: true, retryIt: s.retryIt + 1, lastReason: o.reason }, nextDelayMs: cfg.delayBeforeRetryMs, transition: null };
  }
  return { state: { ...s, hasRun: true, lastReason: o.reason }, nextDelayMs: cfg.delayLoopMs, transition: null };
}
