// VRRP timer arithmetic (RFC 3768 6.1, RFC 5798 6.1), in milliseconds, exact (no rounding:
// v3 prio 100 at 0.1 s has a 60.9375 ms skew and the deadline keeps the fraction).

export const PRIORITY_OWNER = 255;
export const PRIORITY_STOP = 0;

/**
 * Skew_Time. v2: (256 - priority) / 256 seconds, whatever the advert interval.
 * v3: ((256 - priority) x Master_Adver_Interval) / 256.
 */
export function skewMs(version: 2 | 3, priority: number, masterAdvertIntMs: number): number {
  return version === 2 ? ((256 - priority) * 1000) / 256 : ((256 - priority) * masterAdvertIntMs) / 256;
}

/** Master_Down_Interval = 3 x Master_Adver_Interval + Skew_Time. */
export function masterDownMs(version: 2 | 3, priority: number, masterAdvertIntMs: number): number {
  return 3 * masterAdvertIntMs + skewMs(version, priority, masterAdvertIntMs);
}

/**
 * How early a MASTER's periodic advert may go out with others due at about the same time, and
 * how late a wake-up may be caught up on. Early costs a peer nothing: a backup restarts
 * Master_Down (3 x the interval plus Skew_Time, RFC 5798 6.4.2) at each advert, so an early one
 * only adds to its margin, and no field of the advert changes. A twentieth of the interval
 * (half a millisecond at the 10 ms minimum), at most a few milliseconds: a peer sees adverts
 * vary by less than keepalived's, whose next advert is timed from when its wake-up ran.
 */
export function advertEarlyMs(advertIntMs: number): number {
  return Math.min(ADVERT_EARLY_MAX_MS, advertIntMs / 20);
}
const ADVERT_EARLY_MAX_MS = 5;

/**
 * When a periodic timer run for `due` (deadlines.ts: about when it was due) at `now` falls due
 * next: a period after `due`, unless the run took longer than that (then a period from now:
 * missed periods are not made up with a burst).
 */
export function nextPeriodic(due: number, now: number, periodMs: number): number {
  const next = due + periodMs;
  return next > now ? next : now + periodMs;
}
