/**
 * Explicit converters between the domain types (types.ts) and rtnetlink payloads (wire.ts).
 * Pure: requests come out as payload bytes, kernel messages go in as payload bytes.
 */
import type { VirtualIp } from '../config/model.js';
import { bytesToIp, bytesToMac, canonicalIp, familyOf, ipToBytes, ipv4Broadcast, macToBytes } from './ip.js';
import type { AddressFlags, AddressScope, AddressSpec, InterfaceAddress, Link, NetlinkEvent, OperState } from './types.js';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  type Attr,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_F_DADFAILED,
  IFA_F_DEPRECATED,
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
  IFA_F_OPTIMISTIC,
  IFA_F_PERMANENT,
  IFA_F_SECONDARY,
  IFA_F_TENTATIVE,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFADDRMSG_LEN,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  IFINFOMSG_LEN,
  IFLA_ADDRESS,
  IFLA_BROADCAST,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_MACVLAN_MODE,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_OPERSTATE,
  cString,
  decodeAttrs,
  decodeIfAddrMsg,
  decodeIfInfoMsg,
  encodeAttrs,
  encodeIfAddrMsg,
  encodeIfInfoMsg,
  stringFrom,
  u32Bytes,
  u32From,
} from './wire.js';

// ---- scopes ---------------------------------------------------------------------------

const SCOPE_NUMBERS: Record<AddressScope, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };

export function scopeToNumber(scope: AddressScope | number): number {
  return typeof scope === 'number' ? scope : SCOPE_NUMBERS[scope];
}

export function scopeFromNumber(n: number): AddressScope | number {
  const hit = (Object.entries(SCOPE_NUMBERS) as [AddressScope, number][]).find(([, v]) => v === n);
  return hit ? hit[0] : n;
}

/** keepalived/ip(8) spelling of a scope: a name, or a number 0-255. */
export function parseScope(text: string): AddressScope | number {
  const lower = text.toLowerCase();
  if (lower in SCOPE_NUMBERS) return lower as AddressScope;
  if (/^\d+$/.test(text) && Number(text) <= 255) return Number(text);
  throw new Error(`unknown address scope ${JSON.stringify(text)} (global, site, link, host, nowhere or 0-255)`);
}

// ---- addresses ------------------------------------------------------------------------

const familyToAf = (family: 4 | 6): number => (family === 4 ? AF_INET : AF_INET6);

function specFlags(spec: AddressSpec): number {
  return (spec.noDad ? IFA_F_NODAD : 0) | (spec.noPrefixRoute ? IFA_F_NOPREFIXROUTE : 0);
}

function validateSpec(spec: AddressSpec): void {
  if (familyOf(spec.address) !== spec.family) {
    throw new Error(`address ${spec.address} is not IPv${spec.family}`);
  }
  const max = spec.family === 4 ? 32 : 128;
  if (!Number.isInteger(spec.prefix) || spec.prefix < 0 || spec.prefix > max) {
    throw new Error(`prefix /${spec.prefix} out of range for IPv${spec.family} (0-${max})`);
  }
  if (spec.label != null) {
    if (spec.family !== 4) throw new Error(`label ${spec.label}: only IPv4 addresses carry labels`);
    // IFNAMSIZ is 16 including the NUL.
    if (spec.label.length === 0 || spec.label.length > 15) throw new Error(`label ${JSON.stringify(spec.label)}: 1-15 characters`);
  }
}

function resolveBroadcast(spec: AddressSpec): string | null {
  if (spec.broadcast == null || spec.broadcast === '-') return null;
  if (spec.family !== 4) throw new Error(`broadcast on IPv6 address ${spec.address}: IPv6 has no broadcast`);
  return spec.broadcast === '+' ? ipv4Broadcast(spec.address, spec.prefix) : spec.broadcast;
}

/** RTM_NEWADDR payload (ifaddrmsg + attributes) for `spec`. */
export function encodeAddAddress(spec: AddressSpec): Buffer {
  validateSpec(spec);
  const flags = specFlags(spec);
  const local = ipToBytes(spec.address);
  const attrs: Attr[] = [
    { type: IFA_LOCAL, value: local },
    { type: IFA_ADDRESS, value: spec.peer ? ipToBytes(spec.peer) : local },
  ];
  const broadcast = resolveBroadcast(spec);
  if (broadcast) attrs.push({ type: IFA_BROADCAST, value: ipToBytes(broadcast) });
  if (spec.label != null) attrs.push({ type: IFA_LABEL, value: cString(spec.label) });
  // The header keeps only 8 flag bits; IFA_FLAGS carries all of them (NOPREFIXROUTE is 0x200).
  if (flags) attrs.push({ type: IFA_FLAGS, value: u32Bytes(flags) });
  const header = encodeIfAddrMsg({
    family: familyToAf(spec.family),
    prefixLen: spec.prefix,
    flags,
    scope: spec.scope == null ? 0 : scopeToNumber(spec.scope),
    index: spec.ifindex,
  });
  return Buffer.concat([header, encodeAttrs(attrs)]);
}

/**
 * RTM_DELADDR payload. The kernel matches IPv4 on local address + prefix (+ label when given)
 * and IPv6 on address + prefix, so only those travel.
 */
export function encodeDeleteAddress(spec: AddressSpec): Buffer {
  validateSpec(spec);
  const local = ipToBytes(spec.address);
  const attrs: Attr[] = [{ type: IFA_LOCAL, value: local }];
  if (spec.family === 6) attrs.push({ type: IFA_ADDRESS, value: local });
  const header = encodeIfAddrMsg({
    family: familyToAf(spec.family),
    prefixLen: spec.prefix,
    flags: 0,
    scope: 0,
    index: spec.ifindex,
  });
  return Buffer.concat([header, encodeAttrs(attrs)]);
}

/** RTM_GETADDR dump request payload; family 0 lists both. */
export function encodeAddressDump(family: 4 | 6 | null): Buffer {
  return encodeIfAddrMsg({ family: family === null ? AF_UNSPEC : familyToAf(family), prefixLen: 0, flags: 0, scope: 0, index: 0 });
}

function decodeAddressFlags(bits: number): AddressFlags {
  return {
    secondary: (bits & IFA_F_SECONDARY) !== 0,
    noDad: (bits & IFA_F_NODAD) !== 0,
    optimistic: (bits & IFA_F_OPTIMISTIC) !== 0,
    dadFailed: (bits & IFA_F_DADFAILED) !== 0,
    deprecated: (bits & IFA_F_DEPRECATED) !== 0,
    tentative: (bits & IFA_F_TENTATIVE) !== 0,
    permanent: (bits & IFA_F_PERMANENT) !== 0,
    noPrefixRoute: (bits & IFA_F_NOPREFIXROUTE) !== 0,
  };
}

/** RTM_NEWADDR/RTM_DELADDR payload from the kernel; null for families other than IPv4/IPv6. */
export function decodeAddress(payload: Buffer): InterfaceAddress | null {
  const header = decodeIfAddrMsg(payload);
  if (header.family !== AF_INET && header.family !== AF_INET6) return null;
  const attrs = decodeAttrs(payload.subarray(IFADDRMSG_LEN));
  const addressAttr = attrs.get(IFA_ADDRESS);
  const localAttr = attrs.get(IFA_LOCAL) ?? addressAttr;
  if (!localAttr) return null;
  const address = bytesToIp(localAttr);
  const reportedAddress = addressAttr ? bytesToIp(addressAttr) : address;
  const flagsAttr = attrs.get(IFA_FLAGS);
  const label = attrs.get(IFA_LABEL);
  const broadcast = attrs.get(IFA_BROADCAST);
  return {
    ifindex: header.index,
    family: header.family === AF_INET ? 4 : 6,
    address,
    prefix: header.prefixLen,
    peer: reportedAddress !== address ? reportedAddress : null,
    broadcast: broadcast ? bytesToIp(broadcast) : null,
    label: label ? stringFrom(label) : null,
    scope: scopeFromNumber(header.scope),
    flags: decodeAddressFlags(flagsAttr ? u32From(flagsAttr) : header.flags),
  };
}

/** True when a kernel address is the one `spec` describes (same link, address and prefix). */
export function addressMatches(addr: InterfaceAddress, spec: Pick<AddressSpec, 'ifindex' | 'address' | 'prefix'>): boolean {
  return addr.ifindex === spec.ifindex && addr.prefix === spec.prefix && addr.address === canonicalIp(spec.address);
}

/**
 * A configured VIP (virtual_ipaddress entry) as an AddressSpec, once its `dev` (or the
 * instance's interface) is resolved to an index. keepalived adds IPv6 VIPs with NODAD so they
 * are usable at once; `no_dad` in the config says the same explicitly.
 */
export function virtualIpToSpec(vip: VirtualIp, ifindex: number): AddressSpec {
  return {
    ifindex,
    family: vip.family,
    address: vip.address,
    prefix: vip.prefix,
    broadcast: vip.broadcast,
    scope: vip.scope == null ? null : parseScope(vip.scope),
    label: vip.label,
    noDad: vip.family === 6 ? true : vip.noDad,
  };
}

// ---- links ----------------------------------------------------------------------------

const OPER_STATES: OperState[] = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

/** RTM_NEWLINK/RTM_DELLINK payload; null for per-family messages (e.g. AF_BRIDGE port info). */
export function decodeLink(payload: Buffer): Link | null {
  const header = decodeIfInfoMsg(payload);
  if (header.family !== AF_UNSPEC) return null;
  const attrs = decodeAttrs(payload.subarray(IFINFOMSG_LEN));
  const name = attrs.get(IFLA_IFNAME);
  const mac = attrs.get(IFLA_ADDRESS);
  const brd = attrs.get(IFLA_BROADCAST);
  const mtu = attrs.get(IFLA_MTU);
  const oper = attrs.get(IFLA_OPERSTATE);
  const parent = attrs.get(IFLA_LINK);
  const master = attrs.get(IFLA_MASTER);
  const linkinfo = attrs.get(IFLA_LINKINFO);
  const kind = linkinfo ? decodeAttrs(linkinfo).get(IFLA_INFO_KIND) : undefined;
  return {
    index: header.index,
    name: name ? stringFrom(name) : '',
    mac: mac && mac.length > 0 ? bytesToMac(mac) : null,
    broadcastMac: brd && brd.length > 0 ? bytesToMac(brd) : null,
    mtu: mtu ? u32From(mtu) : 0,
    adminUp: (header.flags & IFF_UP) !== 0,
    running: (header.flags & IFF_RUNNING) !== 0,
    lowerUp: (header.flags & IFF_LOWER_UP) !== 0,
    operState: oper ? OPER_STATES[oper.readUInt8(0)] ?? 'unknown' : 'unknown',
    hardwareType: header.type,
    kind: kind ? stringFrom(kind) : null,
    // A veth's IFLA_LINK names its peer; for it and for macvlan/vlan, 0 means "none here".
    parentIndex: parent && u32From(parent) !== 0 && u32From(parent) !== header.index ? u32From(parent) : null,
    masterIndex: master ? u32From(master) : null,
    flags: header.flags,
  };
}

/** RTM_GETLINK request payload for one link, by index or by name. */
export function encodeGetLink(which: { index: number } | { name: string }): Buffer {
  const header = encodeIfInfoMsg({ family: AF_UNSPEC, type: 0, index: 'index' in which ? which.index : 0, flags: 0, change: 0 });
  const attrs: Attr[] = 'name' in which ? [{ type: IFLA_IFNAME, value: cString(which.name) }] : [];
  return Buffer.concat([header, encodeAttrs(attrs)]);
}

export function encodeLinkDump(): Buffer {
  return encodeIfInfoMsg({ family: AF_UNSPEC, type: 0, index: 0, flags: 0, change: 0 });
}

/** RTM_NEWLINK payload that sets only the admin state (IFF_UP) of a link. */
export function encodeSetLinkUp(index: number, up: boolean): Buffer {
  return encodeIfInfoMsg({ family: AF_UNSPEC, type: 0, index, flags: up ? IFF_UP : 0, change: IFF_UP });
}

/** keepalived's notion of an interface being up: admin up and running (IFF_UP && IFF_RUNNING). */
export const linkIsUsable = (link: Link): boolean => link.adminUp && link.running;

/** Turns a link notification into an event, given what was known of the link before. */
export function classifyLinkUpdate(previous: Link | null, next: Link): NetlinkEvent {
  const isUsable = linkIsUsable(next);
  if (!previous || linkIsUsable(previous) !== isUsable) return { kind: isUsable ? 'link-up' : 'link-down', link: next };
  return { kind: 'link-changed', link: next, previous };
}

// ---- VMAC (macvlan) links -------------------------------------------------------------

export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru';
const MACVLAN_MODES: Record<MacvlanMode, number> = { private: 1, vepa: 2, bridge: 4, passthru: 8 };

export interface MacvlanSpec {
  /** New link's name (keepalived's default for use_vmac is vrrp.<VRID>). */
  name: string;
  parentIndex: number;
  mac: string;
  /** keepalived uses private: VMACs on one parent do not talk to each other. */
  mode?: MacvlanMode;
}

/** RTM_NEWLINK payload creating a macvlan (a VRRP virtual MAC interface). */
export function encodeCreateMacvlan(spec: MacvlanSpec): Buffer {
  if (spec.name.length === 0 || spec.name.length > 15) throw new Error(`link name ${JSON.stringify(spec.name)}: 1-15 characters`);
  const header = encodeIfInfoMsg({ family: AF_UNSPEC, type: 0, index: 0, flags: 0, change: 0 });
  const infoData = encodeAttrs([{ type: IFLA_MACVLAN_MODE, value: u32Bytes(MACVLAN_MODES[spec.mode ?? 'private']) }]);
  const linkInfo = encodeAttrs([
    { type: IFLA_INFO_KIND, value: cString('macvlan') },
    { type: IFLA_INFO_DATA, value: infoData, nested: true },
  ]);
  return Buffer.concat([
    header,
    encodeAttrs([
      { type: IFLA_IFNAME, value: cString(spec.name) },
      { type: IFLA_LINK, value: u32Bytes(spec.parentIndex) },
      { type: IFLA_ADDRESS, value: macToBytes(spec.mac) },
      { type: IFLA_LINKINFO, value: linkInfo, nested: true },
    ]),
  ]);
}

/** RFC 5798 7.3: the virtual router MAC, 00-00-5E-00-01-{VRID} (IPv4) or 00-00-5E-00-02-{VRID} (IPv6). */
export function vrrpVirtualMac(vrid: number, family: 4 | 6): string {
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new Error(`VRID ${vrid} out of range 1-255`);
  return `00:00:5e:00:0${family === 4 ? 1 : 2}:${vrid.toString(16).padStart(2, '0')}`;
}

export function encodeDeleteLink(index: number): Buffer {
  return encodeIfInfoMsg({ family: AF_UNSPEC, type: 0, index, flags: 0, change: 0 });
}
