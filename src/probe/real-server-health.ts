// A real server is up when every one of its checkers is up (no checker: always up). Its
// IPVS weight is the configured one, replaced by misc_dynamic results (keepalived adds
// `code - 2 - weight` per MISC_CHECK) and offset by FILE_CHECK values.
import type { CheckerState } from './checker-state.js';

/** keepalived's IPVS_WEIGHT_MAX. */
export const IPVS_WEIGHT_MAX = 65535;

export interface RealServerHealth {
  up: boolean;
  weight: number;
}

export function realServerHealth(configuredWeight: number, checkers: readonly CheckerState[]): RealServerHealth {
  const up = checkers.every((c) => c.up);
  let weight = configuredWeight;
  for (const c of checkers) {
    if (c.weight === null) continue;
    weight += c.weightMode === 'add' ? c.weight : c.weight - configuredWeight;
  }
  return { up, weight: Math.max(0, Math.min(IPVS_WEIGHT_MAX, weight)) };
}
