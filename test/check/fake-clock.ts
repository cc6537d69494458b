// Virtual time for scheduler tests: timers fire in due order as `advance` moves the clock,
// and the promise jobs each callback starts are drained before the next timer fires.
import type { Clock } from '../../src/check/scheduler.js';

interface Timer { id: number; due: number; fn: () => void }

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number { return this.t; }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = { id: ++this.seq, due: this.t + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  get pending(): number[] { return this.timers.map((t) => t.due).sort((a, b) => a - b); }

  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await drain();
      this.timers.sort((a, b) => a.due - b.due || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.due > end) break;
      this.timers.shift();
      this.t = next.due;
      next.fn();
    }
    this.t = end;
    await drain();
  }
}

/** Lets every already-queued promise job (and the ones they queue) run. */
async function drain(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
