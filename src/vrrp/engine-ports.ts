// The VRRP engine's ports: everything it does to the host and to time goes through these,
// so the engine is a thin shell around the pure machines (fsm.ts, sync-group.ts) that a unit
// test builds with fakes (engine.test.ts) and the child builds with the kernel's
// (kernelHost: rtnetlink, raw sockets, AF_PACKET).
import type { KeepalivedConfig, StaticAddress, VirtualIp, VirtualRoute, VirtualRule, VrrpInstance } from '../config/model.js';
import { NftablesFirewall, nftCommand, type FirewallPort } from '../firewall/nftables.js';
import { Announcements, type RoutesOf } from '../announce/announcements.js';
import type { Logger } from '../log/logger.js';
import { RouteNetlink } from '../netlink/index.js';
import { Announcer, type AnnounceLink } from '../netlink/announce.js';
import type { AddressSpec, InterfaceAddress, Link, RouteWatch } from '../netlink/index.js';
import { ProcEventSubscription } from '../netlink/index.js';
import { listProcesses, readProcess, type ProcessPort } from './engine-track-process.js';
import { LinkTracker, type LinkTrackerEvents } from './link-tracker.js';
import { VrrpTransport, type ReceivedPacket, type TransportOptions } from './transport.js';
import { RoutingManager } from './routing.js';
import { VipManager } from './vips.js';
import { VirtualLinks, type VirtualLinkPort } from './vmac.js';

export type { FirewallPort, LinkTrackerEvents, ProcessPort, ReceivedPacket, TransportOptions, VirtualLinkPort };

/** Links and addresses, kept current (link-tracker.ts). */
export interface LinkView {
  link(name: string): Link | null;
  ifindex(name: string): number | null;
  isUp(name: string): boolean;
  addresses(name: string, family: 4 | 6): Promise<InterfaceAddress[]>;
  /** Re-reads the links (after this process created one). */
  refresh(): Promise<void>;
  /** Which route and rule removals to hear of (route-tracking.ts routeWatch). */
  watchRoutes(watch: RouteWatch): void;
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

/**
 * Configured routes, rules and static addresses (routing.ts): virtual_routes/rules of MASTERs,
 * static_* of the process. Each call goes on past an entry the kernel refuses (logged).
 */
export interface RoutingPort {
  addRoutes(routes: readonly VirtualRoute[], owner: string): Promise<void>;
  removeRoutes(routes: readonly VirtualRoute[], owner: string): Promise<void>;
  addRules(rules: readonly VirtualRule[], owner: string): Promise<void>;
  removeRules(rules: readonly VirtualRule[], owner: string): Promise<void>;
  addAddresses(addresses: readonly StaticAddress[]): Promise<void>;
  removeAddresses(addresses: readonly StaticAddress[]): Promise<void>;
}

/** One VRRP socket (transport.ts): receives adverts for its interface, sends ours. */
export interface AdvertSocket {
  /**
   * Null: sent at once; else a promise of the queued send (rejected if it fails). The caller
   * may change `packet` once this returns.
   */
  send(packet: Buffer, dst: string): Promise<void> | null;
  /** The sources whose adverts get a receive queue of their own. */
  prioritise(sources: readonly string[]): void;
  /** Hands over at once (to the socket's packet callback) the packets already queued. */
  readPending(): void;
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
  /** Absent: routes, rules and static addresses are not applied (a test's fakes that do not look). */
  routing?(links: LinkView): RoutingPort;
  /** use_vmac / use_ipvlan interfaces (vmac.ts). */
  virtualLinks(log: Logger): VirtualLinkPort;
  /** Throws when the socket cannot be opened. */
  openSocket(opts: TransportOptions, onPacket: (p: ReceivedPacket) => void, onError: (e: Error) => void): AdvertSocket;
  /** Throws when frames cannot be sent (no AF_PACKET). */
  openAnnouncer(): AnnouncePort;
  /** The host's processes, for track_process. */
  processes(): ProcessPort;
  close(): void;
}

/** /proc and the kernel's process events (the netlink proc connector). */
export const kernelProcesses: ProcessPort = {
  list: () => listProcesses(),
  read: (pid) => readProcess(pid),
  subscribe: async (onEvent, lost) => {
    const sub = await ProcEventSubscription.open();
    sub.on(onEvent);
    sub.onOverrun(lost);
    return sub;
  },
};

/** The kernel: one rtnetlink handle for links, addresses and VIPs; raw sockets for adverts. */
export function kernelHost(log: Logger): VrrpHost {
  let rtnl: RouteNetlink | null = null;
  const handle = () => (rtnl ??= RouteNetlink.open());
  return {
    openLinks: (events) => LinkTracker.open(handle(), events),
    vips: (links) => new VipManager(handle(), (n) => links.ifindex(n), log),
    routing: (links) => new RoutingManager(handle(), (n) => links.ifindex(n), log),
    virtualLinks: (l) => new VirtualLinks(handle(), l),
    openSocket: (opts, onPacket, onError) => {
      const t = new VrrpTransport(opts);
      t.on('packet', onPacket);
      t.on('error', onError);
      return t;
    },
    openAnnouncer: () => new Announcer(),
    processes: () => kernelProcesses,
    openAnnouncements: () => new Announcements(handle(), log, 'vrrp'),
    openFirewall: (l) => new NftablesFirewall(nftCommand(), l),
    close: () => {
      rtnl?.close();
      rtnl = null;
    },
  };
}
