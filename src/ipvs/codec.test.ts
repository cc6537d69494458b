import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AttrWriter, NLA_F_NESTED, decodeAttrs as parseAttrs, encodeAttrs } from '../netlink/wire.js';
import {
  IpvsError,
  decodeDaemon,
  decodeDestination,
  decodeInfo,
  decodeNetmask,
  decodeService,
  decodeStats,
  decodeTimeouts,
  encodeDaemon,
  encodeDestination,
  encodeNetmask,
  encodeService,
  encodeStats64,
  encodeTimeouts,
  ipvsError,
} from './codec.js';
import { IPVS_CMD_ATTR, IPVS_DEST_ATTR, IPVS_SVC_ATTR, IPVS_STATS_ATTR } from './constants.js';
import { type Destination, type Service, type Stats, canonicalAddress } from './model.js';

const noFlags = { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false };
const tcp: Service = { family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'wrr', flags: noFlags, timeout: 0, prefix: 32, pe: null };
const nat: Destination = {
  family: 'inet',
  address: '10.0.1.2',
  port: 8080,
  forwarding: 'masquerade',
  weight: 3,
  upperThreshold: 10,
  lowerThreshold: 2,
  tunnel: null,
};

/** The payload inside the outer nested attribute, checking it is flagged NESTED. */
function inner(buf: Buffer, type: number): Buffer {
  expect(buf.readUInt16LE(2)).toBe(type | NLA_F_NESTED);
  return buf.subarray(4, buf.readUInt16LE(0));
}

describe('service encoding (uapi linux/ip_vs.h layout)', () => {
  it('encodes the key and every field the kernel requires for add/edit', () => {
    const a = parseAttrs(
      inner(encodeService({ ...tcp, flags: { ...noFlags, persistent: true }, timeout: 300, prefix: 24, pe: 'sip' }, true), IPVS_CMD_ATTR.SERVICE),
    );
    expect(a.get(IPVS_SVC_ATTR.AF)!.readUInt16LE(0)).toBe(2);
    expect(a.get(IPVS_SVC_ATTR.PROTOCOL)!.readUInt16LE(0)).toBe(6);
    expect([...a.get(IPVS_SVC_ATTR.ADDR)!]).toEqual([10, 0, 0, 1, ...new Array<number>(12).fill(0)]);
    expect([...a.get(IPVS_SVC_ATTR.PORT)!]).toEqual([0, 80]); // network order
    expect(a.get(IPVS_SVC_ATTR.SCHED_NAME)!.toString()).toBe('wrr\0');
    expect([...a.get(IPVS_SVC_ATTR.FLAGS)!]).toEqual([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]); // flags, mask
    expect(a.get(IPVS_SVC_ATTR.TIMEOUT)!.readUInt32LE(0)).toBe(300);
    expect([...a.get(IPVS_SVC_ATTR.NETMASK)!]).toEqual([255, 255, 255, 0]);
    expect(a.get(IPVS_SVC_ATTR.PE_NAME)!.toString()).toBe('sip\0');
  });
  it('sends only the key for delete, and fwmark services without protocol/address/port', () => {
    const a = parseAttrs(inner(encodeService({ family: 'inet6', fwmark: 7 }, false), IPVS_CMD_ATTR.SERVICE));
    expect([...a.keys()].sort()).toEqual([IPVS_SVC_ATTR.AF, IPVS_SVC_ATTR.FWMARK]);
    expect(a.get(IPVS_SVC_ATTR.AF)!.readUInt16LE(0)).toBe(10);
    expect(a.get(IPVS_SVC_ATTR.FWMARK)!.readUInt32LE(0)).toBe(7);
  });
  it('netmask: IPv4 as a mask in network order, IPv6 as a host-order prefix length', () => {
    expect([...encodeNetmask('inet', 32)]).toEqual([255, 255, 255, 255]);
    expect([...encodeNetmask('inet', 0)]).toEqual([0, 0, 0, 0]);
    expect([...encodeNetmask('inet6', 64)]).toEqual([64, 0, 0, 0]);
    for (let p = 0; p <= 32; p++) expect(decodeNetmask('inet', encodeNetmask('inet', p))).toBe(p);
    expect(decodeNetmask('inet6', encodeNetmask('inet6', 48))).toBe(48);
  });
  it('masks HASHED (0x2) from the flags the kernel returns', () => {
    const flags = Buffer.alloc(8);
    flags.writeUInt32LE(0x2 | 0x4 | 0x8, 0);
    const payload = Buffer.concat([
      inner(encodeService(tcp, false), IPVS_CMD_ATTR.SERVICE),
      encodeAttrs([
        { type: IPVS_SVC_ATTR.FLAGS, value: flags },
        { type: IPVS_SVC_ATTR.SCHED_NAME, value: Buffer.from('sh\0') },
      ]),
    ]);
    expect(decodeService(payload).flags).toEqual({ ...noFlags, onePacket: true, schedFallback: true });
  });
});

const arbIpv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const arbIpv6 = fc.ipV6();
const arbFlags = fc.record({ persistent: fc.boolean(), onePacket: fc.boolean(), schedFallback: fc.boolean(), schedPort: fc.boolean(), sched3: fc.boolean() });
const arbService: fc.Arbitrary<Service> = fc
  .oneof(
    fc.record({
      family: fc.constant('inet' as const),
      protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
      address: arbIpv4,
      port: fc.nat(65535),
    }),
    fc.record({
      family: fc.constant('inet6' as const),
      protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
      address: arbIpv6,
      port: fc.nat(65535),
    }),
    fc.record({ family: fc.constantFrom('inet' as const, 'inet6' as const), fwmark: fc.integer({ min: 1, max: 0xffffffff }) }),
  )
  .chain((key) =>
    fc
      .record({
        scheduler: fc.constantFrom('rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'),
        flags: arbFlags,
        timeout: fc.nat(86400),
        prefix: fc.nat(key.family === 'inet' ? 32 : 128),
        pe: fc.constantFrom(null, 'sip'),
      })
      .map((rest) => ({ ...key, ...rest })),
  );

describe('round trips', () => {
  it('service: encode then decode gives the same service (addresses canonical)', () => {
    fc.assert(
      fc.property(arbService, (s) => {
        const back = decodeService(inner(encodeService(s, true), IPVS_CMD_ATTR.SERVICE));
        expect(back).toEqual('address' in s ? { ...s, address: canonicalAddress(s.address) } : s);
      }),
      { numRuns: 300 },
    );
  });
  it('destination: every forwarding method, IPv6 real servers, tunnel fields', () => {
    const ds: Destination[] = [
      nat,
      { ...nat, forwarding: 'route', weight: 0 },
      { ...nat, forwarding: 'tunnel', weight: 65535, tunnel: { type: 'gue', port: 6080, flags: 1 } },
      { ...nat, family: 'inet6', address: '2001:db8::2', forwarding: 'tunnel', tunnel: { type: 'ipip', port: 0, flags: 0 } },
      { ...nat, family: 'inet6', address: 'fe80::1', forwarding: 'masquerade' },
    ];
    for (const d of ds) {
      const back = decodeDestination(inner(encodeDestination(d, true), IPVS_CMD_ATTR.DEST), 'inet');
      expect(back).toEqual({ ...d, activeConns: 0, inactiveConns: 0, persistentConns: 0 });
    }
  });
  it('destination always carries its address family (IPv6 real server behind an IPv4 service)', () => {
    const a = parseAttrs(inner(encodeDestination({ ...nat, family: 'inet6', address: '2001:db8::9' }, false), IPVS_CMD_ATTR.DEST));
    expect(a.get(IPVS_DEST_ATTR.ADDR_FAMILY)!.readUInt16LE(0)).toBe(10);
    expect(a.has(IPVS_DEST_ATTR.WEIGHT)).toBe(false);
  });
  it('sync daemon (IPv4 and IPv6 groups), timeouts', () => {
    const d = { state: 'backup' as const, interface: 'eth0', syncId: 9, maxLen: 1472, group: 'ff02::81', port: 8848, ttl: 3 };
    expect(decodeDaemon(inner(encodeDaemon(d), IPVS_CMD_ATTR.DAEMON))).toEqual(d);
    const d4 = { ...d, state: 'master' as const, group: '224.0.0.81' };
    expect(decodeDaemon(inner(encodeDaemon(d4), IPVS_CMD_ATTR.DAEMON))).toEqual(d4);
    const t = { tcp: 900, tcpFin: 120, udp: 300 };
    expect(decodeTimeouts(encodeTimeouts(t))).toEqual(t);
  });
  it('stats: STATS64 as u64, and the 32-bit STATS (u32 counters, u64 bytes) as a fallback', () => {
    const s: Stats = { conns: 1n, inPkts: 2n, outPkts: 3n, inBytes: 1n << 40n, outBytes: 5n, cps: 6n, inPps: 7n, outPps: 8n, inBps: 9n, outBps: 10n };
    expect(decodeStats(encodeStats64(s), undefined)).toEqual(s);
    const old = new AttrWriter()
      .u32(IPVS_STATS_ATTR.CONNS, 4)
      .u64(IPVS_STATS_ATTR.INBYTES, 1n << 33n)
      .result();
    expect(decodeStats(undefined, old)).toMatchObject({ conns: 4n, inBytes: 1n << 33n, outPkts: 0n });
    expect(decodeStats(undefined, undefined)).toBeUndefined();
    // the kernel sends both nests; STATS64 is the one read
    expect(decodeStats(encodeStats64(s), old)).toEqual(s);
  });
  it('info: version code 0x010201 is "1.2.1"', () => {
    expect(decodeInfo(new AttrWriter().u32(1, 0x010201).u32(2, 4096).result())).toEqual({ version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 });
  });
});

describe('address encoding', () => {
  it('rejects malformed IPv4 addresses while encoding', () => {
    for (const bad of ['10.0.0', '10.0.0.256', '10..0.1', '1.2.3.4.5', 'a.b.c.d', '1.2.3.1234']) {
      expect(() => encodeService({ family: 'inet', protocol: 'tcp', address: bad, port: 1 }, false), bad).toThrow(/invalid IPv4/);
    }
  });
});

describe('errors', () => {
  it('carry errno, code and a sentence naming the operation', () => {
    const e = ipvsError(17, 'service', 'add service tcp 10.0.0.1:80');
    expect(e).toBeInstanceOf(IpvsError);
    expect(e).toMatchObject({ errno: 17, code: 'EEXIST', operation: 'add service tcp 10.0.0.1:80' });
    expect(e.message).toBe('Cannot add service tcp 10.0.0.1:80: service tcp 10.0.0.1:80 already exists.');
    expect(ipvsError(2, 'service', 'add service x', { scheduler: 'bogus' }).message).toMatch(/scheduler "bogus" not found .*ip_vs_bogus/);
    expect(ipvsError(3, 'service', 'delete service x').message).toMatch(/does not exist/);
    expect(ipvsError(1, 'other', 'flush the IPVS table').message).toMatch(/CAP_NET_ADMIN/);
    expect(ipvsError(95, 'other', 'x').code).toBe('EOPNOTSUPP');
  });
});
