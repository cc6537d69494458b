// For the checker's part of the model (load-worker.ts checkerPart), which the checker child
// keeps for its lifetime: real servers whose checker blocks are written alike share one
// checker object and one checkers array. A config of 10,000 real servers usually repeats one
// TCP_CHECK or HTTP_GET block 10,000 times; each copy (the checker object, its position and
// its one-element array) was a sizeable share of what a real server costs the checker in all.
// Shared before the part is sent, the part crosses the parent-child channel with each shared
// object once (V8's serializer keeps identity), so it is smaller to send and to receive.
//
// Checkers are values: nothing keys state by a checker object (the scheduler and the
// observer key it by real server and index), nothing mutates one. A shared checker keeps
// the position of the first block written alike; positions are for load-time diagnostics,
// already reported when this runs.
import type { HealthCheck, KeepalivedConfig } from './model.js';
import { valueKey } from './value-key.js';

/**
 * Shares identical checkers (equal in every keyword, wherever written) and identical checker
 * lists among the config's real servers, in place: meant for a config just loaded and held
 * alone. Returns how many checker objects are left.
 */
export function shareIdenticalCheckers(config: Pick<KeepalivedConfig, 'virtualServers'>): number {
  const checkers = new Map<string, { checker: HealthCheck; id: number }>();
  const lists = new Map<string, HealthCheck[]>();
  for (const vs of config.virtualServers) {
    for (const rs of vs.realServers) {
      let listKey = '';
      const shared = rs.checkers.map((c) => {
        const key = valueKey(c);
        let found = checkers.get(key);
        if (!found) checkers.set(key, (found = { checker: c, id: checkers.size }));
        listKey += `${found.id},`;
        return found.checker;
      });
      const list = lists.get(listKey);
      if (list) rs.checkers = list;
      else lists.set(listKey, (rs.checkers = shared));
    }
  }
  return checkers.size;
}
