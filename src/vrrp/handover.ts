// Make-before-break when a MASTER stops (TERM, a lost parent): it sends priority 0 at once,
// so the backups take over after Skew_Time, but keeps its VIPs until it hears the
// successor's first advert, and a moment more for the successor to install them and send
// its gratuitous ARPs; or until no successor can come any more. Clients whose ARP entry
// still names our MAC keep being answered meanwhile. keepalived drops the VIPs at once:
// SYNs sent in the gap until the successor's GARP arrives go nowhere and wait for a TCP
// retransmission (1 s). With no successor at all the VIPs go after the bound, as before.
// The same gap opens when a MASTER yields to a higher-priority one (a preempting router
// coming back): that one sends its advert first and its GARPs just after, so the yielding
// MASTER keeps its VIPs LINGER_MS longer (the engine cancels the removal if it is MASTER
// again by then). IPv6 VIPs are added with NODAD, so the short overlap trips no DAD.

import { systemClock, type Clock } from '../clock/index.js';

/**
 * How long a successor can take: a backup waits Skew_Time after a priority-0 advert
 * (v2: (256 - prio)/256 s, under 1 s; v3: that fraction of the advert interval), plus
 * its own processing.
 */
export function successorWaitMs(version: 2 | 3, advertIntMs: number): number {
  return (version === 2 ? 1000 : advertIntMs) + 250;
}

/** After the successor's advert: time for it to add the VIPs and send its first GARP. */
export const LINGER_MS = 100;

export class SuccessorWatch<K> {
  private readonly waiting = new Map<K, () => void>();

  constructor(private readonly clock: Pick<Clock, 'setTimer' | 'clearTimer'> = systemClock) {}

  /** True while stop() waits: adverts must still be read. */
  get active(): boolean {
    return this.waiting.size > 0;
  }

  /** Resolves once each key's successor was heard (plus LINGER_MS) or its bound passed. */
  async wait(keys: readonly K[], boundMs: (k: K) => number): Promise<void> {
    await Promise.all(
      keys.map(
        (k) =>
          new Promise<void>((resolve) => {
            const done = () => {
              this.clock.clearTimer(bound);
              this.waiting.delete(k);
              resolve();
            };
            const bound = this.clock.setTimer(done, boundMs(k));
            this.waiting.set(k, () => {
              this.clock.clearTimer(bound);
              this.clock.setTimer(done, LINGER_MS);
            });
          }),
      ),
    );
  }

  /** Another router advertised (priority > 0) for this key. */
  heard(k: K): void {
    const f = this.waiting.get(k);
    if (!f) return;
    this.waiting.set(k, () => undefined);
    f();
  }
}
