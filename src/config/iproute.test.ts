import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Word } from './ast.js';
import { RulePriorities, parseRoute, parseRule, systemRtNames, type IpLineContext, type RtNames } from './iproute.js';
import { Diagnostics } from './schema-check.js';

const NAMES: RtNames = {
  lookup: (file, name) =>
    ({ rt_tables: { main: 254, local: 255, vips: 100 }, rt_protos: { static: 4, bird: 12 }, rt_scopes: { link: 253, host: 254, global: 0 } })[
      file as 'rt_tables'
    ]?.[name] ?? null,
};

function words(line: string): Word[] {
  const out: Word[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push({ text: m[0], quoted: false, pos: { file: 't.conf', line: 3, column: m.index + 1 } });
  return out;
}

function context(isStatic = false) {
  const diags = new Diagnostics();
  const interfaces: string[] = [];
  const ctx: IpLineContext = { diags, names: NAMES, isStatic, trackGroups: new Set(['tg1']), onInterface: (n) => interfaces.push(n) };
  return { ctx, diags, interfaces };
}

const pos = { file: 't.conf', line: 3, column: 1 };

function route(line: string, isStatic = false) {
  const { ctx, diags, interfaces } = context(isStatic);
  const r = parseRoute(words(line), pos, ctx);
  return { r, messages: diags.list.map((d) => `${d.pos.column}: ${d.message}`), interfaces, tolerated: diags.list.every((d) => diags.tolerated.has(d)) };
}

function rule(line: string, priorities = new RulePriorities()) {
  const { ctx, diags, interfaces } = context();
  const r = parseRule(words(line), pos, ctx, priorities);
  return { r, messages: diags.list.map((d) => `${d.pos.column}: ${d.message}`), interfaces };
}

describe('virtual_routes / static_routes lines (keepalived alloc_route)', () => {
  it('reads src, destination, via, dev, table by name, metric; a tracked route gets protocol keepalived (18)', () => {
    const { r, messages, interfaces } = route('src 10.0.0.1 10.1.0.0/24 via 10.0.0.254 dev eth0 table vips metric 7');
    expect(r).toMatchObject({
      family: 4,
      type: 1,
      src: '10.0.0.1',
      destination: { family: 4, address: '10.1.0.0', prefix: 24 },
      via: { family: 4, address: '10.0.0.254' },
      dev: 'eth0',
      table: 100,
      metric: 7,
      protocol: 18,
      track: true,
      mode: 'prepend',
    });
    expect(messages).toEqual([]);
    expect(interfaces).toEqual(['eth0']);
  });

  it("a route without dev cannot be tracked: kept, with keepalived's remark", () => {
    const { r, messages, tolerated } = route('10.1.0.0/24 via 10.0.0.254');
    expect(r).toMatchObject({ track: false, protocol: 18, dev: null });
    expect(messages).toEqual([expect.stringContaining('cannot track route 10.1.0.0/24 with no interface specified')]);
    expect(tolerated).toBe(false); // a warning: the route is installed as keepalived installs it
  });

  it('types: blackhole, unreachable, prohibit, throw, `to TYPE PREFIX`, `default`', () => {
    expect(route('blackhole 10.2.0.0/16 no_track').r).toMatchObject({ type: 6, destination: { address: '10.2.0.0', prefix: 16 } });
    expect(route('unreachable 10.3.0.0/16 no_track').r).toMatchObject({ type: 7 });
    expect(route('to prohibit 10.4.0.0/16 no_track').r).toMatchObject({ type: 8 });
    expect(route('throw 10.5.0.0/16 table 100 no_track').r).toMatchObject({ type: 9, table: 100 });
    expect(route('default via 10.0.0.1 dev eth0').r).toMatchObject({ destination: { family: 4, address: '0.0.0.0', prefix: 0 } });
    expect(route('default via fe80::1 dev eth0').r).toMatchObject({ family: 6, destination: { address: '::', prefix: 0 } });
  });

  it('no_track keeps the protocol written (by name or number); a tracked route resets it with a remark', () => {
    expect(route('10.1.0.0/24 dev eth0 protocol bird no_track').r).toMatchObject({ protocol: 12, track: false });
    const tracked = route('10.1.0.0/24 dev eth0 protocol 99');
    expect(tracked.r).toMatchObject({ protocol: 18 });
    expect(tracked.messages).toEqual([expect.stringContaining('resets it')]);
  });

  it('multipath: nexthop via/dev/weight/onlink, and the legacy `or`', () => {
    const { r, interfaces } = route('10.6.0.0/24 nexthop via 10.0.0.1 dev eth0 weight 2 nexthop via 10.0.1.1 dev eth1 onlink');
    expect(r?.nexthops).toEqual([
      { via: { family: 4, address: '10.0.0.1' }, dev: 'eth0', weight: 2, onlink: false, realms: null },
      { via: { family: 4, address: '10.0.1.1' }, dev: 'eth1', weight: null, onlink: true, realms: null },
    ]);
    expect(interfaces).toEqual(['eth0', 'eth1']);
    const or = route('10.7.0.0/24 via 10.0.0.1 or 10.0.0.2');
    expect(or.r?.via).toBeNull();
    expect(or.r?.nexthops.map((n) => n.via?.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(or.messages[0]).toContain('`or` for routes is deprecated');
  });

  it('metrics with lock, scope, onlink, tos, realms, IPv6 pref and expires, append', () => {
    const { r } = route(
      '10.8.0.0/24 dev eth0 mtu lock 1400 advmss 1360 hoplimit 9 initcwnd 10 rtt 2s rto_min 300ms scope link onlink tos 0x10 realms 3/4 append',
    );
    expect(r).toMatchObject({
      metrics: { mtu: 1400, advmss: 1360, hoplimit: 9, initcwnd: 10, rtt: 16000, rto_min: 300 },
      locked: ['mtu'],
      scope: 253,
      onlink: true,
      tos: 16,
      realms: (3 << 16) | 4,
      mode: 'append',
    });
    expect(route('2001:db8:1::/64 dev eth0 pref high expires 30').r).toMatchObject({ family: 6, pref: 1, expires: 30 });
  });

  it('IPv6 `from` prefixes; IPv4 ones are refused as keepalived refuses them', () => {
    expect(route('2001:db8:2::/64 from 2001:db8:9::/64 dev eth0').r?.from).toEqual({ family: 6, address: '2001:db8:9::', prefix: 64 });
    const v4 = route('10.9.0.0/24 from 10.0.0.0/8 dev eth0');
    expect(v4.r).toBeNull();
    expect(v4.messages[0]).toMatch(/^18: .*only supported with IPv6.*keepalived ignores this route/);
  });

  it('what keepalived drops is dropped, located at the word', () => {
    const cases: [string, RegExp][] = [
      ['10.1.0.0/24 via 2001:db8::1 dev eth0', /^17: route cannot mix IPv4 and IPv6/],
      ['10.1.0.0/24 table nosuch dev eth0', /^19: .*routing table `nosuch`/],
      ['10.1.0.0/24 dev eth0 frobnicate', /^22: route has an unknown|^22: route `frobnicate` is not a valid destination/],
      ['via 10.0.0.1 dev eth0', /^1: route must have a destination/],
      ['10.1.0.0/24 nexthop via 10.0.0.1 weight 0', /^41: .*nexthop weight `0`/],
      ['10.1.0.0/24 nexthop via 10.0.0.1 dev eth0 metric 5', /^43: route has trailing nonsense after nexthops `metric`/],
      ['10.1.0.0/24 dev eth0 encap mpls 100', /^22: .*encap/],
      ['10.1.0.0/24 dev eth0 track_group tg1', /track_group/],
    ];
    for (const [line, re] of cases) {
      const { r, messages, tolerated } = route(line);
      expect(r, line).toBeNull();
      expect(messages[0], line).toMatch(re);
      expect(tolerated).toBe(true);
    }
  });

  it('track_group only on static routes, and only one that exists', () => {
    const tracked = route('10.1.0.0/24 dev eth0 track_group tg1', true);
    expect(tracked.r).toMatchObject({ trackGroup: 'tg1' });
    expect(tracked.messages).toEqual([]);
    expect(route('10.1.0.0/24 dev eth0 track_group tg1 no_track', true).messages).toEqual([
      expect.stringMatching(/static route has both track_group and no_track: keepalived does not track it/),
    ]);
    const missing = route('10.1.0.0/24 dev eth0 track_group nope', true);
    expect(missing.r).toMatchObject({ trackGroup: null });
    expect(missing.messages[0]).toContain('track_group nope not found');
  });

  it("`gw` is read as `via`, with keepalived's deprecation remark", () => {
    const { r, messages } = route('10.1.0.0/24 gw 10.0.0.254 dev eth0');
    expect(r?.via?.address).toBe('10.0.0.254');
    expect(messages).toEqual([expect.stringMatching(/^13: `gw` for routes is deprecated/)]);
  });
});

describe('virtual_rules / static_rules lines (keepalived alloc_rule)', () => {
  it('from/to/table/priority; protocol keepalived', () => {
    const { r, messages } = rule('from 10.0.0.0/24 to 10.1.0.0/16 table vips priority 100');
    expect(r).toMatchObject({
      family: 4,
      action: 1,
      table: 100,
      priority: 100,
      from: { address: '10.0.0.0', prefix: 24 },
      to: { address: '10.1.0.0', prefix: 16 },
      protocol: 18,
    });
    expect(messages).toEqual([]);
  });

  it('selectors: fwmark/mask, iif, oif, not, tos, uidrange, sport/dport, ipproto, l3mdev, goto, nop, types', () => {
    expect(rule('fwmark 0x10/0xff lookup 100 pref 5').r).toBeNull(); // `pref` is not a rule keyword in keepalived
    expect(rule('not fwmark 0x10/0xff lookup 100 preference 5 iif eth0 oif eth1 tos 0x10').r).toMatchObject({
      invert: true,
      fwmark: 16,
      fwmask: 255,
      iif: 'eth0',
      oif: 'eth1',
      tos: 16,
      priority: 5,
    });
    expect(rule('uidrange 1000-2000 ipproto tcp sport 1000-2000 dport 80-80 table 100 order 7').r).toMatchObject({
      uidRange: [1000, 2000],
      ipProto: 6,
      sport: [1000, 2000],
      dport: [80, 80],
    });
    // keepalived 2.2.7's sscanf test refuses a single port: the rule stands without it
    const single = rule('ipproto tcp dport 80 table 100 order 7');
    expect(single.r).toMatchObject({ ipProto: 6, dport: null });
    expect(single.messages[0]).toMatch(/^19: invalid dport range `80`: keepalived ignores it \(.*write 80-80\)/);
    expect(rule('l3mdev priority 1000').r).toMatchObject({ action: 1, l3mdev: true, table: 0 });
    expect(rule('from 10.0.0.0/8 goto 200 priority 100').r).toMatchObject({ action: 2, goto: 200 });
    expect(rule('from 10.0.0.0/8 nop priority 100').r).toMatchObject({ action: 3 });
    expect(rule('to 10.0.0.0/8 blackhole priority 1').r).toMatchObject({ action: 6 });
    expect(rule('to 10.0.0.0/8 type unreachable priority 1').r).toMatchObject({ action: 7 });
    expect(rule('to 10.0.0.0/8 prohibit priority 1').r).toMatchObject({ action: 8 });
    expect(rule('from 2001:db8::/32 table 100 priority 9').r).toMatchObject({ family: 6, from: { address: '2001:db8::', prefix: 32 } });
  });

  it('no preference: keepalived counts down from 16384 per family, and says so', () => {
    const p = new RulePriorities();
    const a = rule('from 10.0.0.0/8 table 100', p);
    const b = rule('from 10.1.0.0/16 table 100', p);
    const c = rule('from 2001:db8::/32 table 100', p);
    expect([a.r?.priority, b.r?.priority, c.r?.priority]).toEqual([16384, 16383, 16384]);
    expect(a.messages[0]).toContain('keepalived sets 16384');
  });

  it('what keepalived drops is dropped', () => {
    const cases: [string, RegExp][] = [
      ['from 10.0.0.0/8 priority 5', /no action/],
      ['from 10.0.0.0/8 table 100 blackhole priority 5', /only one of/],
      ['from 10.0.0.0/8 goto 5 priority 5', /below its goto target/],
      ['from 10.0.0.0/8 goto 50', /needs a preference/],
      ['table 0 priority 5', /table 0 is not valid/],
      ['from 10.0.0.0/8 to 2001:db8::/32 table 1 priority 5', /mixes IPv4 and IPv6/],
      ['fwmark 0x10/zz table 1 priority 5', /invalid fwmark/],
      ['realms 3 blackhole priority 5', /suppressor\/realms/],
      ['from 10.0.0.0/8 table 100 priority 5 frob', /unknown option `frob`/],
    ];
    for (const [line, re] of cases) {
      const { r, messages } = rule(line);
      expect(r, line).toBeNull();
      expect(messages.join('\n'), line).toMatch(re);
    }
  });
});

describe('keepalived 2.2.7 skips the word after inet/inet6', () => {
  it('a rule loses its `from` and is dropped; a route loses `default` and has no destination', () => {
    const r = rule('inet6 from 2001:db8::/32 table 100 priority 9');
    expect(r.r).toBeNull();
    expect(r.messages[0]).toMatch(/^7: keepalived 2.2.7 skips the word after `inet6` \(`from` is not read\)/);
    expect(r.messages[1]).toMatch(/^12: rule has an unknown option `2001:db8::\/32`/);
    expect(route('inet6 default via fe80::1 dev eth0').r).toBeNull();
    // a word it can spare: `inet6 inet6 PREFIX` reads as keepalived reads it
    expect(route('inet6 inet6 2001:db8:5::/64 dev eth0').r).toMatchObject({ family: 6, destination: { address: '2001:db8:5::', prefix: 64 } });
  });
});

describe('systemRtNames', () => {
  it('reads NUMBER NAME lines and keeps the built-in names the file does not renumber', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtnames-'));
    writeFileSync(join(dir, 'rt_tables'), '# comment\n255\tlocal\n100 vips\n0x65 hexed\nbad line here\n');
    const names = systemRtNames(dir);
    expect(names.lookup('rt_tables', 'vips')).toBe(100);
    expect(names.lookup('rt_tables', 'hexed')).toBe(101);
    expect(names.lookup('rt_tables', 'main')).toBe(254);
    expect(names.lookup('rt_tables', 'nosuch')).toBeNull();
    expect(names.lookup('rt_protos', 'static')).toBe(4);
  });
});
