// The pure decisions of use_vmac / use_ipvlan (vmac.ts): names, which link to take over,
// where the VIPs go; and the kernel shell's sysctl choices on a fake /proc/sys.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import type { Link, RouteNetlink } from '../netlink/index.js';
import { configOf } from './engine-testkit.js';
import {
  addressVmacWants,
  onAddressVmacs,
  vmacFirewallFamilies,
  decideVirtualLink,
  defaultVirtualLinkName,
  eui64LinkLocal,
  onVirtualLink,
  virtualLinkWant,
  VirtualLinks,
  type Sysctls,
  type VirtualLinkWant,
} from './vmac.js';

const link = (index: number, name: string, more: Partial<Link> = {}): Link =>
  ({
    index,
    name,
    mac: `02:00:00:00:00:0${index}`,
    kind: null,
    parentIndex: null,
    vlanMode: null,
    ipvlanFlags: null,
    adminUp: true,
    running: true,
    ...more,
  }) as Link;
const eth0 = link(2, 'eth0');

const instanceWith = (extra: string, vips = '10.0.0.100/24') =>
  configOf(`vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    ${vips}\n  }\n${extra}\n}\n`)
    .vrrpInstances[0]!;

const want = (over: Partial<VirtualLinkWant> = {}): VirtualLinkWant => ({ ...virtualLinkWant(instanceWith('  use_vmac'), { vmacPrefix: null })!, ...over });

describe('use_vmac decisions', () => {
  it('wants the RFC 5798 MAC of the VRID and family, or the configured one', () => {
    expect(want()).toMatchObject({ kind: 'macvlan', name: null, prefix: 'vrrp', vrid: 51, base: 'eth0', mac: '00:00:5e:00:01:33' });
    expect(virtualLinkWant(instanceWith('  use_vmac', 'fd00::100/64'), { vmacPrefix: 'vr' })).toMatchObject({
      family: 6,
      mac: '00:00:5e:00:02:33',
      prefix: 'vr',
    });
    expect(virtualLinkWant(instanceWith('  use_vmac vm1 02:11:22:33:44'), { vmacPrefix: null })).toMatchObject({ name: 'vm1', mac: '02:11:22:33:44:33' });
  });

  it('names as keepalived create_vmac_name: PREFIX.VRID, then numbered (IPv6 tries 6 first), within 15 bytes', () => {
    expect(defaultVirtualLinkName('vrrp', 51, 4, () => false)).toBe('vrrp.51');
    const taken = new Set(['vrrp.51', 'vrrp1.51', 'vrrp6.51']);
    expect(defaultVirtualLinkName('vrrp', 51, 4, (n) => taken.has(n))).toBe('vrrp2.51');
    expect(defaultVirtualLinkName('vrrp', 51, 6, (n) => n === 'vrrp.51')).toBe('vrrp6.51');
    expect(defaultVirtualLinkName('vrrp', 51, 6, (n) => n === 'vrrp.51' || n === 'vrrp6.51')).toBe('vrrp1.51');
    expect(defaultVirtualLinkName('vrrp', 51, 6, (n) => taken.has(n))).toBe('vrrp2.51');
    expect(defaultVirtualLinkName('a-very-long-prefix', 255, 4, () => false)).toBe('a-very-long.255');
  });

  it('takes over a private macvlan with the right MAC on the base, whatever its name', () => {
    const left = link(7, 'old51', { kind: 'macvlan', parentIndex: 2, vlanMode: 1, mac: '00:00:5e:00:01:33' });
    expect(decideVirtualLink(want(), eth0, [eth0, left], new Set())).toEqual({ action: 'adopt', link: left });
    // not when another instance of this config already runs on it, nor in another mode
    expect(decideVirtualLink(want(), eth0, [eth0, left], new Set(['old51']))).toMatchObject({ action: 'create', name: 'vrrp.51' });
    expect(decideVirtualLink(want(), eth0, [eth0, { ...left, vlanMode: 4 }], new Set())).toMatchObject({ action: 'create', name: 'vrrp.51' });
  });

  it('takes over an L2 ipvlan of the same type on the base only when it holds the use_ipvlan address', () => {
    const ipvlanWant = virtualLinkWant(instanceWith('  use_ipvlan 10.0.0.11/24 private'), { vmacPrefix: null })!;
    const left = link(7, 'vrrp.51', { kind: 'ipvlan', parentIndex: 2, vlanMode: 0, ipvlanFlags: 1, mac: eth0.mac });
    const other = link(8, 'vrrp.52', { kind: 'ipvlan', parentIndex: 2, vlanMode: 0, ipvlanFlags: 1, mac: eth0.mac });
    const addresses = new Map([
      [7, ['10.0.0.11']],
      [8, ['10.0.0.12']],
    ]);
    // another instance's ipvlan listed first is passed over for the one with this address
    expect(decideVirtualLink(ipvlanWant, eth0, [eth0, other, left], new Set(), addresses)).toEqual({ action: 'adopt', link: left });
    expect(decideVirtualLink(ipvlanWant, eth0, [eth0, other], new Set(), addresses)).toMatchObject({ action: 'create', name: 'vrrp.51' });
    // the type (IPVLAN_F_*) must match too
    expect(decideVirtualLink(ipvlanWant, eth0, [eth0, { ...left, ipvlanFlags: 0 }], new Set(), addresses)).toMatchObject({ action: 'create' });
  });

  it('replaces a macvlan holding the configured name that does not fit; keeps any other link and uses the default name', () => {
    const wrong = link(7, 'vm1', { kind: 'macvlan', parentIndex: 2, vlanMode: 1, mac: '02:00:00:00:00:99' });
    expect(decideVirtualLink(want({ name: 'vm1' }), eth0, [eth0, wrong], new Set())).toMatchObject({ action: 'create', name: 'vm1', replace: wrong });
    const veth = link(8, 'vm1', { kind: 'veth' });
    expect(decideVirtualLink(want({ name: 'vm1' }), eth0, [eth0, veth], new Set())).toMatchObject({ action: 'create', name: 'vrrp.51', replace: null });
  });

  it('puts the VIPs of its family written without a device or on the base onto the link, and tracks it', () => {
    const inst = instanceWith('  use_vmac', '10.0.0.100/24\n    10.0.0.101/24 dev eth0\n    10.1.0.1/24 dev lo');
    const placed = onVirtualLink(inst, 'vrrp.51');
    expect(placed.virtualIpaddresses.map((v) => `${v.address} ${v.dev}`)).toEqual(['10.0.0.100 vrrp.51', '10.0.0.101 vrrp.51', '10.1.0.1 lo']);
    expect(placed.trackInterfaces.map((t) => t.name)).toEqual(['vrrp.51']);
  });

  it('use_ipvlan leaves the VIPs where they are written (on the base when written without a device), as keepalived 2.2.7, and tracks the ipvlan', () => {
    const inst = instanceWith('  use_ipvlan 10.0.0.11/24', '10.0.0.100/24\n    10.0.0.101/24 dev eth0\n    10.1.0.1/24 dev lo');
    const placed = onVirtualLink(inst, 'vrrp.51');
    expect(placed.virtualIpaddresses.map((v) => `${v.address} ${v.dev}`)).toEqual(['10.0.0.100 null', '10.0.0.101 eth0', '10.1.0.1 lo']);
    expect(placed.trackInterfaces.map((t) => t.name)).toEqual(['vrrp.51']);
  });

  it('EUI-64 link-local from a MAC', () => {
    expect(eui64LinkLocal('52:54:00:12:34:56')).toBe('fe80::5054:ff:fe12:3456');
  });
});

describe('use_vmac_addr (keepalived vrrp_complete_instance)', () => {
  const vips = '10.0.0.100/24\n    10.0.0.101/24\n    10.1.0.100/24 dev eth1\n    10.1.0.101/24 dev eth1';
  const excluded = '\n  virtual_ipaddress_excluded {\n    fd00::100/64\n  }';
  const g = { vmacPrefix: 'vr', vmacAddrPrefix: null };

  it('one VMAC per other interface and per other family, named from vmac_addr_prefix, else vmac_prefix', () => {
    const wants = addressVmacWants(instanceWith(`  use_vmac_addr${excluded}`, vips), null, g);
    expect([...wants.keys()]).toEqual(['eth1%4', 'eth0%6']);
    expect(wants.get('eth1%4')).toMatchObject({ kind: 'macvlan', base: 'eth1', family: 4, mac: '00:00:5e:00:01:33', prefix: 'vr', name: null });
    expect(wants.get('eth0%6')).toMatchObject({ base: 'eth0', family: 6, mac: '00:00:5e:00:02:33' });
    expect(addressVmacWants(instanceWith(`  use_vmac_addr${excluded}`, vips), null, { ...g, vmacAddrPrefix: 'va' }).get('eth1%4')?.prefix).toBe('va');
    expect(addressVmacWants(instanceWith(excluded, vips), null, g).size).toBe(0);
  });

  it('with use_vmac too, the VIPs on the instance VMAC stay there; the rest go on theirs, each VMAC tracked', () => {
    const inst = instanceWith(`  use_vmac\n  use_vmac_addr${excluded}`, vips);
    const own = onVirtualLink(inst, 'vrrp.51');
    const placed = onAddressVmacs(
      own,
      'vrrp.51',
      new Map([
        ['eth1%4', 'vr.51'],
        ['eth0%6', 'vr6.51'],
      ]),
    );
    expect([...placed.virtualIpaddresses, ...placed.virtualIpaddressesExcluded].map((v) => `${v.address} ${v.dev}`)).toEqual([
      '10.0.0.100 vrrp.51',
      '10.0.0.101 vrrp.51',
      '10.1.0.100 vr.51',
      '10.1.0.101 vr.51',
      'fd00::100 vr6.51',
    ]);
    expect(placed.trackInterfaces.map((t) => `${t.name} ${t.weight}`)).toEqual(['vrrp.51 0', 'vr.51 0', 'vr6.51 0']);
  });
});

describe("a VIP's own use_vmac (keepalived vrrp_complete_instance)", () => {
  const g = { vmacPrefix: null, vmacAddrPrefix: null };
  const vips = '10.0.0.100/24 use_vmac\n    10.0.0.101/24\n    10.1.0.100/24 dev eth1 use_vmac\n    10.2.0.100/24 dev eth2';

  it('without an instance VMAC: that VIP goes on a VMAC of its interface (the instance one too), the others stay', () => {
    const inst = instanceWith('', vips);
    const wants = addressVmacWants(inst, null, g);
    expect([...wants.keys()]).toEqual(['eth0%4', 'eth1%4']);
    expect(wants.get('eth1%4')).toMatchObject({ kind: 'macvlan', base: 'eth1', family: 4, mac: '00:00:5e:00:01:33', prefix: 'vrrp' });
    const placed = onAddressVmacs(
      inst,
      null,
      new Map([
        ['eth0%4', 'vrrp.51'],
        ['eth1%4', 'vrrp1.51'],
      ]),
    );
    expect(placed.virtualIpaddresses.map((v) => `${v.address} ${v.dev}`)).toEqual([
      '10.0.0.100 vrrp.51',
      '10.0.0.101 null',
      '10.1.0.100 vrrp1.51',
      '10.2.0.100 eth2',
    ]);
    expect(placed.trackInterfaces.map((t) => t.name)).toEqual(['vrrp.51', 'vrrp1.51']);
    // a VMAC that only no_track VIPs use is not tracked
    const quiet = instanceWith('', '10.0.0.101/24\n    10.1.0.100/24 dev eth1 use_vmac no_track');
    expect(onAddressVmacs(quiet, null, new Map([['eth1%4', 'vrrp1.51']])).trackInterfaces).toEqual([]);
  });

  it("with the instance's use_vmac: the instance VMAC takes its interface's VIP (warned), the other interface's gets its own", () => {
    const inst = instanceWith('  use_vmac', vips);
    expect(inst.virtualIpaddresses.map((v) => v.useVmac)).toEqual([false, false, true, false]);
    const own = onVirtualLink(inst, 'vrrp.51');
    expect([...addressVmacWants(own, 'vrrp.51', g).keys()]).toEqual(['eth1%4']);
  });

  it('static_ipaddress does not take it (keepalived: unknown entry, ignored)', () => {
    expect(() => configOf('static_ipaddress {\n  10.0.0.50/24 dev eth0 use_vmac\n}\n')).toThrow(
      'unknown static_ipaddress option `use_vmac` (expected brd, dev, scope, label, no_track, ...): keepalived ignores the word',
    );
  });
});

describe('the VRRP firewall tables a VMAC is steered in (keepalived firewall_add_vmac)', () => {
  it("a macvlan: its instance's family, and the other one when VIPs of it go on the VMAC too; an ipvlan: none", () => {
    expect(vmacFirewallFamilies({ kind: 'macvlan', family: 4, otherFamily: false }, false)).toEqual([4]);
    expect(vmacFirewallFamilies({ kind: 'macvlan', family: 6, otherFamily: true }, false)).toEqual([6, 4]);
    expect(vmacFirewallFamilies({ kind: 'ipvlan', family: 4, otherFamily: true }, false)).toEqual([]);
  });

  it('disable_local_igmp: an IPv4 VMAC gets none (its IPv6 part neither); an IPv6 one keeps its own', () => {
    expect(vmacFirewallFamilies({ kind: 'macvlan', family: 4, otherFamily: false }, true)).toEqual([]);
    expect(vmacFirewallFamilies({ kind: 'macvlan', family: 4, otherFamily: true }, true)).toEqual([]);
    expect(vmacFirewallFamilies({ kind: 'macvlan', family: 6, otherFamily: true }, true)).toEqual([6, 4]);
  });
});

describe('VirtualLinks sysctls (fake /proc/sys)', () => {
  function rig(values: Record<string, number>) {
    const sys = new Map(Object.entries(values));
    const sysctl: Sysctls = {
      get: (p) => sys.get(p) ?? null,
      set: (p, v) => void sys.set(p, v),
      list: () => ['all', 'default', 'eth0', 'lo'],
    };
    const links: Link[] = [eth0];
    const calls: string[] = [];
    const rtnl = {
      listLinks: () => Promise.resolve([...links]),
      getLink: (n: string | number) => Promise.resolve(links.find((l) => l.name === n || l.index === n) ?? null),
      createMacvlan: (s: { name: string; mac: string; parentIndex: number }) => {
        links.push(link(9, s.name, { kind: 'macvlan', parentIndex: s.parentIndex, vlanMode: 1, mac: s.mac, adminUp: false }));
        calls.push(`create ${s.name}`);
        return Promise.resolve('added');
      },
      deleteLink: (i: number) => {
        links.splice(
          links.findIndex((l) => l.index === i),
          1,
        );
        calls.push(`delete ${i}`);
        return Promise.resolve('deleted');
      },
      disableAddrGen: (i: number) => {
        calls.push(`addrgenmode none ${i}`);
        return Promise.resolve();
      },
      setLinkUp: (i: number) => {
        calls.push(`up ${i}`);
        return Promise.resolve();
      },
    } as unknown as RouteNetlink;
    const vl = new VirtualLinks(rtnl, createLogger({ proc: 'vrrp', collect: () => undefined }), sysctl);
    return { vl, sys, calls };
  }

  it("sets keepalived's sysctls, moves all.rp_filter to 0 the safe way, and puts rp_filter back after the last link", async () => {
    const { vl, sys, calls } = rig({
      'net/ipv4/conf/all/rp_filter': 2,
      'net/ipv4/conf/default/rp_filter': 1,
      'net/ipv4/conf/eth0/rp_filter': 0,
      'net/ipv4/conf/lo/rp_filter': 2,
    });
    expect(await vl.ensure(want(), new Set())).toBe('vrrp.51');
    expect(calls).toEqual(['create vrrp.51', 'addrgenmode none 9', 'up 9']);
    expect(Object.fromEntries(sys)).toEqual({
      'net/ipv4/conf/all/rp_filter': 0,
      'net/ipv4/conf/default/rp_filter': 2,
      'net/ipv4/conf/eth0/rp_filter': 2,
      'net/ipv4/conf/lo/rp_filter': 2,
      'net/ipv4/conf/vrrp.51/arp_ignore': 1,
      'net/ipv4/conf/vrrp.51/accept_local': 1,
      'net/ipv4/conf/vrrp.51/rp_filter': 0,
      'net/ipv4/conf/vrrp.51/promote_secondaries': 1,
      'net/ipv4/conf/eth0/arp_ignore': 1,
      'net/ipv4/conf/eth0/arp_filter': 1,
      'net/ipv6/conf/vrrp.51/disable_ipv6': 1,
    });
    await vl.remove('vrrp.51');
    expect(calls.at(-1)).toBe('delete 9');
    expect(sys.get('net/ipv4/conf/all/rp_filter')).toBe(2);
    expect(sys.get('net/ipv4/conf/default/rp_filter')).toBe(1);
    expect(sys.get('net/ipv4/conf/eth0/rp_filter')).toBe(0);
    // keepalived 2.2.7 leaves the base's ARP settings as it set them
    expect(sys.get('net/ipv4/conf/eth0/arp_ignore')).toBe(1);
  });

  it('a link it did not make or take over is never deleted', async () => {
    const { vl, calls } = rig({});
    await vl.remove('eth0');
    expect(calls).toEqual([]);
  });
});
