/**
 * rtnetlink codec: explicit converters between the domain types (model.ts) and the kernel's
 * messages: the family headers (ifaddrmsg, ifinfomsg) and their attributes, on the shared
 * wire layer (../wire.ts). Pure: requests come out as payload bytes, kernel messages go in as
 * payload bytes.
 */
import { bytesToIp, bytesToMac, canonicalIp, familyOf, ipToBytes, ipv4Broadcast, macToBytes } from '../../ip/address.js';
import { AF_INET, AF_INET6, AF_UNSPEC, AttrWriter, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, decodeAttrs, structCodec } from '../wire.js';
import {
  FIB_RULE_INVERT,
  FRA_DPORT_RANGE,
  FRA_DST,
  FRA_FLOW,
  FRA_FWMARK,
  FRA_FWMASK,
  FRA_GOTO,
  FRA_IIFNAME,
  FRA_IP_PROTO,
  FRA_L3MDEV,
  FRA_OIFNAME,
  FRA_PRIORITY,
  FRA_PROTOCOL,
  FRA_SPORT_RANGE,
  FRA_SRC,
  FRA_SUPPRESS_IFGROUP,
  FRA_SUPPRESS_PREFIXLEN,
  FRA_TABLE,
  FRA_TUN_ID,
  FRA_UID_RANGE,
  FR_ACT_TO_TBL,
  RTA_EXPIRES,
  RTA_FLOW,
  RTA_GATEWAY,
  RTA_METRICS,
  RTA_MULTIPATH,
  RTA_PREF,
  RTA_PREFSRC,
  RTA_SRC,
  RTA_TTL_PROPAGATE,
  RTA_VIA,
  RTAX_CC_ALGO,
  RTAX_LOCK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RT_TABLE_UNSPEC,
  RTA_DST,
  RTA_OIF,
  RTA_PRIORITY,
  RTA_TABLE,
  RTN_LOCAL,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_TABLE_COMPAT,
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
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_BROADCAST,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_AF_SPEC,
  IFLA_INET6_ADDR_GEN_MODE,
  IFLA_IPVLAN_FLAGS,
  IFLA_IPVLAN_MODE,
  IFLA_MACVLAN_MODE,
  IFLA_MASTER,
  IN6_ADDR_GEN_MODE_NONE,
  IPVLAN_FLAGS,
  IPVLAN_MODE_L2,
  IFLA_MTU,
  IFLA_OPERSTATE,
  MACVLAN_MODES,
  RT_SCOPES,
} from './constants.js';
import type {
  AddressFlags,
  AddressScope,
  AddressSpec,
  Family,
  InterfaceAddress,
  KernelRoute,
  Link,
  NetlinkEvent,
  OperState,
  RouteNotice,
  RouteSpec,
  FamilyAddress,
  FullRouteSpec,
  NextHopSpec,
  RouteAddMode,
  RuleSpec,
} from './model.js';

// ---- family headers -------------------------------------------------------------------

export interface IfAddrMsg {
  family: number;
  prefixLen: number;
  /** Low 8 bits of the flags; the full set travels in IFA_FLAGS. */
  flags: number;
  scope: number;
  index: number;
}

/** struct ifaddrmsg */
const ifAddrMsg = structCodec<IfAddrMsg>('ifaddrmsg', 8, {
  family: ['u8', 0],
  prefixLen: ['u8', 1],
  flags: ['u8', 2],
  scope: ['u8', 3],
  index: ['u32', 4],
});
export const IFADDRMSG_LEN = ifAddrMsg.length;
export const encodeIfAddrMsg = ifAddrMsg.encode;
export const decodeIfAddrMsg = ifAddrMsg.decode;

export interface IfInfoMsg {
  family: number;
  /** ARPHRD_* hardware type (1 = Ethernet, 772 = loopback). */
  type: number;
  index: number;
  flags: number;
  /** Which flag bits a SETLINK/NEWLINK request changes. */
  change: number;
}

/** struct ifinfomsg */
const ifInfoMsg = structCodec<IfInfoMsg>('ifinfomsg', 16, {
  family: ['u8', 0],
  type: ['u16', 2],
  index: ['s32', 4],
  flags: ['u32', 8],
  change: ['u32', 12],
});
export const IFINFOMSG_LEN = ifInfoMsg.length;
export const encodeIfInfoMsg = ifInfoMsg.encode;
export const decodeIfInfoMsg = ifInfoMsg.decode;

// ---- scopes ---------------------------------------------------------------------------

const SCOPE_NUMBERS: Record<AddressScope, number> = RT_SCOPES;

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

const familyToAf = (family: Family): number => (family === 4 ? AF_INET : AF_INET6);

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
  const attrs = new AttrWriter().bytes(IFA_LOCAL, local).bytes(IFA_ADDRESS, spec.peer ? ipToBytes(spec.peer) : local);
  const broadcast = resolveBroadcast(spec);
  if (broadcast) attrs.bytes(IFA_BROADCAST, ipToBytes(broadcast));
  if (spec.label != null) attrs.str(IFA_LABEL, spec.label);
  // The header keeps only 8 flag bits; IFA_FLAGS carries all of them (NOPREFIXROUTE is 0x200).
  if (flags) attrs.u32(IFA_FLAGS, flags);
  const header = encodeIfAddrMsg({
    family: familyToAf(spec.family),
    prefixLen: spec.prefix,
    flags,
    scope: spec.scope == null ? 0 : scopeToNumber(spec.scope),
    index: spec.ifindex,
  });
  return Buffer.concat([header, attrs.result()]);
}

/**
 * RTM_DELADDR payload. The kernel matches IPv4 on local address + prefix (+ label when given)
 * and IPv6 on address + prefix, so only those travel.
 */
export function encodeDeleteAddress(spec: AddressSpec): Buffer {
  validateSpec(spec);
  const local = ipToBytes(spec.address);
  const attrs = new AttrWriter().bytes(IFA_LOCAL, local);
  if (spec.family === 6) attrs.bytes(IFA_ADDRESS, local);
  const header = encodeIfAddrMsg({
    family: familyToAf(spec.family),
    prefixLen: spec.prefix,
    flags: 0,
    scope: 0,
    index: spec.ifindex,
  });
  return Buffer.concat([header, attrs.result()]);
}

/** RTM_GETADDR dump request payload; family 0 lists both. */
export function encodeAddressDump(family: Family | null): Buffer {
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
  const flags = attrs.u32(IFA_FLAGS);
  const broadcast = attrs.get(IFA_BROADCAST);
  return {
    ifindex: header.index,
    family: header.family === AF_INET ? 4 : 6,
    address,
    prefix: header.prefixLen,
    peer: reportedAddress !== address ? reportedAddress : null,
    broadcast: broadcast ? bytesToIp(broadcast) : null,
    label: attrs.string(IFA_LABEL) ?? null,
    scope: scopeFromNumber(header.scope),
    flags: decodeAddressFlags(flags ?? header.flags),
  };
}

/** True when a kernel address is the one `spec` describes (same link, address and prefix). */
export function addressMatches(addr: InterfaceAddress, spec: Pick<AddressSpec, 'ifindex' | 'address' | 'prefix'>): boolean {
  return addr.ifindex === spec.ifindex && addr.prefix === spec.prefix && addr.address === canonicalIp(spec.address);
}

// ---- links ----------------------------------------------------------------------------

const OPER_STATES: OperState[] = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

/** RTM_NEWLINK/RTM_DELLINK payload; null for per-family messages (e.g. AF_BRIDGE port info). */
export function decodeLink(payload: Buffer): Link | null {
  const header = decodeIfInfoMsg(payload);
  if (header.family !== AF_UNSPEC) return null;
  const attrs = decodeAttrs(payload.subarray(IFINFOMSG_LEN));
  const mac = attrs.get(IFLA_ADDRESS);
  const brd = attrs.get(IFLA_BROADCAST);
  const oper = attrs.u8(IFLA_OPERSTATE);
  const parent = attrs.u32(IFLA_LINK);
  const info = attrs.nested(IFLA_LINKINFO);
  const kind = info?.string(IFLA_INFO_KIND) ?? null;
  const data = kind === 'macvlan' || kind === 'ipvlan' ? info?.nested(IFLA_INFO_DATA) : undefined;
  return {
    index: header.index,
    name: attrs.string(IFLA_IFNAME) ?? '',
    mac: mac && mac.length > 0 ? bytesToMac(mac) : null,
    broadcastMac: brd && brd.length > 0 ? bytesToMac(brd) : null,
    mtu: attrs.u32(IFLA_MTU) ?? 0,
    adminUp: (header.flags & IFF_UP) !== 0,
    running: (header.flags & IFF_RUNNING) !== 0,
    lowerUp: (header.flags & IFF_LOWER_UP) !== 0,
    operState: oper === undefined ? 'unknown' : (OPER_STATES[oper] ?? 'unknown'),
    hardwareType: header.type,
    kind,
    // A veth's IFLA_LINK names its peer; for it and for macvlan/vlan, 0 means "none here".
    parentIndex: parent !== undefined && parent !== 0 && parent !== header.index ? parent : null,
    masterIndex: attrs.u32(IFLA_MASTER) ?? null,
    vlanMode: (kind === 'macvlan' ? data?.u32(IFLA_MACVLAN_MODE) : data?.u16(IFLA_IPVLAN_MODE)) ?? null,
    ipvlanFlags: kind === 'ipvlan' ? (data?.u16(IFLA_IPVLAN_FLAGS) ?? 0) : null,
    flags: header.flags,
  };
}

/** RTM_GETLINK request payload for one link, by index or by name. */
export function encodeGetLink(which: { index: number } | { name: string }): Buffer {
  const header = encodeIfInfoMsg({ family: AF_UNSPEC, type: 0, index: 'index' in which ? which.index : 0, flags: 0, change: 0 });
  return 'name' in which ? Buffer.concat([header, new AttrWriter().str(IFLA_IFNAME, which.name).result()]) : header;
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

export type MacvlanMode = keyof typeof MACVLAN_MODES;

export interface MacvlanSpec {
  /** New link's name (keepalived's default for use_vmac is vrrp.<VRID>). */
  name: string;
  parentIndex: number;
  mac: string;
  /** keepalived uses private: VMACs on one parent do not talk to each other. */
  mode?: MacvlanMode;
}

function checkLinkName(name: string): void {
  if (name.length === 0 || Buffer.byteLength(name) > 15) throw new Error(`link name ${JSON.stringify(name)}: 1-15 characters`);
}

/** RTM_NEWLINK payload creating a macvlan (a VRRP virtual MAC interface). */
export function encodeCreateMacvlan(spec: MacvlanSpec): Buffer {
  checkLinkName(spec.name);
  const header = encodeIfInfoMsg({ family: AF_UNSPEC, type: 0, index: 0, flags: 0, change: 0 });
  const attrs = new AttrWriter().str(IFLA_IFNAME, spec.name).u32(IFLA_LINK, spec.parentIndex).bytes(IFLA_ADDRESS, macToBytes(spec.mac));
  const linkInfo = attrs.begin(IFLA_LINKINFO);
  attrs.str(IFLA_INFO_KIND, 'macvlan');
  const infoData = attrs.begin(IFLA_INFO_DATA);
  attrs
    .u32(IFLA_MACVLAN_MODE, MACVLAN_MODES[spec.mode ?? 'private'])
    .end(infoData)
    .end(linkInfo);
  return Buffer.concat([header, attrs.result()]);
}

/** RFC 5798 7.3: the virtual router MAC, 00-00-5E-00-01-{VRID} (IPv4) or 00-00-5E-00-02-{VRID} (IPv6). */
export function vrrpVirtualMac(vrid: number, family: Family): string {
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new Error(`VRID ${vrid} out of range 1-255`);
  return `00:00:5e:00:0${family === 4 ? 1 : 2}:${vrid.toString(16).padStart(2, '0')}`;
}

export interface IpvlanSpec {
  name: string;
  parentIndex: number;
  mode: IpvlanMode;
}
export type IpvlanMode = keyof typeof IPVLAN_FLAGS;

/** RTM_NEWLINK payload creating a layer 2 ipvlan (keepalived's use_ipvlan), up at once as keepalived creates it. */
export function encodeCreateIpvlan(spec: IpvlanSpec): Buffer {
  checkLinkName(spec.name);
  const header = encodeIfInfoMsg({ family: AF_UNSPEC, type: 0, index: 0, flags: IFF_UP, change: IFF_UP });
  const attrs = new AttrWriter().u32(IFLA_LINK, spec.parentIndex).str(IFLA_IFNAME, spec.name);
  const linkInfo = attrs.begin(IFLA_LINKINFO);
  attrs.str(IFLA_INFO_KIND, 'ipvlan');
  const infoData = attrs.begin(IFLA_INFO_DATA);
  attrs.u16(IFLA_IPVLAN_MODE, IPVLAN_MODE_L2).u16(IFLA_IPVLAN_FLAGS, IPVLAN_FLAGS[spec.mode]).end(infoData).end(linkInfo);
  return Buffer.concat([header, attrs.result()]);
}

/**
 * RTM_NEWLINK payload turning off IPv6 address generation on a link (IN6_ADDR_GEN_MODE_NONE):
 * RFC 5798 7.4, a VRRP MAC interface must not get a link-local address of its own.
 */
export function encodeAddrGenModeNone(index: number): Buffer {
  const header = encodeIfInfoMsg({ family: AF_UNSPEC, type: 0, index, flags: 0, change: 0 });
  const attrs = new AttrWriter();
  const spec = attrs.begin(IFLA_AF_SPEC);
  const inet6 = attrs.begin(AF_INET6);
  attrs.u8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE).end(inet6).end(spec);
  return Buffer.concat([header, attrs.result()]);
}

export function encodeDeleteLink(index: number): Buffer {
  return encodeIfInfoMsg({ family: AF_UNSPEC, type: 0, index, flags: 0, change: 0 });
}

// ---- routes ---------------------------------------------------------------------------

export interface RtMsg {
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
}

/** struct rtmsg */
const rtMsg = structCodec<RtMsg>('rtmsg', 12, {
  family: ['u8', 0],
  dstLen: ['u8', 1],
  srcLen: ['u8', 2],
  tos: ['u8', 3],
  table: ['u8', 4],
  protocol: ['u8', 5],
  scope: ['u8', 6],
  type: ['u8', 7],
  flags: ['u32', 8],
});
export const RTMSG_LEN = rtMsg.length;

/** RTM_NEWROUTE / RTM_DELROUTE payload for `r`: one destination through one device, in one table. */
export function encodeRoute(r: RouteSpec): Buffer {
  const header = rtMsg.encode({
    family: familyToAf(r.family),
    dstLen: r.length,
    srcLen: 0,
    tos: 0,
    table: r.table < 256 ? r.table : RT_TABLE_COMPAT,
    protocol: r.protocol,
    scope: r.type === RTN_LOCAL ? RT_SCOPE_HOST : RT_SCOPE_LINK,
    type: r.type,
    flags: 0,
  });
  const attrs = new AttrWriter().bytes(RTA_DST, ipToBytes(r.destination)).u32(RTA_OIF, r.ifindex).u32(RTA_PRIORITY, r.metric).u32(RTA_TABLE, r.table);
  return Buffer.concat([header, attrs.result()]);
}

/** RTM_GETROUTE dump request payload for one family. */
export function encodeRouteDump(family: Family): Buffer {
  return rtMsg.encode({ family: familyToAf(family), dstLen: 0, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0 });
}

/** A route the kernel reported; null for what is not a route of an IP family. */
export function decodeRoute(payload: Buffer): KernelRoute | null {
  const n = decodeRouteNotice(payload);
  if (!n) return null;
  const { family, destination, length, table, protocol } = n;
  return { family, destination, length, ifindex: n.oif ?? 0, table, protocol, type: rtMsg.decode(payload).type, metric: n.priority };
}

// ---- routes and rules from the config -------------------------------------------------

/** struct rtvia: the gateway's address family, then its bytes (a gateway of another family). */
function encodeVia(g: FamilyAddress): Buffer {
  const via = Buffer.alloc(2);
  via.writeUInt16LE(familyToAf(g.family));
  return Buffer.concat([via, ipToBytes(g.address)]);
}

function gatewayAttr(w: AttrWriter, family: Family, g: FamilyAddress): void {
  if (g.family === family) w.bytes(RTA_GATEWAY, ipToBytes(g.address));
  else w.bytes(RTA_VIA, encodeVia(g));
}

/** RTA_MULTIPATH's value: each struct rtnexthop followed by its own attributes. */
function encodeNexthops(family: Family, hops: readonly NextHopSpec[]): Buffer {
  return Buffer.concat(
    hops.map((nh) => {
      const attrs = new AttrWriter();
      if (nh.gateway) gatewayAttr(attrs, family, nh.gateway);
      if (nh.realms !== null) attrs.u32(RTA_FLOW, nh.realms);
      const body = attrs.result();
      const head = Buffer.alloc(8);
      head.writeUInt16LE(8 + body.length, 0);
      head.writeUInt8(nh.flags, 2);
      head.writeUInt8(nh.hops, 3);
      head.writeInt32LE(nh.ifindex, 4);
      return Buffer.concat([head, body]);
    }),
  );
}

/**
 * RTM_NEWROUTE / RTM_DELROUTE payload for a configured route, as keepalived builds it
 * (vrrp_iproute.c netlink_route): tables past 255 in RTA_TABLE, scope universe on add and
 * nowhere (matches any) on delete unless one is given, metrics nested in RTA_METRICS.
 */
export function encodeFullRoute(r: FullRouteSpec, op: 'add' | 'delete'): Buffer {
  const header = rtMsg.encode({
    family: familyToAf(r.family),
    dstLen: r.destinationLength,
    srcLen: r.source?.length ?? 0,
    tos: r.tos,
    table: r.table < 256 ? r.table : RT_TABLE_UNSPEC,
    protocol: r.protocol,
    scope: r.scope ?? (op === 'add' ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE),
    type: r.type,
    flags: r.flags,
  });
  const w = new AttrWriter();
  if (r.table >= 256) w.u32(RTA_TABLE, r.table);
  w.bytes(RTA_DST, ipToBytes(r.destination));
  if (r.source) w.bytes(RTA_SRC, ipToBytes(r.source.address));
  if (r.preferredSource) w.bytes(RTA_PREFSRC, ipToBytes(r.preferredSource));
  if (r.gateway) gatewayAttr(w, r.family, r.gateway);
  if (r.oif !== null) w.u32(RTA_OIF, r.oif);
  if (r.priority !== null) w.u32(RTA_PRIORITY, r.priority);
  if (r.realms !== null) w.u32(RTA_FLOW, r.realms);
  if (r.expires !== null) w.u32(RTA_EXPIRES, r.expires);
  if (r.pref !== null) w.u8(RTA_PREF, r.pref);
  if (r.ttlPropagate !== null) w.u8(RTA_TTL_PROPAGATE, r.ttlPropagate);
  if (r.metrics.size || r.congctl !== null) {
    const m = new AttrWriter();
    if (r.congctl !== null) m.bytes(RTAX_CC_ALGO, Buffer.from(r.congctl));
    for (const [type, value] of [...r.metrics].sort((a, b) => a[0] - b[0])) m.u32(type, value);
    if (r.lock) m.u32(RTAX_LOCK, r.lock);
    w.bytes(RTA_METRICS, m.result());
  }
  if (r.nexthops.length) w.bytes(RTA_MULTIPATH, encodeNexthops(r.family, r.nexthops));
  return Buffer.concat([header, w.result()]);
}

/** The netlink header flags of an add: prepend is keepalived's default (a plain create). */
export function routeAddFlags(mode: RouteAddMode): number {
  return NLM_F_CREATE | (mode === 'add' ? NLM_F_EXCL : mode === 'append' ? NLM_F_APPEND : 0);
}

/** struct fib_rule_hdr */
const fibRuleHdr = structCodec<{ family: number; dstLen: number; srcLen: number; tos: number; table: number; action: number; flags: number }>(
  'fib_rule_hdr',
  12,
  {
    family: ['u8', 0],
    dstLen: ['u8', 1],
    srcLen: ['u8', 2],
    tos: ['u8', 3],
    table: ['u8', 4],
    action: ['u8', 7],
    flags: ['u32', 8],
  },
);

function u32Pair(a: number, b: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32LE(a, 0);
  out.writeUInt32LE(b, 4);
  return out;
}

function u16Pair(a: number, b: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt16LE(a, 0);
  out.writeUInt16LE(b, 2);
  return out;
}

/** RTM_NEWRULE / RTM_DELRULE payload, as keepalived builds it (vrrp_iprule.c netlink_rule). */
export function encodeRule(r: RuleSpec): Buffer {
  const toTable = r.action === FR_ACT_TO_TBL && !r.l3mdev;
  const header = fibRuleHdr.encode({
    family: familyToAf(r.family),
    dstLen: r.destination?.length ?? 0,
    srcLen: r.source?.length ?? 0,
    tos: r.tos,
    table: toTable && r.table < 256 ? r.table || RT_TABLE_MAIN : RT_TABLE_UNSPEC,
    action: r.action,
    flags: r.invert ? FIB_RULE_INVERT : 0,
  });
  const w = new AttrWriter();
  if (toTable && r.table >= 256) w.u32(FRA_TABLE, r.table);
  if (r.source) w.bytes(FRA_SRC, ipToBytes(r.source.address));
  if (r.destination) w.bytes(FRA_DST, ipToBytes(r.destination.address));
  if (r.priority !== null) w.u32(FRA_PRIORITY, r.priority);
  if (r.fwmark !== null) w.u32(FRA_FWMARK, r.fwmark);
  if (r.fwmask !== null) w.u32(FRA_FWMASK, r.fwmask);
  if (r.realms !== null) w.u32(FRA_FLOW, r.realms);
  if (r.suppressPrefixLength !== null) w.u32(FRA_SUPPRESS_PREFIXLEN, r.suppressPrefixLength);
  if (r.suppressIfgroup !== null) w.u32(FRA_SUPPRESS_IFGROUP, r.suppressIfgroup);
  if (r.iifName !== null) w.str(FRA_IIFNAME, r.iifName);
  if (r.oifName !== null) w.str(FRA_OIFNAME, r.oifName);
  if (r.tunnelId !== null) {
    const id = Buffer.alloc(8);
    id.writeBigUInt64BE(r.tunnelId);
    w.bytes(FRA_TUN_ID, id);
  }
  if (r.uidRange) w.bytes(FRA_UID_RANGE, u32Pair(r.uidRange[0], r.uidRange[1]));
  if (r.l3mdev) w.u8(FRA_L3MDEV, 1);
  if (r.protocol !== null) w.u8(FRA_PROTOCOL, r.protocol);
  if (r.ipProto !== null) w.u8(FRA_IP_PROTO, r.ipProto);
  if (r.sport) w.bytes(FRA_SPORT_RANGE, u16Pair(r.sport[0], r.sport[1]));
  if (r.dport) w.bytes(FRA_DPORT_RANGE, u16Pair(r.dport[0], r.dport[1]));
  if (r.goto !== null) w.u32(FRA_GOTO, r.goto);
  return Buffer.concat([header, w.result()]);
}

/** A route as an RTM_NEWROUTE / RTM_DELROUTE notification names it: what keepalived compares to find its own. */
export function decodeRouteNotice(payload: Buffer): RouteNotice | null {
  if (payload.length < RTMSG_LEN) return null;
  const h = rtMsg.decode(payload);
  if (h.family !== AF_INET && h.family !== AF_INET6) return null;
  const attrs = decodeAttrs(payload.subarray(RTMSG_LEN));
  const dst = attrs.get(RTA_DST);
  return {
    family: h.family === AF_INET ? 4 : 6,
    destination: dst ? bytesToIp(dst) : h.family === AF_INET ? '0.0.0.0' : '::',
    length: h.dstLen,
    tos: h.tos,
    table: attrs.u32(RTA_TABLE) ?? h.table,
    protocol: h.protocol,
    oif: attrs.u32(RTA_OIF) ?? null,
    priority: attrs.u32(RTA_PRIORITY) ?? 0,
  };
}

function rangeOf(b: Buffer | undefined, width: 2 | 4): [number, number] | null {
  if (!b || b.length < 2 * width) return null;
  return width === 2 ? [b.readUInt16LE(0), b.readUInt16LE(2)] : [b.readUInt32LE(0), b.readUInt32LE(4)];
}

/** A policy rule as an RTM_NEWRULE / RTM_DELRULE notification carries it (the kernel's fib_nl_fill_rule). */
export function decodeRule(payload: Buffer): RuleSpec | null {
  if (payload.length < fibRuleHdr.length) return null;
  const h = fibRuleHdr.decode(payload);
  if (h.family !== AF_INET && h.family !== AF_INET6) return null;
  const a = decodeAttrs(payload.subarray(fibRuleHdr.length));
  const prefix = (type: number, length: number) => {
    const b = a.get(type);
    return b ? { address: bytesToIp(b), length } : null;
  };
  const tun = a.get(FRA_TUN_ID);
  const suppressPrefix = a.get(FRA_SUPPRESS_PREFIXLEN)?.readInt32LE(0);
  return {
    family: h.family === AF_INET ? 4 : 6,
    action: h.action,
    table: a.u32(FRA_TABLE) ?? h.table,
    tos: h.tos,
    invert: (h.flags & FIB_RULE_INVERT) !== 0,
    source: prefix(FRA_SRC, h.srcLen),
    destination: prefix(FRA_DST, h.dstLen),
    priority: a.u32(FRA_PRIORITY) ?? null,
    fwmark: a.u32(FRA_FWMARK) ?? null,
    fwmask: a.u32(FRA_FWMASK) ?? null,
    realms: a.u32(FRA_FLOW) ?? null,
    suppressPrefixLength: suppressPrefix === undefined || suppressPrefix === -1 ? null : suppressPrefix,
    suppressIfgroup: a.u32(FRA_SUPPRESS_IFGROUP) ?? null,
    iifName: a.string(FRA_IIFNAME) ?? null,
    oifName: a.string(FRA_OIFNAME) ?? null,
    tunnelId: tun && tun.length >= 8 ? tun.readBigUInt64BE(0) : null,
    l3mdev: a.u8(FRA_L3MDEV) === 1,
    uidRange: rangeOf(a.get(FRA_UID_RANGE), 4),
    protocol: a.u8(FRA_PROTOCOL) ?? null,
    ipProto: a.u8(FRA_IP_PROTO) ?? null,
    sport: rangeOf(a.get(FRA_SPORT_RANGE), 2),
    dport: rangeOf(a.get(FRA_DPORT_RANGE), 2),
    goto: a.u32(FRA_GOTO) ?? null,
  };
}
