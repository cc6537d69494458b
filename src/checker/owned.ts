/**
 * Which IPVS services are ours. The checker must never touch a service it did not define
 * (another load balancer, an operator's manual rule), yet it must remove services an earlier
 * run or an earlier config defined. The ids it owns are kept in a small JSON file that
 * survives a restart of the checker (tmpfs /run: a reboot empties the kernel table too).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeStateDir } from '../fs/state-dir.js';
import type { ServiceEntry } from '../ipvs/model.js';
import { serviceId } from '../ipvs/model.js';

export const DEFAULT_OWNED_PATH = '/run/keepalived-ts/ipvs-owned.json';

export interface OwnedStore {
  load(): Set<string>;
  save(ids: Iterable<string>): void;
}

/** The file holds `{"services": ["tcp:inet:[10.0.0.1]:80", ...]}`. */
export function fileOwnedStore(path = DEFAULT_OWNED_PATH): OwnedStore {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
        throw e;
      }
      try {
        const v = JSON.parse(text) as { services?: unknown };
        return new Set(Array.isArray(v.services) ? v.services.filter((s): s is string => typeof s === 'string') : []);
      } catch {
        // a torn or foreign file must not stop the checker: owning less is the safe side
        return new Set();
      }
    },
    save(ids) {
      makeStateDir(dirname(path));
      // write-then-rename: a crash mid-write leaves the old list, never half of one
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ services: [...ids].sort() }) + '\n');
      renameSync(tmp, path);
    },
  };
}

export function memoryOwnedStore(initial: Iterable<string> = []): OwnedStore & { ids: Set<string> } {
  const store = {
    ids: new Set(initial),
    load: () => new Set(store.ids),
    save: (ids: Iterable<string>) => {
      store.ids = new Set(ids);
    },
  };
  return store;
}

/** The part of a kernel dump the checker may look at and change. */
export function ownedOnly(dump: readonly ServiceEntry[], owned: ReadonlySet<string>): ServiceEntry[] {
  return dump.filter((e) => owned.has(serviceId(e.service)));
}
