/**
 * The checker's side of keepalived_check.data: real server health, and each virtual
 * server's table as the checker decides it (quorum from the current health, which real
 * servers are in it). src/dump/check-dump.ts only formats what it is given.
 */
import type { CheckDumpInput } from '../dump/check-dump.js';
import { destinationId } from '../ipvs/model.js';
import { type RealServerHealth, destinationsOf, healthKey, initialQuorum, realServerId } from './desired.js';

/** `health` by healthKey(vs, rs), as CheckerEngine.healthSnapshot() gives it; missing = initial. */
export function dumpTableState(health: ReadonlyMap<string, RealServerHealth>): Pick<CheckDumpInput, 'health' | 'virtualServer'> {
  const state = { health, quorumUp: new Map<string, boolean>() };
  return {
    health: (vs, rs) => health.get(healthKey(vs, rs)),
    virtualServer: (vs) => {
      const inTable = new Set(destinationsOf(vs, state).map(destinationId));
      return { quorumUp: initialQuorum(vs, state), inTable: (rs) => inTable.has(realServerId(rs)) };
    },
  };
}
