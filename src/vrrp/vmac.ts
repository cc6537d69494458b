// use_vmac / use_ipvlan: the macvlan (or ipvlan) interface an instance runs on, as
// keepalived 2.2.7 makes it (vrrp_vmac.c, vrrp_if_config.c, vrrp.c). A macvlan in private
// mode on the instance's interface with the VRRP MAC 00:00:5e:00:01:VRID (IPv6 :02:),
// named vrrp.VRID unless named in the config; IPv4 ones get arp_ignore=1, accept_local=1,
// rp_filter=0, promote_secondaries=1, and their base interface arp_ignore=1 and
// arp_filter=1 (keepalived 2.2.7 leaves these at 1 after its stop: so does this), with
// net.ipv4.conf.all.rp_filter moved to 0 the way keepalived does it (put back at the end). No automatic IPv6 address on it,
// IPv6 off unless the instance has IPv6 on it. One left by an earlier run is taken over.
//
// The decisions are pure functions; VirtualLinks is the shell over rtnetlink and /proc/sys.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { GlobalDefs, VirtualIp, VrrpInstance } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { NetlinkError, vrrpVirtualMac, type IpvlanMode, type Link, type RouteNetlink } from '../netlink/index.js';
import { installedVips } from './vips.js';

const MACVLAN_MODE_PRIVATE = 1;
const IPVLAN_MODE_L2 = 0;
const IPVLAN_FLAGS: Record<IpvlanMode, number> = { bridge: 0, private: 1, vepa: 2 };

/** What an instance's use_vmac / use_ipvlan asks of the host. */
export interface VirtualLinkWant {
  instance: string;
  kind: 'macvlan' | 'ipvlan';
  /** The configured name; null: keepalived's default. */
  name: string | null;
  /** vmac_prefix (keepalived: vrrp). */
  prefix: string;
  vrid: number;
  family: 4 | 6;
  /** The instance's `interface`. */
  base: string;
  /** macvlan: its MAC. */
  mac: string;
  ipvlanMode: IpvlanMode;
  ipvlanAddress: { address: string; prefix: number } | null;
  xmitBase: boolean;
  /** VIPs of the other family go on it too: IPv6 stays on. */
  otherFamily: boolean;
  /** IPv6 adverts leave from the VMAC with this link-local source (mcast_src_ip), when set. */
  source6: string | null;
}

export function virtualLinkWant(inst: VrrpInstance, g: Pick<GlobalDefs, 'vmacPrefix'>): VirtualLinkWant | null {
  const v = inst.vmac;
  if (!v) return null;
  const source6 = inst.family === 6 ? (inst.mcastSrcIp ?? inst.unicastSrcIp) : null;
  return {
    instance: inst.name,
    kind: v.kind,
    name: v.name,
    prefix: g.vmacPrefix ?? 'vrrp',
    vrid: inst.virtualRouterId,
    family: inst.family,
    base: inst.interface,
    mac: v.mac ?? vrrpVirtualMac(inst.virtualRouterId, inst.family),
    ipvlanMode: v.ipvlanMode,
    ipvlanAddress: v.ipvlanAddress,
    xmitBase: inst.vmacXmitBase,
    otherFamily: installedVips(inst).some((x) => x.family !== inst.family),
    source6: source6 && isIPv6(source6) ? source6 : null,
  };
}

/**
 * use_vmac_addr and a VIP's own `use_vmac` (keepalived vrrp.c, the VIP loop of
 * vrrp_complete_instance): under use_vmac_addr a VIP on another interface, or of the other
 * family, goes on a VMAC of its own on that interface; a VIP with `use_vmac` goes on one
 * wherever it is (the config builder has already cleared it where the instance's own VMAC
 * takes the VIP). One VMAC per interface and family. The key of the VMAC a VIP needs, or
 * null for one that stays where it is (`ownLink`: the instance's own use_vmac link, which
 * takes its family's VIPs).
 */
function addressVmacKey(inst: VrrpInstance, ownLink: string | null, vip: VirtualIp): string | null {
  if (!(inst.useVmacAddr || vip.useVmac) || (ownLink !== null && vip.dev === ownLink)) return null;
  const base = vip.dev ?? inst.interface;
  if (base === inst.interface && vip.family === inst.family && !vip.useVmac) return null;
  return `${base}%${vip.family}`;
}

/** The VMACs use_vmac_addr and VIPs' use_vmac ask for (after onVirtualLink placed the instance's own VIPs). */
export function addressVmacWants(
  inst: VrrpInstance,
  ownLink: string | null,
  g: Pick<GlobalDefs, 'vmacPrefix' | 'vmacAddrPrefix'>,
): Map<string, VirtualLinkWant> {
  const wants = new Map<string, VirtualLinkWant>();
  for (const vip of installedVips(inst)) {
    const key = addressVmacKey(inst, ownLink, vip);
    if (key === null || wants.has(key)) continue;
    wants.set(key, {
      instance: inst.name,
      kind: 'macvlan',
      name: null,
      prefix: g.vmacAddrPrefix ?? g.vmacPrefix ?? 'vrrp',
      vrid: inst.virtualRouterId,
      family: vip.family,
      base: vip.dev ?? inst.interface,
      mac: inst.vmac?.mac ?? vrrpVirtualMac(inst.virtualRouterId, vip.family),
      ipvlanMode: 'bridge',
      ipvlanAddress: null,
      xmitBase: false,
      otherFamily: false,
      source6: null,
    });
  }
  return wants;
}

/** The instance with those VIPs on their VMACs (`names` by addressVmacWants' key), each VMAC tracked. */
export function onAddressVmacs(inst: VrrpInstance, ownLink: string | null, names: ReadonlyMap<string, string>): VrrpInstance {
  const place = (v: VirtualIp): VirtualIp => {
    const key = addressVmacKey(inst, ownLink, v);
    const name = key === null ? undefined : names.get(key);
    return name === undefined ? v : { ...v, dev: name };
  };
  const tracked = new Set(inst.trackInterfaces.map((t) => t.name));
  // a VMAC only no_track VIPs need is not tracked (keepalived adds the instance to it for the others)
  const needed = new Set(
    installedVips(inst)
      .filter((v) => !v.noTrack)
      .map((v) => addressVmacKey(inst, ownLink, v))
      .flatMap((k) => (k === null ? [] : (names.get(k) ?? []))),
  );
  const track = [...new Set(names.values())]
    .filter((n) => needed.has(n) && !tracked.has(n))
    .map((name) => ({ name, weight: 0, reverse: false, pos: inst.pos }));
  return {
    ...inst,
    virtualIpaddresses: inst.virtualIpaddresses.map(place),
    virtualIpaddressesExcluded: inst.virtualIpaddressesExcluded.map(place),
    trackInterfaces: [...inst.trackInterfaces, ...track],
  };
}

/**
 * The VRRP firewall tables that send a macvlan's IGMP (ip) and MLD (ip6) reports out by its
 * base interface (keepalived vrrp_vmac.c firewall_add_vmac, nft_update_vmac): the
 * instance's family, and the other one when VIPs of that family go on it too. An ipvlan
 * gets none, nor does an IPv4 one under disable_local_igmp (keepalived skips the whole
 * firewall_add_vmac then, its IPv6 part included).
 */
export function vmacFirewallFamilies(want: Pick<VirtualLinkWant, 'kind' | 'family' | 'otherFamily'>, disableLocalIgmp: boolean): (4 | 6)[] {
  if (want.kind !== 'macvlan' || (want.family === 4 && disableLocalIgmp)) return [];
  return want.otherFamily ? [want.family, want.family === 4 ? 6 : 4] : [want.family];
}

/** keepalived's create_vmac_name: PREFIX.VRID, else PREFIX1.VRID, ... (IPv6 tries PREFIX6 second), within 15 bytes. */
export function defaultVirtualLinkName(prefix: string, vrid: number, family: 4 | 6, taken: (name: string) => boolean): string {
  const fit = (p: string, n: string) => {
    const tail = `${n}.${vrid}`;
    return `${p.slice(0, Math.max(0, 15 - tail.length))}${tail}`;
  };
  let name = fit(prefix, '');
  let num = 0;
  while (taken(name)) {
    if (family === 6) num = num === 0 ? 6 : num === 6 ? 1 : num + 1 === 6 ? 7 : num + 1;
    else num++;
    name = fit(prefix, String(num));
  }
  return name;
}

export type VirtualLinkDecision =
  /** A link of ours from an earlier run (or another instance's name mismatch): use it as it is. */
  | { action: 'adopt'; link: Link }
  /** Make `name`; `replace` is a macvlan/ipvlan holding that name that does not fit: deleted first. */
  | { action: 'create'; name: string; replace: Link | null; note: string | null };

/**
 * The primary (not secondary) addresses of each link, by ifindex: an ipvlan left by an
 * earlier run is known by the use_ipvlan address it carries.
 */
export type LinkAddresses = ReadonlyMap<number, readonly string[]>;

/**
 * Does `l` already do what `want` asks, on `base`? (keepalived's "Found matching interface":
 * an ipvlan must also hold the use_ipvlan address, when one is configured, as its primary.)
 */
export function linkMatches(want: VirtualLinkWant, base: Link, l: Link, addresses: LinkAddresses = new Map()): boolean {
  if (l.parentIndex !== base.index) return false;
  if (want.kind === 'macvlan') return l.kind === 'macvlan' && l.vlanMode === MACVLAN_MODE_PRIVATE && l.mac === want.mac;
  return (
    l.kind === 'ipvlan' &&
    l.vlanMode === IPVLAN_MODE_L2 &&
    l.ipvlanFlags === IPVLAN_FLAGS[want.ipvlanMode] &&
    !(want.family === 6 && !want.name && !want.ipvlanAddress) &&
    (!want.name || want.name === l.name) &&
    (!want.ipvlanAddress || (addresses.get(l.index) ?? []).includes(want.ipvlanAddress.address))
  );
}

/**
 * Which link the instance runs on: a matching one already there, else a new one under the
 * configured name (a mismatching macvlan/ipvlan of that name is replaced; any other kind of
 * link keeps its name and the default is used) or the default name. `claimed`: names other
 * instances of this config use.
 */
export function decideVirtualLink(
  want: VirtualLinkWant,
  base: Link,
  links: readonly Link[],
  claimed: ReadonlySet<string>,
  addresses: LinkAddresses = new Map(),
): VirtualLinkDecision {
  const found = links.find((l) => !claimed.has(l.name) && linkMatches(want, base, l, addresses));
  if (found) return { action: 'adopt', link: found };
  let note: string | null = null;
  if (want.name !== null) {
    const holder = links.find((l) => l.name === want.name);
    if (!holder) return { action: 'create', name: want.name, replace: null, note };
    if (holder.kind === 'macvlan' || holder.kind === 'ipvlan') {
      return { action: 'create', name: want.name, replace: holder, note: `${holder.kind} ${want.name} already exists but is incompatible: it is replaced` };
    }
    note = `interface ${want.name} already exists and is not a ${want.kind}: the configured name is ignored`;
  }
  const names = new Set(links.map((l) => l.name));
  const name = defaultVirtualLinkName(want.prefix, want.vrid, want.family, (n) => names.has(n) || claimed.has(n));
  return { action: 'create', name, replace: null, note };
}

/** RFC 4291 modified EUI-64 link-local address from a MAC (keepalived's make_link_local_address). */
export function eui64LinkLocal(mac: string): string {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  const words = [((b[0]! ^ 2) << 8) | b[1]!, (b[2]! << 8) | 0xff, 0xfe00 | b[3]!, (b[4]! << 8) | b[5]!];
  return `fe80::${words.map((w) => w.toString(16)).join(':')}`;
}

/** /proc/sys, by path under it (`net/ipv4/conf/eth0/arp_ignore`); a port so tests can fake it. */
export interface Sysctls {
  /** The single-digit value keepalived reads, or null when it cannot be read. */
  get(path: string): number | null;
  set(path: string, value: number): void;
  /** The entries of a directory (the interfaces under net/ipv4/conf). */
  list(path: string): string[];
}

export const procSysctls: Sysctls = {
  get(path) {
    try {
      const n = Number.parseInt(readFileSync(`/proc/sys/${path}`, 'utf8'), 10);
      return Number.isInteger(n) ? n : null;
    } catch {
      return null;
    }
  },
  set(path, value) {
    writeFileSync(`/proc/sys/${path}`, String(value));
  },
  list(path) {
    try {
      return readdirSync(`/proc/sys/${path}`);
    } catch {
      return [];
    }
  },
};

const conf4 = (ifname: string, key: string) => `net/ipv4/conf/${ifname}/${key}`;

/** What the engine asks of use_vmac / use_ipvlan interfaces (engine-ports.ts). */
export interface VirtualLinkPort {
  /** Creates the instance's interface, or takes over a matching one: its name. Throws when it cannot. */
  ensure(want: VirtualLinkWant, claimed: ReadonlySet<string>): Promise<string>;
  /** Deletes it (a link we made or took over) and puts back the base settings changed for it. */
  remove(name: string): Promise<void>;
}

/** The kernel's use_vmac / use_ipvlan interfaces, over the engine's rtnetlink handle. */
export class VirtualLinks implements VirtualLinkPort {
  /** The links we made or took over (deleted at the end). */
  private readonly held = new Set<string>();
  /** all.rp_filter before we set it to 0 (null: untouched), default's, and interfaces we raised. */
  private rpFilter: { all: number; defaultWas: number | null; raised: Map<string, number> } | null = null;

  constructor(
    private readonly rtnl: RouteNetlink,
    private readonly log: Logger,
    private readonly sysctl: Sysctls = procSysctls,
  ) {}

  async ensure(want: VirtualLinkWant, claimed: ReadonlySet<string>): Promise<string> {
    const links = await this.rtnl.listLinks();
    const base = links.find((l) => l.name === want.base);
    if (!base) throw new Error(`interface ${want.base} not found`);
    const d = decideVirtualLink(want, base, links, claimed, want.ipvlanAddress ? await this.primaryAddresses(want.family) : new Map());
    const fields = { instance: want.instance };
    if (d.action === 'adopt') {
      this.log.info(fields, `(${want.instance}) Found matching interface ${d.link.name}`);
      this.held.add(d.link.name);
      if (!d.link.adminUp) await this.rtnl.setLinkUp(d.link.index, true);
      return d.link.name;
    }
    if (d.note) this.log.warn(fields, `(${want.instance}) ${d.note}`);
    if (d.replace) await this.rtnl.deleteLink(d.replace.index);
    if (want.kind === 'macvlan') await this.rtnl.createMacvlan({ name: d.name, parentIndex: base.index, mac: want.mac, mode: 'private' });
    else await this.rtnl.createIpvlan({ name: d.name, parentIndex: base.index, mode: want.ipvlanMode });
    const link = await this.rtnl.getLink(d.name);
    if (!link) throw new Error(`${want.kind} ${d.name} vanished after its creation`);
    this.held.add(d.name);
    this.log.info(fields, `(${want.instance}) created ${want.kind} ${d.name} on ${want.base}${want.kind === 'macvlan' ? ` with MAC ${want.mac}` : ''}`);
    if (want.kind === 'macvlan' && want.family === 4) this.setInterfaceParameters(d.name, want.base);
    this.setSysctl(`net/ipv6/conf/${d.name}/disable_ipv6`, want.family === 4 && !want.otherFamily ? 1 : 0);
    if (want.kind === 'macvlan') {
      await this.rtnl
        .disableAddrGen(link.index)
        .catch((err: Error) => this.log.warn(fields, `(${want.instance}) cannot set addrgenmode none on ${d.name}: ${err.message}`));
      await this.rtnl.setLinkUp(link.index, true);
      if (want.family === 6 && !want.xmitBase) await this.addLinkLocal(want, link, base);
    } else if (want.ipvlanAddress) {
      const a = want.ipvlanAddress;
      await this.rtnl.addAddress({ ifindex: link.index, family: want.family, address: a.address, prefix: a.prefix, noDad: want.family === 6 });
    }
    return d.name;
  }

  async remove(name: string): Promise<void> {
    if (!this.held.delete(name)) return;
    const link = await this.rtnl.getLink(name);
    if (link) await this.rtnl.deleteLink(link.index);
    if (this.held.size === 0) this.restoreRpFilter();
  }

  private async primaryAddresses(family: 4 | 6): Promise<LinkAddresses> {
    const out = new Map<number, string[]>();
    for (const a of await this.rtnl.listAddresses({ family })) {
      if (!a.flags.secondary) out.set(a.ifindex, [...(out.get(a.ifindex) ?? []), a.address]);
    }
    return out;
  }

  /** The VMAC's own settings, and its base's ARP settings (so the base does not answer for the VIPs). */
  private setInterfaceParameters(vmac: string, base: string): void {
    if (!this.rpFilter) this.clearRpFilter();
    this.setSysctl(conf4(vmac, 'arp_ignore'), 1);
    this.setSysctl(conf4(vmac, 'accept_local'), 1);
    this.setSysctl(conf4(vmac, 'rp_filter'), 0);
    this.setSysctl(conf4(vmac, 'promote_secondaries'), 1);
    if (this.sysctl.get(conf4(base, 'arp_ignore')) !== 1 || this.sysctl.get(conf4(base, 'arp_filter')) !== 1) {
      this.setSysctl(conf4(base, 'arp_ignore'), 1);
      this.setSysctl(conf4(base, 'arp_filter'), 1);
    }
  }

  /**
   * A VMAC needs rp_filter 0, which all.rp_filter > 0 overrides: keepalived raises default
   * and every interface to all's value first (so nothing filters less), then sets all to 0.
   */
  private clearRpFilter(): void {
    const all = this.sysctl.get(conf4('all', 'rp_filter'));
    if (all === null || all === 0) {
      this.rpFilter = { all: 0, defaultWas: null, raised: new Map() };
      return;
    }
    const state = { all, defaultWas: null as number | null, raised: new Map<string, number>() };
    const def = this.sysctl.get(conf4('default', 'rp_filter'));
    if (def !== null && def < all) {
      this.log.info({}, `NOTICE: setting sysctl net.ipv4.conf.default.rp_filter from ${def} to ${all}`);
      this.setSysctl(conf4('default', 'rp_filter'), all);
      state.defaultWas = def;
    }
    for (const name of this.interfaceNames()) {
      const v = this.sysctl.get(conf4(name, 'rp_filter'));
      if (v !== null && v < all) {
        this.setSysctl(conf4(name, 'rp_filter'), all);
        state.raised.set(name, v);
      }
    }
    this.log.info({}, `NOTICE: setting sysctl net.ipv4.conf.all.rp_filter from ${all} to 0`);
    this.setSysctl(conf4('all', 'rp_filter'), 0);
    this.rpFilter = state;
  }

  /** Puts back what clearRpFilter changed, where nobody changed it since. */
  private restoreRpFilter(): void {
    const s = this.rpFilter;
    this.rpFilter = null;
    if (!s || s.all === 0) return;
    if (this.sysctl.get(conf4('all', 'rp_filter')) === 0) {
      this.log.info({}, `NOTICE: resetting sysctl net.ipv4.conf.all.rp_filter to ${s.all}`);
      this.setSysctl(conf4('all', 'rp_filter'), s.all);
    }
    if (s.defaultWas !== null && this.sysctl.get(conf4('default', 'rp_filter')) === s.all) {
      this.log.info({}, `NOTICE: resetting sysctl net.ipv4.conf.default.rp_filter to ${s.defaultWas}`);
      this.setSysctl(conf4('default', 'rp_filter'), s.defaultWas);
    }
    for (const [name, was] of s.raised) if (this.sysctl.get(conf4(name, 'rp_filter')) === s.all) this.setSysctl(conf4(name, 'rp_filter'), was);
  }

  private interfaceNames(): string[] {
    return this.sysctl.list('net/ipv4/conf').filter((n) => n !== 'all' && n !== 'default');
  }

  /**
   * An IPv6 VMAC sends adverts from a link-local address (RFC 5798 5.1.2.1) but gets none of
   * its own: the configured source, else the base's link-local, else one from the base's MAC.
   */
  private async addLinkLocal(want: VirtualLinkWant, link: Link, base: Link): Promise<void> {
    const baseLl = (await this.rtnl.listAddresses({ ifindex: base.index, family: 6 })).find((a) => a.scope === 'link');
    const address = want.source6 ?? baseLl?.address ?? (base.mac ? eui64LinkLocal(base.mac) : null);
    if (!address) return;
    try {
      await this.rtnl.addAddress({ ifindex: link.index, family: 6, address, prefix: 64, noDad: true });
    } catch (err) {
      this.log.warn({ instance: want.instance }, `(${want.instance}) adding link-local address to ${link.name} failed: ${(err as NetlinkError).message}`);
    }
  }

  private setSysctl(path: string, value: number): void {
    try {
      this.sysctl.set(path, value);
    } catch (err) {
      this.log.warn({}, `cannot set sysctl ${path.replaceAll('/', '.')} to ${value}: ${(err as Error).message}`);
    }
  }
}

/**
 * The instance as it runs on `link`, tracked like the interface (keepalived tracks both; a
 * VMAC follows its base's carrier). A macvlan also takes the VIPs of its family written
 * without a device (or on the interface): they answer with the virtual MAC. An ipvlan shares
 * its base's MAC and keepalived 2.2.7 leaves those VIPs on the base (only use_vmac moves
 * them, vrrp.c): the ipvlan carries its own address and the adverts.
 */
export function onVirtualLink(inst: VrrpInstance, link: string): VrrpInstance {
  const moves = (v: VirtualIp) => inst.vmac?.kind === 'macvlan' && (v.dev === null || v.dev === inst.interface) && v.family === inst.family;
  const place = (v: VirtualIp): VirtualIp => (moves(v) ? { ...v, dev: link } : v);
  const track = inst.dontTrackPrimary || inst.trackInterfaces.some((t) => t.name === link) ? [] : [{ name: link, weight: 0, reverse: false, pos: inst.pos }];
  return {
    ...inst,
    virtualIpaddresses: inst.virtualIpaddresses.map(place),
    virtualIpaddressesExcluded: inst.virtualIpaddressesExcluded.map(place),
    trackInterfaces: [...inst.trackInterfaces, ...track],
  };
}
