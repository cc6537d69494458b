// When (and whether) the parent restarts a child that died. Pure: the supervisor feeds it
// what happened and a clock reading, and acts on the answer.
//
// keepalived's rule: a child that ran longer than a minute is restarted at once (it was
// healthy; this is a one-off). One that dies sooner is held back 1 s, then 2, 4 ... capped
// at 60 s, so a crash loop does not spin a core. Fatal/config/permission exits stop the
// daemon. One refinement: the hold-back counts from the child's *start*, not its death.
// A crash loop is throttled exactly as keepalived does it (a child dying at once waits the
// full delay), but a VRRP child killed after running 5 s comes back at once: waiting
// another second would only widen the window in which the backup could take over.
import { isTerminalExit } from './exit-codes.js';

export const HEALTHY_RUN_MS = 60_000;
export const FIRST_DELAY_MS = 1_000;
export const MAX_DELAY_MS = 60_000;

export interface RespawnState {
  /** Backoff step of the previous quick death; 0 when the last run was healthy. */
  lastDelayMs: number;
}

export const initialRespawnState: RespawnState = { lastDelayMs: 0 };

export type RespawnDecision = { action: 'restart'; delayMs: number; state: RespawnState } | { action: 'stop-daemon'; reason: string; state: RespawnState };

export interface ChildDeath {
  startedAt: number;
  diedAt: number;
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: string | null;
  /** -R / --dont-respawn: the parent exits when a child dies. */
  dontRespawn: boolean;
}

export function decideRespawn(state: RespawnState, death: ChildDeath): RespawnDecision {
  if (isTerminalExit(death.code)) {
    return { action: 'stop-daemon', reason: `child exited with code ${death.code}`, state };
  }
  if (death.dontRespawn) {
    const how = death.signal ? `signal ${death.signal}` : `code ${death.code}`;
    return { action: 'stop-daemon', reason: `child died (${how}) and respawn is off`, state };
  }
  const ranMs = death.diedAt - death.startedAt;
  if (ranMs > HEALTHY_RUN_MS) {
    return { action: 'restart', delayMs: 0, state: { lastDelayMs: 0 } };
  }
  const backoffMs = state.lastDelayMs === 0 ? FIRST_DELAY_MS : Math.min(state.lastDelayMs * 2, MAX_DELAY_MS);
  return { action: 'restart', delayMs: Math.max(0, backoffMs - ranMs), state: { lastDelayMs: backoffMs } };
}

/** Ceiling for the doubling of a child's start-up allowance: past this it is hung, not slow. */
export const MAX_STARTUP_MS = 300_000;

/**
 * The start-up allowance after a child missed `currentMs`: doubled, capped. Kept for the
 * daemon's life (the machine that was slow once stays slow), so a large config on a slow
 * host converges after a few restarts instead of being killed at the same point forever.
 * An allowance the operator set above the ceiling (--child-start-timeout) is kept.
 */
export function nextStartupAllowance(currentMs: number): number {
  return Math.max(currentMs, Math.min(currentMs * 2, MAX_STARTUP_MS));
}
