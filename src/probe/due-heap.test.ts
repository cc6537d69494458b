import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DueHeap } from './due-heap.js';

describe('DueHeap', () => {
  it('pops ids in due order, only once due, and moves an id when it is set again', () => {
    const h = new DueHeap();
    h.set(3, 30);
    h.set(1, 10);
    h.set(2, 20);
    h.set(3, 5); // rescheduled earlier
    expect(h.topDue()).toBe(5);
    expect(h.popDue(4)).toBe(-1);
    expect([h.popDue(100), h.popDue(100), h.popDue(100), h.popDue(100)]).toEqual([3, 1, 2, -1]);
    expect(h.topDue()).toBe(Infinity);
  });

  it('remove and clear forget ids; ids beyond the initial capacity grow the arrays', () => {
    const h = new DueHeap();
    for (let id = 0; id < 5000; id++) h.set(id, 5000 - id);
    h.remove(4999);
    h.remove(123);
    expect(h.has(123)).toBe(false);
    expect(h.size).toBe(4998);
    expect(h.popDue(Infinity)).toBe(4998);
    h.clear();
    expect([h.size, h.has(0), h.popDue(Infinity)]).toEqual([0, false, -1]);
  });

  it('property: behaves as a sorted list of (due, id) under any mix of set and remove', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 1000 })), { maxLength: 200 }), (ops) => {
        const h = new DueHeap();
        const model = new Map<number, number>();
        for (const [isSet, id, at] of ops) {
          if (isSet) {
            h.set(id, at);
            model.set(id, at);
          } else {
            h.remove(id);
            model.delete(id);
          }
        }
        const popped: number[] = [];
        for (let id = h.popDue(Infinity); id >= 0; id = h.popDue(Infinity)) popped.push(model.get(id)!);
        expect(popped).toEqual([...model.values()].sort((a, b) => a - b));
      }),
    );
  });

  it('reserve() makes room without losing what is scheduled', () => {
    const h = new DueHeap();
    for (let id = 0; id < 300; id++) h.set(id, 1000 - id);
    h.reserve(5000);
    h.set(4999, 0);
    const popped: number[] = [];
    for (let id = h.popDue(Infinity); id >= 0; id = h.popDue(Infinity)) popped.push(id);
    expect(popped).toEqual([4999, ...Array.from({ length: 300 }, (_, i) => 299 - i)]);
  });
});
