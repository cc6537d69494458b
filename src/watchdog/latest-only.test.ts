import { describe, expect, it } from 'vitest';
import { LatestOnly } from './latest-only.js';

/** A runner whose runs finish when the test says, and whose starts wait for `turn()`. */
function harness() {
  const ran: string[] = [];
  const dropped: string[] = [];
  const finish: Array<() => void> = [];
  const turns: Array<() => void> = [];
  const runner = new LatestOnly<string>({
    run: (job) => {
      ran.push(job);
      return new Promise<void>((r) => finish.push(r));
    },
    superseded: (job, by) => dropped.push(`${job}>${by}`),
    defer: (start) => turns.push(start),
  });
  const turn = () => turns.splice(0).forEach((s) => s());
  const settle = () => new Promise((r) => setImmediate(r));
  const finishOne = async () => {
    finish.shift()?.();
    await settle();
  };
  return { ran, dropped, runner, turn, finishOne, settle };
}

describe('LatestOnly', () => {
  it('offers made in one turn are one run of the last', async () => {
    const h = harness();
    h.runner.offer('a');
    h.runner.offer('b');
    h.runner.offer('c');
    expect(h.ran).toEqual([]); // nothing starts inside the call that asks
    h.turn();
    await h.settle();
    expect(h.ran).toEqual(['c']);
    expect(h.dropped).toEqual(['a>b', 'b>c']);
    await h.finishOne();
    expect(h.runner.busy).toBe(false);
  });

  it('offers during a run are one more run, of the newest, after it', async () => {
    const h = harness();
    h.runner.offer('v2');
    h.turn();
    await h.settle();
    for (const v of ['v3', 'v4', 'v5']) h.runner.offer(v);
    expect(h.ran).toEqual(['v2']);
    await h.finishOne();
    expect(h.ran).toEqual(['v2', 'v5']);
    h.runner.offer('v6');
    await h.finishOne();
    expect(h.ran).toEqual(['v2', 'v5', 'v6']);
    await h.finishOne();
    expect(h.runner.busy).toBe(false);
    await h.runner.idle();
    expect(h.dropped).toEqual(['v3>v4', 'v4>v5']);
  });

  it('a run that fails does not stop the next one', async () => {
    const ran: number[] = [];
    const runner = new LatestOnly<number>({
      run: async (n) => {
        ran.push(n);
        if (n === 1) throw new Error('refused');
      },
      defer: (start) => start(),
    });
    runner.offer(1);
    runner.offer(2);
    await runner.idle();
    runner.offer(3);
    await runner.idle();
    expect(ran).toEqual([1, 2, 3]);
  });

  it('clear drops what waits; the run under way finishes', async () => {
    const h = harness();
    h.runner.offer('a');
    h.turn();
    await h.settle();
    h.runner.offer('b');
    h.runner.clear();
    await h.finishOne();
    expect(h.ran).toEqual(['a']);
    expect(h.runner.busy).toBe(false);
  });

  it('with the default start, signals queued behind a busy thread are one run', async () => {
    const ran: string[] = [];
    const runner = new LatestOnly<string>({ run: async (j) => void ran.push(j) });
    // three deliveries in one turn, as libuv hands over signals read in one batch
    runner.offer('hup1');
    runner.offer('hup2');
    runner.offer('hup3');
    await runner.idle();
    expect(ran).toEqual(['hup3']);
  });
});
