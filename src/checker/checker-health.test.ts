import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { combineCheckers, initialCheckerHealth, stepChecker } from './checker-health.js';
import { fileOwnedStore, ownedOnly } from './owned.js';

const timing = { retry: 2, delayBeforeRetryMs: 100, delayLoopMs: 5000 };
const fail = { up: false, reason: 'refused' };
const ok = { up: true, reason: 'connected' };

describe('stepChecker', () => {
  it('an up checker survives `retry` failures, each delay_before_retry apart, then goes down', () => {
    let s = initialCheckerHealth(true);
    const seen: [boolean, number][] = [];
    for (let i = 0; i < 3; i++) {
      const r = stepChecker(s, fail, timing);
      s = r.next;
      seen.push([s.up, r.delayMs]);
    }
    expect(seen).toEqual([[true, 100], [true, 100], [false, 5000]]);
  });

  it('a success resets the retry count', () => {
    let s = stepChecker(initialCheckerHealth(true), fail, timing).next;
    s = stepChecker(s, ok, timing).next;
    expect(s).toMatchObject({ up: true, failures: 0 });
    expect(stepChecker(s, fail, timing).next.up).toBe(true);
  });

  it('a down checker stays down without retries and comes up on one success', () => {
    const down = initialCheckerHealth(false);
    expect(stepChecker(down, fail, timing)).toMatchObject({ next: { up: false }, delayMs: 5000 });
    expect(stepChecker(down, ok, timing)).toMatchObject({ next: { up: true }, delayMs: 5000 });
  });

  it('retry 0: the first failure is down', () => {
    expect(stepChecker(initialCheckerHealth(true), fail, { ...timing, retry: 0 }).next.up).toBe(false);
  });

  it('keeps a reported weight while up, drops it when down', () => {
    const s = stepChecker(initialCheckerHealth(true), { up: true, reason: 'exit 5', weight: 3, weightMode: 'set' }, timing).next;
    expect([s.weight, s.weightMode]).toEqual([3, 'set']);
    expect(stepChecker(s, fail, { ...timing, retry: 0 }).next.weight).toBeNull();
  });
});

describe('combineCheckers', () => {
  const h = (up: boolean, weight: number | null = null, weightMode: 'set' | 'add' | null = null) =>
    ({ up, failures: 0, weight, weightMode, reason: '' });
  it('up only when every checker is up; no checker = up', () => {
    expect(combineCheckers(1, [h(true), h(false)]).up).toBe(false);
    expect(combineCheckers(1, [h(true), h(true)]).up).toBe(true);
    expect(combineCheckers(1, []).up).toBe(true);
  });
  it('misc_dynamic replaces the weight, FILE_CHECK offsets it, never below 0', () => {
    expect(combineCheckers(4, [h(true)]).dynamicWeight).toBeNull();
    expect(combineCheckers(4, [h(true, 9, 'set')]).dynamicWeight).toBe(9);
    expect(combineCheckers(4, [h(true, 2, 'add')]).dynamicWeight).toBe(6);
    expect(combineCheckers(4, [h(true, 9, 'set'), h(true, -3, 'add')]).dynamicWeight).toBe(6);
    expect(combineCheckers(1, [h(true, -5, 'add')]).dynamicWeight).toBe(0);
  });
});

describe('fileOwnedStore', () => {
  it('round-trips, starts empty without a file, and tolerates a torn file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-ce-owned-'));
    try {
      const path = join(dir, 'sub', 'owned.json');
      const store = fileOwnedStore(path);
      expect(store.load()).toEqual(new Set());
      store.save(['b', 'a']);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ services: ['a', 'b'] });
      expect(store.load()).toEqual(new Set(['a', 'b']));
      writeFileSync(path, '{"services": ["a"');
      expect(store.load()).toEqual(new Set());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ownedOnly keeps the owned services of a dump', () => {
    const svc = (port: number) => ({ service: { family: 'inet' as const, protocol: 'tcp' as const, address: '10.0.0.1', port, scheduler: 'rr', flags: { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false }, timeout: 0, prefix: 32, pe: null }, destinations: [] });
    expect(ownedOnly([svc(80), svc(81)], new Set(['tcp:inet:[10.0.0.1]:81'])).map((e) => 'port' in e.service && e.service.port)).toEqual([81]);
  });
});
