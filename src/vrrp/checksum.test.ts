import { describe, expect, it } from 'vitest';
import { checksumVerifies, checksumVerifiesAfter, internetChecksum, ipv4PseudoHeader, ipv6PseudoHeader, pseudoHeaderSum } from './checksum.js';
import { parseAddress } from './addr.js';

const bytes = (text: string, family: 4 | 6): Buffer => parseAddress(text, family)!;

/** A VRRP-like message with its checksum over `pseudo` + message set. */
function signed(pseudo: Buffer, body: number[]): Buffer {
  const msg = Buffer.from(body);
  msg.writeUInt16BE(internetChecksum(pseudo, msg), 6);
  return msg;
}

describe('the pseudo-header sum read in place', () => {
  it('verifies what the built IPv4 and IPv6 pseudo-headers verify, and nothing else', () => {
    const body = [0x31, 7, 150, 1, 0, 100, 0, 0, 10, 201, 0, 7, 0xab];
    for (const [family, src, dst] of [
      [4, '10.0.0.1', '224.0.0.18'],
      [6, 'fe80::1:2ff:fe03:405', 'ff02::12'],
    ] as const) {
      const s = bytes(src, family);
      const d = bytes(dst, family);
      const ph = family === 4 ? ipv4PseudoHeader(s, d, body.length) : ipv6PseudoHeader(s, d, body.length);
      const msg = signed(ph, body);
      expect(checksumVerifies(ph, msg)).toBe(true);
      expect(checksumVerifiesAfter(pseudoHeaderSum(family, s, 0, d, 0, msg.length), msg)).toBe(true);
      // the addresses where they lie in a bigger buffer, and the message inside one
      const around = Buffer.concat([Buffer.from([9, 9, 9]), s, d, msg, Buffer.from([1])]);
      const n = s.length;
      expect(checksumVerifiesAfter(pseudoHeaderSum(family, around, 3, around, 3 + n, msg.length), around, 3 + 2 * n, 3 + 2 * n + msg.length)).toBe(true);
      // another source, another length, a flipped bit: refused
      const other = Buffer.from(s);
      other[other.length - 1]! ^= 1;
      expect(checksumVerifiesAfter(pseudoHeaderSum(family, other, 0, d, 0, msg.length), msg)).toBe(false);
      expect(checksumVerifiesAfter(pseudoHeaderSum(family, s, 0, d, 0, msg.length + 2), msg)).toBe(false);
      msg[9]! ^= 0x10;
      expect(checksumVerifiesAfter(pseudoHeaderSum(family, s, 0, d, 0, msg.length), msg)).toBe(false);
    }
  });

  it('sums a 32-bit IPv6 length as two words', () => {
    const s = bytes('fe80::1', 6);
    const d = bytes('ff02::12', 6);
    const ph = ipv6PseudoHeader(s, d, 0x1_0004);
    const msg = signed(ph, [0x31, 1, 100, 1, 0, 100, 0, 0]);
    expect(checksumVerifiesAfter(pseudoHeaderSum(6, s, 0, d, 0, 0x1_0004), msg)).toBe(true);
  });
});
