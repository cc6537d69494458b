import { describe, expect, it } from 'vitest';
import { growHeapFreelyDuringBurst } from './heap-burst.js';

describe('growHeapFreelyDuringBurst', () => {
  it('leaves the flags alone in a process not started with --optimize-for-size', () => {
    const set: string[] = [];
    const done = growHeapFreelyDuringBurst(['--max-semi-space-size=2', '--single-threaded'], (f) => set.push(f));
    done();
    expect(set).toEqual([]);
  });

  it('drops --optimize-for-size for the burst and restores it once, however often the end is called', () => {
    const set: string[] = [];
    const done = growHeapFreelyDuringBurst(['--max-semi-space-size=2', '--optimize-for-size'], (f) => set.push(f));
    expect(set).toEqual(['--no-optimize-for-size']);
    done();
    done();
    expect(set).toEqual(['--no-optimize-for-size', '--optimize-for-size']);
  });
});
