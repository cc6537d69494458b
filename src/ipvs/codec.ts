/**
 * IPVS codec: model <-> generic netlink attributes, netlink framing, and kernel errors.
 * Pure functions over Buffers, so every layout is unit-tested without a kernel.
 *
 * Integers without a "be" are host order (netlink convention); this code writes little
 * endian, the order of every platform Node's netlink addon ships for (x86_64, arm64).
 * Attributes are encoded here rather than with netlink's AttrStream, whose push() masks
 * the type to 14 bits and so loses NLA_F_NESTED, which the kernel's parser requires.
 */
import { constants as osConstants } from 'node:os';
import {
  AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPVS_CMD_ATTR, IPVS_DAEMON_ATTR,
  IPVS_DEST_ATTR, IPVS_INFO_ATTR, IPVS_STATS_ATTR, IPVS_SVC_ATTR, IP_VS_CONN_F, IP_VS_CONN_F_FWD_MASK,
  IP_VS_STATE, IP_VS_SVC_F, IP_VS_TUNNEL_TYPE, NLA_F_NESTED, NLA_TYPE_MASK, NLMSG_DONE, NLMSG_ERROR,
} from './constants.js';
import {
  type Destination, type Family, type ForwardingMethod, type Info, type Protocol, type Service,
  type ServiceFlags, type ServiceKey, type Stats, type SyncDaemon, type Timeouts, type TunnelType,
  hostPrefix, ipv4ToBytes, ipv4ToText, ipv6ToBytes, ipv6ToText, isFwmark,
} from './model.js';

// ---- attributes -------------------------------------------------------------------------

const align4 = (n: number): number => (n + 3) & ~3;

/** One attribute: 4-byte header, payload, padding to 4 bytes. */
export function nla(type: number, payload: Uint8Array): Buffer {
  const len = 4 + payload.length;
  if (len > 0xffff) throw new Error(`netlink attribute ${type} too long (${len} bytes)`);
  const b = Buffer.alloc(align4(len));
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type & 0xffff, 2);
  b.set(payload, 4);
  return b;
}
export const nested = (type: number, children: Uint8Array[]): Buffer =>
  nla(type | NLA_F_NESTED, Buffer.concat(children));
export const u8 = (type: number, v: number): Buffer => nla(type, Buffer.from([v & 0xff]));
export function u16(type: number, v: number): Buffer {
  const b = Buffer.alloc(2); b.writeUInt16LE(v); return nla(type, b);
}
export function be16(type: number, v: number): Buffer {
  const b = Buffer.alloc(2); b.writeUInt16BE(v); return nla(type, b);
}
export function u32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return nla(type, b);
}
export const str = (type: number, v: string): Buffer => nla(type, Buffer.from(`${v}\0`, 'utf8'));

/** Attributes by type (NLA_F_NESTED / byte-order bits stripped); the last one wins. */
export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) throw new Error(`malformed netlink attribute at offset ${off}`);
    out.set(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

const getU8 = (a: Map<number, Buffer>, t: number): number | undefined => a.get(t)?.readUInt8(0);
const getU16 = (a: Map<number, Buffer>, t: number): number | undefined => a.get(t)?.readUInt16LE(0);
const getBe16 = (a: Map<number, Buffer>, t: number): number | undefined => a.get(t)?.readUInt16BE(0);
const getU32 = (a: Map<number, Buffer>, t: number): number | undefined => a.get(t)?.readUInt32LE(0);
function getStr(a: Map<number, Buffer>, t: number): string | undefined {
  const b = a.get(t);
  if (!b) return undefined;
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}

// ---- field converters ------------------------------------------------------------------

const FAMILY_TO_AF: Record<Family, number> = { inet: AF_INET, inet6: AF_INET6 };
export function afToFamily(af: number): Family {
  if (af === AF_INET) return 'inet';
  if (af === AF_INET6) return 'inet6';
  throw new Error(`unsupported address family ${af}`);
}
const PROTOCOL_TO_NUM: Record<Protocol, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP };
function numToProtocol(n: number): Protocol {
  const p = (Object.keys(PROTOCOL_TO_NUM) as Protocol[]).find((k) => PROTOCOL_TO_NUM[k] === n);
  if (!p) throw new Error(`unsupported IP protocol ${n}`);
  return p;
}
const FWD_TO_NUM: Record<ForwardingMethod, number> = {
  masquerade: IP_VS_CONN_F.MASQ, local: IP_VS_CONN_F.LOCALNODE, tunnel: IP_VS_CONN_F.TUNNEL,
  route: IP_VS_CONN_F.DROUTE, bypass: IP_VS_CONN_F.BYPASS,
};
function numToFwd(n: number): ForwardingMethod {
  const f = (Object.keys(FWD_TO_NUM) as ForwardingMethod[]).find((k) => FWD_TO_NUM[k] === (n & IP_VS_CONN_F_FWD_MASK));
  if (!f) throw new Error(`unknown forwarding method ${n}`);
  return f;
}
const TUN_TO_NUM: Record<TunnelType, number> = { ipip: IP_VS_TUNNEL_TYPE.IPIP, gue: IP_VS_TUNNEL_TYPE.GUE, gre: IP_VS_TUNNEL_TYPE.GRE };
function numToTun(n: number): TunnelType {
  const t = (Object.keys(TUN_TO_NUM) as TunnelType[]).find((k) => TUN_TO_NUM[k] === n);
  if (!t) throw new Error(`unknown tunnel type ${n}`);
  return t;
}

/** Addresses travel as a 16-byte union nf_inet_addr (IPv4 in the first four bytes). */
export function addressToBytes(family: Family, address: string): Buffer {
  const out = Buffer.alloc(16);
  (family === 'inet' ? ipv4ToBytes(address) : ipv6ToBytes(address)).copy(out);
  return out;
}
export const bytesToAddress = (family: Family, b: Buffer): string =>
  (family === 'inet' ? ipv4ToText(b) : ipv6ToText(b));

export function flagsToNumber(f: ServiceFlags): number {
  return (f.persistent ? IP_VS_SVC_F.PERSISTENT : 0) | (f.onePacket ? IP_VS_SVC_F.ONEPACKET : 0)
    | (f.schedFallback ? IP_VS_SVC_F.SCHED1 : 0) | (f.schedPort ? IP_VS_SVC_F.SCHED2 : 0)
    | (f.sched3 ? IP_VS_SVC_F.SCHED3 : 0);
}
/** HASHED (0x2) is the kernel's bookkeeping, set on everything it returns: dropped here. */
export function numberToFlags(n: number): ServiceFlags {
  return {
    persistent: (n & IP_VS_SVC_F.PERSISTENT) !== 0, onePacket: (n & IP_VS_SVC_F.ONEPACKET) !== 0,
    schedFallback: (n & IP_VS_SVC_F.SCHED1) !== 0, schedPort: (n & IP_VS_SVC_F.SCHED2) !== 0,
    sched3: (n & IP_VS_SVC_F.SCHED3) !== 0,
  };
}

/**
 * The NETMASK attribute is overloaded: for IPv4 it is the mask as stored in memory
 * (network order bytes), for IPv6 the prefix length as a host-order integer.
 */
export function encodeNetmask(family: Family, prefix: number): Buffer {
  const b = Buffer.alloc(4);
  if (family === 'inet') b.writeUInt32BE(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
  else b.writeUInt32LE(prefix);
  return b;
}
export function decodeNetmask(family: Family, b: Buffer): number {
  if (family === 'inet6') return b.readUInt32LE(0);
  let mask = b.readUInt32BE(0), prefix = 0;
  while (mask & 0x80000000) { prefix++; mask = (mask << 1) >>> 0; }
  return prefix;
}

// ---- services ----------------------------------------------------------------------------

/**
 * Appends attributes to one growing buffer: the bulk path (thousands of services and
 * destinations) would otherwise allocate a Buffer per attribute.
 */
export class AttrWriter {
  private buf = Buffer.allocUnsafe(256);
  private len = 0;
  private reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    const at = this.len;
    this.len += n;
    return at;
  }
  private header(type: number, payload: number): number {
    const at = this.reserve(align4(4 + payload));
    this.buf.writeUInt16LE(4 + payload, at);
    this.buf.writeUInt16LE(type & 0xffff, at + 2);
    this.buf.fill(0, at + 4 + payload, at + align4(4 + payload)); // padding
    return at + 4;
  }
  u8(type: number, v: number): this { this.buf.writeUInt8(v & 0xff, this.header(type, 1)); return this; }
  u16(type: number, v: number): this { this.buf.writeUInt16LE(v, this.header(type, 2)); return this; }
  be16(type: number, v: number): this { this.buf.writeUInt16BE(v, this.header(type, 2)); return this; }
  u32(type: number, v: number): this { this.buf.writeUInt32LE(v >>> 0, this.header(type, 4)); return this; }
  bytes(type: number, b: Uint8Array): this { this.buf.set(b, this.header(type, b.length)); return this; }
  str(type: number, v: string): this {
    const n = Buffer.byteLength(v);
    const at = this.header(type, n + 1);
    this.buf.write(v, at);
    this.buf[at + n] = 0;
    return this;
  }
  /** A 16-byte union nf_inet_addr. */
  address(type: number, family: Family, address: string): this {
    const at = this.header(type, 16);
    this.buf.fill(0, at, at + 16);
    if (family === 'inet') writeIpv4(this.buf, at, address);
    else ipv6ToBytes(address).copy(this.buf, at);
    return this;
  }
  /** Open a nested attribute (NLA_F_NESTED set); close it with end(). */
  begin(type: number): number {
    const at = this.reserve(4);
    this.buf.writeUInt16LE((type | NLA_F_NESTED) & 0xffff, at + 2);
    return at;
  }
  end(at: number): this { this.buf.writeUInt16LE(this.len - at, at); return this; }
  result(): Buffer { return this.buf.subarray(0, this.len); }
}

function writeIpv4(buf: Buffer, at: number, address: string): void {
  let octet = 0, part = 0, digits = 0;
  for (let i = 0; i <= address.length; i++) {
    const c = i < address.length ? address.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || octet > 255 || part > 3) throw new Error(`invalid IPv4 address "${address}"`);
      buf[at + part++] = octet; octet = 0; digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + c - 48; digits++;
    } else throw new Error(`invalid IPv4 address "${address}"`);
  }
  if (part !== 4) throw new Error(`invalid IPv4 address "${address}"`);
}

function writeServiceKey(w: AttrWriter, k: ServiceKey): void {
  w.u16(IPVS_SVC_ATTR.AF, FAMILY_TO_AF[k.family]);
  if (isFwmark(k)) w.u32(IPVS_SVC_ATTR.FWMARK, k.fwmark);
  else {
    w.u16(IPVS_SVC_ATTR.PROTOCOL, PROTOCOL_TO_NUM[k.protocol]).address(IPVS_SVC_ATTR.ADDR, k.family, k.address)
      .be16(IPVS_SVC_ATTR.PORT, k.port);
  }
}

/** IPVS_CMD_ATTR_SERVICE: the key only, or (add/edit) every settable field, all required by the kernel. */
export function encodeService(s: ServiceKey | Service, full: boolean): Buffer {
  const w = new AttrWriter();
  const at = w.begin(IPVS_CMD_ATTR.SERVICE);
  writeServiceKey(w, s);
  if (full) {
    const svc = s as Service;
    const flags = Buffer.alloc(8);
    flags.writeUInt32LE(flagsToNumber(svc.flags), 0);
    flags.writeUInt32LE(0xffffffff, 4); // mask: every flag is ours to set
    w.str(IPVS_SVC_ATTR.SCHED_NAME, svc.scheduler).bytes(IPVS_SVC_ATTR.FLAGS, flags)
      .u32(IPVS_SVC_ATTR.TIMEOUT, svc.timeout).bytes(IPVS_SVC_ATTR.NETMASK, encodeNetmask(svc.family, svc.prefix));
    if (svc.pe) w.str(IPVS_SVC_ATTR.PE_NAME, svc.pe);
  }
  return w.end(at).result();
}

/** The payload of IPVS_CMD_ATTR_SERVICE as the kernel fills it. */
export function decodeService(payload: Buffer): Service {
  const a = parseAttrs(payload);
  const family = afToFamily(need(getU16(a, IPVS_SVC_ATTR.AF), 'service family'));
  const fwmark = getU32(a, IPVS_SVC_ATTR.FWMARK) ?? 0;
  const key: ServiceKey = fwmark !== 0
    ? { family, fwmark }
    : {
      family,
      protocol: numToProtocol(need(getU16(a, IPVS_SVC_ATTR.PROTOCOL), 'service protocol')),
      address: bytesToAddress(family, need(a.get(IPVS_SVC_ATTR.ADDR), 'service address')),
      port: need(getBe16(a, IPVS_SVC_ATTR.PORT), 'service port'),
    };
  const flags = a.get(IPVS_SVC_ATTR.FLAGS);
  const netmask = a.get(IPVS_SVC_ATTR.NETMASK);
  const stats = decodeStats(a.get(IPVS_SVC_ATTR.STATS64), a.get(IPVS_SVC_ATTR.STATS));
  const svc: Service = {
    ...key,
    scheduler: getStr(a, IPVS_SVC_ATTR.SCHED_NAME) ?? '',
    flags: numberToFlags(flags ? flags.readUInt32LE(0) : 0),
    timeout: getU32(a, IPVS_SVC_ATTR.TIMEOUT) ?? 0,
    prefix: netmask ? decodeNetmask(family, netmask) : hostPrefix(family),
    pe: getStr(a, IPVS_SVC_ATTR.PE_NAME) || null,
  };
  if (stats) svc.stats = stats;
  return svc;
}

// ---- destinations ------------------------------------------------------------------------

/** IPVS_CMD_ATTR_DEST; the address family always goes along (IPv6 backends break otherwise). */
export function encodeDestination(d: Destination, full: boolean): Buffer {
  const w = new AttrWriter();
  const at = w.begin(IPVS_CMD_ATTR.DEST);
  w.address(IPVS_DEST_ATTR.ADDR, d.family, d.address).be16(IPVS_DEST_ATTR.PORT, d.port)
    .u16(IPVS_DEST_ATTR.ADDR_FAMILY, FAMILY_TO_AF[d.family]);
  if (full) {
    w.u32(IPVS_DEST_ATTR.FWD_METHOD, FWD_TO_NUM[d.forwarding]).u32(IPVS_DEST_ATTR.WEIGHT, d.weight)
      .u32(IPVS_DEST_ATTR.U_THRESH, d.upperThreshold).u32(IPVS_DEST_ATTR.L_THRESH, d.lowerThreshold);
    if (d.forwarding === 'tunnel' && d.tunnel) {
      w.u8(IPVS_DEST_ATTR.TUN_TYPE, TUN_TO_NUM[d.tunnel.type]).be16(IPVS_DEST_ATTR.TUN_PORT, d.tunnel.port)
        .u16(IPVS_DEST_ATTR.TUN_FLAGS, d.tunnel.flags);
    }
  }
  return w.end(at).result();
}

/** The payload of IPVS_CMD_ATTR_DEST. `serviceFamily` fills in for kernels without ADDR_FAMILY. */
export function decodeDestination(payload: Buffer, serviceFamily: Family): Destination {
  const a = parseAttrs(payload);
  const af = getU16(a, IPVS_DEST_ATTR.ADDR_FAMILY);
  const family = af === undefined ? serviceFamily : afToFamily(af);
  const forwarding = numToFwd(need(getU32(a, IPVS_DEST_ATTR.FWD_METHOD), 'destination forwarding method'));
  const d: Destination = {
    family,
    address: bytesToAddress(family, need(a.get(IPVS_DEST_ATTR.ADDR), 'destination address')),
    port: need(getBe16(a, IPVS_DEST_ATTR.PORT), 'destination port'),
    forwarding,
    weight: getU32(a, IPVS_DEST_ATTR.WEIGHT) ?? 0,
    upperThreshold: getU32(a, IPVS_DEST_ATTR.U_THRESH) ?? 0,
    lowerThreshold: getU32(a, IPVS_DEST_ATTR.L_THRESH) ?? 0,
    tunnel: forwarding === 'tunnel'
      ? {
        type: numToTun(getU8(a, IPVS_DEST_ATTR.TUN_TYPE) ?? 0),
        port: getBe16(a, IPVS_DEST_ATTR.TUN_PORT) ?? 0,
        flags: getU16(a, IPVS_DEST_ATTR.TUN_FLAGS) ?? 0,
      }
      : null,
    activeConns: getU32(a, IPVS_DEST_ATTR.ACTIVE_CONNS) ?? 0,
    inactiveConns: getU32(a, IPVS_DEST_ATTR.INACT_CONNS) ?? 0,
    persistentConns: getU32(a, IPVS_DEST_ATTR.PERSIST_CONNS) ?? 0,
  };
  const stats = decodeStats(a.get(IPVS_DEST_ATTR.STATS64), a.get(IPVS_DEST_ATTR.STATS));
  if (stats) d.stats = stats;
  return d;
}

// ---- stats -------------------------------------------------------------------------------

const STAT_FIELDS: [keyof Stats, number][] = [
  ['conns', IPVS_STATS_ATTR.CONNS], ['inPkts', IPVS_STATS_ATTR.INPKTS], ['outPkts', IPVS_STATS_ATTR.OUTPKTS],
  ['inBytes', IPVS_STATS_ATTR.INBYTES], ['outBytes', IPVS_STATS_ATTR.OUTBYTES], ['cps', IPVS_STATS_ATTR.CPS],
  ['inPps', IPVS_STATS_ATTR.INPPS], ['outPps', IPVS_STATS_ATTR.OUTPPS], ['inBps', IPVS_STATS_ATTR.INBPS],
  ['outBps', IPVS_STATS_ATTR.OUTBPS],
];

/** STATS64 when present (all u64); the older STATS has u32 fields except the byte counters. */
export function decodeStats(stats64: Buffer | undefined, stats32: Buffer | undefined): Stats | undefined {
  const src = stats64 ?? stats32;
  if (!src) return undefined;
  const a = parseAttrs(src);
  const out = {} as Stats;
  for (const [name, type] of STAT_FIELDS) {
    const b = a.get(type);
    out[name] = !b ? 0n : b.length >= 8 ? b.readBigUInt64LE(0) : BigInt(b.readUInt32LE(0));
  }
  return out;
}

export function encodeStats64(s: Stats): Buffer[] {
  return STAT_FIELDS.map(([name, type]) => {
    const b = Buffer.alloc(8); b.writeBigUInt64LE(s[name]); return nla(type, b);
  });
}

// ---- sync daemons, timeouts, info -------------------------------------------------------

const STATE_TO_NUM = { master: IP_VS_STATE.MASTER, backup: IP_VS_STATE.BACKUP } as const;

export function encodeDaemon(d: SyncDaemon): Buffer {
  const attrs = [
    u32(IPVS_DAEMON_ATTR.STATE, STATE_TO_NUM[d.state]),
    str(IPVS_DAEMON_ATTR.MCAST_IFN, d.interface),
    u32(IPVS_DAEMON_ATTR.SYNC_ID, d.syncId),
  ];
  if (d.maxLen) attrs.push(u16(IPVS_DAEMON_ATTR.SYNC_MAXLEN, d.maxLen));
  if (d.group) {
    attrs.push(d.group.includes(':')
      ? nla(IPVS_DAEMON_ATTR.MCAST_GROUP6, ipv6ToBytes(d.group))
      : nla(IPVS_DAEMON_ATTR.MCAST_GROUP, ipv4ToBytes(d.group)));
  }
  if (d.port) attrs.push(u16(IPVS_DAEMON_ATTR.MCAST_PORT, d.port));
  if (d.ttl) attrs.push(u8(IPVS_DAEMON_ATTR.MCAST_TTL, d.ttl));
  return nested(IPVS_CMD_ATTR.DAEMON, attrs);
}

/** Stopping names only the state: one daemon of each kind can run. */
export const encodeDaemonState = (state: SyncDaemon['state']): Buffer =>
  nested(IPVS_CMD_ATTR.DAEMON, [u32(IPVS_DAEMON_ATTR.STATE, STATE_TO_NUM[state])]);

export function decodeDaemon(payload: Buffer): SyncDaemon {
  const a = parseAttrs(payload);
  const state = need(getU32(a, IPVS_DAEMON_ATTR.STATE), 'daemon state');
  const g4 = a.get(IPVS_DAEMON_ATTR.MCAST_GROUP);
  const g6 = a.get(IPVS_DAEMON_ATTR.MCAST_GROUP6);
  return {
    state: state === IP_VS_STATE.BACKUP ? 'backup' : 'master',
    interface: getStr(a, IPVS_DAEMON_ATTR.MCAST_IFN) ?? '',
    syncId: getU32(a, IPVS_DAEMON_ATTR.SYNC_ID) ?? 0,
    maxLen: getU16(a, IPVS_DAEMON_ATTR.SYNC_MAXLEN) ?? 0,
    group: g6 ? ipv6ToText(g6) : g4 ? ipv4ToText(g4) : null,
    port: getU16(a, IPVS_DAEMON_ATTR.MCAST_PORT) ?? 0,
    ttl: getU8(a, IPVS_DAEMON_ATTR.MCAST_TTL) ?? 0,
  };
}

export const encodeTimeouts = (t: Timeouts): Buffer[] => [
  u32(IPVS_CMD_ATTR.TIMEOUT_TCP, t.tcp), u32(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN, t.tcpFin), u32(IPVS_CMD_ATTR.TIMEOUT_UDP, t.udp),
];
export function decodeTimeouts(attrs: Buffer): Timeouts {
  const a = parseAttrs(attrs);
  return {
    tcp: getU32(a, IPVS_CMD_ATTR.TIMEOUT_TCP) ?? 0,
    tcpFin: getU32(a, IPVS_CMD_ATTR.TIMEOUT_TCP_FIN) ?? 0,
    udp: getU32(a, IPVS_CMD_ATTR.TIMEOUT_UDP) ?? 0,
  };
}
export function decodeInfo(attrs: Buffer): Info {
  const a = parseAttrs(attrs);
  const code = getU32(a, IPVS_INFO_ATTR.VERSION) ?? 0;
  return {
    versionCode: code,
    version: `${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff}`,
    connTableSize: getU32(a, IPVS_INFO_ATTR.CONN_TAB_SIZE) ?? 0,
  };
}

// ---- netlink framing ---------------------------------------------------------------------

export interface NetlinkMessage { type: number; flags: number; seq: number; port: number; payload: Buffer }

/** nlmsghdr + genlmsghdr + attributes. */
export function genlMessage(family: number, flags: number, seq: number, cmd: number, version: number, attrs: Uint8Array[]): Buffer {
  const body = Buffer.concat(attrs);
  const b = Buffer.alloc(20 + body.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(family, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq, 8);
  b.writeUInt32LE(0, 12); // port 0: the kernel fills in the sender
  b.writeUInt8(cmd, 16);
  b.writeUInt8(version, 17);
  body.copy(b, 20);
  return b;
}

/** Several genl messages in one buffer (one write): each is [seq, cmd, attrs] with shared family/flags. */
export function genlBatch(family: number, version: number, items: { seq: number; flags: number; cmd: number; attrs: Buffer[] }[]): Buffer {
  let total = 0;
  for (const it of items) { total += 20; for (const a of it.attrs) total += a.length; }
  const b = Buffer.allocUnsafe(total);
  let off = 0;
  for (const it of items) {
    const start = off;
    b.writeUInt16LE(family, off + 4);
    b.writeUInt16LE(it.flags, off + 6);
    b.writeUInt32LE(it.seq, off + 8);
    b.writeUInt32LE(0, off + 12);
    b.writeUInt8(it.cmd, off + 16);
    b.writeUInt8(version, off + 17);
    b.writeUInt16LE(0, off + 18);
    off += 20;
    for (const a of it.attrs) { a.copy(b, off); off += a.length; }
    b.writeUInt32LE(off - start, start); // attributes are 4-aligned, so is every message
  }
  return b;
}

export function parseMessages(buf: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + 16 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < 16 || off + len > buf.length) throw new Error(`malformed netlink message at offset ${off}`);
    out.push({
      type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8), port: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + 16, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** The attributes of a generic netlink message (after the 4-byte genl header). */
export const genlAttrs = (m: NetlinkMessage): Buffer => m.payload.subarray(4);
export const isDone = (m: NetlinkMessage): boolean => m.type === NLMSG_DONE;
/** NLMSG_ERROR carries a negative errno; 0 is an ACK. Returns the positive errno, or null. */
export function errorOf(m: NetlinkMessage): number | null {
  if (m.type !== NLMSG_ERROR) return null;
  return 0 - m.payload.readInt32LE(0) || 0; // no -0 for an ACK
}

// ---- errors --------------------------------------------------------------------------------

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, num]) => [num, name]),
);
export const errnoName = (errno: number): string => ERRNO_NAMES.get(errno) ?? `E${errno}`;

/** A kernel refusal: errno, its symbolic code, and a sentence saying what went wrong. */
export class IpvsError extends Error {
  override readonly name = 'IpvsError';
  readonly errno: number;
  readonly code: string;
  /** The operation that failed, e.g. "add service tcp 10.0.0.1:80". */
  readonly operation: string;
  constructor(errno: number, operation: string, message: string) {
    super(message);
    this.errno = errno;
    this.code = errnoName(errno);
    this.operation = operation;
  }
}

export type OperationKind = 'service' | 'destination' | 'daemon' | 'config' | 'family' | 'other';

/** Explain a kernel errno in the context of the operation that got it. */
export function ipvsError(errno: number, kind: OperationKind, operation: string, detail: { scheduler?: string; pe?: string | null } = {}): IpvsError {
  const code = errnoName(errno);
  const target = operation.replace(/^(add|edit|delete|get|start|stop|set|list) /, '');
  let sentence: string;
  switch (code) {
    case 'EEXIST':
      sentence = `Cannot ${operation}: ${target} already exists.`; break;
    case 'ESRCH':
      sentence = kind === 'daemon'
        ? `Cannot ${operation}: no such sync daemon is running.`
        : `Cannot ${operation}: the virtual service does not exist.`;
      break;
    case 'ENOENT':
      sentence = kind === 'service'
        ? `Cannot ${operation}: scheduler "${detail.scheduler ?? '?'}"${detail.pe ? ` or persistence engine "${detail.pe}"` : ''} not found (no kernel module ip_vs_${detail.scheduler ?? '?'}).`
        : kind === 'destination'
          ? `Cannot ${operation}: the destination does not exist in that service.`
          : `Cannot ${operation}: not found.`;
      break;
    case 'EBUSY':
      sentence = `Cannot ${operation}: it is busy (a sync daemon of that kind is already running?).`; break;
    case 'EINVAL':
      sentence = `Cannot ${operation}: the kernel rejected the request as invalid (check ports, weights, thresholds, netmask, tunnel settings).`; break;
    case 'EPERM':
    case 'EACCES':
      sentence = `Cannot ${operation}: permission denied (IPVS needs CAP_NET_ADMIN).`; break;
    case 'EAFNOSUPPORT':
      sentence = `Cannot ${operation}: the kernel has no IPv6 support for IPVS.`; break;
    default:
      sentence = `Cannot ${operation}: the kernel answered ${code} (errno ${errno}).`;
  }
  return new IpvsError(errno, operation, sentence);
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`IPVS reply lacks the ${what}`);
  return v;
}
