// Configured routes and rules to rtnetlink bytes: the parsed line (config/iproute.ts) through
// routeToSpec / ruleToSpec and the codec (netlink/route/codec.ts), checked field by field in
// the message the kernel receives.
import { afterAll, describe, expect, it } from 'vitest';
import { decodeAttrs } from '../netlink/wire.js';
import { encodeFullRoute, encodeRule, routeAddFlags } from '../netlink/route/codec.js';
import { configOf, removeConfigFiles } from './engine-testkit.js';
import { routeToSpec, routingChanges, ruleToSpec, staticAddressChanges } from './routing.js';

const IFINDEX: Record<string, number> = { eth0: 2, eth1: 3 };
const ifindexOf = (n: string) => IFINDEX[n] ?? null;

function parsed(routes: string[], rules: string[] = []) {
  const c = configOf(`static_routes {\n${routes.join('\n')}\n}\nstatic_rules {\n${rules.join('\n')}\n}\n`);
  return c;
}

function routeMessage(line: string, op: 'add' | 'delete' = 'add') {
  const route = parsed([line]).staticRoutes[0]!;
  const spec = routeToSpec(route, ifindexOf);
  if ('missing' in spec) throw new Error(`no ${spec.missing}`);
  const buf = encodeFullRoute(spec, op);
  return { header: [...buf.subarray(0, 8)], flags: buf.readUInt32LE(8), attrs: decodeAttrs(buf.subarray(12)), route };
}

const ip = (b: Buffer | undefined) => (b ? [...b].join('.') : undefined);

describe('configured routes as RTM_NEWROUTE / RTM_DELROUTE', () => {
  afterAll(() => removeConfigFiles());

  it('via, dev, src, metric, table 100: header and attributes as keepalived sends them', () => {
    const { header, attrs } = routeMessage('src 10.0.0.1 10.9.0.0/24 via 10.0.0.254 dev eth0 metric 5 table 100');
    // family AF_INET, /24, no source, tos 0, table 100, protocol keepalived 18, scope universe, unicast
    expect(header).toEqual([2, 24, 0, 0, 100, 18, 0, 1]);
    expect(ip(attrs.get(1))).toBe('10.9.0.0'); // RTA_DST
    expect(ip(attrs.get(5))).toBe('10.0.0.254'); // RTA_GATEWAY
    expect(ip(attrs.get(7))).toBe('10.0.0.1'); // RTA_PREFSRC
    expect(attrs.u32(4)).toBe(2); // RTA_OIF
    expect(attrs.u32(6)).toBe(5); // RTA_PRIORITY
    expect(attrs.has(15)).toBe(false); // RTA_TABLE only past 255
  });

  it('a delete asks for scope nowhere (any scope matches); a table past 255 goes in RTA_TABLE', () => {
    const { header, attrs } = routeMessage('blackhole 10.7.0.0/16 table 1000', 'delete');
    expect(header).toEqual([2, 16, 0, 0, 0, 18, 255, 6]);
    expect(attrs.u32(15)).toBe(1000);
    expect(attrs.has(4)).toBe(false);
  });

  it('multipath: one rtnexthop per hop, weight - 1 in rtnh_hops, the gateway inside', () => {
    const { attrs } = routeMessage('10.6.0.0/24 nexthop via 10.0.0.1 dev eth0 weight 3 nexthop via 10.0.1.1 dev eth1 onlink');
    const mp = attrs.get(9)!;
    expect(mp.readUInt16LE(0)).toBe(16); // rtnexthop 8 + RTA_GATEWAY 8
    expect([mp[2], mp[3], mp.readInt32LE(4)]).toEqual([0, 2, 2]);
    expect(ip(decodeAttrs(mp.subarray(8, 16)).get(5))).toBe('10.0.0.1');
    expect([mp[18], mp[19], mp.readInt32LE(20)]).toEqual([4, 0, 3]); // RTNH_F_ONLINK
    expect(ip(decodeAttrs(mp.subarray(24, 32)).get(5))).toBe('10.0.1.1');
    expect(mp.length).toBe(32);
  });

  it('metrics nest in RTA_METRICS with their lock mask; scope and tos in the header', () => {
    const { header, attrs } = routeMessage('10.8.0.0/24 dev eth0 mtu lock 1400 advmss 1360 scope link tos 0x10 no_track protocol static');
    expect(header).toEqual([2, 24, 0, 16, 254, 4, 253, 1]);
    const m = decodeAttrs(attrs.get(8)!);
    expect([m.u32(2), m.u32(8), m.u32(1)]).toEqual([1400, 1360, 1 << 2]);
  });

  it('IPv6 with a source prefix, pref and expires', () => {
    const { header, attrs } = routeMessage('2001:db8:2::/64 from 2001:db8:9::/48 via fe80::1 dev eth0 pref high expires 30');
    expect(header.slice(0, 3)).toEqual([10, 64, 48]);
    expect(attrs.get(2)!.length).toBe(16); // RTA_SRC
    expect(attrs.u8(20)).toBe(1); // RTA_PREF high
    expect(attrs.u32(23)).toBe(30); // RTA_EXPIRES
  });

  it('a device this host lacks is named, not sent', () => {
    const route = parsed(['10.5.0.0/24 dev eth0']).staticRoutes[0]!;
    expect(routeToSpec({ ...route, dev: 'eth9' }, ifindexOf)).toEqual({ missing: 'eth9' });
  });

  it("add modes: prepend is a plain create (keepalived's default), add is exclusive, append appends", () => {
    expect(routeAddFlags('prepend')).toBe(0x400);
    expect(routeAddFlags('add')).toBe(0x600);
    expect(routeAddFlags('append')).toBe(0xc00);
  });
});

describe('configured rules as RTM_NEWRULE / RTM_DELRULE', () => {
  it('from/to/table/priority/fwmark/iif; protocol keepalived', () => {
    const rule = parsed([], ['from 10.0.0.0/24 to 10.9.0.0/16 fwmark 0x10/0xff iif eth0 table 100 priority 300']).staticRules[0]!;
    const buf = encodeRule(ruleToSpec(rule));
    // family, dst_len, src_len, tos, table, res1, res2, action FR_ACT_TO_TBL
    expect([...buf.subarray(0, 8)]).toEqual([2, 16, 24, 0, 100, 0, 0, 1]);
    const a = decodeAttrs(buf.subarray(12));
    expect([ip(a.get(2)), ip(a.get(1))]).toEqual(['10.0.0.0', '10.9.0.0']);
    expect([a.u32(6), a.u32(10), a.u32(16), a.u8(21)]).toEqual([300, 16, 255, 18]);
    expect(a.get(3)!.toString()).toBe('eth0\0');
  });

  it('not, goto, uidrange, ports, ipproto, big tables', () => {
    const [inv, go, ports] = parsed(
      [],
      [
        'not from 10.0.0.0/8 table 1000 priority 5',
        'from 10.0.0.0/8 goto 200 priority 100',
        'ipproto tcp dport 80-90 sport 1000-1000 uidrange 10-20 table 7 priority 9',
      ],
    ).staticRules;
    const b1 = encodeRule(ruleToSpec(inv!));
    expect([b1[4], b1[7], b1.readUInt32LE(8)]).toEqual([0, 1, 2]); // table in FRA_TABLE, FIB_RULE_INVERT
    expect(decodeAttrs(b1.subarray(12)).u32(15)).toBe(1000);
    const b2 = encodeRule(ruleToSpec(go!));
    expect(b2[7]).toBe(2);
    expect(decodeAttrs(b2.subarray(12)).u32(4)).toBe(200);
    const a3 = decodeAttrs(encodeRule(ruleToSpec(ports!)).subarray(12));
    expect(a3.u8(22)).toBe(6);
    expect([...a3.get(24)!]).toEqual([80, 0, 90, 0]);
    expect([...a3.get(23)!]).toEqual([0xe8, 3, 0xe8, 3]);
    expect([a3.get(20)!.readUInt32LE(0), a3.get(20)!.readUInt32LE(4)]).toEqual([10, 20]);
  });
});

describe('reload diffs', () => {
  it('compare what a route or rule is, not where it was written', () => {
    const a = parsed(['10.1.0.0/24 dev eth0', '10.2.0.0/24 dev eth0'], ['from 10.0.0.0/8 table 5 priority 1']);
    const b = parsed(['', '10.2.0.0/24 dev eth0', '10.3.0.0/24 dev eth0'], ['from 10.0.0.0/8 table 5 priority 1']);
    const ch = routingChanges(a.staticRoutes, b.staticRoutes);
    expect(ch.remove.map((r) => r.text)).toEqual(['10.1.0.0/24 dev eth0']);
    expect(ch.add.map((r) => r.text)).toEqual(['10.3.0.0/24 dev eth0']);
    expect(routingChanges(a.staticRules, b.staticRules)).toEqual({ remove: [], add: [] });
    const addrs = configOf('static_ipaddress {\n10.0.0.5/24 dev eth0\n}\n').staticAddresses;
    const moved = configOf('static_ipaddress {\n10.0.0.5/24 dev eth1\n}\n').staticAddresses;
    expect(staticAddressChanges(addrs, moved)).toEqual({ remove: addrs, add: moved });
  });
});
