// The VRRP engine's ports: everything it does to the host and to time goes through these,
// so the engine is a thin shell around the pure machines (fsm.ts, sync-group.ts) that a unit
// test builds with fakes (engine.test.ts) and the child builds with the kernel's
// (kernelHost: rtnetlink, raw sockets, AF_PACKET).
import type { KeepalivedConfig, VirtualIp, VrrpInstance } from '../config/model.js';
import { NftablesFirewall, nftCommand, type FirewallPort } from '../firewall/nftables.js';
import { Announcements, type RoutesOf } from '../announce/announcements.js';
import type { Logger } from '../log/logger.js';
import { RouteNetlink } from '../netlink/index.js';
import { Announcer, type AnnounceLink } from '../netlink/announce.js';
import type { AddressSpec, InterfaceAddress, Link } from '../netlink/index.js';
import { LinkTracker, type LinkTrackerEvents } from './link-tracker.js';
import { VrrpTransport, type ReceivedPacket, type TransportOptions } from './transport.js';
import { VipManager } from './vips.js';

export type { FirewallPort, LinkTrackerEvents, ReceivedPacket, TransportOptions };

/** Links and addresses, kept current (link-tracker.ts). */
export interface LinkView {
  link(name: string): Link | null;
  ifindex(name: string): number | null;
  isUp(name: string): boolean;
  addresses(name: string, family: 4 | 6): Promise<InterfaceAddress[]>;
  close(): void;
}

/** Adds and removes an instance's VIPs (vips.ts). */
export interface VipPort {
  add(inst: VrrpInstance, vips: readonly VirtualIp[]): Promise<void>;
  remove(inst: VrrpInstance, vips: readonly VirtualIp[]): Promise<void>;
  /** The instance's VIPs configured on the host right now. */
  present(inst: VrrpInstance): Promise<VirtualIp[]>;
  /**
   * The VIPs as the kernel is asked for them (device by index; those whose device exists):
   * what the watchdog parent removes if this process dies (engine.ts held()).
   */
  specs(inst: VrrpInstance, vips: readonly VirtualIp[]): AddressSpec[];
}

/** One VRRP socket (transport.ts): receives adverts for its interface, sends ours. */
export interface AdvertSocket {
  send(packet: Buffer, dst: string): Promise<void>;
  /** The sources whose adverts get a receive queue of their own. */
  prioritise(sources: readonly string[]): void;
  close(): void;
}

/** Gratuitous ARP / unsolicited NA (netlink/announce.ts). */
export interface AnnouncePort {
  announceRepeatedly(link: AnnounceLink, addresses: readonly string[], repeat: number, intervalMs: number, signal?: AbortSignal): Promise<Error[]>;
  close(): void;
}

/** Routes for bgp_announce `follow vrrp` (src/announce): MASTERs' prefixes, for FRR/BIRD to announce. */
export interface AnnouncementPort {
  configure(config: KeepalivedConfig): Promise<void>;
  sync(routesOf: RoutesOf): void;
  /** Withdraws, then waits until the routing daemon can have passed the withdrawal on. */
  drain(routesOf: RoutesOf): Promise<void>;
  close(): Promise<void>;
}

/** The host the engine runs on. */
export interface VrrpHost {
  /** Absent: the host has no route announcements (a test's fakes). */
  openAnnouncements?(log: Logger): AnnouncementPort;
  /** The VRRP firewall (accept mode). Absent: the host has none (a test's fakes without one). */
  openFirewall?(log: Logger): FirewallPort;
  openLinks(events: LinkTrackerEvents): Promise<LinkView>;
  vips(links: LinkView): VipPort;
  /** Throws when the socket cannot be opened. */
  openSocket(opts: TransportOptions, onPacket: (p: ReceivedPacket) => void, onError: (e: Error) => void): AdvertSocket;
  /** Throws when frames cannot be sent (no AF_PACKET). */
  openAnnouncer(): AnnouncePort;
  close(): void;
}

/** The kernel: one rtnetlink handle for links, addresses and VIPs; raw sockets for adverts. */
export function kernelHost(log: Logger): VrrpHost {
  let rtnl: RouteNetlink | null = null;
  const handle = () => (rtnl ??= RouteNetlink.open());
  return {
    openLinks: (events) => LinkTracker.open(handle(), events),
    vips: (links) => new VipManager(handle(), (n) => links.ifindex(n), log),
    openSocket: (opts, onPacket, onError) => {
      const t = new VrrpTransport(opts);
      t.on('packet', onPacket);
      t.on('error', onError);
      return t;
    },
    openAnnouncer: () => new Announcer(),
    openAnnouncements: () => new Announcements(handle(), log, 'vrrp'),
    openFirewall: (l) => new NftablesFirewall(nftCommand(), l),
    close: () => {
      rtnl?.close();
      rtnl = null;
    },
  };
}
