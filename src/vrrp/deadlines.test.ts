import { describe, expect, it } from 'vitest';
import { FakeClock } from '../clock/fake-clock.js';
import { Deadlines } from './deadlines.js';

/** A FakeClock that counts the clock timers set. */
class CountingClock extends FakeClock {
  timersSet = 0;
  override setTimer(fn: () => void, ms: number): unknown {
    this.timersSet++;
    return super.setTimer(fn, ms);
  }
}

/** A FakeClock whose timers go off `lateMs` after their time (a loaded host). */
class LateClock extends FakeClock {
  constructor(
    start: number,
    private readonly lateMs: number,
  ) {
    super(start);
  }
  override setTimer(fn: () => void, ms: number): unknown {
    return super.setTimer(fn, ms + this.lateMs);
  }
}

/** A FakeClock on which time also passes while a callback works (`busyMs`). */
class BusyClock extends FakeClock {
  busyMs = 0;
  override now(): number {
    return super.now() + this.busyMs;
  }
}

describe('Deadlines', () => {
  it('fire in deadline order, then in arming order, each seeing the clock at its deadline', async () => {
    const clock = new FakeClock(0);
    const d = new Deadlines(clock);
    const fired: string[] = [];
    const make = (name: string) => d.create(() => fired.push(`${name}@${clock.now()}`));
    const [a, b, c, e] = ['a', 'b', 'c', 'e'].map(make);
    d.arm(a!, 30);
    d.arm(b!, 10);
    d.arm(c!, 20);
    d.arm(e!, 10);
    await clock.advance(25);
    expect(fired).toEqual(['b@10', 'e@10', 'c@20']);
    await clock.advance(10);
    expect(fired).toEqual(['b@10', 'e@10', 'c@20', 'a@30']);
    expect(d.armed(a!)).toBe(false);
  });

  it('moving a deadline later sets no clock timer; the early wake finds nothing due and sleeps until it', async () => {
    const clock = new CountingClock(0);
    const d = new Deadlines(clock);
    let fired = 0;
    const down = d.create(() => fired++);
    d.arm(down, 360);
    expect(clock.timersSet).toBe(1);
    for (let t = 100; t <= 1000; t += 100) {
      await clock.advance(100);
      d.arm(down, t + 360);
    }
    expect(fired).toBe(0);
    // ten moves: one timer after each early wake (at 360, 660 and 960), not one per move
    expect(clock.timersSet).toBe(4);
    await clock.advance(360);
    expect(fired).toBe(1);
  });

  it('a moved-earlier or cancelled deadline is honoured', async () => {
    const clock = new FakeClock(0);
    const d = new Deadlines(clock);
    const fired: number[] = [];
    const x = d.create(() => fired.push(clock.now()));
    const y = d.create(() => fired.push(-clock.now()));
    d.arm(x, 500);
    d.arm(y, 200);
    d.arm(x, 100);
    d.cancel(y);
    await clock.advance(1000);
    expect(fired).toEqual([100]);
  });

  it('beforeDue runs first, and what it moves is no longer due', async () => {
    const clock = new FakeClock(0);
    const d = new Deadlines(clock);
    const fired: number[] = [];
    let queuedAdvert = true;
    const down = d.create(
      () => fired.push(clock.now()),
      () => {
        // an advert still queued on the socket moves Master_Down
        if (queuedAdvert) d.arm(down, clock.now() + 300);
        queuedAdvert = false;
      },
    );
    d.arm(down, 100);
    await clock.advance(150);
    expect(fired).toEqual([]);
    await clock.advance(300);
    expect(fired).toEqual([400]);
  });

  it('one wake-up runs the deadlines due within their early allowance, each told when the wake-up was due; the others wait', async () => {
    const clock = new CountingClock(0);
    const d = new Deadlines(clock);
    const fired: string[] = [];
    const make = (name: string, earlyMs: number) => d.create((due) => fired.push(`${name} due ${due} at ${clock.now()}`), null, earlyMs);
    const lead = make('lead', 5);
    const near = make('near', 5);
    const far = make('far', 5);
    const strict = make('strict', 0);
    d.arm(lead, 100);
    d.arm(near, 104);
    d.arm(strict, 103);
    d.arm(far, 106);
    await clock.advance(100);
    // strict (no allowance) is next in the heap and not due: nothing behind it runs early
    expect(fired).toEqual(['lead due 100 at 100']);
    await clock.advance(3);
    expect(fired).toEqual(['lead due 100 at 100', 'strict due 103 at 103', 'near due 103 at 103', 'far due 103 at 103']);
    expect(clock.timersSet).toBe(2);
  });

  it('a late wake-up is caught up on within the allowance: its deadlines are told at most that much before it ran', async () => {
    for (const [lateMs, told] of [
      [3, 100],
      [8, 103],
    ] as const) {
      const clock = new LateClock(0, lateMs);
      const d = new Deadlines(clock);
      const dues: number[] = [];
      d.arm(
        d.create((due) => dues.push(due), null, 5),
        100,
      );
      await clock.advance(200);
      expect(dues).toEqual([told]);
    }
  });

  /**
   * Two adverts' deadlines (allowance 5 ms): the first at 100, whose run takes `busyMs`, and a
   * second at `secondAt`. What each was told (and, for the second, when it ran), once the clock
   * has passed 100 and once it has passed 100 + `thenMs`.
   */
  async function afterALongRun(busyMs: number, secondAt: number, thenMs: number): Promise<[string[], string[]]> {
    const clock = new BusyClock(0);
    const d = new Deadlines(clock);
    const told: string[] = [];
    const first = d.create(
      (due) => {
        told.push(`first ${due}`);
        clock.busyMs += busyMs; // a batch of adverts, or a collection in the middle of it
      },
      null,
      5,
    );
    d.arm(first, 100);
    d.arm(
      d.create((due) => told.push(`second ${due} at ${clock.now()}`), null, 5),
      secondAt,
    );
    await clock.advance(100);
    const atFirst = [...told];
    await clock.advance(thenMs);
    return [atFirst, told];
  }

  it('a deadline that falls due while a long run goes on keeps its own due time', async () => {
    expect(await afterALongRun(12, 110, 0)).toEqual([
      ['first 100', 'second 110 at 112'],
      ['first 100', 'second 110 at 112'],
    ]);
  });

  it('a deadline beyond the allowance of the wake-up runs at its own time, however long the run took to reach it', async () => {
    // 7 ms after the wake-up's time: run when the run reaches it (within its allowance of the
    // clock), it would be early without joining the wake-up, and early or not by how long the
    // run took to get there
    expect(await afterALongRun(4, 107, 3)).toEqual([['first 100'], ['first 100', 'second 107 at 107']]);
  });

  it('a deadline that joins a wake-up is told its time however long the run took to reach it', async () => {
    // re-armed from 100 as the first is: next period they go out together again, in order
    expect(await afterALongRun(12, 103, 0)).toEqual([
      ['first 100', 'second 100 at 112'],
      ['first 100', 'second 100 at 112'],
    ]);
  });
});
