// RFC 1071 Internet checksum and the pseudo-headers VRRP uses. Pure functions over Buffers.

import { parseAddress } from './addr.js';

export const IPPROTO_VRRP = 112;

/** Adds the 16-bit words of buf[start, end) (an odd last byte padded) to `sum`, unfolded. */
function addWords(buf: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    // fold now and then so the sum stays a small integer
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** One's-complement sum of 16-bit words of all chunks (odd length chunks padded), folded. */
function onesSum(chunks: readonly Buffer[]): number {
  let sum = 0;
  let carryByte = -1; // a trailing odd byte waiting for its partner from the next chunk
  for (const c of chunks) {
    let i = 0;
    if (carryByte >= 0 && c.length > 0) {
      sum += (carryByte << 8) | c[0]!;
      carryByte = -1;
      i = 1;
    }
    const even = i + ((c.length - i) & ~1);
    sum = addWords(c, i, even, sum);
    if (even < c.length) carryByte = c[even]!;
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (carryByte >= 0) sum += carryByte << 8;
  return fold(sum);
}

/** The checksum field value for data whose checksum field is zero. */
export function internetChecksum(...chunks: Buffer[]): number {
  return ~onesSum(chunks) & 0xffff;
}

/** internetChecksum of data[start, end) alone, read in place. */
export function checksumOfRange(data: Uint8Array, start: number, end: number): number {
  return ~fold(addWords(data, start, end, 0)) & 0xffff;
}

/** True when data (checksum field included) sums to 0xffff, i.e. the checksum verifies. */
export function checksumVerifies(...chunks: Buffer[]): boolean {
  return onesSum(chunks) === 0xffff;
}

/**
 * The one's-complement sum of a pseudo-header (ipv4PseudoHeader / ipv6PseudoHeader) read from
 * the addresses where they lie, `src` at `srcAt` and `dst` at `dstAt` (4 or 16 bytes each by
 * family): a received advert's checksum is verified without building the header.
 */
export function pseudoHeaderSum(family: 4 | 6, src: Uint8Array, srcAt: number, dst: Uint8Array, dstAt: number, length: number, proto = IPPROTO_VRRP): number {
  const n = family === 4 ? 4 : 16;
  const sum = addWords(dst, dstAt, dstAt + n, addWords(src, srcAt, srcAt + n, 0));
  // IPv4: {0, proto} and a 16-bit length; IPv6: a 32-bit length and {0, 0, 0, proto}
  return sum + proto + (length & 0xffff) + (family === 6 ? length >>> 16 : 0);
}

/** checksumVerifies for `data[start, end)` after a pseudo-header whose sum is `pseudoSum`. */
export function checksumVerifiesAfter(pseudoSum: number, data: Uint8Array, start = 0, end = data.length): boolean {
  return fold(addWords(data, start, end, pseudoSum)) === 0xffff;
}

/** IPv4 pseudo-header {src, dst, 0, protocol, length} (RFC 5798 5.2.8 via RFC 768). */
export function ipv4PseudoHeader(src: Buffer, dst: Buffer, length: number, proto = IPPROTO_VRRP): Buffer {
  const h = Buffer.alloc(12);
  src.copy(h, 0, 0, 4);
  dst.copy(h, 4, 0, 4);
  h[9] = proto;
  h.writeUInt16BE(length, 10);
  return h;
}

/** IPv6 pseudo-header {src, dst, 32-bit length, 3 zero bytes, next header} (RFC 8200 8.1). */
export function ipv6PseudoHeader(src: Buffer, dst: Buffer, length: number, proto = IPPROTO_VRRP): Buffer {
  const h = Buffer.alloc(40);
  src.copy(h, 0, 0, 16);
  dst.copy(h, 16, 0, 16);
  h.writeUInt32BE(length, 32);
  h[39] = proto;
  return h;
}

/** Pseudo-header from address text; null if either address does not parse for the family. */
export function pseudoHeader(family: 4 | 6, src: string, dst: string, length: number): Buffer | null {
  const s = parseAddress(src, family);
  const d = parseAddress(dst, family);
  if (!s || !d) return null;
  return family === 4 ? ipv4PseudoHeader(s, d, length) : ipv6PseudoHeader(s, d, length);
}
