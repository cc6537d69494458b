import { afterAll, describe, expect, it } from 'vitest';
import { configOf, instanceText, removeConfigFiles } from './engine-testkit.js';
import { plainVirtualIp } from '../config/build-values.js';

afterAll(removeConfigFiles);
import { installedVips, isThisVip, vipChanges, vipKey, virtualIpToSpec } from './vips.js';

const cfg = (vips: string[], extra = '') => configOf(instanceText('VI_1', 51, 'eth0', extra, vips)).vrrpInstances[0]!;

describe('VIPs of an instance', () => {
  it('installs virtual_ipaddress_excluded too (they are only left out of adverts)', () => {
    const i = cfg(['10.0.0.100/24'], '  virtual_ipaddress_excluded {\n    10.0.0.200/24\n  }');
    expect(installedVips(i).map((v) => v.address)).toEqual(['10.0.0.100', '10.0.0.200']);
  });

  it('a reload diff removes only dropped VIPs and adds only new ones; spelling does not matter', () => {
    const ex = (v: string) => `  virtual_ipaddress_excluded {\n    ${v}\n  }`;
    const before = cfg(['10.0.0.100/24', '10.0.0.102/24 dev eth1'], ex('fd00::0:100/64'));
    const after = cfg(['10.0.0.100/24', '10.0.0.101/24', '10.0.0.102/24'], ex('fd00::100/64'));
    const ch = vipChanges(before, after);
    // 10.0.0.102 moved from eth1 to the instance's interface: remove there, add here
    expect(ch.remove.map((v) => `${v.address} ${v.dev}`)).toEqual(['10.0.0.102 eth1']);
    expect(ch.add.map((v) => v.address).sort()).toEqual(['10.0.0.101', '10.0.0.102']);
    expect(vipKey(before, before.virtualIpaddressesExcluded[0]!)).toBe(vipKey(after, after.virtualIpaddressesExcluded[0]!));
  });

  it('recognises its VIP in a kernel address report only on the right link', () => {
    const i = cfg(['fd00::0:100/64']);
    const vip = i.virtualIpaddresses[0]!;
    expect(isThisVip({ ifindex: 3, family: 6, address: 'fd00::100' }, vip, 3)).toBe(true);
    expect(isThisVip({ ifindex: 4, family: 6, address: 'fd00::100' }, vip, 3)).toBe(false);
    expect(isThisVip({ ifindex: 3, family: 6, address: 'fd00::101' }, vip, 3)).toBe(false);
  });
});

describe('a VIP as the address to install', () => {
  const pos = { file: 'k.conf', line: 1, column: 1 };
  it('maps a configured VIP; IPv6 VIPs always get NODAD like keepalived', () => {
    const plain = plainVirtualIp('', 32, 4, pos);
    const v4 = virtualIpToSpec({ ...plain, address: '192.0.2.10', dev: 'eth0', scope: 'host', label: 'eth0:1' }, 2);
    expect(v4).toEqual({ ifindex: 2, family: 4, address: '192.0.2.10', prefix: 32, broadcast: null, scope: 'host', label: 'eth0:1', noDad: false });
    const v6 = virtualIpToSpec({ ...plain, address: '2001:db8::1', prefix: 64, family: 6 }, 2);
    expect(v6).toMatchObject({ noDad: true, scope: null });
  });
});
