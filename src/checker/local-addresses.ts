/**
 * Which IP addresses are configured on this host, kept current from rtnetlink address
 * events: what ha_suspend asks (is this virtual server's address here?) and how the checker
 * tells whether the VRRP instance named by lvs_sync_daemon is MASTER (its VIPs are here).
 * keepalived's checker watches the same kernel events for ha_suspend.
 *
 * `AddressBook` is the pure part (which interfaces hold which address, and what changed);
 * `watchLocalAddresses` feeds it from a netlink subscription plus one dump.
 */
import { canonicalAddress } from '../ipvs/model.js';
import { NetlinkSubscription, RouteNetlink } from '../netlink/index.js';
import type { InterfaceAddress, NetlinkEvent } from '../netlink/index.js';

export interface AddressPresence {
  /** Is `address` (any textual form) configured on some interface? */
  has(address: string): boolean;
  /** `address` (canonical) appeared on its first interface or left its last one. */
  onChange(listener: (address: string, present: boolean) => void): () => void;
}

type Listener = (address: string, present: boolean) => void;

/** Canonical address -> the interfaces holding it (the same IPv6 link-local can be on several). */
export class AddressBook implements AddressPresence {
  private readonly where = new Map<string, Set<number>>();
  private readonly listeners = new Set<Listener>();

  has(address: string): boolean {
    return this.where.has(canonical(address));
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  add(address: string, ifindex: number): void {
    const a = canonical(address);
    const set = this.where.get(a);
    if (set) {
      set.add(ifindex);
      return;
    }
    this.where.set(a, new Set([ifindex]));
    this.emit(a, true);
  }

  remove(address: string, ifindex: number): void {
    const a = canonical(address);
    const set = this.where.get(a);
    if (!set || !set.delete(ifindex) || set.size > 0) return;
    this.where.delete(a);
    this.emit(a, false);
  }

  /** Replace everything with a fresh dump, announcing only real differences. */
  reset(current: readonly Pick<InterfaceAddress, 'address' | 'ifindex'>[]): void {
    const next = new Map<string, Set<number>>();
    for (const c of current) {
      const a = canonical(c.address);
      const set = next.get(a) ?? new Set<number>();
      set.add(c.ifindex);
      next.set(a, set);
    }
    const gone = [...this.where.keys()].filter((a) => !next.has(a));
    const came = [...next.keys()].filter((a) => !this.where.has(a));
    this.where.clear();
    for (const [a, s] of next) this.where.set(a, s);
    for (const a of gone) this.emit(a, false);
    for (const a of came) this.emit(a, true);
  }

  /** Apply one rtnetlink event (links and overruns are not this book's business). */
  apply(event: NetlinkEvent): void {
    if (event.kind === 'address-added') this.add(event.address.address, event.address.ifindex);
    else if (event.kind === 'address-removed') this.remove(event.address.address, event.address.ifindex);
  }

  private emit(address: string, present: boolean): void {
    for (const l of this.listeners) l(address, present);
  }
}

function canonical(address: string): string {
  return canonicalAddress(address.split('%')[0]!);
}

export interface LocalAddresses extends AddressPresence {
  close(): void;
}

/**
 * Subscribe first, then dump: events that arrive before the dump is in are replayed on top
 * of it in order (adding what is there, or removing what is gone, changes nothing), so no
 * change between the two is lost. A receive overrun re-reads the whole list.
 */
export async function watchLocalAddresses(onError: (err: Error) => void = () => {}): Promise<LocalAddresses> {
  const book = new AddressBook();
  const sub = await NetlinkSubscription.open({ links: false, keepAlive: false });
  const rtnl = RouteNetlink.open();
  let early: NetlinkEvent[] | null = [];
  let closed = false;
  const resync = async (): Promise<void> => {
    early ??= [];
    try {
      book.reset(await rtnl.listAddresses());
    } catch (err) {
      if (!closed) onError(err as Error);
    }
    const replay = early;
    early = null;
    for (const e of replay) book.apply(e);
  };
  sub.on((event) => {
    if (event.kind === 'overrun') {
      void resync();
      return;
    }
    if (early) early.push(event);
    else book.apply(event);
  });
  sub.onError(onError);
  await resync();
  return {
    has: (a) => book.has(a),
    onChange: (l) => book.onChange(l),
    close() {
      closed = true;
      sub.close();
      rtnl.close();
    },
  };
}
