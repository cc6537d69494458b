// VIPs without a VRRP process. A VRRP child that dies leaves its VIPs on the host. Kept, they
// let a child respawned at once resume MASTER without a failover (it finds them and adopts
// them); but a child held back by the respawn backoff (1, 2, 4 ... s) or slow to start
// would leave them there while a backup, hearing no adverts, takes over after its
// Master_Down interval: both routers would answer for the VIP. The parent removes them
// when the child will not be back in time (keepalived's VRRP process removes its VIPs
// whenever it goes, so a backup never meets them). The VRRP child tells the parent what it
// holds (ipc.ts HeldByVrrp) whenever that changes; the decision is a pure function, the
// removal a thin shell over rtnetlink, loaded only when needed.
import type { AddressSpec } from '../netlink/index.js';
import type { HeldByVrrp } from './ipc.js';
import type { Logger } from '../log/logger.js';

/** How much earlier than a backup's Master_Down the child must be back for the VIPs to stay. */
export const RELEASE_MARGIN_MS = 250;

export interface ReleaseQuestion {
  /** What the VRRP child last said it holds. */
  held: HeldByVrrp | null;
  /** When a child holding them was last heard: its adverts stopped then at the latest. */
  silentSince: number;
  now: number;
  /** When the next VRRP child is forked; null when none will be (the daemon stops). */
  respawnInMs: number | null;
  /** How long the last VRRP child took to start (fork to running); null when unknown. */
  startupMs: number | null;
  /** -V (--dont-release-vrrp): VIPs stay when the daemon stops. */
  keepOnStop: boolean;
}

/** Whether the parent removes the VIPs a dead VRRP child held now. Pure. */
export function shouldReleaseVips(q: ReleaseQuestion): boolean {
  if (!q.held || q.held.addresses.length === 0) return false;
  if (q.respawnInMs === null) return !q.keepOnStop;
  // none MASTER: what is held is on its way out (a handover, a yield) and is not resumed
  if (q.held.masterDownMs === null || q.startupMs === null) return true;
  const backAfterSilence = q.now - q.silentSince + q.respawnInMs + q.startupMs;
  return backAfterSilence + RELEASE_MARGIN_MS > q.held.masterDownMs;
}

/**
 * When VIPs kept for a successor must go if it has not started by then: a backup takes over
 * at the end of Master_Down, counted from the last advert. Null when nothing is held for a
 * MASTER (shouldReleaseVips has removed it already).
 */
export function adoptionDeadline(held: HeldByVrrp | null, silentSince: number): number | null {
  if (!held || held.addresses.length === 0 || held.masterDownMs === null) return null;
  return silentSince + held.masterDownMs - RELEASE_MARGIN_MS;
}

/** Removes the addresses over rtnetlink; resolves with how many were still there. */
export async function removeAddresses(addresses: readonly AddressSpec[], log: Logger): Promise<number> {
  const { RouteNetlink } = await import('../netlink/index.js');
  const rtnl = RouteNetlink.open();
  let removed = 0;
  try {
    for (const spec of addresses) {
      try {
        if ((await rtnl.deleteAddress(spec)) === 'deleted') removed++;
      } catch (err) {
        // the device went away with its addresses, or the kernel refused: say so and go on
        log.warn(
          { address: `${spec.address}/${spec.prefix}`, ifindex: spec.ifindex, err: (err as Error).message },
          'could not remove a VIP the VRRP child left',
        );
      }
    }
  } finally {
    rtnl.close();
  }
  return removed;
}

/** Calls `fn` after `ms`; returns what cancels it. */
export type Schedule = (fn: () => void, ms: number) => () => void;

const realSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

/**
 * The parent's record of the VRRP child's holdings, and the decision when it dies. The
 * holdings outlive the child until they are removed or a new child reports its own. VIPs
 * kept for a successor that then starts slower than expected go at the adoption deadline
 * (a successor that had adopted them by then puts them back: a MASTER re-adds a VIP
 * removed under it).
 */
export class HeldVips {
  private held: HeldByVrrp | null = null;
  private heardAt = 0;
  /** The report came from the child running now (its heartbeats mean adverts go out). */
  private fromLiveChild = false;
  private cancelDeadline: (() => void) | null = null;

  constructor(
    private readonly log: Logger,
    private readonly remove: (a: readonly AddressSpec[]) => Promise<number> = (a) => removeAddresses(a, log),
    private readonly now: () => number = Date.now,
    private readonly schedule: Schedule = realSchedule,
  ) {}

  /** The running VRRP child reported what it holds. */
  reported(h: HeldByVrrp): void {
    this.clearDeadline();
    this.held = h;
    this.fromLiveChild = true;
    this.heardAt = this.now();
  }

  /** Anything from the running VRRP child: it is alive. */
  heard(): void {
    if (this.fromLiveChild) this.heardAt = this.now();
  }

  /** The VRRP child stopped as on TERM: it released what it held (or kept it, -V). */
  forget(): void {
    this.clearDeadline();
    this.held = null;
    this.fromLiveChild = false;
  }

  /** The VRRP child died; resolves once anything to remove is removed. */
  async childDied(respawnInMs: number | null, startupMs: number | null, keepOnStop: boolean): Promise<void> {
    this.clearDeadline();
    this.fromLiveChild = false;
    const q: ReleaseQuestion = { held: this.held, silentSince: this.heardAt, now: this.now(), respawnInMs, startupMs, keepOnStop };
    if (shouldReleaseVips(q)) {
      const why =
        respawnInMs === null
          ? 'no VRRP child will run again'
          : `the next VRRP child starts in ${respawnInMs} ms and would not advertise before a backup's Master_Down`;
      return this.release(why);
    }
    const deadline = respawnInMs === null ? null : adoptionDeadline(this.held, this.heardAt);
    if (deadline !== null) {
      this.cancelDeadline = this.schedule(
        () => {
          this.cancelDeadline = null;
          void this.release("the next VRRP child did not start before a backup's Master_Down");
        },
        Math.max(0, deadline - this.now()),
      );
    }
  }

  private async release(why: string): Promise<void> {
    if (!this.held) return;
    const addresses = this.held.addresses;
    this.held = null;
    const removed = await this.remove(addresses).catch((err: Error) => {
      this.log.error({ err: err.message }, 'could not remove the VIPs the dead VRRP child held');
      return 0;
    });
    this.log.warn({ addresses: addresses.map((a) => `${a.address}/${a.prefix}`), removed }, `removed the VIPs the dead VRRP child held: ${why}`);
  }

  private clearDeadline(): void {
    this.cancelDeadline?.();
    this.cancelDeadline = null;
  }
}
