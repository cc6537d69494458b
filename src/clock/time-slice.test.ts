import { describe, expect, it } from 'vitest';
import { TimeSlice } from './time-slice.js';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('TimeSlice', () => {
  it('is due once its slice of work is used up, and not again until the next one is', async () => {
    const slice = new TimeSlice(5);
    expect(slice.due()).toBe(false);
    busy(6);
    expect(slice.due()).toBe(true);
    await slice.yield();
    expect(slice.due()).toBe(false);
  });

  it('lets what the event loop has waiting run before the work goes on', async () => {
    const ran: string[] = [];
    setImmediate(() => ran.push('waiting'));
    const slice = new TimeSlice(0);
    await slice.yield();
    ran.push('work');
    expect(ran).toEqual(['waiting', 'work']);
  });
});
