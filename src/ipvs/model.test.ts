import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { destinationEqual, destinationId, ipv6ToBytes, ipv6ToText, serviceEqual, serviceId, type Destination, type Service } from './model.js';

const noFlags = { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false };
const svc: Service = { family: 'inet6', protocol: 'tcp', address: '2001:db8::1', port: 80, scheduler: 'rr', flags: noFlags, timeout: 0, prefix: 128, pe: null };
const dst: Destination = {
  family: 'inet',
  address: '10.0.0.2',
  port: 80,
  forwarding: 'masquerade',
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunnel: null,
};

describe('addresses', () => {
  it('IPv6 text -> bytes -> RFC 5952 text', () => {
    expect(ipv6ToText(ipv6ToBytes('2001:DB8:0:0:0:0:0:1'))).toBe('2001:db8::1');
    expect(ipv6ToText(ipv6ToBytes('::'))).toBe('::');
    expect(ipv6ToText(ipv6ToBytes('fe80::1:0:0:1'))).toBe('fe80::1:0:0:1');
    expect(ipv6ToText(ipv6ToBytes('1:0:0:2:0:0:0:3'))).toBe('1:0:0:2::3');
    expect(ipv6ToText(ipv6ToBytes('1:2:3:4:5:6:7:0'))).toBe('1:2:3:4:5:6:7:0'); // a single zero group stays
    expect([...ipv6ToBytes('::ffff:10.1.2.3').subarray(10)]).toEqual([0xff, 0xff, 10, 1, 2, 3]);
  });
  it('rejects malformed IPv6', () => {
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1:2:3:4:5:6:7']) expect(() => ipv6ToBytes(bad)).toThrow(/invalid IPv6/);
  });
  it('any IPv6 address survives the round trip as the same 16 bytes', () => {
    fc.assert(
      fc.property(fc.ipV6(), (a) => {
        const text = ipv6ToText(ipv6ToBytes(a));
        expect(isIP(text)).toBe(6);
        expect(ipv6ToBytes(text)).toEqual(ipv6ToBytes(a));
      }),
      { numRuns: 500 },
    );
  });
});

describe('identity and equality', () => {
  it('identifies services by family, protocol, canonical address and port, or by fwmark', () => {
    expect(serviceId(svc)).toBe(serviceId({ ...svc, address: '2001:DB8:0::1', scheduler: 'wrr' } as Service));
    expect(serviceId(svc)).not.toBe(serviceId({ ...svc, protocol: 'udp' }));
    expect(serviceId({ family: 'inet', fwmark: 1 })).not.toBe(serviceId({ family: 'inet6', fwmark: 1 }));
    expect(destinationId(dst)).toBe('[10.0.0.2]:80');
  });
  it('service equality covers every editable field', () => {
    expect(serviceEqual(svc, { ...svc })).toBe(true);
    for (const change of [
      { scheduler: 'wrr' },
      { timeout: 1 },
      { prefix: 64 },
      { pe: 'sip' },
      { flags: { ...noFlags, onePacket: true } },
      { flags: { ...noFlags, schedPort: true } },
      { port: 81 },
    ]) {
      expect(serviceEqual(svc, { ...svc, ...change }), JSON.stringify(change)).toBe(false);
    }
  });
  it('destination equality ignores counters and tunnel fields of non-tunnels', () => {
    expect(destinationEqual(dst, { ...dst, activeConns: 5, stats: undefined })).toBe(true);
    expect(destinationEqual(dst, { ...dst, tunnel: { type: 'gue', port: 1, flags: 0 } })).toBe(true);
    expect(destinationEqual(dst, { ...dst, weight: 0 })).toBe(false);
    expect(destinationEqual(dst, { ...dst, upperThreshold: 9 })).toBe(false);
    const tun: Destination = { ...dst, forwarding: 'tunnel', tunnel: null };
    expect(destinationEqual(tun, { ...tun, tunnel: { type: 'ipip', port: 0, flags: 0 } })).toBe(true);
    expect(destinationEqual(tun, { ...tun, tunnel: { type: 'gue', port: 6080, flags: 0 } })).toBe(false);
  });
});
