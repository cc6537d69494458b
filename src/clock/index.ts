// Time as the engines see it: monotonic milliseconds and timers on the same scale. The
// processes use systemClock; unit tests drive an engine with FakeClock (fake-clock.ts), so
// they assert what happens at a deadline without sleeping until it.

export interface Clock {
  now(): number;
  /** `unref`: the timer alone does not keep the process alive. */
  setTimer(fn: () => void, ms: number, unref?: boolean): unknown;
  clearTimer(handle: unknown): void;
  /**
   * Runs `fn` after the I/O already waiting has been handled (setImmediate): a deadline and
   * the event that should have cancelled it can fall due in one loop turn.
   */
  afterIo(fn: () => void): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms, unref) => {
    const t = setTimeout(fn, ms);
    if (unref) t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout | undefined),
  afterIo: (fn) => void setImmediate(fn),
};
