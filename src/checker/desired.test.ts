import { describe, expect, it } from 'vitest';
import { config, group, pos, realServer, tcpCheck, virtualServer } from '../../test/checker/model-kit.js';
import type { VirtualServer } from '../config/model.js';
import { diff } from '../ipvs/diff.js';
import { noFlags } from '../ipvs/model.js';
import {
  type RealServerHealth,
  type TableState,
  checkExpressible,
  configuredServiceIds,
  desiredTable,
  expandRange,
  flagsOf,
  healthKey,
  initialHealth,
  initialQuorum,
  nextQuorum,
  persistencePrefix,
  virtualServerId,
} from './desired.js';

const empty: TableState = { health: new Map(), quorumUp: new Map() };

function withHealth(vs: VirtualServer, h: Record<string, Partial<RealServerHealth>>, quorumUp?: boolean): TableState {
  const health = new Map<string, RealServerHealth>();
  for (const [id, v] of Object.entries(h)) {
    const [address, port] = [id.slice(0, id.lastIndexOf(':')), Number(id.slice(id.lastIndexOf(':') + 1))];
    health.set(healthKey(vs, { address, port }), { up: true, dynamicWeight: null, ...v });
  }
  const quorum = new Map<string, boolean>();
  if (quorumUp !== undefined) quorum.set(virtualServerId(vs), quorumUp);
  return { health, quorumUp: quorum };
}

const dests = (vs: VirtualServer, state: TableState) =>
  desiredTable(config([vs]), state).entries[0]!.destinations.map((d) => `${d.address}:${d.port}/${d.weight}`);

describe('converters', () => {
  it('maps lb_kind to the forwarding method, per real server override included', () => {
    const vs = virtualServer('10.0.0.1', 80, {
      lbKind: 'DR',
      realServers: [realServer('10.1.0.1', 80), realServer('10.1.0.2', 80, { lbKind: 'TUN' }), realServer('10.1.0.3', 80, { lbKind: 'NAT' })],
    });
    const d = desiredTable(config([vs]), empty).entries[0]!.destinations;
    expect(d.map((x) => x.forwarding)).toEqual(['route', 'tunnel', 'masquerade']);
  });

  it('builds the service: protocol, scheduler, persistence, engine', () => {
    const vs = virtualServer('10.0.0.1', 443, {
      protocol: 'UDP',
      lbAlgo: 'wlc',
      persistenceTimeoutS: 600,
      persistenceGranularity: '255.255.255.0',
      persistenceEngine: 'sip',
    });
    const [e] = desiredTable(config([vs]), empty).entries;
    expect(e!.service).toEqual({
      family: 'inet',
      protocol: 'udp',
      address: '10.0.0.1',
      port: 443,
      scheduler: 'wlc',
      flags: { ...noFlags(), persistent: true },
      timeout: 600,
      prefix: 24,
      pe: 'sip',
    });
  });

  it('non-persistent services carry timeout 0 and a host prefix', () => {
    const [e4] = desiredTable(config([virtualServer('10.0.0.1', 80)]), empty).entries;
    const [e6] = desiredTable(config([virtualServer('2001:db8::1', 80, { protocol: 'SCTP' })]), empty).entries;
    expect([e4!.service.timeout, e4!.service.prefix, e4!.service.flags.persistent]).toEqual([0, 32, false]);
    expect([e6!.service.family, e6!.service.prefix, 'protocol' in e6!.service && e6!.service.protocol]).toEqual(['inet6', 128, 'sctp']);
  });

  it('persistence_granularity: dotted masks and IPv6 prefix lengths', () => {
    expect(persistencePrefix('255.255.255.255', 'inet')).toBe(32);
    expect(persistencePrefix('255.255.0.0', 'inet')).toBe(16);
    expect(persistencePrefix('0.0.0.0', 'inet')).toBe(0);
    expect(persistencePrefix('64', 'inet6')).toBe(64);
    expect(persistencePrefix(null, 'inet6')).toBe(128);
    expect(() => persistencePrefix('255.0.255.0', 'inet')).toThrow(/contiguous/);
    expect(() => persistencePrefix('129', 'inet6')).toThrow(/longer/);
  });

  it('scheduler flags and ops become IPVS flag bits', () => {
    const f = (schedulerFlags: string[], ops = false) => flagsOf(virtualServer('10.0.0.1', 80, { schedulerFlags, ops }));
    expect(f(['sh-port'])).toEqual({ ...noFlags(), schedPort: true });
    expect(f(['sh-fallback', 'sh-port'])).toEqual({ ...noFlags(), schedPort: true, schedFallback: true });
    expect(f(['mh-fallback'])).toEqual({ ...noFlags(), schedFallback: true });
    expect(f(['flag-3'])).toEqual({ ...noFlags(), sched3: true });
    expect(f(['one-packet'], true)).toEqual({ ...noFlags(), onePacket: true });
    expect(() => f(['bogus'])).toThrow(/bogus/);
  });

  it('fwmark services, with thresholds on the destinations', () => {
    const vs = virtualServer('x', 0, {
      key: { kind: 'fwmark', fwmark: 7, family: 6 },
      realServers: [realServer('2001:db8::10', 80, { uthreshold: 100, lthreshold: 10, weight: 3 })],
    });
    const [e] = desiredTable(config([vs]), empty).entries;
    expect(e!.service).toMatchObject({ family: 'inet6', fwmark: 7 });
    expect(e!.destinations).toEqual([
      {
        family: 'inet6',
        address: '2001:db8::10',
        port: 80,
        forwarding: 'masquerade',
        weight: 3,
        upperThreshold: 100,
        lowerThreshold: 10,
        tunnel: null,
      },
    ]);
  });
});

describe('health rules', () => {
  const rs1 = realServer('10.1.0.1', 80, { weight: 2 });
  const rs2 = realServer('10.1.0.2', 80, { weight: 3 });

  it('starts every real server up with its weight', () => {
    expect(dests(virtualServer('10.0.0.1', 80, { realServers: [rs1, rs2] }), empty)).toEqual(['10.1.0.1:80/2', '10.1.0.2:80/3']);
  });

  it('removes a real server that is down', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: [rs1, rs2] });
    expect(dests(vs, withHealth(vs, { '10.1.0.1:80': { up: false } }))).toEqual(['10.1.0.2:80/3']);
  });

  it('keeps a down real server at weight 0 with inhibit_on_failure', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: [{ ...rs1, inhibitOnFailure: true }, rs2] });
    expect(dests(vs, withHealth(vs, { '10.1.0.1:80': { up: false } }))).toEqual(['10.1.0.1:80/0', '10.1.0.2:80/3']);
  });

  it('uses the dynamic weight (misc_dynamic) when one is set', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: [rs1, rs2] });
    expect(dests(vs, withHealth(vs, { '10.1.0.2:80': { dynamicWeight: 9 } }))).toEqual(['10.1.0.1:80/2', '10.1.0.2:80/9']);
  });

  it('alpha: a real server starts down until its first success', () => {
    const a = realServer('10.1.0.1', 80, { alpha: true });
    expect(initialHealth(a).up).toBe(false);
    expect(initialHealth(realServer('10.1.0.1', 80, { checkers: [tcpCheck({ alpha: true })] })).up).toBe(false);
    expect(initialHealth(rs1).up).toBe(true);
    const vs = virtualServer('10.0.0.1', 80, { realServers: [a, rs2] });
    expect(dests(vs, empty)).toEqual(['10.1.0.2:80/3']);
    expect(dests(vs, withHealth(vs, { '10.1.0.1:80': { up: true } }))).toEqual(['10.1.0.1:80/1', '10.1.0.2:80/3']);
  });

  it('a real server with no checker is always up, alpha or not', () => {
    const bare = realServer('10.1.0.1', 80, { alpha: true, checkers: [] });
    expect(initialHealth(bare)).toEqual({ up: true, dynamicWeight: null });
  });

  it('alpha with inhibit_on_failure starts in the table at weight 0', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: [realServer('10.1.0.1', 80, { alpha: true, inhibitOnFailure: true })] });
    expect(dests(vs, empty)).toEqual(['10.1.0.1:80/0']);
  });
});

describe('quorum, hysteresis and the sorry server', () => {
  const sorry = { address: '10.9.9.9', port: 8080, family: 4 as const, lbKind: null };
  const rs = [1, 2, 3].map((i) => realServer(`10.1.0.${i}`, 80, { weight: 1 }));

  it('brings the sorry server in when no real server is up', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: rs, sorryServer: sorry });
    expect(dests(vs, empty)).toEqual(['10.1.0.1:80/1', '10.1.0.2:80/1', '10.1.0.3:80/1']);
    const allDown = withHealth(vs, { '10.1.0.1:80': { up: false }, '10.1.0.2:80': { up: false }, '10.1.0.3:80': { up: false } });
    expect(initialQuorum(vs, allDown)).toBe(false);
    expect(dests(vs, allDown)).toEqual(['10.9.9.9:8080/1']);
  });

  it('sorry server uses its own lvs method or the virtual server lb_kind', () => {
    const vs = virtualServer('10.0.0.1', 80, { lbKind: 'DR', realServers: [], sorryServer: { ...sorry, lbKind: 'NAT' } });
    expect(desiredTable(config([vs]), empty).entries[0]!.destinations[0]!.forwarding).toBe('masquerade');
    const vs2 = virtualServer('10.0.0.1', 80, { lbKind: 'DR', realServers: [], sorryServer: sorry });
    expect(desiredTable(config([vs2]), empty).entries[0]!.destinations[0]!.forwarding).toBe('route');
  });

  it('sorry_server_inhibit keeps the idle sorry server at weight 0', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: rs.slice(0, 1), sorryServer: sorry, sorryServerInhibit: true });
    expect(dests(vs, empty)).toEqual(['10.1.0.1:80/1', '10.9.9.9:8080/0']);
    expect(dests(vs, withHealth(vs, { '10.1.0.1:80': { up: false } }))).toEqual(['10.9.9.9:8080/1']);
  });

  it('losing quorum with a sorry server takes the live real servers out', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: rs, sorryServer: sorry, quorum: 2 });
    const oneUp = withHealth(vs, { '10.1.0.1:80': { up: false }, '10.1.0.2:80': { up: false } });
    expect(initialQuorum(vs, oneUp)).toBe(false);
    expect(dests(vs, oneUp)).toEqual(['10.9.9.9:8080/1']);
  });

  it('losing quorum without a sorry server leaves the live servers serving', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: rs, quorum: 3 });
    expect(dests(vs, withHealth(vs, { '10.1.0.1:80': { up: false } }, false))).toEqual(['10.1.0.2:80/1', '10.1.0.3:80/1']);
  });

  it('hysteresis: lost below quorum - h, regained at quorum + h', () => {
    const five = [1, 2, 3, 4, 5].map((i) => realServer(`10.1.0.${i}`, 80));
    const vs = virtualServer('10.0.0.1', 80, { realServers: five, quorum: 3, hysteresis: 1 });
    const upCount = (n: number) => withHealth(vs, Object.fromEntries(five.map((r, i) => [`${r.address}:80`, { up: i < n }])));
    // while up: 2 live servers (>= 3-1) keep quorum, 1 loses it
    expect(nextQuorum(vs, upCount(2), true)).toBe(true);
    expect(nextQuorum(vs, upCount(1), true)).toBe(false);
    // while down: 3 is not enough (< 3+1), 4 regains it
    expect(nextQuorum(vs, upCount(3), false)).toBe(false);
    expect(nextQuorum(vs, upCount(4), false)).toBe(true);
  });

  it('quorum counts weights, and zero live weight always loses it', () => {
    const vs = virtualServer('10.0.0.1', 80, {
      realServers: [realServer('10.1.0.1', 80, { weight: 5 }), realServer('10.1.0.2', 80, { weight: 0 })],
      quorum: 5,
      hysteresis: 10,
    });
    expect(nextQuorum(vs, withHealth(vs, {}), true)).toBe(true);
    expect(nextQuorum(vs, withHealth(vs, { '10.1.0.1:80': { up: false } }), true)).toBe(false);
    expect(nextQuorum({ ...vs, quorum: 0, hysteresis: 0 }, withHealth(vs, { '10.1.0.1:80': { up: false } }), true)).toBe(false);
  });

  it('the remembered quorum state wins over the bare threshold', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: rs, sorryServer: sorry, quorum: 3 });
    // quorum still up (hysteresis kept it) although only two are up: no sorry server
    const s = withHealth(vs, { '10.1.0.1:80': { up: false } }, true);
    expect(dests(vs, s)).toEqual(['10.1.0.2:80/1', '10.1.0.3:80/1']);
  });

  it('a sorry server that is also a real server follows the real server', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: rs.slice(0, 1), sorryServer: { ...sorry, address: '10.1.0.1', port: 80 } });
    expect(dests(vs, empty)).toEqual(['10.1.0.1:80/1']);
  });
});

describe('virtual_server_group', () => {
  it('every member address, range and fwmark becomes its own service with the same real servers', () => {
    const g = group('web', [
      { kind: 'ip', address: '10.0.0.1', port: 80, family: 4, pos },
      { kind: 'range', address: '10.0.0.10', rangeEnd: 12, port: 443, family: 4, pos },
      { kind: 'fwmark', fwmark: 5, pos },
    ]);
    const vs = virtualServer('x', 0, { key: { kind: 'group', group: 'web' }, realServers: [realServer('10.1.0.1', 0)] });
    const t = desiredTable(config([vs], [g]), empty);
    expect(t.entries.map((e) => ('fwmark' in e.service ? `fwm ${e.service.fwmark}` : `${e.service.address}:${e.service.port}`))).toEqual([
      '10.0.0.1:80',
      '10.0.0.10:443',
      '10.0.0.11:443',
      '10.0.0.12:443',
      'fwm 5',
    ]);
    for (const e of t.entries) expect(e.destinations.map((d) => d.address)).toEqual(['10.1.0.1']);
    // copies, so one service's destinations can be edited without touching another's
    expect(t.entries[0]!.destinations[0]).not.toBe(t.entries[1]!.destinations[0]);
  });

  it("DR and TUN destinations take each member service's port (0 under a fwmark), NAT keeps the real server's", () => {
    const g = group('web', [
      { kind: 'ip', address: '10.0.0.1', port: 80, family: 4, pos },
      { kind: 'ip', address: '10.0.0.2', port: 8000, family: 4, pos },
      { kind: 'fwmark', fwmark: 5, pos },
    ]);
    const vs = virtualServer('x', 0, {
      key: { kind: 'group', group: 'web' },
      lbKind: 'DR',
      realServers: [realServer('10.1.0.1', 8080), realServer('10.1.0.2', 0, { lbKind: 'TUN' }), realServer('10.1.0.3', 8081, { lbKind: 'NAT' })],
    });
    const t = desiredTable(config([vs], [g]), empty);
    expect(t.entries.map((e) => e.destinations.map((d) => `${d.address}:${d.port}`))).toEqual([
      ['10.1.0.1:80', '10.1.0.2:80', '10.1.0.3:8081'],
      ['10.1.0.1:8000', '10.1.0.2:8000', '10.1.0.3:8081'],
      ['10.1.0.1:0', '10.1.0.2:0', '10.1.0.3:8081'],
    ]);
  });

  it('IPv6 ranges run over the last hextet; fwmark members take the real servers family', () => {
    expect(expandRange('2001:db8::fe', 0x101, 6)).toEqual(['2001:db8::fe', '2001:db8::ff', '2001:db8::100', '2001:db8::101']);
    const g = group('g6', [{ kind: 'fwmark', fwmark: 9, pos }]);
    const vs = virtualServer('x', 0, { key: { kind: 'group', group: 'g6' }, realServers: [realServer('2001:db8::5', 80)] });
    expect(desiredTable(config([vs], [g]), empty).entries[0]!.service).toMatchObject({ family: 'inet6', fwmark: 9 });
  });

  it('an unknown group is an error, not an empty table', () => {
    const vs = virtualServer('x', 0, { key: { kind: 'group', group: 'nope' } });
    expect(() => desiredTable(config([vs]), empty)).toThrow(/nope/);
  });

  it('checkExpressible refuses what desiredTable refuses, and passes what it builds', () => {
    const cases = [
      virtualServer('x', 0, { key: { kind: 'group', group: 'nope' } }),
      virtualServer('10.0.0.1', 80, { schedulerFlags: ['bogus'], realServers: [realServer('10.1.0.1', 80)] }),
      virtualServer('10.0.0.2', 80, { persistenceTimeoutS: 60, persistenceGranularity: '255.0.255.0', realServers: [realServer('10.1.0.1', 80)] }),
    ];
    for (const vs of cases) {
      const error = (f: () => unknown) => {
        try {
          f();
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      };
      const refused = error(() => desiredTable(config([vs]), empty));
      expect(refused).not.toBeNull();
      expect(error(() => checkExpressible(config([vs])))).toBe(refused);
    }
    const fine = virtualServer('10.0.0.3', 80, { realServers: [realServer('10.1.0.1', 80)] });
    expect(() => checkExpressible(config([fine]))).not.toThrow();
  });

  it('health is kept per virtual server: the group shares it across members', () => {
    const g = group('web', [
      { kind: 'ip', address: '10.0.0.1', port: 80, family: 4, pos },
      { kind: 'ip', address: '10.0.0.2', port: 80, family: 4, pos },
    ]);
    const vs = virtualServer('x', 0, { key: { kind: 'group', group: 'web' }, realServers: [realServer('10.1.0.1', 80), realServer('10.1.0.2', 80)] });
    const t = desiredTable(config([vs], [g]), withHealth(vs, { '10.1.0.1:80': { up: false } }));
    expect(t.entries.map((e) => e.destinations.map((d) => d.address))).toEqual([['10.1.0.2'], ['10.1.0.2']]);
  });
});

describe('table-level', () => {
  it('a service claimed twice is reported, the first definition wins', () => {
    const a = virtualServer('10.0.0.1', 80, { lbAlgo: 'rr' });
    const b = virtualServer('10.0.0.1', 80, { lbAlgo: 'wlc' });
    const t = desiredTable(config([a, b]), empty);
    expect(t.entries).toHaveLength(1);
    expect(t.entries[0]!.service.scheduler).toBe('rr');
    expect(t.conflicts).toEqual(['tcp:inet:[10.0.0.1]:80']);
  });

  it('configured ids do not depend on health', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: [realServer('10.1.0.1', 80, { alpha: true })] });
    expect(configuredServiceIds(config([vs]))).toEqual(['tcp:inet:[10.0.0.1]:80']);
  });

  it('one real server going down is exactly one operation against the previous table', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: [realServer('10.1.0.1', 80), realServer('10.1.0.2', 80)] });
    const before = desiredTable(config([vs]), empty).entries;
    const after = desiredTable(config([vs]), withHealth(vs, { '10.1.0.2:80': { up: false } })).entries;
    expect(diff(after, before)).toEqual([
      { op: 'delete-destination', service: { family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, destination: before[0]!.destinations[1] },
    ]);
    expect(diff(before, before)).toEqual([]);
  });

  it('identities: virtual servers by address/port/protocol, fwmark or group; IPv6 canonical', () => {
    expect(virtualServerId(virtualServer('2001:DB8:0::1', 80))).toBe(virtualServerId(virtualServer('2001:db8::1', 80)));
    expect(virtualServerId(virtualServer('10.0.0.1', 80, { protocol: 'UDP' }))).not.toBe(virtualServerId(virtualServer('10.0.0.1', 80)));
    expect(virtualServerId(virtualServer('x', 0, { key: { kind: 'fwmark', fwmark: 3, family: 4 } }))).toBe('fwmark:4:3');
    expect(virtualServerId(virtualServer('x', 0, { key: { kind: 'group', group: 'g' } }))).toBe('group:TCP:g');
  });
});

describe('combinations', () => {
  const sorry = { address: '10.9.9.9', port: 80, family: 4 as const, lbKind: null };

  it('quorum lost with a sorry server and inhibit_on_failure: live servers stay at weight 0', () => {
    const vs = virtualServer('10.0.0.1', 80, {
      quorum: 3,
      sorryServer: sorry,
      realServers: [realServer('10.1.0.1', 80, { inhibitOnFailure: true }), realServer('10.1.0.2', 80, { inhibitOnFailure: true })],
    });
    expect(dests(vs, empty)).toEqual(['10.1.0.1:80/0', '10.1.0.2:80/0', '10.9.9.9:80/1']);
  });

  it('persistent fwmark service over IPv6 with a /64 granularity and tunnel real servers', () => {
    const vs = virtualServer('x', 0, {
      key: { kind: 'fwmark', fwmark: 42, family: 6 },
      lbKind: 'TUN',
      lbAlgo: 'sh',
      schedulerFlags: ['sh-port'],
      persistenceTimeoutS: 300,
      persistenceGranularity: '64',
      realServers: [realServer('2001:db8::a', 0)],
    });
    const [e] = desiredTable(config([vs]), empty).entries;
    expect(e!.service).toEqual({
      family: 'inet6',
      fwmark: 42,
      scheduler: 'sh',
      flags: { ...noFlags(), persistent: true, schedPort: true },
      timeout: 300,
      prefix: 64,
      pe: null,
    });
    expect(e!.destinations[0]).toMatchObject({ family: 'inet6', forwarding: 'tunnel', port: 0, tunnel: null });
  });

  it('a down real server with a dynamic weight leaves; inhibited it is 0 whatever its dynamic weight', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: [realServer('10.1.0.1', 80, { inhibitOnFailure: true })] });
    expect(dests(vs, withHealth(vs, { '10.1.0.1:80': { up: false, dynamicWeight: 7 } }))).toEqual(['10.1.0.1:80/0']);
  });

  it('a real server listed twice under one virtual server appears once', () => {
    const vs = virtualServer('10.0.0.1', 80, { realServers: [realServer('10.1.0.1', 80, { weight: 2 }), realServer('10.1.0.1', 80, { weight: 5 })] });
    expect(dests(vs, empty)).toEqual(['10.1.0.1:80/5']);
  });

  it('the same real server under two virtual servers has independent health', () => {
    const a = virtualServer('10.0.0.1', 80, { realServers: [realServer('10.1.0.1', 80)] });
    const b = virtualServer('10.0.0.2', 80, { realServers: [realServer('10.1.0.1', 80)] });
    const state = withHealth(a, { '10.1.0.1:80': { up: false } });
    const t = desiredTable(config([a, b]), state);
    expect(t.entries.map((e) => e.destinations.length)).toEqual([0, 1]);
  });
});
