/**
 * The netlink wire format every family shares (<linux/netlink.h>): message headers,
 * attributes and their nesting, the error/ACK and DONE payloads. Pure: no sockets here.
 * rtnetlink (route/) and generic netlink (genl.ts, and IPVS over it in src/ipvs/) add their
 * own family header and attributes on top; socket.ts runs the request/ACK exchange.
 *
 * Netlink integers are in host byte order (unlike IP headers), except where a family says
 * network order (IPVS ports, NLA_F_NET_BYTEORDER); this machine kind is little-endian, and the
 * `hostLE` switch keeps the codec honest on other hosts.
 */
import { endianness } from 'node:os';

const hostLE = endianness() === 'LE';

/** Netlink protocols (socket(AF_NETLINK, SOCK_RAW, protocol)). */
export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;

/** Address families, as the families' headers and attributes carry them. */
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

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
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
/** On NLMSG_ERROR: the echoed request was cut to its header / extended-ack TLVs follow. */
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;
export const NLMSGERR_ATTR_MSG = 1;

export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const align4 = (n: number): number => (n + 3) & ~3;

// ---- host-order integers ----------------------------------------------------------------

export function writeU16(buf: Buffer, v: number, off: number): void {
  if (hostLE) buf.writeUInt16LE(v, off);
  else buf.writeUInt16BE(v, off);
}
export function writeU32(buf: Buffer, v: number, off: number): void {
  if (hostLE) buf.writeUInt32LE(v >>> 0, off);
  else buf.writeUInt32BE(v >>> 0, off);
}
export function writeS32(buf: Buffer, v: number, off: number): void {
  if (hostLE) buf.writeInt32LE(v, off);
  else buf.writeInt32BE(v, off);
}
export function writeU64(buf: Buffer, v: bigint, off: number): void {
  if (hostLE) buf.writeBigUInt64LE(v, off);
  else buf.writeBigUInt64BE(v, off);
}
export const readU16 = (buf: Buffer, off: number): number => (hostLE ? buf.readUInt16LE(off) : buf.readUInt16BE(off));
export const readU32 = (buf: Buffer, off: number): number => (hostLE ? buf.readUInt32LE(off) : buf.readUInt32BE(off));
export const readS32 = (buf: Buffer, off: number): number => (hostLE ? buf.readInt32LE(off) : buf.readInt32BE(off));
export const readU64 = (buf: Buffer, off: number): bigint => (hostLE ? buf.readBigUInt64LE(off) : buf.readBigUInt64BE(off));

/** A host-order u32 attribute value. */
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

// ---- family headers ---------------------------------------------------------------------

type FieldKind = 'u8' | 'u16' | 'u32' | 's32';

/** Encoder and decoder of a fixed-layout family header (ifaddrmsg, ifinfomsg, ...). */
export interface StructCodec<T> {
  readonly length: number;
  readonly encode: (value: T) => Buffer;
  /** Throws on a buffer shorter than the struct. */
  readonly decode: (buf: Buffer) => T;
}

/**
 * A family header declared as its C struct: each field's host-order integer type and byte
 * offset. A u8 field keeps the low 8 bits of its value (ifaddrmsg's flags: the full set
 * travels in an attribute).
 */
export function structCodec<T extends { [K in keyof T]: number }>(
  name: string,
  length: number,
  fields: { readonly [K in keyof T]: readonly [FieldKind, number] },
): StructCodec<T> {
  const layout = Object.entries(fields) as [keyof T & string, readonly [FieldKind, number]][];
  return {
    length,
    encode(value) {
      const buf = Buffer.alloc(length);
      for (const [key, [kind, off]] of layout) {
        const v = value[key];
        if (kind === 'u8') buf.writeUInt8(v & 0xff, off);
        else if (kind === 'u16') writeU16(buf, v, off);
        else if (kind === 'u32') writeU32(buf, v, off);
        else writeS32(buf, v, off);
      }
      return buf;
    },
    decode(buf) {
      if (buf.length < length) throw new Error(`${name} too short: ${buf.length} bytes`);
      const out: Record<string, number> = {};
      for (const [key, [kind, off]] of layout) {
        out[key] = kind === 'u8' ? buf.readUInt8(off) : kind === 'u16' ? readU16(buf, off) : kind === 'u32' ? readU32(buf, off) : readS32(buf, off);
      }
      return out as T;
    },
  };
}

// ---- messages ---------------------------------------------------------------------------

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  /** Sender port id (0 = kernel); on a reply, the requester's. */
  pid: number;
  payload: Buffer;
}

/** A message to send: its payload in parts (a family header, then attributes), copied once. */
export interface OutgoingMessage {
  type: number;
  flags: number;
  payload: readonly Uint8Array[];
}

/**
 * Messages for one write, each padded to 4 bytes, with consecutive sequence numbers from
 * `seq`. `flags` is added to every message's own, `lastFlags` to the last one's (a batch asks
 * only its last for an ACK). The kernel handles the messages of a write in order, which is
 * what lets a bulk load pay one system call per batch.
 */
export function encodeMessages(messages: readonly OutgoingMessage[], seq: number, pid: number, flags = 0, lastFlags = 0): Buffer {
  let total = 0;
  for (const m of messages) {
    let len = NLMSG_HDRLEN;
    for (const p of m.payload) len += p.length;
    total += align4(len);
  }
  const buf = Buffer.allocUnsafe(total);
  let off = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const start = off;
    off += NLMSG_HDRLEN;
    for (const p of m.payload) {
      buf.set(p, off);
      off += p.length;
    }
    writeU32(buf, off - start, start);
    writeU16(buf, m.type, start + 4);
    writeU16(buf, m.flags | flags | (i === messages.length - 1 ? lastFlags : 0), start + 6);
    writeU32(buf, seq + i, start + 8);
    writeU32(buf, pid, start + 12);
    const padded = start + align4(off - start);
    buf.fill(0, off, padded);
    off = padded;
  }
  return buf;
}

export const encodeMessage = (msg: NlMessage): Buffer => encodeMessages([{ type: msg.type, flags: msg.flags, payload: [msg.payload] }], msg.seq, msg.pid);

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

// ---- attributes -------------------------------------------------------------------------

/**
 * Builds a run of attributes in one growing buffer: a bulk load (thousands of IPVS services
 * and destinations) would otherwise allocate a Buffer per attribute. A type may carry
 * NLA_F_* bits; nested attributes are opened with begin() (which sets NLA_F_NESTED, as strict
 * kernel parsers require) and closed with end().
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

  /**
   * Adds an attribute of `length` value bytes (zeroed) and returns where its value starts in
   * `buffer`; fill it before the next call, which may move the buffer.
   */
  slot(type: number, length: number): number {
    const at = this.header(type, length);
    this.buf.fill(0, at, at + length);
    return at;
  }

  get buffer(): Buffer {
    return this.buf;
  }

  u8(type: number, v: number): this {
    this.buf.writeUInt8(v & 0xff, this.header(type, 1));
    return this;
  }
  u16(type: number, v: number): this {
    writeU16(this.buf, v, this.header(type, 2));
    return this;
  }
  /** A u16 in network order (ports). */
  be16(type: number, v: number): this {
    this.buf.writeUInt16BE(v, this.header(type, 2));
    return this;
  }
  u32(type: number, v: number): this {
    writeU32(this.buf, v, this.header(type, 4));
    return this;
  }
  u64(type: number, v: bigint): this {
    writeU64(this.buf, v, this.header(type, 8));
    return this;
  }
  bytes(type: number, value: Uint8Array): this {
    this.buf.set(value, this.header(type, value.length));
    return this;
  }
  /** A NUL-terminated string. */
  str(type: number, v: string): this {
    const n = Buffer.byteLength(v);
    const at = this.header(type, n + 1);
    this.buf.write(v, at);
    this.buf[at + n] = 0;
    return this;
  }

  /** An attribute header with room for `length` value bytes (padding zeroed); returns where the value goes. */
  private header(type: number, length: number): number {
    const size = NLA_HDRLEN + length;
    if (size > 0xffff) throw new Error(`netlink attribute ${type & NLA_TYPE_MASK} too long (${size} bytes)`);
    const at = this.reserve(align4(size));
    writeU16(this.buf, size, at);
    writeU16(this.buf, type & 0xffff, at + 2);
    if (size & 3) this.buf.fill(0, at + size, at + align4(size));
    return at + NLA_HDRLEN;
  }

  /** Opens a nested attribute; its children follow until end(at). */
  begin(type: number): number {
    const at = this.reserve(NLA_HDRLEN);
    writeU16(this.buf, (type | NLA_F_NESTED) & 0xffff, at + 2);
    return at;
  }
  end(at: number): this {
    writeU16(this.buf, this.len - at, at);
    return this;
  }

  /** The attributes written so far (a view of the writer's buffer). */
  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** An attribute as a list entry, for encodeAttrs. */
export interface Attr {
  type: number;
  value: Uint8Array;
  nested?: boolean;
}

/** The list form of AttrWriter: each attribute's value given as bytes. */
export function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const w = new AttrWriter();
  for (const a of attrs) w.bytes(a.type | (a.nested ? NLA_F_NESTED : 0), a.value);
  return Buffer.from(w.result());
}

/** Decoded attributes by type (NLA_F_* bits stripped), with readers for the usual value types. */
export class Attrs extends Map<number, Buffer> {
  u8(type: number): number | undefined {
    return this.get(type)?.readUInt8(0);
  }
  u16(type: number): number | undefined {
    const b = this.get(type);
    return b && readU16(b, 0);
  }
  be16(type: number): number | undefined {
    return this.get(type)?.readUInt16BE(0);
  }
  u32(type: number): number | undefined {
    const b = this.get(type);
    return b && readU32(b, 0);
  }
  string(type: number): string | undefined {
    const b = this.get(type);
    return b && stringFrom(b);
  }
  nested(type: number): Attrs | undefined {
    const b = this.get(type);
    return b && decodeAttrs(b);
  }
}

/**
 * Decodes a run of attributes. The last occurrence of a type wins and a truncated tail is
 * ignored, as the kernel's own attribute walk does: one bad attribute at the end of a
 * notification must not cost the rest of it.
 */
export function decodeAttrs(buf: Buffer): Attrs {
  const out = new Attrs();
  let off = 0;
  // the byte order tested inline, not through readU16: this loop runs for every attribute
  // of every dump part, and a table read is interpreter-bound in a slow guest
  while (off + NLA_HDRLEN <= buf.length) {
    const len = hostLE ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    const type = hostLE ? buf.readUInt16LE(off + 2) : buf.readUInt16BE(off + 2);
    out.set(type & NLA_TYPE_MASK, buf.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

// ---- errors and the end of a dump -------------------------------------------------------

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
    const msg = decodeAttrs(payload.subarray(4 + align4(echoedLen))).get(NLMSGERR_ATTR_MSG);
    if (msg) extMessage = stringFrom(msg);
  }
  return { errno, extMessage };
}

/** NLMSG_DONE of a dump carries an int: 0, or a negative errno when the dump failed. */
export function decodeDoneErrno(payload: Buffer): number {
  return payload.length >= 4 ? 0 - readS32(payload, 0) : 0;
}
