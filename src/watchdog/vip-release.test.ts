import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import type { AddressSpec } from '../netlink/index.js';
import { adoptionDeadline, HeldVips, RELEASE_MARGIN_MS, shouldReleaseVips, type ReleaseQuestion } from './vip-release.js';

const vip: AddressSpec = { ifindex: 2, family: 4, address: '10.0.0.100', prefix: 24 };
// priority 200 at advert_int 1 s: 3 s + (256 - 200) / 256 s
const MASTER_DOWN = 3000 + (56 * 1000) / 256;
const base: ReleaseQuestion = {
  held: { addresses: [vip], masterDownMs: MASTER_DOWN },
  silentSince: 10_000,
  now: 10_000,
  respawnInMs: 0,
  startupMs: 800,
  keepOnStop: false,
};
const ask = (q: Partial<ReleaseQuestion>) => shouldReleaseVips({ ...base, ...q });

describe('shouldReleaseVips', () => {
  it('keeps the VIPs for a child respawned at once that starts well before a backup takes over (it adopts them)', () => {
    expect(ask({})).toBe(false);
  });

  it('removes them when the respawn backoff alone outlasts Master_Down', () => {
    expect(ask({ respawnInMs: 3_500 })).toBe(true);
  });

  it('counts the silence so far: a second death soon after the first comes too late', () => {
    // the first child died at 10,000; its successor died before advertising, 2.4 s later
    expect(ask({ now: 12_400, respawnInMs: 100 })).toBe(true);
    expect(ask({ now: 10_400, respawnInMs: 100 })).toBe(false);
  });

  it('keeps a margin before Master_Down', () => {
    const edge = MASTER_DOWN - base.startupMs! - RELEASE_MARGIN_MS;
    expect(ask({ respawnInMs: Math.floor(edge) })).toBe(false);
    expect(ask({ respawnInMs: Math.ceil(edge) + 1 })).toBe(true);
  });

  it('counts a slow start: a child that took 3 s to start will not be back in time', () => {
    expect(ask({ startupMs: 3_000 })).toBe(true);
    expect(ask({ startupMs: null })).toBe(true);
  });

  it('removes what no MASTER holds (a handover under way) and keeps nothing to remove', () => {
    expect(ask({ held: { addresses: [vip], masterDownMs: null } })).toBe(true);
    expect(ask({ held: { addresses: [], masterDownMs: null }, respawnInMs: 60_000 })).toBe(false);
    expect(ask({ held: null, respawnInMs: 60_000 })).toBe(false);
  });

  it('when no child will run again: removes them, unless -V keeps them', () => {
    expect(ask({ respawnInMs: null })).toBe(true);
    expect(ask({ respawnInMs: null, keepOnStop: true })).toBe(false);
  });
});

describe('adoptionDeadline', () => {
  it('is Master_Down after the last advert, less the margin; none when nothing is held for a MASTER', () => {
    expect(adoptionDeadline({ addresses: [vip], masterDownMs: 3_000 }, 10_000)).toBe(13_000 - RELEASE_MARGIN_MS);
    expect(adoptionDeadline({ addresses: [vip], masterDownMs: null }, 10_000)).toBeNull();
    expect(adoptionDeadline({ addresses: [], masterDownMs: 3_000 }, 10_000)).toBeNull();
    expect(adoptionDeadline(null, 10_000)).toBeNull();
  });
});

describe('HeldVips', () => {
  const make = () => {
    let now = 0;
    const removed: AddressSpec[][] = [];
    const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
    const held = new HeldVips(
      createLogger({ proc: 'parent', collect: () => undefined }),
      async (a) => {
        removed.push([...a]);
        return a.length;
      },
      () => now,
      (fn, ms) => {
        const t = { at: now + ms, fn, cancelled: false };
        timers.push(t);
        return () => {
          t.cancelled = true;
        };
      },
    );
    /** Moves the clock, firing the timers due by then. */
    const at = async (t: number) => {
      now = t;
      for (const x of timers)
        if (!x.cancelled && x.at <= t) {
          x.cancelled = true;
          x.fn();
        }
      await Promise.resolve();
    };
    return { held, removed, at };
  };

  it('removes VIPs kept for a successor that has not started by the adoption deadline', async () => {
    const { held, removed, at } = make();
    held.reported({ addresses: [vip], masterDownMs: MASTER_DOWN });
    await at(1_000);
    held.heard(); // its last heartbeat: it advertised until then
    await held.childDied(0, 800, false);
    expect(removed).toEqual([]);
    await at(1_000 + MASTER_DOWN - RELEASE_MARGIN_MS - 1);
    expect(removed).toEqual([]);
    await at(1_000 + MASTER_DOWN - RELEASE_MARGIN_MS);
    expect(removed).toEqual([[vip]]);
  });

  it('keeps them when the successor reports in time', async () => {
    const { held, removed, at } = make();
    held.reported({ addresses: [vip], masterDownMs: MASTER_DOWN });
    await at(1_000);
    await held.childDied(0, 800, false);
    await at(2_000);
    held.reported({ addresses: [vip], masterDownMs: MASTER_DOWN }); // it adopted them
    await at(10_000);
    expect(removed).toEqual([]);
  });

  it('removes what the dead child held when its successor comes too late, once', async () => {
    const { held, removed, at } = make();
    held.reported({ addresses: [vip], masterDownMs: MASTER_DOWN });
    await at(5_000);
    held.heard();
    await at(5_200);
    await held.childDied(0, 800, false); // back in ~1 s: kept for the successor to adopt
    expect(removed).toEqual([]);
    await at(6_000);
    held.heard(); // the successor's heartbeats, before it reported: not adverts for these VIPs
    await held.childDied(1_500, 800, false);
    expect(removed).toEqual([[vip]]);
    await held.childDied(4_000, 800, false);
    expect(removed).toEqual([[vip]]);
  });

  it("takes a new child's report as the holdings, and forgets them when it stops cleanly", async () => {
    const { held, removed, at } = make();
    held.reported({ addresses: [vip], masterDownMs: MASTER_DOWN });
    await at(1_000);
    held.reported({ addresses: [], masterDownMs: null });
    await held.childDied(null, 800, false);
    expect(removed).toEqual([]);
    held.reported({ addresses: [vip], masterDownMs: MASTER_DOWN });
    held.forget();
    await held.childDied(null, 800, false);
    expect(removed).toEqual([]);
  });
});
