import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GARP_FRAME_LEN, NA_FRAME_LEN, buildGratuitousArp, buildUnsolicitedNa, icmpv6Checksum, naFlags } from './frames.js';
import { ipv6ToBytes } from '../ip/address.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('gratuitous ARP frame', () => {
  it('is an ARP request from the VIP to the VIP, broadcast, as keepalived sends it', () => {
    const frame = buildGratuitousArp('52:54:00:12:34:56', '192.0.2.100');
    expect(frame.length).toBe(GARP_FRAME_LEN);
    expect(frame).toEqual(
      hex(`
        ffffffffffff 525400123456 0806
        0001 0800 06 04 0001
        525400123456 c0000264
        ffffffffffff c0000264`),
    );
  });

  it('rejects what is not an IPv4 address or a MAC', () => {
    expect(() => buildGratuitousArp('52:54:00:12:34:56', '2001:db8::1')).toThrow(/IPv4/);
    expect(() => buildGratuitousArp('52:54:00:12:34', '192.0.2.1')).toThrow(/MAC/);
  });
});

describe('unsolicited neighbour advertisement frame', () => {
  const frame = buildUnsolicitedNa('52:54:00:12:34:56', '2001:db8::100', { router: false });

  it('has the Ethernet, IPv6 and ICMPv6 fields RFC 4861 asks for', () => {
    expect(frame.length).toBe(NA_FRAME_LEN);
    expect(frame.subarray(0, 14)).toEqual(hex('333300000001 525400123456 86dd'));
    expect(frame.subarray(14, 22)).toEqual(hex('60000000 0020 3a ff')); // payload 32, ICMPv6, hop limit 255
    expect(frame.subarray(22, 38)).toEqual(ipv6ToBytes('2001:db8::100')); // source: the VIP
    expect(frame.subarray(38, 54)).toEqual(ipv6ToBytes('ff02::1'));
    const icmp = frame.subarray(54);
    expect(icmp[0]).toBe(136);
    expect(icmp[1]).toBe(0);
    expect(icmp.subarray(4, 8)).toEqual(hex('20000000')); // Override only
    expect(icmp.subarray(8, 24)).toEqual(ipv6ToBytes('2001:db8::100'));
    expect(icmp.subarray(24)).toEqual(hex('0201 525400123456')); // target link-layer address option
    expect(naFlags(frame)).toEqual({ router: false, solicited: false, override: true });
  });

  it('sets the Router flag when asked (IPv6 forwarding on the link)', () => {
    const routerFrame = buildUnsolicitedNa('52:54:00:12:34:56', '2001:db8::100', { router: true });
    expect(naFlags(routerFrame)).toEqual({ router: true, solicited: false, override: true });
  });

  it('carries a checksum that verifies over the pseudo-header', () => {
    // Verification by the receiver's rule: the ones' complement sum including the checksum is 0xffff.
    const src = frame.subarray(22, 38);
    const dst = frame.subarray(38, 54);
    const icmp = Buffer.from(frame.subarray(54));
    expect(icmp.readUInt16BE(2)).not.toBe(0);
    expect(icmpv6Checksum(src, dst, icmp)).toBe(0);
  });

  it('checksums verify for any address and MAC (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.boolean(), (ip, macBytes, router) => {
        const groups = Array.from({ length: 8 }, (_, i) => ((ip[2 * i]! << 8) | ip[2 * i + 1]!).toString(16));
        const mac = Array.from(macBytes, (b) => b.toString(16).padStart(2, '0')).join(':');
        const f = buildUnsolicitedNa(mac, groups.join(':'), { router });
        return icmpv6Checksum(f.subarray(22, 38), f.subarray(38, 54), f.subarray(54)) === 0;
      }),
    );
  });

  it('matches an independently computed checksum for a fixed vector', () => {
    // Sum of 16-bit words, computed by hand for MAC 00:00:00:00:00:01 and target ::1 -> ff02::1:
    // pseudo-header: ::1 (0x0001) + ff02::1 (0xff02 + 0x0001) + length 0x0020 + next header 0x003a
    // message: 0x8800 (type 136, code 0) + 0x2000 (O flag) + ::1 (0x0001) + 0x0201 + 0x0001 (MAC low word)
    const words = [0x0001, 0xff02, 0x0001, 0x0020, 0x003a, 0x8800, 0x2000, 0x0001, 0x0201, 0x0001];
    let sum = words.reduce((a, b) => a + b, 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const f = buildUnsolicitedNa('00:00:00:00:00:01', '::1', { router: false });
    expect(f.readUInt16BE(54 + 2)).toBe(~sum & 0xffff);
  });
});
