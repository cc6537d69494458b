// A clock a test moves by hand: timers fire in deadline order (then in the order they were
// set) as advance() passes them, each seeing now() at its own deadline; afterIo callbacks
// run as soon as the current step ends. Promises the callbacks start are let settle between
// timers, so an engine's queued host updates land before the next deadline.
import type { Clock } from './index.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Set<Timer>();
  private immediates: (() => void)[] = [];

  constructor(start = 1_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as Timer);
  }

  afterIo(fn: () => void): void {
    this.immediates.push(fn);
  }

  /** The deadlines still pending, ascending (for assertions on what is armed). */
  pending(): number[] {
    return [...this.timers].map((x) => x.at).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await this.settle();
    for (let n = 0; ; n++) {
      if (n > 100_000) throw new Error(`FakeClock: timers keep falling due at ${this.t} (a timer re-arming itself without a delay?)`);
      const next = [...this.timers].filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers.delete(next);
      this.t = Math.max(this.t, next.at);
      next.fn();
      await this.settle();
    }
    this.t = end;
    await this.settle();
  }

  /** Runs the afterIo callbacks and lets pending promise chains finish. */
  async settle(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      const run = this.immediates;
      this.immediates = [];
      for (const fn of run) fn();
      await new Promise((r) => setImmediate(r));
      if (this.immediates.length === 0) {
        await new Promise((r) => setImmediate(r));
        if (this.immediates.length === 0) return;
      }
    }
  }
}
