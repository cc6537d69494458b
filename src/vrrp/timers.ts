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
