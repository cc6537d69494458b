import { describe, expect, it } from 'vitest';
import { config, group, pos, realServer, virtualServer } from '../../test/checker/model-kit.js';
import { diff } from '../ipvs/diff.js';
import { type Destination, type ForwardingMethod, type Service, type ServiceEntry, type Stats, type Tunnel, noFlags } from '../ipvs/model.js';
import { type TableState, desiredTable, healthKey } from './desired.js';
import { PackedTable } from './packed-table.js';

const roundTrip = (entries: ServiceEntry[]): ServiceEntry[] => PackedTable.of(entries).entries();

const svc = (address: string, port: number, over: Partial<Service> = {}): Service => ({
  family: address.includes(':') ? 'inet6' : 'inet',
  protocol: 'tcp',
  address,
  port,
  scheduler: 'wlc',
  flags: noFlags(),
  timeout: 0,
  prefix: address.includes(':') ? 128 : 32,
  pe: null,
  ...over,
});

const dest = (address: string, port: number, over: Partial<Destination> = {}): Destination => ({
  family: address.includes(':') ? 'inet6' : 'inet',
  address,
  port,
  forwarding: 'masquerade',
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunnel: null,
  ...over,
});

const stats = (n: bigint): Stats => ({
  conns: n,
  inPkts: n,
  outPkts: n,
  inBytes: n,
  outBytes: n,
  cps: n,
  inPps: n,
  outPps: n,
  inBps: n,
  outBps: n,
});

describe('PackedTable round trip', () => {
  it('an empty table', () => {
    const p = PackedTable.of([]);
    expect(p.entries()).toEqual([]);
    expect([p.serviceCount, p.destinationCount]).toEqual([0, 0]);
  });

  it('services with no destinations, between services with some', () => {
    const table = [
      { service: svc('10.0.0.1', 80), destinations: [] },
      { service: svc('10.0.0.2', 80), destinations: [dest('10.1.0.1', 80), dest('10.1.0.2', 80)] },
      { service: svc('10.0.0.3', 80), destinations: [] },
      { service: svc('10.0.0.4', 80), destinations: [dest('10.1.0.3', 80)] },
      { service: svc('10.0.0.5', 80), destinations: [] },
    ];
    const p = PackedTable.of(table);
    expect([p.serviceCount, p.destinationCount]).toEqual([5, 3]);
    expect(p.entries()).toStrictEqual(table);
  });

  it('IPv4 and IPv6 destinations, in an IPv4, an IPv6 and a fwmark service', () => {
    const table: ServiceEntry[] = [
      { service: svc('10.0.0.1', 443), destinations: [dest('10.1.0.1', 443), dest('10.1.0.2', 8443)] },
      { service: svc('2001:db8::1', 443), destinations: [dest('2001:db8::10', 443), dest('::ffff:10.1.0.3', 443)] },
      {
        service: { family: 'inet6', fwmark: 7, scheduler: 'sh', flags: { ...noFlags(), schedPort: true }, timeout: 300, prefix: 64, pe: null },
        destinations: [dest('2001:db8::11', 0, { forwarding: 'route' }), dest('2001:db8::12', 0, { forwarding: 'route' })],
      },
      {
        service: { family: 'inet', fwmark: 0xffffffff, scheduler: 'rr', flags: noFlags(), timeout: 0, prefix: 32, pe: 'sip' },
        destinations: [dest('10.2.0.1', 0, { forwarding: 'route' })],
      },
    ];
    expect(roundTrip(table)).toStrictEqual(table);
  });

  it('every forwarding method', () => {
    const methods: ForwardingMethod[] = ['masquerade', 'route', 'tunnel', 'local', 'bypass'];
    const table = [{ service: svc('10.0.0.1', 80), destinations: methods.map((forwarding, i) => dest(`10.1.0.${i + 1}`, 80, { forwarding })) }];
    const back = roundTrip(table);
    expect(back[0]!.destinations.map((d) => d.forwarding)).toEqual(methods);
    expect(back).toStrictEqual(table);
  });

  it('tunnel destinations with and without a tunnel object; the objects come back as given', () => {
    const gue: Tunnel = { type: 'gue', port: 6080, flags: 3 };
    const gre: Tunnel = { type: 'gre', port: 0, flags: 0 };
    const table = [
      {
        service: svc('10.0.0.1', 80),
        destinations: [
          dest('10.1.0.1', 80, { forwarding: 'tunnel' }),
          dest('10.1.0.2', 80, { forwarding: 'tunnel', tunnel: gue }),
          dest('10.1.0.3', 80, { forwarding: 'tunnel' }),
        ],
      },
      { service: svc('10.0.0.2', 80), destinations: [] },
      {
        service: svc('10.0.0.3', 80),
        destinations: [
          dest('10.1.0.4', 80, { forwarding: 'tunnel', tunnel: gre }),
          dest('10.1.0.5', 80, { forwarding: 'tunnel', tunnel: gue }),
          // the model allows one on any destination (the kernel ignores it): kept all the same
          dest('10.1.0.6', 80, { forwarding: 'route', tunnel: { type: 'ipip', port: 0, flags: 1 } }),
        ],
      },
    ];
    const back = roundTrip(table);
    expect(back).toStrictEqual(table);
    expect(back.flatMap((e) => e.destinations.map((d) => d.tunnel))).toEqual([null, gue, null, gre, gue, { type: 'ipip', port: 0, flags: 1 }]);
    expect(back[0]!.destinations[1]!.tunnel).toBe(gue);
    expect(back[2]!.destinations[1]!.tunnel).toBe(gue);
  });

  it("weights: 0, keepalived's 65535, and the whole of IPVS's signed 32 bits", () => {
    // the codec sends the weight as the u32 of an `int` (ip_vs_dest_user_kern.weight)
    const weights = [0, 1, 253, 65535, 2 ** 31 - 1, -1, -(2 ** 31)];
    const table = [{ service: svc('10.0.0.1', 80), destinations: weights.map((weight, i) => dest(`10.1.0.${i + 1}`, 80, { weight })) }];
    expect(roundTrip(table)[0]!.destinations.map((d) => d.weight)).toEqual(weights);
  });

  it("thresholds over the kernel's whole u32 range", () => {
    const pairs: [number, number][] = [
      [0, 0],
      [100, 10],
      [2 ** 31 - 1, 2 ** 31 - 1],
      [2 ** 32 - 1, 2 ** 32 - 2],
      [2 ** 32 - 1, 2 ** 32 - 1],
    ];
    const table = [
      {
        service: svc('10.0.0.1', 80),
        destinations: pairs.map(([upperThreshold, lowerThreshold], i) => dest(`10.1.0.${i + 1}`, 80, { upperThreshold, lowerThreshold })),
      },
    ];
    expect(roundTrip(table)).toStrictEqual(table);
  });

  it('ports 0 and 65535', () => {
    const table = [{ service: svc('10.0.0.1', 0), destinations: [dest('10.1.0.1', 0), dest('10.1.0.1', 65535), dest('2001:db8::1', 65535)] }];
    expect(roundTrip(table)).toStrictEqual(table);
  });

  it("a destination with every key set comes back with every key but the kernel's counters", () => {
    // Required<>: a key added to Destination must be set here, and then must survive the trip
    const everyKey: Required<Destination> = {
      family: 'inet6',
      address: '2001:db8::10',
      port: 65535,
      forwarding: 'tunnel',
      weight: 2 ** 31 - 1,
      upperThreshold: 2 ** 32 - 1,
      lowerThreshold: 2 ** 32 - 2,
      tunnel: { type: 'gue', port: 6080, flags: 2 },
      activeConns: 1,
      inactiveConns: 2,
      persistentConns: 3,
      stats: stats(4n),
    };
    const { activeConns: _a, inactiveConns: _i, persistentConns: _p, stats: _s, ...written } = everyKey;
    const back = roundTrip([{ service: svc('2001:db8::1', 443), destinations: [everyKey] }])[0]!.destinations[0]!;
    expect(back).toStrictEqual(written);
    expect(Object.keys(back).sort()).toEqual(Object.keys(written).sort());
  });

  it('services are kept as the objects given, every key included', () => {
    const everyKey: Required<Service> = {
      family: 'inet',
      protocol: 'sctp',
      address: '10.0.0.1',
      port: 9,
      scheduler: 'mh',
      flags: { persistent: true, onePacket: true, schedFallback: true, schedPort: true, sched3: true },
      timeout: 600,
      prefix: 24,
      pe: 'sip',
      stats: stats(5n),
    };
    const back = roundTrip([{ service: everyKey, destinations: [] }]);
    expect(back[0]!.service).toBe(everyKey);
    expect(back[0]!.service).toStrictEqual({ ...everyKey });
  });

  it('addresses come back as the same string references', () => {
    // Object.is compares strings by value (JS cannot tell two equal strings apart): this checks
    // the text; that no copy is made is up to packed-table.ts, which stores `d.address` itself
    const addresses = ['10.1.0.1', '2001:db8::10', '10.1.0.2'].map((a) => [...a].join(''));
    const table = [{ service: svc('10.0.0.1', 80), destinations: addresses.map((a) => dest(a, 80)) }];
    const back = roundTrip(table);
    back[0]!.destinations.forEach((d, i) => expect(Object.is(d.address, addresses[i])).toBe(true));
  });

  it('keeps nothing of the arrays or destinations given; every call gives fresh ones', () => {
    const table = [{ service: svc('10.0.0.1', 80), destinations: [dest('10.1.0.1', 80)] }];
    const p = PackedTable.of(table);
    table[0]!.destinations[0]!.weight = 9;
    table[0]!.destinations.push(dest('10.1.0.2', 80));
    table.push({ service: svc('10.0.0.2', 80), destinations: [] });
    const [a, b] = [p.entries(), p.entries()];
    expect(a).toStrictEqual([{ service: table[0]!.service, destinations: [dest('10.1.0.1', 80)] }]);
    expect(a).toStrictEqual(b);
    expect(a[0]).not.toBe(b[0]);
    expect(a[0]!.destinations[0]).not.toBe(b[0]!.destinations[0]);
  });

  it('refuses a value its column could not hold exactly, rather than keep another one', () => {
    const bad = (over: Partial<Destination>) => () => PackedTable.of([{ service: svc('10.0.0.1', 80), destinations: [dest('10.1.0.1', 80, over)] }]);
    expect(bad({ port: 65536 })).toThrow(/port 65536/);
    expect(bad({ port: -1 })).toThrow(/port -1/);
    expect(bad({ weight: 2 ** 31 })).toThrow(/weight 2147483648/);
    expect(bad({ weight: 1.5 })).toThrow(/weight 1.5/);
    expect(bad({ weight: NaN })).toThrow(/weight NaN/);
    expect(bad({ upperThreshold: 2 ** 32 })).toThrow(/upperThreshold/);
    expect(bad({ lowerThreshold: -1 })).toThrow(/lowerThreshold/);
    expect(bad({ family: 'inet7' as never })).toThrow(/family inet7/);
    expect(bad({ forwarding: 'nat' as never })).toThrow(/forwarding nat/);
  });
});

describe('PackedTable against diff', () => {
  it('a realistic desired table: diff finds nothing to do either way', () => {
    const g = group('web', [
      { kind: 'ip', address: '10.0.0.1', port: 80, family: 4, pos },
      { kind: 'range', address: '10.0.0.10', rangeEnd: 12, port: 443, family: 4, pos },
      { kind: 'fwmark', fwmark: 5, pos },
    ]);
    const realServers = Array.from({ length: 50 }, (_, i) =>
      realServer(`10.1.${i >> 4}.${i & 15}`, 8080, {
        weight: i % 7,
        uthreshold: i % 3 ? 0 : 1000,
        lthreshold: i % 3 ? 0 : 100,
        lbKind: i % 5 === 0 ? 'TUN' : null,
        inhibitOnFailure: i % 2 === 0,
      }),
    );
    const grouped = virtualServer('x', 0, { key: { kind: 'group', group: 'web' }, lbKind: 'DR', realServers });
    const v6 = virtualServer('2001:db8::1', 443, {
      lbAlgo: 'wlc',
      persistenceTimeoutS: 300,
      persistenceGranularity: '64',
      realServers: Array.from({ length: 20 }, (_, i) => realServer(`2001:db8:1::${(i + 1).toString(16)}`, 443, { weight: 100 + i })),
    });
    const fwmark = virtualServer('x', 0, {
      key: { kind: 'fwmark', fwmark: 9, family: 4 },
      lbKind: 'DR',
      realServers: [realServer('10.2.0.1', 0), realServer('10.2.0.2', 0)],
    });
    const empty = virtualServer('10.0.0.99', 80, { realServers: [] });
    const health = new Map<string, { up: boolean; dynamicWeight: number | null }>();
    realServers.forEach((rs, i) => {
      if (i % 4 === 1) health.set(healthKey(grouped, rs), { up: false, dynamicWeight: null });
    });
    const state: TableState = { health, quorumUp: new Map() };

    const desired = desiredTable(config([grouped, v6, fwmark, empty], [g]), state).entries;
    const packed = PackedTable.of(desired);
    expect(packed.serviceCount).toBe(desired.length);
    expect(packed.destinationCount).toBe(desired.reduce((n, e) => n + e.destinations.length, 0));
    expect(packed.destinationCount).toBeGreaterThan(200);
    const back = packed.entries();
    expect(diff(back, desired)).toEqual([]);
    expect(diff(desired, back)).toEqual([]);
    expect(back).toStrictEqual(desired);
  });
});
