// Routes and rules deleted behind our back, decided as keepalived 2.2.7 decides them
// (keepalived_netlink.c netlink_route_filter / netlink_rule_filter, route_is_ours,
// compare_rule): a removal of one of an instance's tracked virtual_routes or virtual_rules
// sends that instance from MASTER to BACKUP (it comes back after the skew time and puts
// them back); a removed static route or rule is added again. Only removals of keepalived's
// own protocol (18) are looked at, and only the families keepalived listens to.
import type { KeepalivedConfig, VirtualRoute, VirtualRule } from '../config/model.js';
import { RTPROT_KEEPALIVED, type RouteNotice, type RouteWatch, type RuleSpec } from '../netlink/index.js';
import { canonicalAddress } from './addr.js';

/** Whose entry a removal was. */
export type RemovalOwner =
  { kind: 'instance'; instance: string; text: string } | { kind: 'static-route'; route: VirtualRoute } | { kind: 'static-rule'; rule: VirtualRule };

interface RoutingOwner {
  name: string;
  virtualRoutes: readonly VirtualRoute[];
  virtualRules: readonly VirtualRule[];
}

/**
 * The route and rule groups keepalived joins (vrrp.c set_extra_netlink_monitoring): the
 * families of instances' tracked virtual routes and rules, and of static ones with a
 * track_group. A static entry of a family nobody asks for is not seen, so not put back.
 */
export function routeWatch(config: Pick<KeepalivedConfig, 'vrrpInstances' | 'staticRoutes' | 'staticRules'>): RouteWatch {
  const w: RouteWatch = { ipv4Routes: false, ipv6Routes: false, ipv4Rules: false, ipv6Rules: false };
  const route = (r: VirtualRoute) => (r.family === 4 ? (w.ipv4Routes = true) : (w.ipv6Routes = true));
  const rule = (r: VirtualRule) => (r.family === 4 ? (w.ipv4Rules = true) : (w.ipv6Rules = true));
  for (const inst of config.vrrpInstances) {
    inst.virtualRoutes.filter((r) => r.track).forEach(route);
    inst.virtualRules.filter((r) => r.track).forEach(rule);
  }
  config.staticRoutes.filter((r) => r.trackGroup !== null).forEach(route);
  config.staticRules.filter((r) => r.trackGroup !== null).forEach(rule);
  return w;
}

const sameAddress = (a: string, b: string, family: 4 | 6) => (canonicalAddress(a, family) ?? a) === (canonicalAddress(b, family) ?? b);

function sameDestination(n: RouteNotice, r: VirtualRoute): boolean {
  return (
    n.family === r.family &&
    n.table === r.table &&
    n.length === r.destination.prefix &&
    n.tos === (r.tos ?? 0) &&
    sameAddress(n.destination, r.destination.address, r.family)
  );
}

/**
 * The configured route a kernel route removal was, or null. An instance's route matches on
 * table, family, destination, metric, tos and (when it names one) its device; a static one
 * on table, family, destination and tos. The first match decides, and an entry with
 * `no_track` makes it nobody's.
 */
export function ownerOfRemovedRoute(
  n: RouteNotice,
  instances: readonly RoutingOwner[],
  staticRoutes: readonly VirtualRoute[],
  ifindexOf: (name: string) => number | null,
): RemovalOwner | null {
  if (n.protocol !== RTPROT_KEEPALIVED) return null;
  for (const inst of instances) {
    for (const r of inst.virtualRoutes) {
      if (!sameDestination(n, r) || n.priority !== (r.metric ?? 0)) continue;
      if (r.dev !== null && (n.oif === null || n.oif !== ifindexOf(r.dev))) continue;
      return r.track ? { kind: 'instance', instance: inst.name, text: r.text } : null;
    }
  }
  const r = staticRoutes.find((s) => sameDestination(n, s));
  return r && r.track ? { kind: 'static-route', route: r } : null;
}

const samePrefix = (a: { address: string; length: number } | null, b: { address: string; prefix: number } | null, family: 4 | 6) =>
  a === null || b === null ? a === b : a.length === b.prefix && sameAddress(a.address, b.address, family);
const sameRange = (a: readonly [number, number] | null, b: readonly [number, number] | null) =>
  a === null || b === null ? a === b : a[0] === b[0] && a[1] === b[1];
const FR_ACT_GOTO = 2;
const ALL_ONES = 0xffffffff;

/** keepalived's compare_rule: does the kernel's rule `k` (a removal) stand for the configured `r`. */
export function ruleMatches(k: RuleSpec, r: VirtualRule): boolean {
  if (!r.track || k.family !== r.family) return false;
  // every configured rule has a priority, so this one tells most apart
  if (k.priority !== r.priority || k.action !== r.action) return false;
  if (k.action === FR_ACT_GOTO && k.goto !== r.goto) return false;
  if (k.table !== r.table || k.invert !== r.invert || k.tos !== r.tos) return false;
  if (!samePrefix(k.source, r.from, r.family) || !samePrefix(k.destination, r.to, r.family)) return false;
  if (k.fwmark !== r.fwmark) return false;
  // the kernel reports a mark without a mask as mask 0xffffffff
  if (r.fwmask !== null ? k.fwmask !== r.fwmask : k.fwmask !== null && k.fwmask !== ALL_ONES) return false;
  if (k.realms !== r.realms || k.suppressPrefixLength !== r.suppressPrefixLength || k.suppressIfgroup !== r.suppressIfgroup) return false;
  if (k.iifName !== r.iif || k.oifName !== r.oif) return false;
  if ((k.tunnelId === null ? null : k.tunnelId.toString()) !== r.tunnelId) return false;
  if (!sameRange(k.uidRange, r.uidRange) || k.l3mdev !== r.l3mdev || k.ipProto !== r.ipProto) return false;
  return sameRange(k.sport, r.sport) && sameRange(k.dport, r.dport);
}

/** The configured rule a kernel rule removal was (instances' first, then static), or null. */
export function ownerOfRemovedRule(k: RuleSpec, instances: readonly RoutingOwner[], staticRules: readonly VirtualRule[]): RemovalOwner | null {
  if (k.protocol !== null && k.protocol !== RTPROT_KEEPALIVED) return null;
  for (const inst of instances) {
    const r = inst.virtualRules.find((x) => ruleMatches(k, x));
    if (r) return { kind: 'instance', instance: inst.name, text: r.text };
  }
  const r = staticRules.find((x) => ruleMatches(k, x));
  return r ? { kind: 'static-rule', rule: r } : null;
}
