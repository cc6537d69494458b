/**
 * IPVS domain model: what a virtual service and its real servers are, with no netlink in
 * sight. The codec converts these to and from attributes; the diff compares them.
 */

export type Family = 'inet' | 'inet6';
export type Protocol = 'tcp' | 'udp' | 'sctp';
export type Scheduler = 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'lblcr' | 'dh' | 'sh' | 'sed' | 'nq' | 'fo' | 'ovf' | 'mh';
export type ForwardingMethod = 'masquerade' | 'route' | 'tunnel' | 'local' | 'bypass';
export type TunnelType = 'ipip' | 'gue' | 'gre';

/** A service is addressed either by protocol + address + port, or by firewall mark. */
export type ServiceKey = { family: Family; protocol: Protocol; address: string; port: number } | { family: Family; fwmark: number };

export interface ServiceFlags {
  persistent: boolean;
  onePacket: boolean;
  /** IP_VS_SVC_F_SCHED1: sh-fallback / mh-fallback. */
  schedFallback: boolean;
  /** IP_VS_SVC_F_SCHED2: sh-port / mh-port. */
  schedPort: boolean;
  /** IP_VS_SVC_F_SCHED3: unused by current schedulers, kept so nothing is lost. */
  sched3: boolean;
}

export type Service = ServiceKey & {
  scheduler: string; // a Scheduler, or any other name the kernel has a module for
  flags: ServiceFlags;
  /** Persistence timeout, seconds (0 = not persistent). */
  timeout: number;
  /** Persistence granularity as a prefix length (IPv4 /32 = 255.255.255.255, IPv6 /128). */
  prefix: number;
  /** Persistence engine ("sip"), or null. */
  pe: string | null;
  /** Only on services read from the kernel. */
  stats?: Stats;
};

export interface Tunnel {
  type: TunnelType;
  /** UDP port for GUE; 0 otherwise. */
  port: number;
  /** IP_VS_TUNNEL_ENCAP_FLAG_* bits (csum, remcsum; 0 = nocsum). */
  flags: number;
}

export interface Destination {
  /** Sent on every request: the kernel assumes the service's family otherwise. */
  family: Family;
  address: string;
  port: number;
  forwarding: ForwardingMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** Tunnel encapsulation, for forwarding 'tunnel' only (null = plain IPIP defaults). */
  tunnel: Tunnel | null;
  /** Counters, only on destinations read from the kernel. */
  activeConns?: number;
  inactiveConns?: number;
  persistentConns?: number;
  stats?: Stats;
}

/** Counters (64-bit, as bigint) and estimator rates, from IPVS_*_ATTR_STATS64. */
export interface Stats {
  conns: bigint;
  inPkts: bigint;
  outPkts: bigint;
  inBytes: bigint;
  outBytes: bigint;
  cps: bigint;
  inPps: bigint;
  outPps: bigint;
  inBps: bigint;
  outBps: bigint;
}

export interface Timeouts {
  /** Seconds; 0 in a set request means "leave unchanged". */
  tcp: number;
  tcpFin: number;
  udp: number;
}

export type SyncState = 'master' | 'backup';

export interface SyncDaemon {
  state: SyncState;
  interface: string;
  syncId: number;
  /** UDP payload size; 0 = kernel default. */
  maxLen: number;
  /** Multicast group (IPv4 or IPv6), or null for the default 224.0.0.81. */
  group: string | null;
  /** Multicast port; 0 = kernel default 8848. */
  port: number;
  /** Multicast TTL; 0 = kernel default 1. */
  ttl: number;
}

export interface Info {
  /** e.g. "1.2.1" */
  version: string;
  versionCode: number;
  connTableSize: number;
}

/** A service with its destinations: one row of the table the diff works on. */
export interface ServiceEntry {
  service: Service;
  destinations: Destination[];
}

// ---- identity and equality ------------------------------------------------------------

export const isFwmark = (k: ServiceKey): k is { family: Family; fwmark: number } => 'fwmark' in k;

/** Canonical textual form of an IP address so "2001:db8::1" and "2001:DB8:0::1" match. */
export function canonicalAddress(address: string): string {
  if (!address.includes(':')) return address;
  return ipv6ToText(ipv6ToBytes(address));
}

/** Stable identity of a service (what the kernel keys it by). */
export function serviceId(k: ServiceKey): string {
  return isFwmark(k) ? `fwmark:${k.family}:${k.fwmark}` : `${k.protocol}:${k.family}:[${canonicalAddress(k.address)}]:${k.port}`;
}

/** Identity of a destination within its service. */
export const destinationId = (d: Pick<Destination, 'address' | 'port'>): string => `[${canonicalAddress(d.address)}]:${d.port}`;

export const noFlags = (): ServiceFlags => ({ persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false });

/** The editable properties of two services match (HASHED never takes part: it is not a flag of ours). */
export function serviceEqual(a: Service, b: Service): boolean {
  return (
    serviceId(a) === serviceId(b) &&
    a.scheduler === b.scheduler &&
    a.timeout === b.timeout &&
    a.prefix === b.prefix &&
    (a.pe ?? null) === (b.pe ?? null) &&
    a.flags.persistent === b.flags.persistent &&
    a.flags.onePacket === b.flags.onePacket &&
    a.flags.schedFallback === b.flags.schedFallback &&
    a.flags.schedPort === b.flags.schedPort &&
    a.flags.sched3 === b.flags.sched3
  );
}

/** The editable properties of two destinations match (counters and stats are ignored). */
export function destinationEqual(a: Destination, b: Destination): boolean {
  return (
    destinationId(a) === destinationId(b) &&
    a.family === b.family &&
    a.forwarding === b.forwarding &&
    a.weight === b.weight &&
    a.upperThreshold === b.upperThreshold &&
    a.lowerThreshold === b.lowerThreshold &&
    tunnelEqual(a, b)
  );
}

function tunnelEqual(a: Destination, b: Destination): boolean {
  if (a.forwarding !== 'tunnel') return true; // the kernel keeps tunnel fields only for tunnels
  const ta = a.tunnel ?? { type: 'ipip', port: 0, flags: 0 };
  const tb = b.tunnel ?? { type: 'ipip', port: 0, flags: 0 };
  return ta.type === tb.type && ta.port === tb.port && ta.flags === tb.flags;
}

/** Default persistence granularity: a single host. */
export const hostPrefix = (family: Family): number => (family === 'inet' ? 32 : 128);

// ---- addresses (kept here so the model has no dependency on node:net quirks) -----------

export function ipv6ToBytes(text: string): Buffer {
  let s = text;
  // an embedded IPv4 tail ("::ffff:1.2.3.4") becomes two hex groups
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = ipv4ToBytes(v4[1]!);
    s = `${s.slice(0, -v4[1]!.length)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) throw new Error(`invalid IPv6 address "${text}"`);
  const parse = (p: string): number[] =>
    p === ''
      ? []
      : p.split(':').map((h) => {
          if (!/^[0-9a-fA-F]{1,4}$/.test(h)) throw new Error(`invalid IPv6 address "${text}"`);
          return parseInt(h, 16);
        });
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) throw new Error(`invalid IPv6 address "${text}"`);
  const groups = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...rest];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

export function ipv4ToBytes(text: string): Buffer {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`invalid IPv4 address "${text}"`);
  }
  return Buffer.from(parts.map(Number));
}

/** RFC 5952 text: lower case, longest run of >= 2 zero groups compressed. */
export function ipv6ToText(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1,
    bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export const ipv4ToText = (b: Uint8Array): string => `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;

export const familyOf = (address: string): Family => (address.includes(':') ? 'inet6' : 'inet');
