/**
 * IPVS codec: explicit converters between the model (model.ts) and the attributes of the
 * kernel's IPVS generic netlink family (constants.ts), and the kernel's errors in IPVS words.
 * Pure functions over Buffers, so every layout is unit-tested without a kernel; messages,
 * attribute framing and host byte order are the shared wire layer's (src/netlink/wire.ts).
 * Ports travel in network order, everything else in host order.
 */
import { errnoName } from '../netlink/errors.js';
import { AF_INET, AF_INET6, AttrWriter, decodeAttrs, readU32, readU64, writeU32 } from '../netlink/wire.js';
import {
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPVS_CMD_ATTR,
  IPVS_DAEMON_ATTR,
  IPVS_DEST_ATTR,
  IPVS_INFO_ATTR,
  IPVS_STATS_ATTR,
  IPVS_SVC_ATTR,
  IP_VS_CONN_F,
  IP_VS_CONN_F_FWD_MASK,
  IP_VS_STATE,
  IP_VS_SVC_F,
  IP_VS_TUNNEL_TYPE,
} from './constants.js';
import {
  type Destination,
  type Family,
  type ForwardingMethod,
  type Info,
  type Protocol,
  type Service,
  type ServiceFlags,
  type ServiceKey,
  type Stats,
  type SyncDaemon,
  type Timeouts,
  type TunnelType,
  hostPrefix,
  ipv4ToBytes,
  ipv4ToText,
  ipv6ToBytes,
  ipv6ToText,
  isFwmark,
} from './model.js';

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
  masquerade: IP_VS_CONN_F.MASQ,
  local: IP_VS_CONN_F.LOCALNODE,
  tunnel: IP_VS_CONN_F.TUNNEL,
  route: IP_VS_CONN_F.DROUTE,
  bypass: IP_VS_CONN_F.BYPASS,
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

export const bytesToAddress = (family: Family, b: Buffer): string => (family === 'inet' ? ipv4ToText(b) : ipv6ToText(b));

export function flagsToNumber(f: ServiceFlags): number {
  return (
    (f.persistent ? IP_VS_SVC_F.PERSISTENT : 0) |
    (f.onePacket ? IP_VS_SVC_F.ONEPACKET : 0) |
    (f.schedFallback ? IP_VS_SVC_F.SCHED1 : 0) |
    (f.schedPort ? IP_VS_SVC_F.SCHED2 : 0) |
    (f.sched3 ? IP_VS_SVC_F.SCHED3 : 0)
  );
}
/** HASHED (0x2) is the kernel's bookkeeping, set on everything it returns: dropped here. */
export function numberToFlags(n: number): ServiceFlags {
  return {
    persistent: (n & IP_VS_SVC_F.PERSISTENT) !== 0,
    onePacket: (n & IP_VS_SVC_F.ONEPACKET) !== 0,
    schedFallback: (n & IP_VS_SVC_F.SCHED1) !== 0,
    schedPort: (n & IP_VS_SVC_F.SCHED2) !== 0,
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
  else writeU32(b, prefix, 0);
  return b;
}
export function decodeNetmask(family: Family, b: Buffer): number {
  if (family === 'inet6') return readU32(b, 0);
  let mask = b.readUInt32BE(0),
    prefix = 0;
  while (mask & 0x80000000) {
    prefix++;
    mask = (mask << 1) >>> 0;
  }
  return prefix;
}

// ---- services ----------------------------------------------------------------------------

/** A 16-byte union nf_inet_addr (IPv4 in its first four bytes), written in place. */
function writeAddress(w: AttrWriter, type: number, family: Family, address: string): AttrWriter {
  const at = w.slot(type, 16);
  if (family === 'inet') writeIpv4(w.buffer, at, address);
  else ipv6ToBytes(address).copy(w.buffer, at);
  return w;
}

/** Dotted quad straight into the buffer: the bulk path encodes thousands of addresses. */
function writeIpv4(buf: Buffer, at: number, address: string): void {
  let octet = 0,
    part = 0,
    digits = 0;
  for (let i = 0; i <= address.length; i++) {
    const c = i < address.length ? address.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || octet > 255 || part > 3) throw new Error(`invalid IPv4 address "${address}"`);
      buf[at + part++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + c - 48;
      digits++;
    } else throw new Error(`invalid IPv4 address "${address}"`);
  }
  if (part !== 4) throw new Error(`invalid IPv4 address "${address}"`);
}

function writeServiceKey(w: AttrWriter, k: ServiceKey): void {
  w.u16(IPVS_SVC_ATTR.AF, FAMILY_TO_AF[k.family]);
  if (isFwmark(k)) w.u32(IPVS_SVC_ATTR.FWMARK, k.fwmark);
  else {
    w.u16(IPVS_SVC_ATTR.PROTOCOL, PROTOCOL_TO_NUM[k.protocol]);
    writeAddress(w, IPVS_SVC_ATTR.ADDR, k.family, k.address).be16(IPVS_SVC_ATTR.PORT, k.port);
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
    writeU32(flags, flagsToNumber(svc.flags), 0);
    writeU32(flags, 0xffffffff, 4); // mask: every flag is ours to set
    w.str(IPVS_SVC_ATTR.SCHED_NAME, svc.scheduler)
      .bytes(IPVS_SVC_ATTR.FLAGS, flags)
      .u32(IPVS_SVC_ATTR.TIMEOUT, svc.timeout)
      .bytes(IPVS_SVC_ATTR.NETMASK, encodeNetmask(svc.family, svc.prefix));
    if (svc.pe) w.str(IPVS_SVC_ATTR.PE_NAME, svc.pe);
  }
  return w.end(at).result();
}

/** The payload of IPVS_CMD_ATTR_SERVICE as the kernel fills it. */
export function decodeService(payload: Buffer): Service {
  const a = decodeAttrs(payload);
  const family = afToFamily(need(a.u16(IPVS_SVC_ATTR.AF), 'service family'));
  const fwmark = a.u32(IPVS_SVC_ATTR.FWMARK) ?? 0;
  const key: ServiceKey =
    fwmark !== 0
      ? { family, fwmark }
      : {
          family,
          protocol: numToProtocol(need(a.u16(IPVS_SVC_ATTR.PROTOCOL), 'service protocol')),
          address: bytesToAddress(family, need(a.get(IPVS_SVC_ATTR.ADDR), 'service address')),
          port: need(a.be16(IPVS_SVC_ATTR.PORT), 'service port'),
        };
  const flags = a.get(IPVS_SVC_ATTR.FLAGS);
  const netmask = a.get(IPVS_SVC_ATTR.NETMASK);
  const stats = decodeStats(a.get(IPVS_SVC_ATTR.STATS64), a.get(IPVS_SVC_ATTR.STATS));
  const svc: Service = {
    ...key,
    scheduler: a.string(IPVS_SVC_ATTR.SCHED_NAME) ?? '',
    flags: numberToFlags(flags ? readU32(flags, 0) : 0),
    timeout: a.u32(IPVS_SVC_ATTR.TIMEOUT) ?? 0,
    prefix: netmask ? decodeNetmask(family, netmask) : hostPrefix(family),
    pe: a.string(IPVS_SVC_ATTR.PE_NAME) || null,
  };
  if (stats) svc.stats = stats;
  return svc;
}

// ---- destinations ------------------------------------------------------------------------

/** IPVS_CMD_ATTR_DEST; the address family always goes along (IPv6 backends break otherwise). */
export function encodeDestination(d: Destination, full: boolean): Buffer {
  const w = new AttrWriter();
  const at = w.begin(IPVS_CMD_ATTR.DEST);
  writeAddress(w, IPVS_DEST_ATTR.ADDR, d.family, d.address).be16(IPVS_DEST_ATTR.PORT, d.port).u16(IPVS_DEST_ATTR.ADDR_FAMILY, FAMILY_TO_AF[d.family]);
  if (full) {
    w.u32(IPVS_DEST_ATTR.FWD_METHOD, FWD_TO_NUM[d.forwarding])
      .u32(IPVS_DEST_ATTR.WEIGHT, d.weight)
      .u32(IPVS_DEST_ATTR.U_THRESH, d.upperThreshold)
      .u32(IPVS_DEST_ATTR.L_THRESH, d.lowerThreshold);
    if (d.forwarding === 'tunnel' && d.tunnel) {
      w.u8(IPVS_DEST_ATTR.TUN_TYPE, TUN_TO_NUM[d.tunnel.type]).be16(IPVS_DEST_ATTR.TUN_PORT, d.tunnel.port).u16(IPVS_DEST_ATTR.TUN_FLAGS, d.tunnel.flags);
    }
  }
  return w.end(at).result();
}

/** The payload of IPVS_CMD_ATTR_DEST. `serviceFamily` fills in for kernels without ADDR_FAMILY. */
export function decodeDestination(payload: Buffer, serviceFamily: Family): Destination {
  const a = decodeAttrs(payload);
  const af = a.u16(IPVS_DEST_ATTR.ADDR_FAMILY);
  const family = af === undefined ? serviceFamily : afToFamily(af);
  const forwarding = numToFwd(need(a.u32(IPVS_DEST_ATTR.FWD_METHOD), 'destination forwarding method'));
  const d: Destination = {
    family,
    address: bytesToAddress(family, need(a.get(IPVS_DEST_ATTR.ADDR), 'destination address')),
    port: need(a.be16(IPVS_DEST_ATTR.PORT), 'destination port'),
    forwarding,
    weight: a.u32(IPVS_DEST_ATTR.WEIGHT) ?? 0,
    upperThreshold: a.u32(IPVS_DEST_ATTR.U_THRESH) ?? 0,
    lowerThreshold: a.u32(IPVS_DEST_ATTR.L_THRESH) ?? 0,
    tunnel:
      forwarding === 'tunnel'
        ? {
            type: numToTun(a.u8(IPVS_DEST_ATTR.TUN_TYPE) ?? 0),
            port: a.be16(IPVS_DEST_ATTR.TUN_PORT) ?? 0,
            flags: a.u16(IPVS_DEST_ATTR.TUN_FLAGS) ?? 0,
          }
        : null,
    activeConns: a.u32(IPVS_DEST_ATTR.ACTIVE_CONNS) ?? 0,
    inactiveConns: a.u32(IPVS_DEST_ATTR.INACT_CONNS) ?? 0,
    persistentConns: a.u32(IPVS_DEST_ATTR.PERSIST_CONNS) ?? 0,
  };
  const stats = decodeStats(a.get(IPVS_DEST_ATTR.STATS64), a.get(IPVS_DEST_ATTR.STATS));
  if (stats) d.stats = stats;
  return d;
}

// ---- stats -------------------------------------------------------------------------------

const STAT_FIELDS: [keyof Stats, number][] = [
  ['conns', IPVS_STATS_ATTR.CONNS],
  ['inPkts', IPVS_STATS_ATTR.INPKTS],
  ['outPkts', IPVS_STATS_ATTR.OUTPKTS],
  ['inBytes', IPVS_STATS_ATTR.INBYTES],
  ['outBytes', IPVS_STATS_ATTR.OUTBYTES],
  ['cps', IPVS_STATS_ATTR.CPS],
  ['inPps', IPVS_STATS_ATTR.INPPS],
  ['outPps', IPVS_STATS_ATTR.OUTPPS],
  ['inBps', IPVS_STATS_ATTR.INBPS],
  ['outBps', IPVS_STATS_ATTR.OUTBPS],
];

/**
 * STATS64 when present (all u64); the older STATS has u32 fields except the byte counters.
 * Takes the nests undecoded: the kernel sends both with every service and destination, and
 * decoding only the one used keeps a table read (one dump per service) cheaper.
 */
export function decodeStats(stats64: Buffer | undefined, stats32: Buffer | undefined): Stats | undefined {
  const nest = stats64 ?? stats32;
  if (!nest) return undefined;
  const a = decodeAttrs(nest);
  const out = {} as Stats;
  for (const [name, type] of STAT_FIELDS) {
    const b = a.get(type);
    out[name] = !b ? 0n : b.length >= 8 ? readU64(b, 0) : BigInt(readU32(b, 0));
  }
  return out;
}

/** The attributes of a STATS64 nest (what the kernel sends; for tests and fakes). */
export function encodeStats64(s: Stats): Buffer {
  const w = new AttrWriter();
  for (const [name, type] of STAT_FIELDS) w.u64(type, s[name]);
  return w.result();
}

// ---- sync daemons, timeouts, info -------------------------------------------------------

const STATE_TO_NUM = { master: IP_VS_STATE.MASTER, backup: IP_VS_STATE.BACKUP } as const;

export function encodeDaemon(d: SyncDaemon): Buffer {
  const w = new AttrWriter();
  const at = w.begin(IPVS_CMD_ATTR.DAEMON);
  w.u32(IPVS_DAEMON_ATTR.STATE, STATE_TO_NUM[d.state]).str(IPVS_DAEMON_ATTR.MCAST_IFN, d.interface).u32(IPVS_DAEMON_ATTR.SYNC_ID, d.syncId);
  if (d.maxLen) w.u16(IPVS_DAEMON_ATTR.SYNC_MAXLEN, d.maxLen);
  if (d.group) {
    if (d.group.includes(':')) w.bytes(IPVS_DAEMON_ATTR.MCAST_GROUP6, ipv6ToBytes(d.group));
    else w.bytes(IPVS_DAEMON_ATTR.MCAST_GROUP, ipv4ToBytes(d.group));
  }
  if (d.port) w.u16(IPVS_DAEMON_ATTR.MCAST_PORT, d.port);
  if (d.ttl) w.u8(IPVS_DAEMON_ATTR.MCAST_TTL, d.ttl);
  return w.end(at).result();
}

/** Stopping names only the state: one daemon of each kind can run. */
export function encodeDaemonState(state: SyncDaemon['state']): Buffer {
  const w = new AttrWriter();
  const at = w.begin(IPVS_CMD_ATTR.DAEMON);
  return w.u32(IPVS_DAEMON_ATTR.STATE, STATE_TO_NUM[state]).end(at).result();
}

export function decodeDaemon(payload: Buffer): SyncDaemon {
  const a = decodeAttrs(payload);
  const state = need(a.u32(IPVS_DAEMON_ATTR.STATE), 'daemon state');
  const g4 = a.get(IPVS_DAEMON_ATTR.MCAST_GROUP);
  const g6 = a.get(IPVS_DAEMON_ATTR.MCAST_GROUP6);
  return {
    state: state === IP_VS_STATE.BACKUP ? 'backup' : 'master',
    interface: a.string(IPVS_DAEMON_ATTR.MCAST_IFN) ?? '',
    syncId: a.u32(IPVS_DAEMON_ATTR.SYNC_ID) ?? 0,
    maxLen: a.u16(IPVS_DAEMON_ATTR.SYNC_MAXLEN) ?? 0,
    group: g6 ? ipv6ToText(g6) : g4 ? ipv4ToText(g4) : null,
    port: a.u16(IPVS_DAEMON_ATTR.MCAST_PORT) ?? 0,
    ttl: a.u8(IPVS_DAEMON_ATTR.MCAST_TTL) ?? 0,
  };
}

export const encodeTimeouts = (t: Timeouts): Buffer =>
  new AttrWriter().u32(IPVS_CMD_ATTR.TIMEOUT_TCP, t.tcp).u32(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN, t.tcpFin).u32(IPVS_CMD_ATTR.TIMEOUT_UDP, t.udp).result();

export function decodeTimeouts(attrs: Buffer): Timeouts {
  const a = decodeAttrs(attrs);
  return {
    tcp: a.u32(IPVS_CMD_ATTR.TIMEOUT_TCP) ?? 0,
    tcpFin: a.u32(IPVS_CMD_ATTR.TIMEOUT_TCP_FIN) ?? 0,
    udp: a.u32(IPVS_CMD_ATTR.TIMEOUT_UDP) ?? 0,
  };
}

export function decodeInfo(attrs: Buffer): Info {
  const a = decodeAttrs(attrs);
  const code = a.u32(IPVS_INFO_ATTR.VERSION) ?? 0;
  return {
    versionCode: code,
    version: `${(code >> 16) & 0xff}.${(code >> 8) & 0xff}.${code & 0xff}`,
    connTableSize: a.u32(IPVS_INFO_ATTR.CONN_TAB_SIZE) ?? 0,
  };
}

// ---- errors --------------------------------------------------------------------------------

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
      sentence = `Cannot ${operation}: ${target} already exists.`;
      break;
    case 'ESRCH':
      sentence = kind === 'daemon' ? `Cannot ${operation}: no such sync daemon is running.` : `Cannot ${operation}: the virtual service does not exist.`;
      break;
    case 'ENOENT':
      sentence =
        kind === 'service'
          ? `Cannot ${operation}: scheduler "${detail.scheduler ?? '?'}"${detail.pe ? ` or persistence engine "${detail.pe}"` : ''} not found (no kernel module ip_vs_${detail.scheduler ?? '?'}).`
          : kind === 'destination'
            ? `Cannot ${operation}: the destination does not exist in that service.`
            : `Cannot ${operation}: not found.`;
      break;
    case 'EBUSY':
      sentence = `Cannot ${operation}: it is busy (a sync daemon of that kind is already running?).`;
      break;
    case 'EINVAL':
      sentence = `Cannot ${operation}: the kernel rejected the request as invalid (check ports, weights, thresholds, netmask, tunnel settings).`;
      break;
    case 'EPERM':
    case 'EACCES':
      sentence = `Cannot ${operation}: permission denied (IPVS needs CAP_NET_ADMIN).`;
      break;
    case 'EAFNOSUPPORT':
      sentence = `Cannot ${operation}: the kernel has no IPv6 support for IPVS.`;
      break;
    default:
      sentence = `Cannot ${operation}: the kernel answered ${code} (errno ${errno}).`;
  }
  return new IpvsError(errno, operation, sentence);
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`IPVS reply lacks the ${what}`);
  return v;
}
