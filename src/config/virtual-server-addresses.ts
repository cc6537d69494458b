// Which addresses a virtual server answers on, and which virtual servers a bgp_announce
// prefix covers: questions about the config model alone, asked by the config's checks and by
// the announcement decisions (src/announce).
import { prefixContains } from '../ip/prefix.js';
import type { AnnouncedPrefix, KeepalivedConfig, VirtualServer } from './model.js';

export type VsConfig = Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups'>;

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

/** Per config (its virtual server list): each prefix's virtual servers, worked out once. */
const serversByPrefix = new WeakMap<readonly VirtualServer[], Map<AnnouncedPrefix, VirtualServer[]>>();

/** The virtual servers a `follow quorum` prefix answers for: every one with an address in it. */
export function virtualServersOf(prefix: AnnouncedPrefix, config: VsConfig): VirtualServer[] {
  let byPrefix = serversByPrefix.get(config.virtualServers);
  if (!byPrefix) serversByPrefix.set(config.virtualServers, (byPrefix = new Map<AnnouncedPrefix, VirtualServer[]>()));
  let servers = byPrefix.get(prefix);
  if (!servers) {
    servers = config.virtualServers.filter((vs) =>
      virtualServerAddresses(vs, config).some((a) => prefixContains(prefix.address, prefix.prefix, prefix.family, a)),
    );
    byPrefix.set(prefix, servers);
  }
  return servers;
}
