// The VRRP firewall as keepalived 2.2.7 lays it out in nftables (vrrp_nftables.c): while an
// instance without accept mode (and below priority 255) holds its VIPs, traffic to and from
// them is dropped, so a non-owner MASTER routes for the VIPs without answering on them. Pure:
// what the tables hold, given the VIPs each instance holds; nftables.ts applies it with `nft`.
import type { VirtualIp, VrrpFirewallSettings, VrrpInstance } from '../config/model.js';

/** The VIPs an instance holds on the host right now (as added, not yet removed). */
export interface HeldVips {
  instance: VrrpInstance;
  vips: readonly VirtualIp[];
}

/** A link-local VIP: the address only means something with its interface. */
export interface LinkLocalVip {
  address: string;
  ifname: string;
}

/** A use_vmac macvlan and the interface it sits on. */
export interface VmacLink {
  vmac: string;
  base: string;
}

/** The addresses the firewall drops, by the set keepalived puts each in. */
export interface FirewallRules {
  settings: VrrpFirewallSettings;
  ipv4: string[];
  ipv6: string[];
  /**
   * use_vmac macvlans whose IGMP (IPv4) or MLD (IPv6) reports leave by their base interface
   * instead (keepalived nft_add_vmac): a VMAC in private mode must not announce the groups
   * its base joins, and its IPv6 router solicitations are dropped.
   */
  vmac4: VmacLink[];
  vmac6: VmacLink[];
  /** Matched with the interface index (`ipv6_addr . iface_index`). */
  linkLocal: LinkLocalVip[];
  /** dont_track_primary without nftables_ifindex: matched with the interface name. */
  linkLocalByName: LinkLocalVip[];
}

/**
 * The parts of the tables made so far. keepalived makes each the first time it needs it and
 * keeps it (empty sets included) until it stops; `nft list ruleset` shows that history.
 */
export interface FirewallLayout {
  /** The VIP parts (set vips, the drop rules, chain in). */
  ipv4: boolean;
  ipv6: boolean;
  linkLocal: boolean;
  linkLocalByName: boolean;
  /** The VMAC parts (vmac_map, vmac_set, the IGMP/MLD and router solicitation rules). */
  vmac4: boolean;
  vmac6: boolean;
}

export const EMPTY_LAYOUT: FirewallLayout = { ipv4: false, ipv6: false, linkLocal: false, linkLocalByName: false, vmac4: false, vmac6: false };

const OWNER = 255;

function isLinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]?:/i.test(address);
}

/** What the firewall drops for the VIPs instances hold, and the VMACs it steers; null without a firewall. */
export function firewallRules(
  settings: VrrpFirewallSettings | null,
  held: readonly HeldVips[],
  vmacs: { vmac4: readonly VmacLink[]; vmac6: readonly VmacLink[] } = { vmac4: [], vmac6: [] },
): FirewallRules | null {
  if (!settings) return null;
  const rules: FirewallRules = { settings, ipv4: [], ipv6: [], linkLocal: [], linkLocalByName: [], vmac4: [...vmacs.vmac4], vmac6: [...vmacs.vmac6] };
  const seen = new Set<string>();
  for (const { instance, vips } of held) {
    // keepalived's vrrp_handle_accept_mode: the owner and accept-mode instances answer on their VIPs
    if (instance.accept || instance.priority === OWNER) continue;
    for (const vip of vips) {
      const ifname = vip.dev ?? instance.interface;
      if (vip.family === 4) push(rules.ipv4, vip.address);
      else if (!isLinkLocal(vip.address)) push(rules.ipv6, vip.address.toLowerCase());
      // a link-local VIP on the instance's own interface follows it by name when the instance
      // does not track it (the index may change under it)
      else if (!settings.ifindex && instance.dontTrackPrimary && ifname === instance.interface) pushLinkLocal(rules.linkLocalByName, vip.address, ifname);
      else pushLinkLocal(rules.linkLocal, vip.address, ifname);
    }
  }
  return rules;

  function push(list: string[], address: string): void {
    if (seen.has(address)) return;
    seen.add(address);
    list.push(address);
  }
  function pushLinkLocal(list: LinkLocalVip[], address: string, ifname: string): void {
    const key = `${address.toLowerCase()}%${ifname}`;
    if (seen.has(key)) return;
    seen.add(key);
    list.push({ address: address.toLowerCase(), ifname });
  }
}

/** The layout once `rules` are in: every part made so far, and those these addresses need. */
export function grownLayout(layout: FirewallLayout, rules: FirewallRules): FirewallLayout {
  const linkLocal = layout.linkLocal || rules.linkLocal.length > 0;
  const linkLocalByName = layout.linkLocalByName || rules.linkLocalByName.length > 0;
  return {
    ipv4: layout.ipv4 || rules.ipv4.length > 0,
    ipv6: layout.ipv6 || rules.ipv6.length > 0 || linkLocal || linkLocalByName,
    linkLocal,
    linkLocalByName,
    vmac4: layout.vmac4 || rules.vmac4.length > 0,
    vmac6: layout.vmac6 || rules.vmac6.length > 0,
  };
}

export type NftFamily = 'ip' | 'ip6';

/** The elements of each set, as `nft` writes them. */
export function setElements(rules: FirewallRules): Record<string, string[]> {
  const pair = (v: LinkLocalVip) => `${v.address} . "${v.ifname}"`;
  const mapped = (v: VmacLink) => `"${v.vmac}" : "${v.base}"`;
  return {
    'ip vmac_map': rules.vmac4.map(mapped),
    'ip6 vmac_map': rules.vmac6.map(mapped),
    'ip6 vmac_set': rules.vmac6.map((v) => `"${v.vmac}"`),
    'ip vips': rules.ipv4,
    'ip6 vips': rules.ipv6,
    'ip6 vips_link_local': rules.linkLocal.map(pair),
    'ip6 vips_link_local_name': rules.linkLocalByName.map(pair),
  };
}

function elementsLine(elements: readonly string[]): string {
  return elements.length ? `\t\telements = { ${elements.join(', ')} }\n` : '';
}

/**
 * One table, complete, in nft's input syntax, declared in the order keepalived creates its
 * parts (so `nft list ruleset` lists them alike): the VMAC parts first (keepalived makes them
 * with the VMACs, before any VIP is held), then the VIP parts.
 */
export function renderTable(family: NftFamily, layout: FirewallLayout, rules: FirewallRules): string {
  const { table, priority, counters } = rules.settings;
  const counter = counters ? 'counter ' : '';
  const elements = setElements(rules);
  const base = (hook: 'input' | 'output') => `\t\ttype filter hook ${hook} priority ${priority}; policy accept;\n`;
  const vmacMap = (key: string) => `\tmap vmac_map {\n\t\ttype iface_index : iface_index\n${elementsLine(elements[key]!)}\t}\n`;
  if (family === 'ip') {
    let text = `table ip ${table} {\n`;
    if (layout.vmac4) text += vmacMap('ip vmac_map');
    if (layout.ipv4) text += `\tset vips {\n\t\ttype ipv4_addr\n${elementsLine(elements['ip vips']!)}\t}\n`;
    text += `\tchain out {\n${base('output')}`;
    if (layout.vmac4) text += `\t\tip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map ${counter}drop\n`;
    if (layout.ipv4) text += `\t\tip saddr @vips ${counter}drop\n`;
    text += `\t}\n`;
    if (layout.ipv4) text += `\tchain in {\n${base('input')}\t\tip daddr @vips ${counter}drop\n\t}\n`;
    return text + `}\n`;
  }
  const sets: [string, string, boolean][] = [
    ['vips_link_local', 'ipv6_addr . iface_index', layout.linkLocal],
    ['vips_link_local_name', 'ipv6_addr . ifname', layout.linkLocalByName],
  ];
  let text = `table ip6 ${table} {\n`;
  if (layout.vmac6) text += vmacMap('ip6 vmac_map') + `\tset vmac_set {\n\t\ttype iface_index\n${elementsLine(elements['ip6 vmac_set']!)}\t}\n`;
  if (layout.ipv6) {
    text +=
      `\tset vips {\n\t\ttype ipv6_addr\n${elementsLine(elements['ip6 vips']!)}\t}\n` +
      `\tset neighbor-discovery {\n\t\ttype icmpv6_type\n\t\tflags constant\n\t\telements = { nd-neighbor-solicit, nd-neighbor-advert }\n\t}\n`;
    for (const [name, type, made] of sets) if (made) text += `\tset ${name} {\n\t\ttype ${type}\n${elementsLine(elements[`ip6 ${name}`]!)}\t}\n`;
  }
  for (const [chain, hook, dir] of [
    ['out', 'output', 'saddr'],
    ['in', 'input', 'daddr'],
  ] as const) {
    if (chain === 'in' && !layout.ipv6) continue;
    text += `\tchain ${chain} {\n${base(hook)}`;
    if (chain === 'out' && layout.vmac6) {
      text +=
        `\t\ticmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map ${counter}drop\n` +
        `\t\ticmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set ${counter}drop\n`;
    }
    if (layout.ipv6) {
      text +=
        `\t\ticmpv6 type @neighbor-discovery ${counter}accept\n` +
        `\t\tip6 ${dir} fe80::/10 ${counter}goto ${chain}_link_local\n` +
        `\t\tip6 ${dir} @vips ${counter}drop\n`;
    }
    text += `\t}\n`;
  }
  if (!layout.ipv6) return text + `}\n`;
  for (const [chain, dir, io] of [
    ['in_link_local', 'daddr', 'i'],
    ['out_link_local', 'saddr', 'o'],
  ] as const) {
    text += `\tchain ${chain} {\n`;
    if (layout.linkLocal) text += `\t\tip6 ${dir} . ${io}if @vips_link_local ${counter}drop\n`;
    if (layout.linkLocalByName) text += `\t\tip6 ${dir} . ${io}ifname @vips_link_local_name ${counter}drop\n`;
    text += `\t}\n`;
  }
  return text + `}\n`;
}

/** nft commands that take a table away whether or not it is there (one transaction). */
export function dropTable(family: NftFamily, table: string): string {
  return `table ${family} ${table} {}\ndelete table ${family} ${table}\n`;
}

/**
 * The commands that take the tables from (`layout`, `before`) to `rules`: a family whose
 * layout grew is replaced whole (its sets and chains are then declared in keepalived's
 * order); otherwise only the set elements that changed are added or deleted.
 */
export function transition(layout: FirewallLayout, before: FirewallRules | null, rules: FirewallRules): { script: string; layout: FirewallLayout } {
  const next = grownLayout(layout, rules);
  const old = before ? setElements(before) : null;
  const now = setElements(rules);
  const table = rules.settings.table;
  let script = '';
  for (const family of ['ip', 'ip6'] as const) {
    const made = family === 'ip' ? next.ipv4 || next.vmac4 : next.ipv6 || next.vmac6;
    if (!made) continue;
    const grew =
      family === 'ip'
        ? next.ipv4 !== layout.ipv4 || next.vmac4 !== layout.vmac4
        : next.ipv6 !== layout.ipv6 || next.vmac6 !== layout.vmac6 || next.linkLocal !== layout.linkLocal || next.linkLocalByName !== layout.linkLocalByName;
    if (grew || !old) {
      script += dropTable(family, table) + renderTable(family, next, rules);
      continue;
    }
    for (const [key, elements] of Object.entries(now)) {
      if (!key.startsWith(`${family} `)) continue;
      const set = key.slice(family.length + 1);
      const was = new Set(old[key]);
      const is = new Set(elements);
      const gone = [...was].filter((e) => !is.has(e));
      const added = elements.filter((e) => !was.has(e));
      if (gone.length) script += `delete element ${family} ${table} ${set} { ${gone.join(', ')} }\n`;
      if (added.length) script += `add element ${family} ${table} ${set} { ${added.join(', ')} }\n`;
    }
  }
  return { script, layout: next };
}
