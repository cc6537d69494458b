// The engine's deadlines (every instance's Master_Down, advert and GARP timers) in one binary
// heap behind one clock timer, instead of a clock timer each. A BACKUP moves its Master_Down
// deadline at every advert it hears: here that is a sift in the heap, and the clock timer is
// only re-set when the earliest deadline comes sooner (a later one lets it wake early, find
// nothing due and sleep again). Deadlines that fall due together run in one callback.
//
// A due deadline runs after the I/O already waiting has been handled (Clock.afterIo), and
// `beforeDue` lets its owner read what is still queued (a socket's adverts) first: what that
// reading moves is no longer due.
//
// A deadline may allow itself to be run a little early (`earlyMs`): when the loop is awake for
// one deadline anyway, the next ones within their allowance run in the same wake-up instead
// of a wake-up each, and each is told the wake-up's own due time (`fire(due)`), so that
// periodic deadlines re-armed from it fall due together from then on: one wake-up where
// there were several, as keepalived times the adverts it sends in one wake-up from the same
// moment. Only adverts allow it (timers.ts advertEarlyMs): a Master_Down never runs early.
import type { Clock } from '../clock/index.js';

export interface Deadline {
  /** When it falls due (the clock's milliseconds); meaningful while armed. */
  at: number;
  /** Its place in the heap, -1 when not armed. */
  slot: number;
  /** Arming order, for deadlines that fall due at the same time. */
  seq: number;
  /** How much before `at` it may run when the loop is awake for an earlier one. */
  earlyMs: number;
  /**
   * Runs it. `due`: when the wake-up running it was due (the first deadline it ran) if it was
   * due within `earlyMs` of that, but no more than `earlyMs` before the wake-up ran; else its
   * own `at`, but no more than `earlyMs` before it runs. What a periodic deadline re-arms
   * from: deadlines run together fall due together again, and a late run within the
   * allowance does not slow the period.
   */
  readonly fire: (due: number) => void;
  readonly beforeDue: (() => void) | null;
}

export class Deadlines {
  private readonly heap: Deadline[] = [];
  private seq = 0;
  private timer: unknown = null;
  /** When the clock timer is set to wake (null: not set). */
  private wakeAt: number | null = null;
  private running = false;
  /** The clock timer went off and run() waits for its turn (afterIo). */
  private due = false;

  constructor(private readonly clock: Clock) {}

  /** A deadline, not armed yet: `fire` when it falls due, `beforeDue` just before it is checked. */
  create(fire: (due: number) => void, beforeDue: (() => void) | null = null, earlyMs = 0): Deadline {
    return { at: 0, slot: -1, seq: 0, earlyMs, fire, beforeDue };
  }

  /** Arms `d` for `at`, or moves it there when it is armed already. */
  arm(d: Deadline, at: number): void {
    d.at = at;
    d.seq = this.seq++;
    if (d.slot < 0) {
      d.slot = this.heap.length;
      this.heap.push(d);
      this.up(d.slot);
    } else {
      this.up(d.slot);
      this.down(d.slot);
    }
    this.wake();
  }

  cancel(d: Deadline): void {
    if (d.slot < 0) return;
    const i = d.slot;
    const last = this.heap.pop()!;
    d.slot = -1;
    if (last !== d) {
      this.heap[i] = last;
      last.slot = i;
      this.up(i);
      this.down(i);
    }
  }

  armed(d: Deadline): boolean {
    return d.slot >= 0;
  }

  /** Stops the clock timer; armed deadlines stay armed but nothing fires until the next arm(). */
  close(): void {
    this.clock.clearTimer(this.timer);
    this.timer = null;
    this.wakeAt = null;
    this.due = false;
  }

  /** Sets the clock timer for the earliest deadline, unless it wakes by then already. */
  private wake(): void {
    if (this.running || this.due) return; // run() sets it when it is done
    const first = this.heap[0];
    if (!first || (this.wakeAt !== null && this.wakeAt <= first.at)) return;
    this.clock.clearTimer(this.timer);
    this.wakeAt = first.at;
    this.timer = this.clock.setTimer(
      () => {
        this.timer = null;
        this.wakeAt = null;
        this.due = true;
        this.clock.afterIo(() => this.run());
      },
      Math.max(0, first.at - this.clock.now()),
    );
  }

  private run(): void {
    this.due = false;
    this.running = true;
    let wokeFor: number | null = null;
    let ranAt = 0;
    try {
      for (;;) {
        const d = this.heap[0];
        if (!d || !this.runsNow(d, wokeFor)) break;
        if (d.beforeDue) {
          d.beforeDue();
          // what it read may have moved or cancelled this deadline, or armed an earlier one
          if (this.heap[0] !== d || !this.runsNow(d, wokeFor)) continue;
        }
        this.cancel(d);
        if (wokeFor === null) {
          wokeFor = d.at;
          ranAt = this.clock.now();
        }
        // One that could have run with the first joins the wake-up's time, however long the
        // run took to reach it: all of them fall due together again, in the same order, as
        // keepalived times all it sends in one wake-up from one moment. One that fell due
        // while the run went on keeps its own (joining would shorten its period by as long
        // as the run).
        if (d.at - wokeFor <= d.earlyMs) d.fire(Math.max(wokeFor, ranAt - d.earlyMs));
        else d.fire(Math.max(d.at, this.clock.now() - d.earlyMs));
      }
    } finally {
      this.running = false;
      this.wake();
    }
  }

  /**
   * Whether `d` runs in this wake-up (`wokeFor`: the due time of the first it ran, null before
   * that): when it is due, or early within its allowance of the wake-up's time, which it then
   * joins. Only the first is allowed early against the clock (a clock timer may go off a
   * little before its time). Were the others too, one within its allowance of the clock
   * but not of the wake-up would run early without joining it, and whether it did would
   * depend on how long the run took to reach it: early by up to the allowance one period,
   * on time the next.
   */
  private runsNow(d: Deadline, wokeFor: number | null): boolean {
    const now = this.clock.now();
    if (d.at <= now) return true;
    return wokeFor === null ? d.at - d.earlyMs <= now : d.at - wokeFor <= d.earlyMs;
  }

  private before(a: Deadline, b: Deadline): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private place(d: Deadline, i: number): void {
    this.heap[i] = d;
    d.slot = i;
  }

  private up(i: number): void {
    const d = this.heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = this.heap[p]!;
      if (!this.before(d, parent)) break;
      this.place(parent, i);
      i = p;
    }
    this.place(d, i);
  }

  private down(i: number): void {
    const d = this.heap[i]!;
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(this.heap[r]!, this.heap[l]!) ? r : l;
      if (!this.before(this.heap[c]!, d)) break;
      this.place(this.heap[c]!, i);
      i = c;
    }
    this.place(d, i);
  }
}
