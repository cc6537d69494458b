/**
 * A subscription to rtnetlink notifications, delivered as typed NetlinkEvents: addresses
 * added/removed (to notice a VIP deleted behind our back) and links going up/down (for
 * track_interface). Link state is seeded with a dump so up/down are real transitions.
 */
import { Listeners } from '../listeners.js';
import { NetlinkSocket } from '../socket.js';
import { NETLINK_ROUTE, type NlMessage } from '../wire.js';
import { classifyLinkUpdate, decodeAddress, decodeLink, decodeRouteNotice, decodeRule, encodeLinkDump } from './codec.js';
import {
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_DELRULE,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV4_ROUTE,
  RTNLGRP_IPV4_RULE,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV6_ROUTE,
  RTNLGRP_IPV6_RULE,
  RTNLGRP_LINK,
} from './constants.js';
import type { Link, NetlinkEvent } from './model.js';

export interface SubscriptionOptions {
  links?: boolean;
  ipv4Addresses?: boolean;
  ipv6Addresses?: boolean;
  /** Route and rule removals of each family (default none: a busy routing table is a lot of traffic). */
  routes?: RouteWatch;
  /**
   * Keep the process alive while subscribed (default true: whoever awaits an event needs the
   * loop running; close() the subscription when done).
   */
  keepAlive?: boolean;
  /** Socket receive buffer; the default (1 MiB) absorbs bursts of thousands of notifications. */
  recvBufferSize?: number;
}

/** Which route and rule notifications to receive; `watch()` changes them on a live subscription. */
export interface RouteWatch {
  ipv4Routes: boolean;
  ipv6Routes: boolean;
  ipv4Rules: boolean;
  ipv6Rules: boolean;
}

const ROUTE_GROUPS: Record<keyof RouteWatch, number> = {
  ipv4Routes: RTNLGRP_IPV4_ROUTE,
  ipv6Routes: RTNLGRP_IPV6_ROUTE,
  ipv4Rules: RTNLGRP_IPV4_RULE,
  ipv6Rules: RTNLGRP_IPV6_RULE,
};

export type EventListener = (event: NetlinkEvent) => void;

export class NetlinkSubscription {
  private readonly listeners = new Listeners<[NetlinkEvent]>();
  private readonly known = new Map<number, Link>();
  private readonly early: NlMessage[] = [];
  private seeded = false;

  private constructor(private readonly sock: NetlinkSocket) {
    sock.onNotification((msg) => (this.seeded ? this.handle(msg) : this.early.push(msg)));
    sock.onOverrun(() => void this.resync());
  }

  /** Joins the groups, then reads the current links so later changes classify correctly. */
  static async open(options: SubscriptionOptions = {}): Promise<NetlinkSubscription> {
    const groups: number[] = [];
    if (options.links ?? true) groups.push(RTNLGRP_LINK);
    if (options.ipv4Addresses ?? true) groups.push(RTNLGRP_IPV4_IFADDR);
    if (options.ipv6Addresses ?? true) groups.push(RTNLGRP_IPV6_IFADDR);
    for (const [k, group] of Object.entries(ROUTE_GROUPS)) if (options.routes?.[k as keyof RouteWatch]) groups.push(group);
    const sub = new NetlinkSubscription(
      NetlinkSocket.open(NETLINK_ROUTE, { groups, keepAlive: options.keepAlive ?? true, recvBufferSize: options.recvBufferSize }),
    );
    try {
      await sub.seedLinks();
    } catch (err) {
      sub.close();
      throw err;
    }
    sub.seeded = true;
    for (const msg of sub.early.splice(0)) sub.handle(msg);
    return sub;
  }

  on(listener: EventListener): () => void {
    return this.listeners.add(listener);
  }

  /** Joins or leaves the route and rule groups (keepalived's set_extra_netlink_monitoring). */
  watch(routes: RouteWatch): void {
    for (const [k, group] of Object.entries(ROUTE_GROUPS)) {
      this.sock.setMembership(group, routes[k as keyof RouteWatch]);
    }
  }

  /** Socket failures other than overruns (which arrive as 'overrun' events). */
  onError(listener: (err: Error) => void): () => void {
    return this.sock.onError(listener);
  }

  /** The last known state of a link (from the seed dump and notifications since). */
  link(index: number): Link | undefined {
    return this.known.get(index);
  }

  close(): void {
    this.sock.close();
    this.listeners.clear();
  }

  private async seedLinks(): Promise<void> {
    const replies = await this.sock.dump(RTM_GETLINK, encodeLinkDump(), 'list links for the event subscription');
    this.known.clear();
    for (const msg of replies) {
      const link = msg.type === RTM_NEWLINK ? decodeLink(msg.payload) : null;
      if (link) this.known.set(link.index, link);
    }
  }

  private async resync(): Promise<void> {
    this.emit({ kind: 'overrun' });
    try {
      await this.seedLinks();
    } catch {
      // the socket is closing or the kernel is unwell; the next overrun or event tries again
    }
  }

  private handle(msg: NlMessage): void {
    for (const event of eventsFromNotification(msg, (i) => this.known.get(i) ?? null)) {
      if (event.kind === 'link-removed') this.known.delete(event.link.index);
      else if ('link' in event) this.known.set(event.link.index, event.link);
      this.emit(event);
    }
  }

  private emit(event: NetlinkEvent): void {
    this.listeners.emit(event);
  }
}

/** Pure: the events one notification means, given the previously known links. */
export function eventsFromNotification(msg: NlMessage, previousLink: (index: number) => Link | null): NetlinkEvent[] {
  switch (msg.type) {
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      const address = decodeAddress(msg.payload);
      if (!address) return [];
      return [{ kind: msg.type === RTM_NEWADDR ? 'address-added' : 'address-removed', address }];
    }
    case RTM_NEWLINK: {
      const link = decodeLink(msg.payload);
      if (!link) return [];
      const previous = previousLink(link.index);
      // The kernel re-announces links for changes we do not model (statistics, queues).
      if (previous && sameLink(previous, link)) return [];
      return [classifyLinkUpdate(previous, link)];
    }
    case RTM_DELLINK: {
      const link = decodeLink(msg.payload);
      return link ? [{ kind: 'link-removed', link }] : [];
    }
    case RTM_DELROUTE: {
      const route = decodeRouteNotice(msg.payload);
      return route ? [{ kind: 'route-removed', route }] : [];
    }
    case RTM_DELRULE: {
      const rule = decodeRule(msg.payload);
      return rule ? [{ kind: 'rule-removed', rule }] : [];
    }
    default:
      return [];
  }
}

function sameLink(a: Link, b: Link): boolean {
  return (Object.keys(a) as (keyof Link)[]).every((k) => a[k] === b[k]);
}
