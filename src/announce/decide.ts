/**
 * What to announce, decided from state alone (pure): the routes each announcing process wants
 * in the kernel. The checker decides `follow quorum` prefixes, the VRRP child `follow vrrp`
 * ones; each only ever sees its own.
 */
import type { AnnouncedPrefix, BgpAnnounce, KeepalivedConfig, VirtualServer } from '../config/model.js';
import { networkOf, prefixContains } from './prefix.js';

/** A route as the kernel holds it for us: network, length and metric (the MED). */
export interface AnnouncedRoute {
  family: 4 | 6;
  /** Network address, canonical text. */
  network: string;
  length: number;
  metric: number;
}

export const routeKey = (r: Pick<AnnouncedRoute, 'network' | 'length'>): string => `${r.network}/${r.length}`;

type VsConfig = Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups'>;

/** The addresses a virtual server answers on (a group's range by its two ends; fwmark: none). */
export function virtualServerAddresses(vs: VirtualServer, config: VsConfig): string[] {
  const k = vs.key;
  if (k.kind === 'ip') return [k.address];
  if (k.kind === 'fwmark') return [];
  const group = config.virtualServerGroups.find((g) => g.name === k.group);
  const out: string[] = [];
  for (const m of group?.members ?? []) {
    if (m.kind === 'ip') out.push(m.address);
    else if (m.kind === 'range') out.push(m.address, rangeEnd(m.address, m.rangeEnd, m.family));
  }
  return out;
}

function rangeEnd(address: string, end: number, family: 4 | 6): string {
  if (family === 4) return address.replace(/\d+$/, String(end));
  return address.replace(/[0-9a-fA-F]*$/, end.toString(16));
}

/** The virtual servers a `follow quorum` prefix answers for: every one with an address in it. */
export function virtualServersOf(prefix: AnnouncedPrefix, config: VsConfig): VirtualServer[] {
  return config.virtualServers.filter((vs) =>
    virtualServerAddresses(vs, config).some((a) => prefixContains(prefix.address, prefix.prefix, prefix.family, a)));
}

/** What the checker knows of one virtual server. */
export interface VirtualServerReadiness {
  /** Quorum (with hysteresis) as the engine keeps it. */
  quorum: boolean;
  /** Its IPVS services are in the kernel as last written. */
  installed: boolean;
  /** Every real server has a first verdict (a fresh checker does not invite traffic blind). */
  settled: boolean;
}

/**
 * Active-active: a prefix is announced while every virtual server on it is installed, settled
 * and has quorum, unless the checker is stopping (then nothing is).
 */
export function quorumRoutes(
  announce: BgpAnnounce, config: VsConfig, readiness: (vs: VirtualServer) => VirtualServerReadiness, stopping: boolean,
): AnnouncedRoute[] {
  if (stopping) return [];
  const out: AnnouncedRoute[] = [];
  for (const p of announce.prefixes) {
    if (p.follow.kind !== 'quorum') continue;
    const servers = virtualServersOf(p, config);
    const ready = servers.length > 0 && servers.every((vs) => {
      const r = readiness(vs);
      return r.quorum && r.installed && r.settled;
    });
    if (ready) out.push(route(p, p.med));
  }
  return out;
}

/** What the VRRP child knows of one instance. */
export interface InstanceAnnounceState {
  state: string;
  /** Effective priority (tracking applied); 0 while stopping. */
  priority: number;
  /** MASTER, or a stopping MASTER still holding its VIPs until a successor is heard. */
  holdsVips: boolean;
}

/** The metric of a `follow vrrp` route: lower for a higher priority, so a split brain prefers one. */
export const vrrpMetric = (med: number, priority: number): number => med + 255 - priority;

/** VRRP over L3: a prefix is announced while its instance holds the VIPs. */
export function vrrpRoutes(announce: BgpAnnounce, instance: (name: string) => InstanceAnnounceState | undefined): AnnouncedRoute[] {
  const out: AnnouncedRoute[] = [];
  for (const p of announce.prefixes) {
    if (p.follow.kind !== 'vrrp') continue;
    const s = instance(p.follow.instance);
    if (s?.holdsVips) out.push(route(p, vrrpMetric(p.med, s.priority)));
  }
  return out;
}

function route(p: AnnouncedPrefix, metric: number): AnnouncedRoute {
  return { family: p.family, network: networkOf(p.address, p.prefix), length: p.prefix, metric };
}

/**
 * The kernel writes that turn `actual` into `desired`: a route is the same when prefix and
 * metric are (a new metric is a new route: added first, the old one deleted after).
 */
export function routeChanges(desired: readonly AnnouncedRoute[], actual: readonly AnnouncedRoute[]): { add: AnnouncedRoute[]; remove: AnnouncedRoute[] } {
  const id = (r: AnnouncedRoute) => `${routeKey(r)} ${r.metric}`;
  const want = new Set(desired.map(id));
  const have = new Set(actual.map(id));
  return { add: desired.filter((r) => !have.has(id(r))), remove: actual.filter((r) => !want.has(id(r))) };
}

/** IPv6 routes cannot have metric 0: the kernel makes it 1024 (IP6_RT_PRIO_USER). */
export const kernelMetric = (r: Pick<AnnouncedRoute, 'family' | 'metric'>): number => (r.family === 6 && r.metric === 0 ? 1024 : r.metric);
