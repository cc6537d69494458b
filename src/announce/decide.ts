/**
 * What to announce, decided from state alone (pure): the routes each announcing process wants
 * in the kernel. The checker decides `follow quorum` prefixes, the VRRP child `follow vrrp`
 * ones; each only ever sees its own.
 *
 * Two kinds of route per prefix: `announce`, the unicast route FRR or BIRD exports (its
 * metric is the MED), and `local`, a local route that makes this host answer for the prefix
 * (IPVS sees the packets) without an interface address: FRR prefers a connected route (an
 * address on lo) over any announcement of the same prefix and would then export nothing. A
 * prefix is local for as long as traffic may still arrive: from before it is announced until
 * the drain after its withdrawal is over.
 */
import type { AnnouncedPrefix, BgpAnnounce, VirtualServer } from '../config/model.js';
import { networkOf } from '../ip/prefix.js';
import { virtualServersOf, type VsConfig } from '../config/virtual-server-addresses.js';

export { virtualServerAddresses, virtualServersOf } from '../config/virtual-server-addresses.js';

/** A route as the kernel holds it for us: network, length and metric (the MED). */
export interface AnnouncedRoute {
  kind: 'announce' | 'local';
  family: 4 | 6;
  /** Network address, canonical text. */
  network: string;
  length: number;
  metric: number;
}

export const routeKey = (r: Pick<AnnouncedRoute, 'network' | 'length'>): string => `${r.network}/${r.length}`;

/** At a graceful stop the announcements go first; the prefixes stay local while the upstream moves the traffic. */
export type AnnouncePhase = 'running' | 'draining';

/** What the checker knows of one virtual server. */
export interface VirtualServerReadiness {
  /** Quorum (with hysteresis) as the engine keeps it. */
  quorum: boolean;
  /** Its IPVS services are in the kernel as last written. */
  installed: boolean;
  /** Every real server has a first verdict (a fresh checker does not invite traffic blind). */
  settled: boolean;
  /**
   * Every verdict so far is written to the kernel: until then this director's mh/sh table
   * differs from the other directors', and a flow ECMP moves here would change real server.
   */
  written: boolean;
}

/**
 * Active-active: every `follow quorum` prefix is local; it is announced while every virtual
 * server on it is installed, settled and has quorum, unless the checker is draining. A prefix
 * not announced yet (`announced` holds the route keys that are) also waits until every
 * verdict is written to the kernel; one already announced is not withdrawn while a verdict is
 * on its way (that would move its flows for a table write).
 */
export function quorumRoutes(
  announce: BgpAnnounce,
  config: VsConfig,
  readiness: (vs: VirtualServer) => VirtualServerReadiness,
  phase: AnnouncePhase,
  announced: ReadonlySet<string> = new Set(),
): AnnouncedRoute[] {
  const out: AnnouncedRoute[] = [];
  for (const p of announce.prefixes) {
    if (p.follow.kind !== 'quorum') continue;
    const local = route(p, 'local', 0);
    out.push(local);
    if (phase === 'draining') continue;
    const servers = virtualServersOf(p, config);
    const isAnnounced = announced.has(routeKey(local));
    const ready =
      servers.length > 0 &&
      servers.every((vs) => {
        const r = readiness(vs);
        return r.quorum && r.installed && r.settled && (r.written || isAnnounced);
      });
    if (ready) out.push(route(p, 'announce', p.med));
  }
  return out;
}

/** What the VRRP child knows of one instance. */
export interface InstanceAnnounceState {
  /** Effective priority (tracking applied); 0 once stopping. */
  priority: number;
  /** MASTER, or a stopping MASTER whose successor has not been heard yet. */
  announce: boolean;
  /** Traffic may still arrive: announced, yielding (LINGER), or draining after a stop. */
  local: boolean;
}

/** The metric of a `follow vrrp` route: lower for a higher priority, so a split brain prefers one. */
export const vrrpMetric = (med: number, priority: number): number => med + 255 - priority;

/** VRRP over L3: a prefix is announced while its instance is MASTER, local as long as traffic may come. */
export function vrrpRoutes(announce: BgpAnnounce, instance: (name: string) => InstanceAnnounceState | undefined): AnnouncedRoute[] {
  const out: AnnouncedRoute[] = [];
  for (const p of announce.prefixes) {
    if (p.follow.kind !== 'vrrp') continue;
    const s = instance(p.follow.instance);
    if (s?.local || s?.announce) out.push(route(p, 'local', 0));
    if (s?.announce) out.push(route(p, 'announce', vrrpMetric(p.med, s.priority)));
  }
  return out;
}

function route(p: AnnouncedPrefix, kind: AnnouncedRoute['kind'], metric: number): AnnouncedRoute {
  return { kind, family: p.family, network: networkOf(p.address, p.prefix), length: p.prefix, metric };
}

/**
 * The kernel writes that turn `actual` into `desired`: a route is the same when prefix and
 * metric are (a new metric is a new route: added first, the old one deleted after).
 */
export function routeChanges(desired: readonly AnnouncedRoute[], actual: readonly AnnouncedRoute[]): { add: AnnouncedRoute[]; remove: AnnouncedRoute[] } {
  const id = (r: AnnouncedRoute) => `${r.kind} ${routeKey(r)} ${r.metric}`;
  const want = new Set(desired.map(id));
  const have = new Set(actual.map(id));
  return { add: desired.filter((r) => !have.has(id(r))), remove: actual.filter((r) => !want.has(id(r))) };
}

/** IPv6 routes cannot have metric 0: the kernel makes it 1024 (IP6_RT_PRIO_USER). */
export const kernelMetric = (r: Pick<AnnouncedRoute, 'family' | 'metric'>): number => (r.family === 6 && r.metric === 0 ? 1024 : r.metric);
