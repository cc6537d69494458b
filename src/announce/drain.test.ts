import { describe, expect, it } from 'vitest';
import { DrainWatch } from './drain.js';

describe('DrainWatch', () => {
  it('drained once the counters stood still for the quiet time, and not before the drain', () => {
    const w = new DrainWatch(0, 2000, 2500, 30_000);
    expect(w.observe(0, 100n)).toBe('draining');
    expect(w.observe(1000, 150n)).toBe('draining'); // traffic still arrives
    expect(w.observe(3000, 150n)).toBe('draining'); // past the drain, quiet for 2 s only
    expect(w.observe(3500, 150n)).toBe('drained');
  });

  it('a quiet prefix is drained as soon as the drain is over', () => {
    const w = new DrainWatch(0, 2000, 1000, 30_000);
    expect(w.observe(0, 7n)).toBe('draining');
    expect(w.observe(1500, 7n)).toBe('draining');
    expect(w.observe(2000, 7n)).toBe('drained');
  });

  it('gives up on a prefix still fed long after the withdrawal', () => {
    const w = new DrainWatch(0, 2000, 2500, 5000);
    let n = 0n;
    for (let t = 0; t < 7000; t += 500) expect(w.observe(t, (n += 10n))).toBe('draining');
    expect(w.observe(7000, (n += 10n))).toBe('gave-up');
  });

  it('without counters only the drain counts', () => {
    const w = new DrainWatch(0, 2000);
    expect(w.observe(1999, null)).toBe('draining');
    expect(w.observe(2000, null)).toBe('drained');
  });
});
