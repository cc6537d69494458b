/**
 * Route operations over an RtnlSocket, for the routes bgp_announce hands to FRR or BIRD:
 * unicast (or local) routes through one device, in one table, with our protocol number and
 * a metric.
 * Idempotent like the address operations: a route already there (or already gone) is the
 * state we wanted. rtmsg layout from <linux/rtnetlink.h>.
 */
import type { Family } from '../config/model.js';
import { NetlinkError } from './errors.js';
import { bytesToIp, ipToBytes } from './ip.js';
import type { RtnlSocket } from './socket.js';
import { AF_INET, AF_INET6, NLM_F_CREATE, NLM_F_EXCL, decodeAttrs, encodeAttrs, u32Bytes, u32From } from './wire.js';

const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_GETROUTE = 26;
const RTMSG_LEN = 12;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_PRIORITY = 6;
const RTA_TABLE = 15;
export const RTN_UNICAST = 1;
/** Delivered to this host, whatever the device: what makes a director answer for a prefix. */
export const RTN_LOCAL = 2;
export const RT_TABLE_LOCAL = 255;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_HOST = 254;
/** rtm_table is a byte: a larger table travels in RTA_TABLE with this placeholder. */
const RT_TABLE_COMPAT = 252;
const EEXIST = 17;
const ESRCH = 3;

/** A route to `destination/length` through the device `ifindex`. */
export interface RouteSpec {
  /** RTN_UNICAST or RTN_LOCAL. */
  type: number;
  family: Family;
  /** Network address (host bits clear). */
  destination: string;
  length: number;
  ifindex: number;
  table: number;
  protocol: number;
  metric: number;
}

/** A route as the kernel lists it (the fields RouteSpec has, type any RTN_*; others are not read). */
export type KernelRoute = RouteSpec;

export type RouteAddOutcome = 'added' | 'already-present';
export type RouteDeleteOutcome = 'deleted' | 'already-absent';

const describe = (r: RouteSpec): string => `${r.type === RTN_LOCAL ? 'local ' : ''}route ${r.destination}/${r.length} metric ${r.metric} dev ${r.ifindex} table ${r.table}`;

function encodeRoute(r: RouteSpec): Buffer {
  const head = Buffer.alloc(RTMSG_LEN);
  head.writeUInt8(r.family === 4 ? AF_INET : AF_INET6, 0);
  head.writeUInt8(r.length, 1);
  head.writeUInt8(r.table < 256 ? r.table : RT_TABLE_COMPAT, 4);
  head.writeUInt8(r.protocol, 5);
  head.writeUInt8(r.type === RTN_LOCAL ? RT_SCOPE_HOST : RT_SCOPE_LINK, 6);
  head.writeUInt8(r.type, 7);
  return Buffer.concat([head, encodeAttrs([
    { type: RTA_DST, value: ipToBytes(r.destination) },
    { type: RTA_OIF, value: u32Bytes(r.ifindex) },
    { type: RTA_PRIORITY, value: u32Bytes(r.metric) },
    { type: RTA_TABLE, value: u32Bytes(r.table) },
  ])]);
}

/** null for what is not a plain destination route of an IP family (multipath, default, ...). */
export function decodeRoute(payload: Buffer): KernelRoute | null {
  if (payload.length < RTMSG_LEN) return null;
  const familyByte = payload.readUInt8(0);
  if (familyByte !== AF_INET && familyByte !== AF_INET6) return null;
  const attrs = decodeAttrs(payload.subarray(RTMSG_LEN));
  const dst = attrs.get(RTA_DST);
  const table = attrs.get(RTA_TABLE);
  const oif = attrs.get(RTA_OIF);
  const metric = attrs.get(RTA_PRIORITY);
  return {
    family: familyByte === AF_INET ? 4 : 6,
    destination: dst ? bytesToIp(Buffer.from(dst)) : familyByte === AF_INET ? '0.0.0.0' : '::',
    length: payload.readUInt8(1),
    ifindex: oif ? u32From(oif) : 0,
    table: table ? u32From(table) : payload.readUInt8(4),
    protocol: payload.readUInt8(5),
    type: payload.readUInt8(7),
    metric: metric ? u32From(metric) : 0,
  };
}

export async function addRoute(sock: RtnlSocket, r: RouteSpec): Promise<RouteAddOutcome> {
  try {
    await sock.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, encodeRoute(r), `add ${describe(r)}`);
    return 'added';
  } catch (err) {
    if (err instanceof NetlinkError && err.errno === EEXIST) return 'already-present';
    throw err;
  }
}

export async function deleteRoute(sock: RtnlSocket, r: RouteSpec): Promise<RouteDeleteOutcome> {
  try {
    await sock.request(RTM_DELROUTE, 0, encodeRoute(r), `delete ${describe(r)}`);
    return 'deleted';
  } catch (err) {
    if (err instanceof NetlinkError && err.errno === ESRCH) return 'already-absent';
    throw err;
  }
}

/** The routes of one family in one table (the kernel dumps every table; the rest is dropped here). */
export async function listRoutes(sock: RtnlSocket, family: Family, table: number): Promise<KernelRoute[]> {
  const request = Buffer.alloc(RTMSG_LEN);
  request.writeUInt8(family === 4 ? AF_INET : AF_INET6, 0);
  const replies = await sock.dump(RTM_GETROUTE, request, `list IPv${family} routes`);
  const out: KernelRoute[] = [];
  for (const msg of replies) {
    if (msg.type !== RTM_NEWROUTE) continue;
    const r = decodeRoute(msg.payload);
    if (r && r.table === table) out.push(r);
  }
  return out;
}
