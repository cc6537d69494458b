// VRRP advertisements as bytes: encode and decode VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798),
// IPv4 and IPv6. Pure: Buffers in, values out; nothing here opens a socket or reads a clock.
//
// Decoding is two stages so that one socket can serve many instances:
//   1. parse*  - structural checks that need no instance (IP header, version, type, length,
//                address count, checksum). Yields a ReceivedAdvert.
//   2. checkAdvertForInstance - the per-instance receive rules (TTL, VRID, auth, interval,
//                address list). The socket layer looks the instance up by VRID in between.
// Every failure is a Rejection with a reason from a closed set; RejectCounter tallies them.
// Nothing in here throws on malformed input (the fuzz test holds us to that).

import { createRequire } from 'node:module';
import { formatAddress, parseAddress, canonicalAddress } from './addr.js';
import { checksumOfRange, checksumVerifies, checksumVerifiesAfter, internetChecksum, IPPROTO_VRRP, pseudoHeader, pseudoHeaderSum } from './checksum.js';

/** node:crypto on first use: only AH authentication needs it (HMAC-MD5), and it would
 * otherwise stay resident in every VRRP child. */
type Crypto = typeof import('node:crypto');
let crypto: Crypto | undefined;
const cryptoModule = (): Crypto => (crypto ??= createRequire(import.meta.url)('node:crypto') as Crypto);

export const VRRP_MCAST_V4 = '224.0.0.18';
export const VRRP_MCAST_V6 = 'ff02::12';
export const IPPROTO_AH = 51;
export const VRRP_TYPE_ADVERT = 1;
/** v2 authentication types (RFC 2338 5.3.6; RFC 3768 keeps the field, keepalived uses all three). */
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;
const V2_AUTH_LEN = 8;
const HEADER_LEN = 8;
/** IPsec AH as keepalived uses it for VRRPv2: 12-byte header + 96-bit HMAC-MD5 ICV. */
const AH_LEN = 24;
/** AH "payload length": the AH length in 32-bit words minus 2 (RFC 2402 2.2). */
const AH_PAYLOAD_LEN = 4;
const AH_ICV_OFFSET = 12;
const AH_ICV_LEN = 12;

export const RejectReason = {
  /** Buffer shorter than an IPv4 header, or the header's own fields are inconsistent. */
  BadIpHeader: 'bad-ip-header',
  /** IP protocol neither 112 (VRRP) nor 51 (AH). */
  WrongProtocol: 'wrong-protocol',
  /** An AH header that is not the one keepalived sends (next header not VRRP, wrong length). */
  BadAhHeader: 'bad-ah-header',
  WrongVersion: 'wrong-version',
  WrongType: 'wrong-type',
  BadLength: 'bad-length',
  BadAddressCount: 'bad-address-count',
  BadChecksum: 'bad-checksum',
  /** TTL / hop limit not 255 (multicast), or outside the unicast peer's min/max TTL. */
  BadTtl: 'bad-ttl',
  AuthMismatch: 'auth-mismatch',
  VridMismatch: 'vrid-not-ours',
  /** VRRPv2 only: the advertised interval differs from ours (RFC 3768 7.1). */
  IntervalMismatch: 'advert-interval-mismatch',
  /** The advertised address list differs from our configured VIPs. */
  AddressMismatch: 'address-list-mismatch',
  /** Unicast: the source is none of our configured peers (vrrp_check_unicast_src). */
  UnknownUnicastSource: 'unknown-unicast-source',
} as const;

/** Auth configuration of a v2 instance: PASS (cleartext) or AH (HMAC-MD5-96 over the datagram). */
export type V2Auth = { type: 'PASS' | 'AH'; pass: string };
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];
export const ALL_REJECT_REASONS: readonly RejectReason[] = Object.values(RejectReason);

/** Tally of rejections by reason (for stats dumps and metrics). */
export class RejectCounter {
  readonly counts: Record<RejectReason, number>;
  constructor() {
    this.counts = Object.fromEntries(ALL_REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  }
  add(reason: RejectReason): void {
    this.counts[reason]++;
  }
  get total(): number {
    return ALL_REJECT_REASONS.reduce((n, r) => n + this.counts[r], 0);
  }
}

export interface VrrpAdvert {
  version: 2 | 3;
  family: 4 | 6;
  vrid: number;
  priority: number;
  /** v2: whole seconds x 1000; v3: centiseconds x 10. */
  advertIntMs: number;
  /** v2 auth type (0 none, 1 PASS, 2 AH); always 0 for v3. */
  authType: number;
  /** v2: the 8 auth bytes; v3: null. */
  authData: Buffer | null;
  /** Canonical text of each advertised address, wire order. */
  addresses: string[];
  checksum: number;
}

/** How the checksum verified: the RFC way, or one of keepalived's compatibility forms. */
export type ChecksumStyle = 'rfc' | 'as-v2' | 'multicast-dst';

/** An advert that passed the structural checks, with what the IP layer told us. */
export interface ReceivedAdvert {
  advert: VrrpAdvert;
  src: string;
  dst: string;
  /** IPv4 TTL or IPv6 hop limit (null when the I/O layer could not learn it). */
  ttl: number | null;
  checksumStyle: ChecksumStyle;
  /** Present when the advert came inside IPsec AH (v2 only). */
  ah: ReceivedAh | null;
}

export interface ReceivedAh {
  spi: number;
  /** Sequence number: the caller keeps the last one per source to refuse replays. */
  seq: number;
  icv: Buffer;
  /** The whole datagram as received (the ICV covers it). */
  datagram: Buffer;
}

export type Rejection = { ok: false; reason: RejectReason };
export type ParseResult = { ok: true; rx: ReceivedAdvert } | Rejection;

const reject = (reason: RejectReason): Rejection => ({ ok: false, reason });

// ---------------------------------------------------------------------------------------
// Encoding

export interface EncodeParams {
  version: 2 | 3;
  family: 4 | 6;
  vrid: number;
  priority: number;
  advertIntMs: number;
  addresses: readonly string[];
  /** v2 only. AH: the VRRP auth type says so and its auth field stays zero; wrap the result
   * with encodeAhDatagram. */
  auth: V2Auth | null;
  /** Our source address and the destination (multicast group or unicast peer): v3 checksum. */
  src: string;
  dst: string;
  /** v3 over IPv4 without the pseudo-header (what some vendors expect). */
  checksumAsV2?: boolean;
}

/** v2 advertises whole seconds (keepalived rounds a v2 advert_int to seconds, minimum 1). */
export function v2IntervalField(ms: number): number {
  return Math.min(255, Math.max(1, Math.round(ms / 1000)));
}

/** v3 advertises centiseconds in 12 bits. */
export function v3IntervalField(ms: number): number {
  return Math.min(0xfff, Math.max(1, Math.round(ms / 10)));
}

/** PASS authentication data: the password's first 8 bytes, zero padded. */
export function passAuthData(pass: string): Buffer {
  const b = Buffer.alloc(V2_AUTH_LEN);
  Buffer.from(pass, 'utf8').copy(b, 0, 0, V2_AUTH_LEN);
  return b;
}

/** The VRRP message (no IP header). Throws only on a programming error (bad address text). */
export function encodeAdvert(p: EncodeParams): Buffer {
  const addrLen = p.family === 4 ? 4 : 16;
  const authLen = p.version === 2 ? V2_AUTH_LEN : 0;
  const buf = Buffer.alloc(HEADER_LEN + p.addresses.length * addrLen + authLen);
  buf[0] = (p.version << 4) | VRRP_TYPE_ADVERT;
  buf[1] = p.vrid;
  buf[2] = p.priority;
  buf[3] = p.addresses.length;
  if (p.version === 2) {
    buf[4] = !p.auth ? AUTH_NONE : p.auth.type === 'AH' ? AUTH_AH : AUTH_PASS;
    buf[5] = v2IntervalField(p.advertIntMs);
  } else {
    buf.writeUInt16BE(v3IntervalField(p.advertIntMs) & 0x0fff, 4); // top 4 bits reserved = 0
  }
  p.addresses.forEach((a, i) => {
    const b = parseAddress(a, p.family);
    if (!b) throw new Error(`not an IPv${p.family} address: ${a}`);
    b.copy(buf, HEADER_LEN + i * addrLen);
  });
  if (p.version === 2 && p.auth?.type === 'PASS') passAuthData(p.auth.pass).copy(buf, buf.length - V2_AUTH_LEN);

  let sum: number;
  if (p.version === 2 || (p.family === 4 && p.checksumAsV2)) {
    sum = internetChecksum(buf);
  } else {
    const ph = pseudoHeader(p.family, p.src, p.dst, buf.length);
    if (!ph) throw new Error(`bad src/dst for pseudo-header: ${p.src} ${p.dst}`);
    sum = internetChecksum(ph, buf);
  }
  buf.writeUInt16BE(sum, 6);
  return buf;
}

export interface Ipv4HeaderParams {
  src: string;
  dst: string;
  /** IP identification; keepalived counts it per instance from 1. */
  id: number;
  ttl?: number;
  /** keepalived sends DSCP CS6 (tos 0xc0), like routing protocols. */
  tos?: number;
  protocol?: number;
}

/** Wraps a payload in the IPv4 header keepalived builds itself (IP_HDRINCL): no options, no DF. */
export function encodeIpv4Datagram(payload: Buffer, h: Ipv4HeaderParams): Buffer {
  const src = parseAddress(h.src, 4);
  const dst = parseAddress(h.dst, 4);
  if (!src || !dst) throw new Error(`bad IPv4 header address: ${h.src} ${h.dst}`);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[1] = h.tos ?? 0xc0;
  ip.writeUInt16BE(20 + payload.length, 2);
  ip.writeUInt16BE(h.id & 0xffff, 4);
  ip[8] = h.ttl ?? 255;
  ip[9] = h.protocol ?? IPPROTO_VRRP;
  src.copy(ip, 12);
  dst.copy(ip, 16);
  ip.writeUInt16BE(internetChecksum(ip), 10);
  return Buffer.concat([ip, payload]);
}

/**
 * Sets the IP id of a datagram encodeIpv4Datagram built, and the header checksum that goes
 * with it, in place: the advert of an instance differs from its previous one only there.
 */
export function stampIpv4Id(datagram: Buffer, id: number): Buffer {
  datagram.writeUInt16BE(id & 0xffff, 4);
  datagram.writeUInt16BE(0, 10);
  datagram.writeUInt16BE(checksumOfRange(datagram, 0, 20), 10);
  return datagram;
}

export interface AhParams extends Ipv4HeaderParams {
  /** auth_pass: its first 8 bytes, zero padded, are the HMAC key (as keepalived). */
  pass: string;
  /** AH sequence number (keepalived counts from 1 per instance). */
  seq: number;
  /** keepalived zeroes the TTL in the ICV input for unicast only. */
  unicast: boolean;
}

/** The ICV keepalived computes: HMAC-MD5 truncated to 96 bits over the whole datagram with
 * TOS, fragment offset, header checksum (and, for unicast, TTL) and the ICV itself zeroed. */
function ahIcv(datagram: Buffer, ihl: number, pass: string, unicast: boolean): Buffer {
  const m = Buffer.from(datagram);
  m[1] = 0;
  m.writeUInt16BE(0, 6);
  m.writeUInt16BE(0, 10);
  if (unicast) m[8] = 0;
  m.fill(0, ihl + AH_ICV_OFFSET, ihl + AH_ICV_OFFSET + AH_ICV_LEN);
  return cryptoModule().createHmac('md5', passAuthData(pass)).update(m).digest().subarray(0, AH_ICV_LEN);
}

/** A VRRPv2 advert (encoded with auth type AH) wrapped in IPv4 + IPsec AH, as keepalived sends it. */
export function encodeAhDatagram(vrrp: Buffer, h: AhParams): Buffer {
  const ah = Buffer.alloc(AH_LEN);
  ah[0] = IPPROTO_VRRP;
  ah[1] = AH_PAYLOAD_LEN;
  const src = parseAddress(h.src, 4);
  if (!src) throw new Error(`bad IPv4 address: ${h.src}`);
  src.copy(ah, 4); // SPI = sender's address (keepalived: no SA negotiation on multicast)
  ah.writeUInt32BE(h.seq >>> 0, 8);
  const d = encodeIpv4Datagram(Buffer.concat([ah, vrrp]), { ...h, protocol: IPPROTO_AH });
  ahIcv(d, 20, h.pass, h.unicast).copy(d, 20 + AH_ICV_OFFSET);
  return d;
}

/**
 * keepalived refuses an AH advert whose sequence number does not grow (replay). Its
 * counter is one number per instance for both directions: sending counts it up (the first
 * advert carries 1), an accepted advert sets it to the advert's number, and a MASTER that
 * hears a lower-priority rival sets it to the rival's number + 1, so that its own next
 * adverts pass the rival's replay check and the election converges.
 */
export function ahSequenceAcceptable(lastSeq: number | null, seq: number): boolean {
  return lastSeq === null || seq > lastSeq;
}

// ---------------------------------------------------------------------------------------
// Decoding, stage 1: structure

export interface ParseOptions {
  /** Accept a v3 IPv4 checksum computed without the pseudo-header (v3_checksum_as_v2). */
  acceptChecksumAsV2?: boolean;
  /**
   * Accept a v3 unicast checksum computed with the multicast group as destination
   * (keepalived before 1.3.6; `old_unicast_checksum`). keepalived auto-detects it by default.
   */
  acceptMulticastDstChecksum?: boolean;
}

/** From an IPv4 datagram as a raw socket delivers it (IP header included). */
export function parseIpv4Packet(buf: Buffer, opts: ParseOptions = {}): ParseResult {
  if (buf.length < 20) return reject(RejectReason.BadIpHeader);
  if (buf[0]! >> 4 !== 4) return reject(RejectReason.BadIpHeader);
  const ihl = (buf[0]! & 0x0f) * 4;
  const total = buf.readUInt16BE(2);
  if (ihl < 20 || total < ihl || total > buf.length) return reject(RejectReason.BadIpHeader);
  const proto = buf[9]!;
  const src = formatAddress(buf, 4, 12);
  const dst = formatAddress(buf, 4, 16);
  if (proto === IPPROTO_AH) {
    if (total < ihl + AH_LEN) return reject(RejectReason.BadAhHeader);
    if (buf[ihl] !== IPPROTO_VRRP || buf[ihl + 1] !== AH_PAYLOAD_LEN) return reject(RejectReason.BadAhHeader);
    const r = parseVrrpMessage(buf, ihl + AH_LEN, total, 4, src, dst, pseudoHeaderSum(4, buf, 12, buf, 16, total - ihl - AH_LEN), buf[8]!, opts);
    if (!r.ok) return r;
    if (r.rx.advert.version !== 2) return reject(RejectReason.WrongVersion);
    r.rx.ah = {
      spi: buf.readUInt32BE(ihl + 4),
      seq: buf.readUInt32BE(ihl + 8),
      icv: Buffer.from(buf.subarray(ihl + AH_ICV_OFFSET, ihl + AH_ICV_OFFSET + AH_ICV_LEN)),
      datagram: Buffer.from(buf.subarray(0, total)),
    };
    return r;
  }
  if (proto !== IPPROTO_VRRP) return reject(RejectReason.WrongProtocol);
  return parseVrrpMessage(buf, ihl, total, 4, src, dst, pseudoHeaderSum(4, buf, 12, buf, 16, total - ihl), buf[8]!, opts);
}

export interface Ipv6Envelope {
  src: string;
  dst: string;
  /** null when the socket layer cannot read it (recvfrom loses ancillary data). */
  hopLimit: number | null;
  /**
   * The addresses as received (16 bytes each). Given, they are used as they are and `src`
   * / `dst` must be their canonical text: a flood from forged sources is not parsed and
   * formatted twice per packet.
   */
  srcBytes?: Buffer;
  dstBytes?: Buffer;
}

/** From an IPv6 payload (the kernel strips the header) plus the header facts passed beside it. */
export function parseIpv6Payload(payload: Buffer, env: Ipv6Envelope, opts: ParseOptions = {}): ParseResult {
  const srcBytes = env.srcBytes ?? parseAddress(env.src, 6);
  const dstBytes = env.dstBytes ?? parseAddress(env.dst, 6);
  if (!srcBytes || !dstBytes || srcBytes.length !== 16 || dstBytes.length !== 16) return reject(RejectReason.BadIpHeader);
  const src = env.srcBytes ? env.src : formatAddress(srcBytes, 6);
  const dst = env.dstBytes ? env.dst : formatAddress(dstBytes, 6);
  return parseVrrpMessage(payload, 0, payload.length, 6, src, dst, pseudoHeaderSum(6, srcBytes, 0, dstBytes, 0, payload.length), env.hopLimit, opts);
}

/**
 * The VRRP message at buf[at, end) (read in place: a received datagram is parsed without
 * copies). `pseudoSum`: the sum of its pseudo-header (checksum.ts pseudoHeaderSum), which
 * a v3 checksum covers.
 */
function parseVrrpMessage(
  buf: Buffer,
  at: number,
  end: number,
  family: 4 | 6,
  src: string,
  dst: string,
  pseudoSum: number,
  ttl: number | null,
  opts: ParseOptions,
): ParseResult {
  const length = end - at;
  if (length < HEADER_LEN) return reject(RejectReason.BadLength);
  const version = buf[at]! >> 4;
  if (version !== 2 && version !== 3) return reject(RejectReason.WrongVersion);
  if (version === 2 && family === 6) return reject(RejectReason.WrongVersion);
  if ((buf[at]! & 0x0f) !== VRRP_TYPE_ADVERT) return reject(RejectReason.WrongType);

  const addrLen = family === 4 ? 4 : 16;
  const fixed = HEADER_LEN + (version === 2 ? V2_AUTH_LEN : 0);
  const count = buf[at + 3]!;
  if (length < fixed) return reject(RejectReason.BadLength);
  if (fixed + count * addrLen !== length) {
    // a whole number of addresses that disagrees with the count field is a count error;
    // anything else is a truncated or padded message
    return reject((length - fixed) % addrLen === 0 ? RejectReason.BadAddressCount : RejectReason.BadLength);
  }
  if (count === 0) return reject(RejectReason.BadAddressCount);

  let style: ChecksumStyle | null = null;
  if (version === 2) {
    if (checksumVerifiesAfter(0, buf, at, end)) style = 'rfc';
  } else {
    if (checksumVerifiesAfter(pseudoSum, buf, at, end)) style = 'rfc';
    else if (family === 4 && opts.acceptChecksumAsV2 && checksumVerifiesAfter(0, buf, at, end)) style = 'as-v2';
    else if (family === 4 && opts.acceptMulticastDstChecksum && dst !== VRRP_MCAST_V4) {
      if (checksumVerifies(pseudoHeader(4, src, VRRP_MCAST_V4, length)!, buf.subarray(at, end))) style = 'multicast-dst';
    }
  }
  if (!style) return reject(RejectReason.BadChecksum);

  const addresses = new Array<string>(count);
  for (let i = 0; i < count; i++) addresses[i] = formatAddress(buf, family, at + HEADER_LEN + i * addrLen);
  const advert: VrrpAdvert = {
    version,
    family,
    vrid: buf[at + 1]!,
    priority: buf[at + 2]!,
    advertIntMs: version === 2 ? buf[at + 5]! * 1000 : (buf.readUInt16BE(at + 4) & 0x0fff) * 10,
    authType: version === 2 ? buf[at + 4]! : 0,
    authData: version === 2 ? Buffer.from(buf.subarray(end - V2_AUTH_LEN, end)) : null,
    addresses,
    checksum: buf.readUInt16BE(at + 6),
  };
  return { ok: true, rx: { advert, src, dst, ttl, checksumStyle: style, ah: null } };
}

// ---------------------------------------------------------------------------------------
// Decoding, stage 2: the receiving instance's rules (RFC 3768 7.1, RFC 5798 7.1, keepalived)

export interface InstanceExpectations {
  version: 2 | 3;
  vrid: number;
  /** v2: our advert interval; an advert with another is dropped. */
  advertIntMs: number;
  auth: V2Auth | null;
  /** Configured VIPs (any spelling); the advert must list the same set. Treated as immutable:
   * its canonical set is cached per array. */
  addresses: readonly string[];
  /**
   * vrrp_skip_check_adv_addr: keepalived skips the address-list comparison only for adverts
   * from the same master as the last one accepted (`currentMaster`, from the state machine).
   */
  skipAddressCheck?: boolean;
  currentMaster?: string | null;
  /** Unicast peers (empty = multicast: TTL must be 255). */
  unicastPeers?: readonly { address: string; minTtl: number | null; maxTtl: number | null }[];
  /** vrrp_check_unicast_src: drop unicast adverts from addresses not in unicastPeers. */
  checkUnicastSource?: boolean;
}

export type CheckResult = { ok: true; rx: ReceivedAdvert } | Rejection;

const NO_PEERS: NonNullable<InstanceExpectations['unicastPeers']> = [];

export function checkAdvertForInstance(rx: ReceivedAdvert, e: InstanceExpectations): CheckResult {
  const a = rx.advert;
  const family = a.family;
  const peers = e.unicastPeers ?? NO_PEERS;
  if (peers.length === 0) {
    if (rx.ttl !== null && rx.ttl !== 255) return reject(RejectReason.BadTtl);
  } else {
    const peer = peers.find((p) => canonicalAddress(p.address, family) === rx.src);
    if (!peer && e.checkUnicastSource) return reject(RejectReason.UnknownUnicastSource);
    if (peer && rx.ttl !== null) {
      if (peer.minTtl !== null && rx.ttl < peer.minTtl) return reject(RejectReason.BadTtl);
      if (peer.maxTtl !== null && rx.ttl > peer.maxTtl) return reject(RejectReason.BadTtl);
    }
  }
  if (a.version !== e.version) return reject(RejectReason.WrongVersion);
  if (a.vrid !== e.vrid) return reject(RejectReason.VridMismatch);
  if (a.version === 2) {
    if (!e.auth) {
      if (a.authType !== AUTH_NONE || rx.ah) return reject(RejectReason.AuthMismatch);
    } else if (e.auth.type === 'PASS') {
      if (a.authType !== AUTH_PASS || rx.ah) return reject(RejectReason.AuthMismatch);
      if (!passAuthData(e.auth.pass).equals(a.authData!)) return reject(RejectReason.AuthMismatch);
    } else {
      if (a.authType !== AUTH_AH || !rx.ah) return reject(RejectReason.AuthMismatch);
      const ihl = (rx.ah.datagram[0]! & 0x0f) * 4;
      if (rx.ah.icv.length !== AH_ICV_LEN || !cryptoModule().timingSafeEqual(ahIcv(rx.ah.datagram, ihl, e.auth.pass, peers.length > 0), rx.ah.icv)) {
        return reject(RejectReason.AuthMismatch);
      }
      // keepalived's SPI is the sender's address; it refuses any other (after the ICV)
      if (rx.ah.spi !== rx.ah.datagram.readUInt32BE(12)) return reject(RejectReason.AuthMismatch);
    }
    if (a.advertIntMs !== v2IntervalField(e.advertIntMs) * 1000) return reject(RejectReason.IntervalMismatch);
  }
  const skipFromSameMaster = e.skipAddressCheck && !!e.currentMaster && canonicalAddress(e.currentMaster, family) === rx.src;
  if (!skipFromSameMaster && !sameAddressSet(a.addresses, e.addresses, family)) {
    return reject(RejectReason.AddressMismatch);
  }
  return { ok: true, rx };
}

/** Canonical forms of a configured address list, computed once per list (adverts repeat). */
const canonicalSets = new WeakMap<readonly string[], Set<string | null>>();

function sameAddressSet(advertised: readonly string[], configured: readonly string[], family: 4 | 6): boolean {
  if (advertised.length !== configured.length) return false;
  let want = canonicalSets.get(configured);
  if (!want) {
    want = new Set(configured.map((c) => canonicalAddress(c, family)));
    canonicalSets.set(configured, want);
  }
  return advertised.every((x) => want.has(x));
}

/** Both stages for an IPv4 datagram, tallying any rejection. */
export function decodeIpv4ForInstance(buf: Buffer, e: InstanceExpectations, counter?: RejectCounter, opts?: ParseOptions): CheckResult {
  const r = parseIpv4Packet(buf, opts);
  const c = r.ok ? checkAdvertForInstance(r.rx, e) : r;
  if (!c.ok) counter?.add(c.reason);
  return c;
}

/** Both stages for an IPv6 payload, tallying any rejection. */
export function decodeIpv6ForInstance(payload: Buffer, env: Ipv6Envelope, e: InstanceExpectations, counter?: RejectCounter, opts?: ParseOptions): CheckResult {
  const r = parseIpv6Payload(payload, env, opts);
  const c = r.ok ? checkAdvertForInstance(r.rx, e) : r;
  if (!c.ok) counter?.add(c.reason);
  return c;
}
