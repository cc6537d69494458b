import { describe, expect, it } from 'vitest';
import { decideRespawn, initialRespawnState, MAX_STARTUP_MS, nextStartupAllowance, type ChildDeath, type RespawnState } from './respawn-policy.js';
import { EXIT_CONFIG, EXIT_FATAL, EXIT_MISSING_PERMISSION, EXIT_PROGRAM_ERROR } from './exit-codes.js';

const death = (ranMs: number, extra: Partial<ChildDeath> = {}): ChildDeath => ({
  startedAt: 1_000_000,
  diedAt: 1_000_000 + ranMs,
  code: null,
  signal: 'SIGKILL',
  dontRespawn: false,
  ...extra,
});

describe('respawn policy', () => {
  it('doubles the delay of a crash loop from 1 s up to a 60 s cap', () => {
    let state: RespawnState = initialRespawnState;
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const d = decideRespawn(state, death(0));
      if (d.action !== 'restart') throw new Error('expected restart');
      delays.push(d.delayMs);
      state = d.state;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('restarts at once after a healthy run and resets the backoff', () => {
    const looping = decideRespawn({ lastDelayMs: 32_000 }, death(60_001));
    expect(looping).toMatchObject({ action: 'restart', delayMs: 0, state: { lastDelayMs: 0 } });
    const next = decideRespawn(looping.state, death(10));
    expect(next).toMatchObject({ action: 'restart', delayMs: 990 });
  });

  it('a run of exactly 60 s still counts as a quick death (the backoff step advances)', () => {
    expect(decideRespawn(initialRespawnState, death(60_000))).toMatchObject({ delayMs: 0, state: { lastDelayMs: 1000 } });
  });

  it('counts the hold-back from the start: a child that ran 5 s is restarted at once', () => {
    const d = decideRespawn(initialRespawnState, death(5_000));
    expect(d).toMatchObject({ action: 'restart', delayMs: 0 });
    // a second quick death 1.5 s into its run waits out the rest of the 2 s step
    const again = decideRespawn(d.state, death(1_500));
    expect(again).toMatchObject({ action: 'restart', delayMs: 500, state: { lastDelayMs: 2000 } });
  });

  it.each([EXIT_FATAL, EXIT_CONFIG, EXIT_MISSING_PERMISSION])('exit code %i stops the daemon', (code) => {
    const d = decideRespawn(initialRespawnState, death(120_000, { code, signal: null }));
    expect(d.action).toBe('stop-daemon');
  });

  it('an ordinary failure exit is respawned', () => {
    expect(decideRespawn(initialRespawnState, death(10, { code: EXIT_PROGRAM_ERROR, signal: null })).action).toBe('restart');
  });

  it('--dont-respawn stops the daemon on any death, naming the signal', () => {
    const d = decideRespawn(initialRespawnState, death(120_000, { dontRespawn: true }));
    expect(d).toMatchObject({ action: 'stop-daemon', reason: 'child died (signal SIGKILL) and respawn is off' });
  });
});

describe('start-up allowance', () => {
  it('doubles after each missed start-up, up to the ceiling', () => {
    expect(nextStartupAllowance(30_000)).toBe(60_000);
    expect(nextStartupAllowance(60_000)).toBe(120_000);
    expect(nextStartupAllowance(240_000)).toBe(MAX_STARTUP_MS);
    expect(nextStartupAllowance(MAX_STARTUP_MS)).toBe(MAX_STARTUP_MS);
  });
  it('keeps an allowance the operator set above the ceiling', () => {
    expect(nextStartupAllowance(600_000)).toBe(600_000);
  });
});
