import { describe, expect, it } from 'vitest';
import { LINGER_MS, SuccessorWatch, successorWaitMs } from './handover.js';

describe('handover at shutdown', () => {
  it('bounds the wait by the longest Skew_Time a backup can have', () => {
    expect(successorWaitMs(2, 1000)).toBe(1250);
    expect(successorWaitMs(2, 3000)).toBe(1250);
    expect(successorWaitMs(3, 100)).toBe(350);
  });

  it('resolves LINGER_MS after the successor is heard, each key on its own', async () => {
    const w = new SuccessorWatch<string>();
    const t0 = performance.now();
    const p = w.wait(['a', 'b'], () => 5_000);
    expect(w.active).toBe(true);
    setTimeout(() => w.heard('a'), 20);
    setTimeout(() => w.heard('b'), 60);
    setTimeout(() => w.heard('b'), 70); // repeated adverts change nothing
    await p;
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(60 + LINGER_MS - 5);
    expect(took).toBeLessThan(1_000);
    expect(w.active).toBe(false);
  });

  it('gives up at the bound when no successor comes, and ignores keys it does not wait for', async () => {
    const w = new SuccessorWatch<string>();
    w.heard('x');
    const t0 = performance.now();
    await w.wait(['a'], () => 80);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    expect(w.active).toBe(false);
  });
});
