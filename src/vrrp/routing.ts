// Configured routes and rules on the host: an instance's virtual_routes / virtual_rules while
// it is MASTER, and the top-level static_routes / static_rules while the VRRP process runs
// (keepalived vrrp.c vrrp_state_become_master / vrrp_restore_interface, vrrp_daemon.c).
// The conversion to rtnetlink's terms is pure (routeToSpec, ruleToSpec); RoutingManager is
// the thin shell that sends them.
import type { RouteMetricName, StaticAddress, VirtualRoute, VirtualRule } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { NetlinkError, type FullRouteSpec, type RouteNetlink, type RuleSpec } from '../netlink/index.js';
import { canonicalAddress } from './addr.js';
import { virtualIpToSpec } from './vips.js';

/** RTAX_* of each metric keepalived takes. */
const RTAX: Record<RouteMetricName | 'congctl', number> = {
  mtu: 2,
  window: 3,
  rtt: 4,
  rttvar: 5,
  ssthresh: 6,
  cwnd: 7,
  advmss: 8,
  reordering: 9,
  hoplimit: 10,
  initcwnd: 11,
  features: 12,
  rto_min: 13,
  initrwnd: 14,
  quickack: 15,
  congctl: 16,
  fastopen_no_cookie: 17,
};
const RTNH_F_ONLINK = 4;

/** The route as rtnetlink carries it, or the device it names that this host lacks. */
export function routeToSpec(r: VirtualRoute, ifindexOf: (name: string) => number | null): FullRouteSpec | { missing: string } {
  const index = (name: string | null): number | { missing: string } => {
    if (name === null) return 0;
    return ifindexOf(name) ?? { missing: name };
  };
  const oif = index(r.dev);
  if (typeof oif !== 'number') return oif;
  const nexthops: FullRouteSpec['nexthops'] = [];
  for (const nh of r.nexthops) {
    const i = index(nh.dev);
    if (typeof i !== 'number') return i;
    nexthops.push({ gateway: nh.via, ifindex: i, hops: nh.weight === null ? 0 : nh.weight - 1, flags: nh.onlink ? RTNH_F_ONLINK : 0, realms: nh.realms });
  }
  return {
    family: r.family,
    type: r.type,
    table: r.table,
    protocol: r.protocol,
    scope: r.scope,
    tos: r.tos ?? 0,
    flags: r.onlink ? RTNH_F_ONLINK : 0,
    destination: r.destination.address,
    destinationLength: r.destination.prefix,
    source: r.from && { address: r.from.address, length: r.from.prefix },
    preferredSource: r.src,
    gateway: r.via,
    oif: r.dev === null ? null : oif,
    priority: r.metric,
    realms: r.realms,
    expires: r.expires,
    pref: r.pref,
    ttlPropagate: r.ttlPropagate,
    metrics: new Map(Object.entries(r.metrics).map(([name, v]) => [RTAX[name as RouteMetricName], v])),
    lock: r.locked.reduce((mask, name) => mask | (1 << RTAX[name]), 0),
    congctl: r.congctl,
    nexthops,
  };
}

export function ruleToSpec(r: VirtualRule): RuleSpec {
  return {
    family: r.family,
    action: r.action,
    table: r.table,
    tos: r.tos,
    invert: r.invert,
    source: r.from && { address: r.from.address, length: r.from.prefix },
    destination: r.to && { address: r.to.address, length: r.to.prefix },
    priority: r.priority,
    fwmark: r.fwmark,
    fwmask: r.fwmask,
    realms: r.realms,
    suppressPrefixLength: r.suppressPrefixLength,
    suppressIfgroup: r.suppressIfgroup,
    iifName: r.iif,
    oifName: r.oif,
    tunnelId: r.tunnelId === null ? null : BigInt(r.tunnelId),
    l3mdev: r.l3mdev,
    uidRange: r.uidRange,
    protocol: r.protocol,
    ipProto: r.ipProto,
    sport: r.sport,
    dport: r.dport,
    goto: r.goto,
  };
}

/** What a route or rule is, without where it was written: reload diffs compare these. */
export function routingKey(x: VirtualRoute | VirtualRule): string {
  const { pos: _pos, text: _text, ...rest } = x;
  return JSON.stringify(rest);
}

/** Entries of `before` missing from `after`, and of `after` missing from `before`. */
export function routingChanges<T extends VirtualRoute | VirtualRule>(before: readonly T[], after: readonly T[]): { remove: T[]; add: T[] } {
  const oldKeys = new Set(before.map(routingKey));
  const newKeys = new Set(after.map(routingKey));
  return { remove: before.filter((x) => !newKeys.has(routingKey(x))), add: after.filter((x) => !oldKeys.has(routingKey(x))) };
}

const staticAddressKey = (a: StaticAddress): string => `${canonicalAddress(a.address, a.family) ?? a.address}/${a.prefix}%${a.dev}`;

/** static_ipaddress entries to remove and to add when the config changes. */
export function staticAddressChanges(before: readonly StaticAddress[], after: readonly StaticAddress[]): { remove: StaticAddress[]; add: StaticAddress[] } {
  const oldKeys = new Set(before.map(staticAddressKey));
  const newKeys = new Set(after.map(staticAddressKey));
  return { remove: before.filter((a) => !newKeys.has(staticAddressKey(a))), add: after.filter((a) => !oldKeys.has(staticAddressKey(a))) };
}

const ENODEV = 19;

/** Sends routes and rules; a refusal is logged with the line it came from and the rest go on. */
export class RoutingManager {
  constructor(
    private readonly rtnl: RouteNetlink,
    private readonly ifindexOf: (name: string) => number | null,
    private readonly log: Logger,
  ) {}

  async addAddresses(addresses: readonly StaticAddress[]): Promise<void> {
    for (const a of addresses) {
      const ifindex = this.ifindexOf(a.dev);
      if (ifindex === null) {
        this.log.error({ address: a.address }, `cannot add static address: no interface ${a.dev}`);
        continue;
      }
      try {
        await this.rtnl.addAddress(virtualIpToSpec(a, ifindex));
      } catch (err) {
        this.log.error({ address: a.address, dev: a.dev }, `static address add failed: ${(err as Error).message}`);
      }
    }
  }

  async removeAddresses(addresses: readonly StaticAddress[]): Promise<void> {
    for (const a of addresses) {
      const ifindex = this.ifindexOf(a.dev);
      if (ifindex === null) continue;
      try {
        await this.rtnl.deleteAddress(virtualIpToSpec(a, ifindex));
      } catch (err) {
        if (err instanceof NetlinkError && err.errno === ENODEV) continue;
        this.log.error({ address: a.address, dev: a.dev }, `static address delete failed: ${(err as Error).message}`);
      }
    }
  }

  async addRoutes(routes: readonly VirtualRoute[], owner: string): Promise<void> {
    for (const r of routes) {
      const spec = routeToSpec(r, this.ifindexOf);
      if ('missing' in spec) {
        this.log.error({ owner, route: r.text }, `cannot add route: no interface ${spec.missing}`);
        continue;
      }
      try {
        const outcome = await this.rtnl.addFullRoute(spec, r.mode);
        this.log.debug({ owner, route: r.text, outcome }, 'route add');
      } catch (err) {
        this.log.error({ owner, route: r.text, at: `${r.pos.file}:${r.pos.line}` }, `route add failed: ${(err as Error).message}`);
      }
    }
  }

  async removeRoutes(routes: readonly VirtualRoute[], owner: string): Promise<void> {
    for (const r of routes) {
      const spec = routeToSpec(r, this.ifindexOf);
      if ('missing' in spec) continue; // the device went, and its routes with it
      try {
        await this.rtnl.deleteFullRoute(spec);
      } catch (err) {
        if (err instanceof NetlinkError && err.errno === ENODEV) continue;
        this.log.error({ owner, route: r.text }, `route delete failed: ${(err as Error).message}`);
      }
    }
  }

  async addRules(rules: readonly VirtualRule[], owner: string): Promise<void> {
    for (const r of rules) {
      try {
        const outcome = await this.rtnl.addRule(ruleToSpec(r));
        this.log.debug({ owner, rule: r.text, outcome }, 'rule add');
      } catch (err) {
        this.log.error({ owner, rule: r.text, at: `${r.pos.file}:${r.pos.line}` }, `rule add failed: ${(err as Error).message}`);
      }
    }
  }

  async removeRules(rules: readonly VirtualRule[], owner: string): Promise<void> {
    for (const r of rules) {
      try {
        await this.rtnl.deleteRule(ruleToSpec(r));
      } catch (err) {
        this.log.error({ owner, rule: r.text }, `rule delete failed: ${(err as Error).message}`);
      }
    }
  }
}
