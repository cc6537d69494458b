import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterAttempt, initialState, type CheckerState } from './checker-state.js';
import { realServerHealth } from './real-server-health.js';

const cfg = { retry: 2, delayBeforeRetryMs: 30, delayLoopMs: 1000 };
const ok = { up: true, reason: 'ok' };
const ko = { up: false, reason: 'refused' };

function play(state: CheckerState, outcomes: boolean[], c = cfg) {
  const steps = [];
  for (const o of outcomes) {
    const step = afterAttempt(state, o ? ok : ko, c);
    steps.push(step);
    state = step.state;
  }
  return steps;
}

describe('retry machine', () => {
  it('takes an up checker down on the (1 + retry)th consecutive failure, retrying after delay_before_retry', () => {
    const steps = play(initialState(false), [true, false, false, false, false]);
    expect(steps.map((s) => s.transition)).toEqual([null, null, null, 'down', null]);
    expect(steps.map((s) => s.nextDelayMs)).toEqual([1000, 30, 30, 1000, 1000]);
  });

  it('a success in between resets the retry count', () => {
    const steps = play(initialState(false), [true, false, false, true, false, false, false]);
    expect(steps.map((s) => s.transition)).toEqual([null, null, null, null, null, null, 'down']);
  });

  it('not alpha: the very first attempt failing takes it down at once, without retries (keepalived)', () => {
    const steps = play(initialState(false), [false, false, true]);
    expect(steps.map((s) => [s.transition, s.nextDelayMs])).toEqual([
      ['down', 1000],
      [null, 1000],
      ['up', 1000],
    ]);
    expect(steps[2]!.state).toMatchObject({ up: true, retryIt: 0 });
  });

  it('once up, it spends its retries again', () => {
    const steps = play(initialState(false), [false, true, false, false, false]);
    expect(steps.map((s) => s.transition)).toEqual(['down', 'up', null, null, 'down']);
  });

  it('alpha: starts down, the first failure decides without retries, first success brings it up', () => {
    const s0 = initialState(true);
    expect(s0.up).toBe(false);
    const steps = play(s0, [false, false, true]);
    expect(steps.map((s) => [s.transition, s.nextDelayMs])).toEqual([
      [null, 1000],
      [null, 1000],
      ['up', 1000],
    ]);
  });

  it('retry 0 fails at once', () => {
    const steps = play(initialState(false), [false], { ...cfg, retry: 0 });
    expect(steps[0]!.transition).toBe('down');
  });

  it('property: for an up checker, exactly 1 + retry consecutive failures go down, fewer never do', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(fc.boolean(), { maxLength: 40 }), (retry, seq) => {
        const c = { ...cfg, retry };
        let state = afterAttempt(initialState(false), ok, c).state;
        let run = 0;
        for (const o of seq) {
          const step = afterAttempt(state, o ? ok : ko, c);
          const wasUp = state.up;
          run = o ? 0 : run + 1;
          if (wasUp && !o) expect(step.transition === 'down').toBe(run === retry + 1);
          if (!wasUp && o) expect(step.transition).toBe('up');
          if (step.state.up) expect(step.nextDelayMs).toBe(o || run > retry ? c.delayLoopMs : c.delayBeforeRetryMs);
          if (!step.state.up) run = 0;
          state = step.state;
        }
      }),
    );
  });

  it('keeps the dynamic weight of the last success: exit 0 leaves it unchanged (misc_dynamic)', () => {
    const s = afterAttempt(initialState(false), { up: true, reason: 'exit 12', weight: 10, weightMode: 'set' }, cfg).state;
    expect(s).toMatchObject({ weight: 10, weightMode: 'set' });
    expect(afterAttempt(s, ok, cfg).state).toMatchObject({ weight: 10, weightMode: 'set' });
    expect(afterAttempt(s, { up: true, reason: 'exit 22', weight: 20, weightMode: 'set' }, cfg).state.weight).toBe(20);
  });
});

describe('real server health', () => {
  const st = (up: boolean, weight: number | null = null, weightMode: 'set' | 'add' | null = null): CheckerState => ({
    ...initialState(!up),
    up,
    weight,
    weightMode,
  });
  it('is up only when all checkers are up; no checker means up', () => {
    expect(realServerHealth(3, [])).toEqual({ up: true, weight: 3 });
    expect(realServerHealth(3, [st(true), st(true)]).up).toBe(true);
    expect(realServerHealth(3, [st(true), st(false)]).up).toBe(false);
  });
  it('misc_dynamic sets the weight, FILE_CHECK offsets it, clamped to 0..65535', () => {
    expect(realServerHealth(3, [st(true, 10, 'set')]).weight).toBe(10);
    expect(realServerHealth(3, [st(true, 10, 'set'), st(true, 5, 'add')]).weight).toBe(15);
    expect(realServerHealth(3, [st(true, -50, 'add')]).weight).toBe(0);
    expect(realServerHealth(3, [st(true, 70000, 'set')]).weight).toBe(65535);
  });
});

// The checker engine's own cases (it once had a second copy of this machine).
describe('retry machine, as the checker engine drives it', () => {
  const timing = { retry: 2, delayBeforeRetryMs: 100, delayLoopMs: 5000 };
  const fail = { up: false, reason: 'refused' };
  const good = { up: true, reason: 'connected' };

  it('an up checker survives `retry` failures, each delay_before_retry apart, then goes down', () => {
    let s = afterAttempt(initialState(false), good, timing).state; // past its first attempt
    const seen: [boolean, number][] = [];
    for (let i = 0; i < 3; i++) {
      const r = afterAttempt(s, fail, timing);
      s = r.state;
      seen.push([s.up, r.nextDelayMs]);
    }
    expect(seen).toEqual([
      [true, 100],
      [true, 100],
      [false, 5000],
    ]);
  });

  it('a success resets the retry count', () => {
    let s = afterAttempt(initialState(false), fail, timing).state;
    s = afterAttempt(s, good, timing).state;
    expect(s).toMatchObject({ up: true, retryIt: 0 });
    expect(afterAttempt(s, fail, timing).state.up).toBe(true);
  });

  it('a down checker stays down without retries and comes up on one success', () => {
    const down = initialState(true);
    expect(afterAttempt(down, fail, timing)).toMatchObject({ state: { up: false }, nextDelayMs: 5000 });
    expect(afterAttempt(down, good, timing)).toMatchObject({ state: { up: true }, nextDelayMs: 5000 });
  });

  it('retry 0: the first failure is down', () => {
    expect(afterAttempt(initialState(false), fail, { ...timing, retry: 0 }).state.up).toBe(false);
  });

  it('keeps a reported weight while up and through a down period (keepalived keeps the last one set)', () => {
    const s = afterAttempt(initialState(false), { up: true, reason: 'exit 5', weight: 3, weightMode: 'set' }, timing).state;
    expect([s.weight, s.weightMode]).toEqual([3, 'set']);
    const down = afterAttempt(s, fail, { ...timing, retry: 0 }).state;
    expect(down).toMatchObject({ up: false, weight: 3 });
    const back = afterAttempt(down, { up: true, reason: 'exit 0' }, timing).state;
    expect(realServerHealth(1, [back])).toEqual({ up: true, weight: 3 });
  });

  const h = (up: boolean, weight: number | null = null, weightMode: 'set' | 'add' | null = null): CheckerState => ({
    up,
    hasRun: true,
    retryIt: 0,
    weight,
    weightMode,
    lastReason: '',
  });
  it('combined: up only when every checker is up; no checker = up', () => {
    expect(realServerHealth(1, [h(true), h(false)]).up).toBe(false);
    expect(realServerHealth(1, [h(true), h(true)]).up).toBe(true);
    expect(realServerHealth(1, []).up).toBe(true);
  });
  it('combined: misc_dynamic replaces the weight, FILE_CHECK offsets it, never below 0', () => {
    expect(realServerHealth(4, [h(true)]).weight).toBe(4);
    expect(realServerHealth(4, [h(true, 9, 'set')]).weight).toBe(9);
    expect(realServerHealth(4, [h(true, 2, 'add')]).weight).toBe(6);
    expect(realServerHealth(4, [h(true, 9, 'set'), h(true, -3, 'add')]).weight).toBe(6);
    expect(realServerHealth(1, [h(true, -5, 'add')]).weight).toBe(0);
  });
});
