// What the VRRP engine needs to know about links and addresses, kept current from an
// rtnetlink subscription: name <-> index, usable or not (admin up and running), MAC for
// GARP, an interface's addresses for the advert source, and the removal of an address,
// route or rule (something of ours deleted behind our back: route-tracking.ts).
import { linkIsUsable, NetlinkSubscription, type RouteNetlink, type RouteWatch } from '../netlink/index.js';
import type { InterfaceAddress, Link, RouteNotice, RuleSpec } from '../netlink/index.js';

export interface LinkTrackerEvents {
  /** A link became usable or unusable (also: appeared, disappeared). */
  onLink(name: string, up: boolean): void;
  onAddressRemoved(address: InterfaceAddress): void;
  /** Also sent when an address changes (e.g. stops being tentative). */
  onAddressAdded?(address: InterfaceAddress): void;
  /** Only for the families asked for with watchRoutes(). */
  onRouteRemoved?(route: RouteNotice): void;
  onRuleRemoved?(rule: RuleSpec): void;
}

export class LinkTracker {
  private readonly byName = new Map<string, Link>();
  private sub: NetlinkSubscription | null = null;

  private constructor(private readonly rtnl: RouteNetlink) {}

  static async open(rtnl: RouteNetlink, events: LinkTrackerEvents): Promise<LinkTracker> {
    const t = new LinkTracker(rtnl);
    // subscribe first, then list: a change between the two is seen at least once
    // keepAlive: an instance in FAULT for a missing interface has no socket and no timer,
    // and the link event that brings it back must still find the process running
    t.sub = await NetlinkSubscription.open({ links: true, ipv4Addresses: true, ipv6Addresses: true, keepAlive: true });
    t.sub.on((ev) => {
      switch (ev.kind) {
        case 'link-up':
        case 'link-down':
        case 'link-changed': {
          const before = t.byName.get(ev.link.name);
          // a rename leaves the old name behind
          for (const [n, l] of t.byName) if (l.index === ev.link.index && n !== ev.link.name) t.byName.delete(n);
          t.byName.set(ev.link.name, ev.link);
          const wasUp = before ? linkIsUsable(before) : null;
          const isUp = linkIsUsable(ev.link);
          if (wasUp !== isUp) events.onLink(ev.link.name, isUp);
          return;
        }
        case 'link-removed':
          t.byName.delete(ev.link.name);
          events.onLink(ev.link.name, false);
          return;
        case 'address-removed':
          events.onAddressRemoved(ev.address);
          return;
        case 'address-added':
          events.onAddressAdded?.(ev.address);
          return;
        case 'route-removed':
          events.onRouteRemoved?.(ev.route);
          return;
        case 'rule-removed':
          events.onRuleRemoved?.(ev.rule);
          return;
        case 'overrun':
          void t.refresh();
          return;
        default:
          return;
      }
    });
    await t.refresh();
    return t;
  }

  async refresh(): Promise<void> {
    const links = await this.rtnl.listLinks();
    this.byName.clear();
    for (const l of links) this.byName.set(l.name, l);
  }

  /** Which route and rule removals to hear of (keepalived listens only where it tracks some). */
  watchRoutes(watch: RouteWatch): void {
    this.sub?.watch(watch);
  }

  link(name: string): Link | null {
    return this.byName.get(name) ?? null;
  }

  ifindex(name: string): number | null {
    return this.byName.get(name)?.index ?? null;
  }

  isUp(name: string): boolean {
    const l = this.byName.get(name);
    return l ? linkIsUsable(l) : false;
  }

  /** Addresses of `name` in `family`, primary (non-secondary, non-tentative) ones first. */
  async addresses(name: string, family: 4 | 6): Promise<InterfaceAddress[]> {
    const ifindex = this.ifindex(name);
    if (ifindex === null) return [];
    const all = await this.rtnl.listAddresses({ ifindex, family });
    const rank = (a: InterfaceAddress) => (a.flags.secondary ? 2 : 0) + (a.flags.tentative ? 1 : 0);
    return all.sort((a, b) => rank(a) - rank(b));
  }

  close(): void {
    this.sub?.close();
    this.sub = null;
  }
}
