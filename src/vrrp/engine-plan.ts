// Pure decisions of the VRRP engine, kept out of the I/O shell so they can be tested alone:
// which instance is which across a reload, where adverts come from, which instances share
// a socket.
import type { KeepalivedConfig, VrrpInstance } from '../config/model.js';
import type { InterfaceAddress } from '../netlink/index.js';
import { canonicalAddress } from './addr.js';
import { VRRP_MCAST_V4, VRRP_MCAST_V6 } from './packet.js';

/** keepalived matches instances across a reload by VRID + family + interface, not by name. */
export function instanceKey(inst: Pick<VrrpInstance, 'virtualRouterId' | 'family' | 'interface'>): string {
  return `${inst.virtualRouterId}/${inst.family}/${inst.interface}`;
}

export interface ReloadMatch<T> {
  kept: { old: T; next: VrrpInstance }[];
  added: VrrpInstance[];
  removed: T[];
}

export function matchInstances<T extends { cfg: VrrpInstance }>(old: readonly T[], next: readonly VrrpInstance[]): ReloadMatch<T> {
  const byKey = new Map(old.map((o) => [instanceKey(o.cfg), o]));
  const kept: { old: T; next: VrrpInstance }[] = [];
  const added: VrrpInstance[] = [];
  for (const n of next) {
    const o = byKey.get(instanceKey(n));
    if (o) {
      kept.push({ old: o, next: n });
      byKey.delete(instanceKey(n));
    } else added.push(n);
  }
  return { kept, added, removed: [...byKey.values()] };
}

/**
 * The source address of the instance's adverts: unicast_src_ip / mcast_src_ip when given,
 * else the interface's primary address (IPv4) or its link-local address (IPv6, RFC 5798
 * 5.1.2.1). '0.0.0.0' / '::' when the interface has none yet.
 */
export function advertSource(inst: VrrpInstance, ifaceAddresses: readonly InterfaceAddress[]): string {
  const configured = inst.unicastSrcIp ?? inst.mcastSrcIp;
  if (configured) return canonicalAddress(configured, inst.family) ?? configured;
  const own = ifaceAddresses.filter((a) => a.family === inst.family && !a.flags.tentative);
  if (inst.family === 4) {
    const primary = own.find((a) => !a.flags.secondary) ?? own[0];
    return primary?.address ?? '0.0.0.0';
  }
  const ll = own.find((a) => a.scope === 'link');
  return ll?.address ?? '::';
}

export function multicastGroup(inst: VrrpInstance, cfg: Pick<KeepalivedConfig, 'globalDefs'>): string | null {
  if (inst.unicastPeers.length > 0) return null;
  const g = cfg.globalDefs;
  return inst.family === 6 ? g.vrrpMcastGroup6 || VRRP_MCAST_V6 : g.vrrpMcastGroup4 || VRRP_MCAST_V4;
}

/** keepalived's `auth_type AH`: VRRPv2 inside IPsec AH (IP protocol 51), IPv4 only. */
export function usesAh(inst: Pick<VrrpInstance, 'version' | 'family' | 'authentication'>): boolean {
  return inst.version === 2 && inst.family === 4 && inst.authentication?.type === 'AH';
}

/**
 * Instances share one socket per interface (`ifname`: a use_vmac one), family, IP protocol and source (IPv6 pins its
 * source per socket; AH instances send and hear protocol 51, as keepalived's own sockets do).
 */
export function transportKey(inst: VrrpInstance, source: string, ifname = inst.interface): string {
  return `${ifname}/${inst.family}/${inst.family === 6 ? source : '-'}/${usesAh(inst) ? 'ah' : 'vrrp'}`;
}
