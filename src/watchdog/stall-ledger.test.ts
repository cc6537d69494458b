import { describe, expect, it } from 'vitest';
import { chargeableSilence, heardNow, openLedger, recordTick } from './stall-ledger.js';

describe("stall ledger: the parent's stalls are not its children's silence", () => {
  it('charges a child the whole silence while the parent ticks on time', () => {
    let l = openLedger(0);
    const heard = heardNow(l, 100);
    for (let t = 1000; t <= 6000; t += 1000) l = recordTick(l, t, 1000);
    expect(l.stalledMs).toBe(0);
    expect(chargeableSilence(l, 6000, heard)).toBe(5900);
  });

  it('leaves out a stall of the parent: heartbeats waiting unread in the channel are not silence', () => {
    let l = openLedger(0);
    l = recordTick(l, 1000, 1000);
    const heard = heardNow(l, 1200);
    // the loop was held from 1,200 to 28,000: the next tick, due at 2,000, runs at 28,000
    l = recordTick(l, 28_000, 1000);
    expect(l.stalledMs).toBe(26_000);
    expect(chargeableSilence(l, 28_000, heard)).toBe(800);
    // the child still silent after the stall is charged from then on
    l = recordTick(l, 29_000, 1000);
    expect(chargeableSilence(l, 33_000, heard)).toBe(5_800);
  });

  it('charges silence heard after a stall from when it was heard', () => {
    let l = openLedger(0);
    l = recordTick(l, 10_000, 1000);
    const heard = heardNow(l, 10_100);
    l = recordTick(l, 11_000, 1000);
    expect(chargeableSilence(l, 11_000, heard)).toBe(900);
  });

  it('a tick early or on time adds no stall', () => {
    const l = recordTick(openLedger(0), 900, 1000);
    expect(l.stalledMs).toBe(0);
    expect(recordTick(l, 1950, 1000).stalledMs).toBe(50);
  });
});
