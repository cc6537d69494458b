// Long synchronous work (a start's thousands of real servers) cut into slices: between two,
// the event loop runs what is due (the watchdog heartbeat above all), so a slow machine does
// not see a stuck process. Real time, not a Clock: a unit test's fake clock must not hold
// the work up, and the slices have nothing to do with the engine's deadlines.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Milliseconds of work between two turns of the event loop. */
export const DEFAULT_SLICE_MS = 50;

export class TimeSlice {
  private since = performance.now();

  constructor(private readonly sliceMs = DEFAULT_SLICE_MS) {}

  /** The current slice is used up: `await yield()` before more work. */
  due(): boolean {
    return performance.now() - this.since >= this.sliceMs;
  }

  /** Lets the event loop run (timers, I/O), then starts a new slice. */
  async yield(): Promise<void> {
    await nextTurn();
    this.since = performance.now();
  }
}
