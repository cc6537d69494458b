// The VRRP firewall's tables from the VIPs instances hold, in keepalived 2.2.7's layout
// (vrrp_nftables.c; `nft list ruleset` of keepalived and ours compared in
// test/vrrp/strict-firewall.test.ts).
import { describe, expect, it } from 'vitest';
import type { VirtualIp, VrrpFirewallSettings, VrrpInstance } from '../config/model.js';
import { plainVirtualIp } from '../config/build-values.js';
import { EMPTY_LAYOUT, firewallRules, grownLayout, renderTable, transition } from './rules.js';

const settings: VrrpFirewallSettings = { table: 'keepalived', priority: -1, counters: false, ifindex: false };
const pos = { file: 't.conf', line: 1, column: 1 };
const vip = (address: string, dev: string | null = null): VirtualIp => ({
  ...plainVirtualIp(address, address.includes(':') ? 64 : 24, address.includes(':') ? 6 : 4, pos),
  dev,
});
const inst = (o: Partial<VrrpInstance>): VrrpInstance =>
  ({ name: 'VI', interface: 'eth0', priority: 100, accept: false, dontTrackPrimary: false, ...o }) as VrrpInstance;

describe('firewallRules', () => {
  it('no firewall configured: none', () => {
    expect(firewallRules(null, [{ instance: inst({}), vips: [vip('10.0.0.1')] }])).toBeNull();
  });
  it('drops the VIPs of instances without accept mode below priority 255, by set', () => {
    const r = firewallRules(settings, [
      { instance: inst({}), vips: [vip('10.0.0.1'), vip('2001:DB8::5'), vip('fe80::100'), vip('fe80::200', 'eth1')] },
      { instance: inst({ name: 'ACC', accept: true }), vips: [vip('10.0.0.2')] },
      { instance: inst({ name: 'OWN', priority: 255 }), vips: [vip('10.0.0.3')] },
    ])!;
    expect(r.ipv4).toEqual(['10.0.0.1']);
    expect(r.ipv6).toEqual(['2001:db8::5']);
    expect(r.linkLocal).toEqual([
      { address: 'fe80::100', ifname: 'eth0' },
      { address: 'fe80::200', ifname: 'eth1' },
    ]);
    expect(r.linkLocalByName).toEqual([]);
  });
  it('dont_track_primary: a link-local VIP on the instance interface is matched by name, unless nftables_ifindex', () => {
    const held = [{ instance: inst({ dontTrackPrimary: true }), vips: [vip('fe80::100'), vip('fe80::200', 'eth1')] }];
    expect(firewallRules(settings, held)!.linkLocalByName).toEqual([{ address: 'fe80::100', ifname: 'eth0' }]);
    expect(firewallRules(settings, held)!.linkLocal).toEqual([{ address: 'fe80::200', ifname: 'eth1' }]);
    expect(firewallRules({ ...settings, ifindex: true }, held)!.linkLocalByName).toEqual([]);
  });
});

describe('layout and rendering', () => {
  const rules = firewallRules({ ...settings, counters: true, priority: 5 }, [{ instance: inst({}), vips: [vip('10.0.0.1'), vip('10.0.0.2')] }])!;

  it('a family is made the first time one of its addresses is dropped, and then kept', () => {
    const grown = grownLayout(EMPTY_LAYOUT, rules);
    expect(grown).toEqual({ ipv4: true, ipv6: false, linkLocal: false, linkLocalByName: false, vmac4: false, vmac6: false });
    const empty = firewallRules(settings, [])!;
    expect(grownLayout(grown, empty)).toEqual(grown);
  });
  it('the ip table: the vips set, the out and in chains at the priority, counters when asked', () => {
    expect(renderTable('ip', grownLayout(EMPTY_LAYOUT, rules), rules)).toBe(
      [
        'table ip keepalived {',
        '\tset vips {',
        '\t\ttype ipv4_addr',
        '\t\telements = { 10.0.0.1, 10.0.0.2 }',
        '\t}',
        '\tchain out {',
        '\t\ttype filter hook output priority 5; policy accept;',
        '\t\tip saddr @vips counter drop',
        '\t}',
        '\tchain in {',
        '\t\ttype filter hook input priority 5; policy accept;',
        '\t\tip daddr @vips counter drop',
        '\t}',
        '}',
        '',
      ].join('\n'),
    );
  });
  it('the ip6 table: neighbour discovery accepted, link-local addresses to their own chains', () => {
    const r6 = firewallRules(settings, [{ instance: inst({}), vips: [vip('fe80::1')] }])!;
    const text = renderTable('ip6', grownLayout(EMPTY_LAYOUT, r6), r6);
    expect(text).toContain('\t\ticmpv6 type @neighbor-discovery accept\n\t\tip6 daddr fe80::/10 goto in_link_local\n\t\tip6 daddr @vips drop\n');
    expect(text).toContain('\tset vips_link_local {\n\t\ttype ipv6_addr . iface_index\n\t\telements = { fe80::1 . "eth0" }\n');
    expect(text).toContain('\tchain out_link_local {\n\t\tip6 saddr . oif @vips_link_local drop\n\t}\n');
    expect(text).not.toContain('vips_link_local_name');
  });
});

describe('transition', () => {
  const one = firewallRules(settings, [{ instance: inst({}), vips: [vip('10.0.0.1')] }])!;
  const two = firewallRules(settings, [{ instance: inst({}), vips: [vip('10.0.0.1'), vip('10.0.0.2')] }])!;
  const none = firewallRules(settings, [])!;

  it('nothing to drop and nothing made: no command', () => {
    expect(transition(EMPTY_LAYOUT, null, none)).toEqual({ script: '', layout: EMPTY_LAYOUT });
  });
  it('the first address makes its table whole (replacing any of that name)', () => {
    const t = transition(EMPTY_LAYOUT, none, one);
    expect(t.script.startsWith('table ip keepalived {}\ndelete table ip keepalived\ntable ip keepalived {\n')).toBe(true);
    expect(t.script).not.toContain('ip6');
  });
  it('then only elements change; the empty set stays', () => {
    const made = transition(EMPTY_LAYOUT, none, one).layout;
    expect(transition(made, one, two).script).toBe('add element ip keepalived vips { 10.0.0.2 }\n');
    expect(transition(made, two, none)).toEqual({ script: 'delete element ip keepalived vips { 10.0.0.1, 10.0.0.2 }\n', layout: made });
  });
});

describe('use_vmac: IGMP/MLD reports leave by the base interface (keepalived nft_add_vmac)', () => {
  const vmacs = { vmac4: [{ vmac: 'vrrp.51', base: 'eth0' }], vmac6: [{ vmac: 'vrrp.52', base: 'eth0' }] };
  const backup = firewallRules(settings, [], vmacs)!;

  it('a VMAC alone (instances BACKUP): the map, the out chain with the IGMP/MLD rules, no VIP parts', () => {
    const made = transition(EMPTY_LAYOUT, null, backup);
    expect(made.layout).toEqual({ ...EMPTY_LAYOUT, vmac4: true, vmac6: true });
    expect(renderTable('ip', made.layout, backup)).toBe(
      [
        'table ip keepalived {',
        '\tmap vmac_map {',
        '\t\ttype iface_index : iface_index',
        '\t\telements = { "vrrp.51" : "eth0" }',
        '\t}',
        '\tchain out {',
        '\t\ttype filter hook output priority -1; policy accept;',
        '\t\tip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop',
        '\t}',
        '}',
        '',
      ].join('\n'),
    );
    const ip6 = renderTable('ip6', made.layout, backup);
    expect(ip6).toContain('\tset vmac_set {\n\t\ttype iface_index\n\t\telements = { "vrrp.52" }\n\t}\n');
    expect(ip6).toContain(
      '\t\ticmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map drop\n' +
        '\t\ticmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop\n\t}\n',
    );
    expect(ip6).not.toContain('chain in');
  });

  it('the first VIP held remakes the table with the VIP parts after the VMAC parts; a VMAC going only edits the elements', () => {
    const made = transition(EMPTY_LAYOUT, null, backup).layout;
    const master = firewallRules(settings, [{ instance: inst({}), vips: [vip('10.0.0.1')] }], vmacs)!;
    const t = transition(made, backup, master);
    expect(t.script).toMatch(/^table ip keepalived \{\}\ndelete table ip keepalived\ntable ip keepalived \{\n\tmap vmac_map/);
    expect(t.script).toContain('ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop\n\t\tip saddr @vips drop\n');
    const gone = firewallRules(settings, [{ instance: inst({}), vips: [vip('10.0.0.1')] }], { vmac4: [], vmac6: vmacs.vmac6 })!;
    expect(transition(t.layout, master, gone).script).toBe('delete element ip keepalived vmac_map { "vrrp.51" : "eth0" }\n');
  });
});
