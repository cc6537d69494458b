import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToIp, bytesToMac, canonicalIp, familyOf, ipToBytes, ipv4Broadcast, ipv6ToBytes, macToBytes } from './address.js';

describe('IP text and bytes', () => {
  it('parses and prints IPv4', () => {
    expect(ipToBytes('192.0.2.10')).toEqual(Buffer.from([192, 0, 2, 10]));
    expect(bytesToIp(Buffer.from([10, 0, 0, 255]))).toBe('10.0.0.255');
  });

  it('parses IPv6 forms: compressed, full, embedded IPv4, zone index', () => {
    expect(ipv6ToBytes('2001:db8::1').toString('hex')).toBe('20010db8000000000000000000000001');
    expect(ipv6ToBytes('::').toString('hex')).toBe('0'.repeat(32));
    expect(ipv6ToBytes('fe80::1%eth0').toString('hex')).toBe('fe800000000000000000000000000001');
    expect(ipv6ToBytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(ipv6ToBytes('2001:0db8:0000:0000:0000:0000:0000:0001')).toEqual(ipv6ToBytes('2001:db8::1'));
  });

  it('prints IPv6 per RFC 5952', () => {
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1'); // longest run
    expect(canonicalIp('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1'); // first on ties
    expect(canonicalIp('2001:db8:1:1:1:1:0:1')).toBe('2001:db8:1:1:1:1:0:1'); // a single 0 stays
    expect(canonicalIp('::')).toBe('::');
    expect(canonicalIp('ff02::1')).toBe('ff02::1');
  });

  it('round-trips any 16 bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => ipv6ToBytes(bytesToIp(Buffer.from(b))).equals(Buffer.from(b))));
  });

  it('knows families and rejects non-addresses', () => {
    expect(familyOf('192.0.2.1')).toBe(4);
    expect(familyOf('::1')).toBe(6);
    expect(() => familyOf('192.0.2')).toThrow(/not an IP/);
  });

  it('computes directed broadcasts', () => {
    expect(ipv4Broadcast('192.0.2.10', 24)).toBe('192.0.2.255');
    expect(ipv4Broadcast('198.51.100.7', 25)).toBe('198.51.100.127');
    expect(ipv4Broadcast('10.1.2.3', 32)).toBe('10.1.2.3');
    expect(ipv4Broadcast('10.1.2.3', 0)).toBe('255.255.255.255');
  });

  it('converts MACs', () => {
    expect(macToBytes('02:00:AA:bb:0c:99')).toEqual(Buffer.from([2, 0, 0xaa, 0xbb, 0x0c, 0x99]));
    expect(bytesToMac(Buffer.from([2, 0, 0xaa, 0xbb, 0x0c, 0x99]))).toBe('02:00:aa:bb:0c:99');
  });
});
