/**
 * rtnetlink wire format: netlink headers, attributes (rtattr), ifaddrmsg, ifinfomsg and error
 * payloads, encoded and decoded as plain byte layouts. Pure: no sockets here.
 *
 * Netlink structures are in host byte order (unlike IP headers); this machine kind is
 * little-endian x86_64, and the `hostLE` switch keeps the codec honest on other hosts.
 * Layouts follow <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_addr.h>, <linux/if_link.h>.
 */
import { endianness } from 'node:os';

const hostLE = endianness() === 'LE';

export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300; // ROOT | MATCH
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
/** On NLMSG_ERROR: the echoed request was cut to its header / extended-ack TLVs follow. */
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;
export const NLMSGERR_ATTR_MSG = 1;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

/** Multicast group numbers (RTNLGRP_*) for NETLINK_ADD_MEMBERSHIP. */
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV6_IFADDR = 9;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_CACHEINFO = 6;
export const IFA_FLAGS = 8;

export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_OPTIMISTIC = 0x04;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_DEPRECATED = 0x20;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;
export const IFA_F_NOPREFIXROUTE = 0x200;

export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const IFLA_MACVLAN_MODE = 1;

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;

const NLA_F_NESTED = 0x8000;
const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;
const RTA_HDRLEN = 4;

export const align4 = (n: number): number => (n + 3) & ~3;

// ---- host-order integer helpers -------------------------------------------------------

function writeU16(buf: Buffer, v: number, off: number): void {
  if (hostLE) buf.writeUInt16LE(v, off);
  else buf.writeUInt16BE(v, off);
}
function writeU32(buf: Buffer, v: number, off: number): void {
  if (hostLE) buf.writeUInt32LE(v >>> 0, off);
  else buf.writeUInt32BE(v >>> 0, off);
}
function writeS32(buf: Buffer, v: number, off: number): void {
  if (hostLE) buf.writeInt32LE(v, off);
  else buf.writeInt32BE(v, off);
}
const readU16 = (buf: Buffer, off: number): number => (hostLE ? buf.readUInt16LE(off) : buf.readUInt16BE(off));
const readU32 = (buf: Buffer, off: number): number => (hostLE ? buf.readUInt32LE(off) : buf.readUInt32BE(off));
const readS32 = (buf: Buffer, off: number): number => (hostLE ? buf.readInt32LE(off) : buf.readInt32BE(off));

export function u32Bytes(v: number): Buffer {
  const b = Buffer.alloc(4);
  writeU32(b, v, 0);
  return b;
}
export const u32From = (b: Buffer): number => readU32(b, 0);
/** A NUL-terminated string attribute value. */
export const cString = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);
export function stringFrom(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul === -1 ? b.length : nul).toString('utf8');
}

// ---- netlink messages -----------------------------------------------------------------

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  /** Sender port id (0 = kernel). */
  pid: number;
  payload: Buffer;
}

export function encodeMessage(msg: NlMessage): Buffer {
  const len = NLMSG_HDRLEN + msg.payload.length;
  const buf = Buffer.alloc(align4(len));
  writeU32(buf, len, 0);
  writeU16(buf, msg.type, 4);
  writeU16(buf, msg.flags, 6);
  writeU32(buf, msg.seq, 8);
  writeU32(buf, msg.pid, 12);
  msg.payload.copy(buf, NLMSG_HDRLEN);
  return buf;
}

/** Splits a datagram into messages; a truncated or malformed header throws. */
export function decodeMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = readU32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      throw new Error(`malformed netlink message: length ${len} at offset ${off} of ${buf.length}`);
    }
    out.push({
      type: readU16(buf, off + 4),
      flags: readU16(buf, off + 6),
      seq: readU32(buf, off + 8),
      pid: readU32(buf, off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

// ---- attributes -----------------------------------------------------------------------

export interface Attr {
  type: number;
  value: Buffer;
  nested?: boolean;
}

export function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const a of attrs) {
    const len = RTA_HDRLEN + a.value.length;
    const buf = Buffer.alloc(align4(len));
    writeU16(buf, len, 0);
    writeU16(buf, a.type | (a.nested ? NLA_F_NESTED : 0), 2);
    a.value.copy(buf, RTA_HDRLEN);
    parts.push(buf);
  }
  return Buffer.concat(parts);
}

/** Decodes a run of attributes; the last occurrence of a type wins, as in the kernel's parser. */
export function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + RTA_HDRLEN <= buf.length) {
    const len = readU16(buf, off);
    if (len < RTA_HDRLEN || off + len > buf.length) break; // trailing garbage: stop, as the kernel does
    out.set(readU16(buf, off + 2) & NLA_TYPE_MASK, buf.subarray(off + RTA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

// ---- ifaddrmsg ------------------------------------------------------------------------

export const IFADDRMSG_LEN = 8;

export interface IfAddrMsg {
  family: number;
  prefixLen: number;
  /** Low 8 bits of the flags; the full set travels in IFA_FLAGS. */
  flags: number;
  scope: number;
  index: number;
}

export function encodeIfAddrMsg(m: IfAddrMsg): Buffer {
  const buf = Buffer.alloc(IFADDRMSG_LEN);
  buf.writeUInt8(m.family, 0);
  buf.writeUInt8(m.prefixLen, 1);
  buf.writeUInt8(m.flags & 0xff, 2);
  buf.writeUInt8(m.scope, 3);
  writeU32(buf, m.index, 4);
  return buf;
}

export function decodeIfAddrMsg(buf: Buffer): IfAddrMsg {
  if (buf.length < IFADDRMSG_LEN) throw new Error(`ifaddrmsg too short: ${buf.length} bytes`);
  return {
    family: buf.readUInt8(0),
    prefixLen: buf.readUInt8(1),
    flags: buf.readUInt8(2),
    scope: buf.readUInt8(3),
    index: readU32(buf, 4),
  };
}

// ---- ifinfomsg ------------------------------------------------------------------------

export const IFINFOMSG_LEN = 16;

export interface IfInfoMsg {
  family: number;
  /** ARPHRD_* hardware type (1 = Ethernet, 772 = loopback). */
  type: number;
  index: number;
  flags: number;
  /** Which flag bits a SETLINK/NEWLINK request changes. */
  change: number;
}

export function encodeIfInfoMsg(m: IfInfoMsg): Buffer {
  const buf = Buffer.alloc(IFINFOMSG_LEN);
  buf.writeUInt8(m.family, 0);
  writeU16(buf, m.type, 2);
  writeS32(buf, m.index, 4);
  writeU32(buf, m.flags, 8);
  writeU32(buf, m.change, 12);
  return buf;
}

export function decodeIfInfoMsg(buf: Buffer): IfInfoMsg {
  if (buf.length < IFINFOMSG_LEN) throw new Error(`ifinfomsg too short: ${buf.length} bytes`);
  return {
    family: buf.readUInt8(0),
    type: readU16(buf, 2),
    index: readS32(buf, 4),
    flags: readU32(buf, 8),
    change: readU32(buf, 12),
  };
}

// ---- errors ---------------------------------------------------------------------------

export interface NlErrorPayload {
  /** Positive errno; 0 = an ACK. */
  errno: number;
  /** The kernel's extended-ack sentence, when it sent one. */
  extMessage: string | null;
}

/**
 * struct nlmsgerr: `int error` (negative errno) followed by the offending request's header
 * (and its payload unless NLM_F_CAPPED), then extended-ack TLVs when NLM_F_ACK_TLVS is set.
 */
export function decodeErrorPayload(payload: Buffer, flags: number): NlErrorPayload {
  if (payload.length < 4) throw new Error(`netlink error payload too short: ${payload.length} bytes`);
  const errno = 0 - readS32(payload, 0); // not -x: that makes -0 for an ACK
  let extMessage: string | null = null;
  if (flags & NLM_F_ACK_TLVS && payload.length >= 4 + NLMSG_HDRLEN) {
    const echoedLen = flags & NLM_F_CAPPED ? NLMSG_HDRLEN : readU32(payload, 4);
    const tlvs = decodeAttrs(payload.subarray(4 + align4(echoedLen)));
    const msg = tlvs.get(NLMSGERR_ATTR_MSG);
    if (msg) extMessage = stringFrom(msg);
  }
  return { errno, extMessage };
}

/** NLMSG_DONE of a dump carries an int: 0, or a negative errno when the dump failed. */
export function decodeDoneErrno(payload: Buffer): number {
  return payload.length >= 4 ? 0 - readS32(payload, 0) : 0;
}
