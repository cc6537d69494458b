/**
 * One checker's up/down state and when it runs next, as a pure step function: the engine
 * feeds it each attempt's outcome. keepalived's rule: a checker that is up goes down only
 * after `retry` further failed attempts, each `delay_before_retry` after the previous one;
 * a checker already down just keeps checking every delay_loop; one success brings it up.
 *
 * (src/check/ has no retry/scheduling machinery yet; when it lands this is where to swap.)
 */
import type { CheckerCommon } from '../config/model.js';
import type { CheckOutcome } from '../check/outcome.js';

export interface CheckerHealth {
  up: boolean;
  /** Failed attempts in a row while still counted up (retries used). */
  failures: number;
  /** Weight the last successful attempt reported (misc_dynamic, FILE_CHECK). */
  weight: number | null;
  weightMode: 'set' | 'add' | null;
  reason: string;
}

export function initialCheckerHealth(up: boolean): CheckerHealth {
  return { up, failures: 0, weight: null, weightMode: null, reason: up ? 'initial' : 'alpha: not checked yet' };
}

export function stepChecker(
  s: CheckerHealth, o: CheckOutcome, c: Pick<CheckerCommon, 'retry' | 'delayBeforeRetryMs' | 'delayLoopMs'>,
): { next: CheckerHealth; delayMs: number } {
  if (o.up) {
    return {
      next: { up: true, failures: 0, weight: o.weight ?? null, weightMode: o.weight === undefined ? null : (o.weightMode ?? 'set'), reason: o.reason },
      delayMs: c.delayLoopMs,
    };
  }
  if (s.up && s.failures < c.retry) {
    return { next: { ...s, failures: s.failures + 1, reason: o.reason }, delayMs: c.delayBeforeRetryMs };
  }
  return { next: { up: false, failures: 0, weight: null, weightMode: null, reason: o.reason }, delayMs: c.delayLoopMs };
}

/**
 * A real server is up when every checker is up. Its weight: the configured one, replaced by
 * a misc_dynamic weight and offset by FILE_CHECK weights; null when no checker set any.
 */
export function combineCheckers(configuredWeight: number, checkers: readonly CheckerHealth[]): { up: boolean; dynamicWeight: number | null } {
  let set: number | null = null;
  let add = 0;
  let any = false;
  for (const c of checkers) {
    if (c.weight === null) continue;
    any = true;
    if (c.weightMode === 'add') add += c.weight;
    else set = c.weight;
  }
  return {
    up: checkers.every((c) => c.up),
    dynamicWeight: any ? Math.max(0, (set ?? configuredWeight) + add) : null,
  };
}
