/**
 * From configuration + health to the IPVS table the kernel must hold. PURE: no clock, no
 * I/O. The engine owns the mutable state (health of each real server, quorum state of each
 * virtual server) and calls `desiredTable` after every change; `diff` then turns the result
 * into the fewest netlink writes.
 *
 * The rules follow keepalived 2.2.7 (check/ipwrapper.c): a real server that is down is
 * removed, or kept at weight 0 with inhibit_on_failure; quorum is the sum of the weights of
 * live real servers, with hysteresis around it; when quorum is lost and a sorry_server is
 * configured, the sorry server goes in and the remaining live real servers come out.
 */
import type {
  IpvsScheduler,
  KeepalivedConfig,
  LbKind,
  Protocol,
  RealServer,
  SorryServer,
  VirtualServer,
  VirtualServerGroup,
  VirtualServerGroupMember,
} from '../config/model.js';
import {
  type Destination,
  type Family,
  type ForwardingMethod,
  type Protocol as IpvsProtocol,
  type Service,
  type ServiceEntry,
  type ServiceFlags,
  type ServiceKey,
  canonicalAddress,
  destinationId,
  hostPrefix,
  ipv4ToBytes,
  ipv4ToText,
  ipv6ToBytes,
  ipv6ToText,
  noFlags,
  serviceId,
} from '../ipvs/model.js';

// ---- identities (also what a reload matches old and new state by) -----------------------

/**
 * Identity of a virtual server across reloads: address/port/protocol, fwmark, or group name.
 * Two virtual servers with the same identity are the same thing to the health state.
 */
export function virtualServerId(vs: VirtualServer): string {
  const k = vs.key;
  switch (k.kind) {
    case 'ip':
      return `ip:${vs.protocol}:[${canonicalAddress(k.address)}]:${k.port}`;
    case 'fwmark':
      return `fwmark:${k.family}:${k.fwmark}`;
    case 'group':
      return `group:${vs.protocol}:${k.group}`;
  }
}

export const realServerId = (rs: Pick<RealServer, 'address' | 'port'>): string => `[${canonicalAddress(rs.address)}]:${rs.port}`;

/** Key of one real server's health state: the real server under its virtual server. */
export const healthKey = (vs: VirtualServer, rs: Pick<RealServer, 'address' | 'port'>): string => `${virtualServerId(vs)}/${realServerId(rs)}`;

/**
 * `s` copied into one flat string. A string built by concatenation, template literals
 * included, is a rope of its pieces: kept for a real server's lifetime (a key, a label) it
 * costs about three times the flat copy. (Not internalized, e.g. through an object key:
 * prom-client's per-series objects turned to dictionary mode with internalized label values,
 * which cost more than the rope.)
 */
export const flatString = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

// ---- state the engine keeps -------------------------------------------------------------

export interface RealServerHealth {
  up: boolean;
  /** Absolute weight set by a checker (misc_dynamic, FILE_CHECK weight); null = configured. */
  dynamicWeight: number | null;
}

/**
 * Where each real server's health is read: by the installed config's objects (the engine,
 * which keeps no key string per real server and builds none per lookup), or by healthKey()
 * (snapshots and tests: a Map). A missing entry means "initial" (see initialHealth).
 */
export type HealthLookup = { of(vs: VirtualServer, rs: RealServer): RealServerHealth | undefined } | Pick<ReadonlyMap<string, RealServerHealth>, 'get'>;

export interface TableState {
  health: HealthLookup;
  /** By virtualServerId(); a missing entry means "not yet decided": see initialQuorum. */
  quorumUp: ReadonlyMap<string, boolean>;
}

/**
 * Before its first check a real server is up, unless `alpha` asks one of its checkers to
 * prove itself (a checker's own alpha overrides the real server's, as in the scheduler).
 * A real server with no checker is always up (nothing could ever bring it up otherwise).
 */
export function initialHealth(rs: RealServer): RealServerHealth {
  const alpha = rs.checkers.some((c) => c.alpha ?? rs.alpha);
  return { up: !alpha, dynamicWeight: null };
}

export function healthOf(state: TableState, vs: VirtualServer, rs: RealServer): RealServerHealth {
  const h = state.health;
  return ('of' in h ? h.of(vs, rs) : h.get(healthKey(vs, rs))) ?? initialHealth(rs);
}

export const effectiveWeight = (rs: RealServer, h: RealServerHealth): number => h.dynamicWeight ?? rs.weight;

/** keepalived's weigh_live_realservers: the weights of the real servers that are up. */
export function liveWeight(vs: VirtualServer, state: TableState): number {
  let sum = 0;
  for (const rs of vs.realServers) {
    const h = healthOf(state, vs, rs);
    if (h.up) sum += effectiveWeight(rs, h);
  }
  return sum;
}

/** At start there is no previous state to apply hysteresis to: quorum is the bare threshold. */
export function initialQuorum(vs: VirtualServer, state: TableState): boolean {
  const w = liveWeight(vs, state);
  return w > 0 && w >= vs.quorum;
}

/**
 * Quorum with hysteresis (keepalived update_quorum_state): gained at
 * quorum + hysteresis, lost below quorum - hysteresis, and always lost when nothing is up.
 */
export function nextQuorum(vs: VirtualServer, state: TableState, wasUp: boolean): boolean {
  const w = liveWeight(vs, state);
  if (wasUp) return !(w === 0 || w < vs.quorum - vs.hysteresis);
  return w > 0 && w >= vs.quorum + vs.hysteresis;
}

export function quorumOf(vs: VirtualServer, state: TableState): boolean {
  return state.quorumUp.get(virtualServerId(vs)) ?? initialQuorum(vs, state);
}

// ---- converters: config types -> IPVS types ---------------------------------------------

export function forwardingOf(kind: LbKind): ForwardingMethod {
  switch (kind) {
    case 'NAT':
      return 'masquerade';
    case 'DR':
      return 'route';
    case 'TUN':
      return 'tunnel';
  }
}

export function protocolOf(p: Protocol): IpvsProtocol {
  switch (p) {
    case 'TCP':
      return 'tcp';
    case 'UDP':
      return 'udp';
    case 'SCTP':
      return 'sctp';
  }
}

export const familyOf = (f: 4 | 6): Family => (f === 4 ? 'inet' : 'inet6');

export const schedulerOf = (a: IpvsScheduler): string => a;

/**
 * lb_algo's scheduler flags and `ops`. flag-1 / flag-2 / flag-3 are the raw names of the
 * bits that sh-/mh-fallback and sh-/mh-port give meaning to.
 */
export function flagsOf(vs: VirtualServer): ServiceFlags {
  const f = noFlags();
  f.persistent = vs.persistenceTimeoutS !== null;
  f.onePacket = vs.ops;
  for (const name of vs.schedulerFlags) {
    switch (name) {
      case 'sh-fallback':
      case 'mh-fallback':
      case 'flag-1':
        f.schedFallback = true;
        break;
      case 'sh-port':
      case 'mh-port':
      case 'flag-2':
        f.schedPort = true;
        break;
      case 'flag-3':
        f.sched3 = true;
        break;
      case 'one-packet':
      case 'ops':
        f.onePacket = true;
        break;
      default:
        throw new Error(`unknown scheduler flag "${name}"`);
    }
  }
  return f;
}

/** persistence_granularity: a dotted netmask for IPv4, a prefix length for IPv6. */
export function persistencePrefix(granularity: string | null, family: Family): number {
  if (granularity === null) return hostPrefix(family);
  if (/^\d+$/.test(granularity)) {
    const n = Number(granularity);
    if (n > hostPrefix(family)) throw new Error(`persistence_granularity ${granularity} is longer than the address`);
    return n;
  }
  if (family === 'inet6') throw new Error(`persistence_granularity for IPv6 must be a prefix length, got "${granularity}"`);
  const mask = ipv4ToBytes(granularity).readUInt32BE(0);
  const len = mask === 0 ? 0 : 32 - Math.log2((~mask >>> 0) + 1);
  if (!Number.isInteger(len)) throw new Error(`persistence_granularity ${granularity} is not a contiguous netmask`);
  return len;
}

function serviceOf(vs: VirtualServer, key: ServiceKey): Service {
  return {
    ...key,
    scheduler: schedulerOf(vs.lbAlgo),
    flags: flagsOf(vs),
    timeout: vs.persistenceTimeoutS ?? 0,
    prefix: persistencePrefix(vs.persistenceGranularity, key.family),
    pe: vs.persistenceEngine,
  };
}

function destinationOf(
  rs: { address: string; port: number; family: 4 | 6; lbKind: LbKind | null },
  vs: VirtualServer,
  weight: number,
  thresholds: { upper: number; lower: number },
): Destination {
  return {
    family: familyOf(rs.family),
    address: rs.address,
    port: rs.port,
    forwarding: forwardingOf(rs.lbKind ?? vs.lbKind),
    weight,
    upperThreshold: thresholds.upper,
    lowerThreshold: thresholds.lower,
    tunnel: null,
  };
}

// ---- service keys: a virtual server is one service, a group is one per member -------------

/** Family of a group's fwmark members, which carry none: that of the real servers. */
function groupFamily(vs: VirtualServer): Family {
  const rs = vs.realServers[0] ?? vs.sorryServer;
  return rs ? familyOf(rs.family) : 'inet';
}

/** Every address of `10.0.0.1-10` (last octet) or `2001:db8::1-a` (last hextet). */
export function expandRange(address: string, rangeEnd: number, family: 4 | 6): string[] {
  const out: string[] = [];
  if (family === 4) {
    const b = ipv4ToBytes(address);
    for (let n = b[3]!; n <= rangeEnd; n++) {
      b[3] = n;
      out.push(ipv4ToText(b));
    }
  } else {
    const b = ipv6ToBytes(address);
    for (let n = b.readUInt16BE(14); n <= rangeEnd; n++) {
      b.writeUInt16BE(n, 14);
      out.push(ipv6ToText(b));
    }
  }
  return out;
}

function memberKeys(m: VirtualServerGroupMember, vs: VirtualServer): ServiceKey[] {
  const protocol = protocolOf(vs.protocol);
  switch (m.kind) {
    case 'fwmark':
      return [{ family: groupFamily(vs), fwmark: m.fwmark }];
    case 'ip':
      return [{ family: familyOf(m.family), protocol, address: m.address, port: m.port }];
    case 'range':
      return expandRange(m.address, m.rangeEnd, m.family).map((address) => ({ family: familyOf(m.family), protocol, address, port: m.port }));
  }
}

/** The IPVS services one virtual server stands for. */
export function serviceKeysOf(vs: VirtualServer, groups: readonly VirtualServerGroup[]): ServiceKey[] {
  const k = vs.key;
  switch (k.kind) {
    case 'ip':
      return [{ family: familyOf(k.family), protocol: protocolOf(vs.protocol), address: k.address, port: k.port }];
    case 'fwmark':
      return [{ family: familyOf(k.family), fwmark: k.fwmark }];
    case 'group': {
      const g = groups.find((x) => x.name === k.group);
      if (!g) throw new Error(`virtual_server group ${k.group}: no virtual_server_group of that name`);
      return g.members.flatMap((m) => memberKeys(m, vs));
    }
  }
}

// ---- the table ----------------------------------------------------------------------------

/** The destinations of one virtual server, given health and quorum. */
export function destinationsOf(vs: VirtualServer, state: TableState): Destination[] {
  const quorum = quorumOf(vs, state);
  // keepalived: losing quorum brings the sorry server in and takes the live servers out
  const sorryActive = vs.sorryServer !== null && !quorum;
  const out = new Map<string, Destination>();
  for (const rs of vs.realServers) {
    const h = healthOf(state, vs, rs);
    const inPool = h.up && !sorryActive;
    const thresholds = { upper: rs.uthreshold, lower: rs.lthreshold };
    if (inPool) out.set(realServerId(rs), destinationOf(rs, vs, effectiveWeight(rs, h), thresholds));
    else if (rs.inhibitOnFailure) out.set(realServerId(rs), destinationOf(rs, vs, 0, thresholds));
  }
  const sorry: SorryServer | null = vs.sorryServer;
  if (sorry) {
    const id = destinationId(sorry);
    // a sorry server that is also a real server is governed by the real server's rules
    if (!vs.realServers.some((rs) => realServerId(rs) === id)) {
      if (sorryActive) out.set(id, destinationOf(sorry, vs, 1, { upper: 0, lower: 0 }));
      else if (vs.sorryServerInhibit) out.set(id, destinationOf(sorry, vs, 0, { upper: 0, lower: 0 }));
    }
  }
  return [...out.values()];
}

export interface DesiredTable {
  entries: ServiceEntry[];
  /** Services two virtual servers both claimed: the first one wins, the later is reported. */
  conflicts: string[];
}

/** The table the kernel must hold for this configuration and state. */
export function desiredTable(config: Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups'>, state: TableState): DesiredTable {
  const entries = new Map<string, ServiceEntry>();
  const conflicts: string[] = [];
  for (const vs of config.virtualServers) {
    const destinations = destinationsOf(vs, state);
    for (const key of serviceKeysOf(vs, config.virtualServerGroups)) {
      const id = serviceId(key);
      if (entries.has(id)) {
        conflicts.push(id);
        continue;
      }
      // each service gets its own copies: the diff and the client may hold on to them. DR and
      // TUN cannot change ports: their destinations take the service's (0 under a fwmark), as
      // keepalived programs them (the config's real server port is reset at load, see
      // validate.ts; a group's members each keep their own)
      const port = 'port' in key ? key.port : 0;
      entries.set(id, {
        service: serviceOf(vs, key),
        destinations: destinations.map((d) => (d.forwarding === 'masquerade' ? { ...d } : { ...d, port })),
      });
    }
  }
  return { entries: [...entries.values()], conflicts };
}

/**
 * Throws what desiredTable() throws for this configuration (a service the kernel cannot be
 * given: an unknown scheduler flag, a bad persistence_granularity, a missing group), without
 * building the destinations of every real server, which cannot fail.
 */
export function checkExpressible(config: Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups'>): void {
  for (const vs of config.virtualServers) for (const key of serviceKeysOf(vs, config.virtualServerGroups)) serviceOf(vs, key);
}

/** Service ids a configuration defines, whatever the health: what the checker owns. */
export function configuredServiceIds(config: Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups'>): string[] {
  const ids = new Set<string>();
  for (const vs of config.virtualServers) {
    for (const key of serviceKeysOf(vs, config.virtualServerGroups)) ids.add(serviceId(key));
  }
  return [...ids];
}
