import { afterAll, describe, expect, it } from 'vitest';
import type { VrrpInstance } from '../config/model.js';
import type { InterfaceAddress } from '../netlink/index.js';
import { advertSource, instanceKey, matchInstances, multicastGroup, transportKey, usesAh } from './engine-plan.js';
import { configOf, instanceText, removeConfigFiles } from './engine-testkit.js';

afterAll(removeConfigFiles);

const inst = (name: string, vrid: number, iface = 'eth0', extra = '', vip = '10.0.0.100/24') => instanceText(name, vrid, iface, extra, [vip]);

const addr = (address: string, family: 4 | 6, o: Partial<InterfaceAddress> & { secondary?: boolean; tentative?: boolean } = {}): InterfaceAddress => ({
  ifindex: 2,
  family,
  address,
  prefix: family === 4 ? 24 : 64,
  peer: null,
  broadcast: null,
  label: null,
  scope: o.scope ?? 'global',
  flags: {
    secondary: o.secondary ?? false,
    noDad: false,
    optimistic: false,
    dadFailed: false,
    deprecated: false,
    tentative: o.tentative ?? false,
    permanent: true,
    noPrefixRoute: false,
  },
});

describe('reload matching (keepalived: VRID + family + interface, not the name)', () => {
  it('keeps a renamed instance, treats a moved or re-numbered one as removed + added', () => {
    const before = configOf(inst('A', 51) + inst('B', 52) + inst('C', 53));
    const after = configOf(inst('A_renamed', 51) + inst('B', 52, 'eth1') + inst('D', 54));
    const old = before.vrrpInstances.map((cfg) => ({ cfg }));
    const m = matchInstances(old, after.vrrpInstances);
    expect(m.kept.map((k) => [k.old.cfg.name, k.next.name])).toEqual([['A', 'A_renamed']]);
    expect(m.added.map((a) => a.name)).toEqual(['B', 'D']);
    expect(m.removed.map((r) => r.cfg.name)).toEqual(['B', 'C']);
  });

  it('IPv4 and IPv6 instances with one VRID on one interface are different instances', () => {
    const c = configOf(inst('V4', 51) + inst('V6', 51, 'eth0', '', 'fd00::100/64'));
    expect(instanceKey(c.vrrpInstances[0]!)).not.toBe(instanceKey(c.vrrpInstances[1]!));
  });
});

describe('advert source address', () => {
  const c = configOf(inst('A', 51) + inst('B', 52, 'eth0', '  mcast_src_ip 10.0.0.7') + inst('C', 53, 'eth0', '', 'fd00::100/64'));
  const [a, b, v6] = c.vrrpInstances as [VrrpInstance, VrrpInstance, VrrpInstance];

  it('IPv4: the primary address, skipping secondary and tentative ones', () => {
    const list = [addr('10.0.0.9', 4, { secondary: true }), addr('10.0.0.8', 4, { tentative: true }), addr('10.0.0.2', 4)];
    expect(advertSource(a, list)).toBe('10.0.0.2');
    expect(advertSource(a, [])).toBe('0.0.0.0');
  });

  it('a configured mcast_src_ip / unicast_src_ip wins', () => {
    expect(advertSource(b, [addr('10.0.0.2', 4)])).toBe('10.0.0.7');
  });

  it('IPv6: the link-local address (RFC 5798 5.1.2.1), not a global one', () => {
    const list = [addr('fd00::2', 6), addr('fe80::1', 6, { scope: 'link' })];
    expect(advertSource(v6, list)).toBe('fe80::1');
    expect(advertSource(v6, [addr('fd00::2', 6)])).toBe('::');
  });
});

describe('multicast group and socket sharing', () => {
  it('unicast instances join no group; others use the configured or default group', () => {
    const c = configOf(
      'global_defs {\n  vrrp_mcast_group4 224.0.0.99\n}\n' +
        inst('M', 51) +
        inst('U', 52, 'eth0', '  unicast_peer {\n    10.0.0.3\n  }') +
        inst('S', 53, 'eth0', '', 'fd00::100/64'),
    );
    const [m, u, s] = c.vrrpInstances as [VrrpInstance, VrrpInstance, VrrpInstance];
    expect(multicastGroup(m, c)).toBe('224.0.0.99');
    expect(multicastGroup(u, c)).toBeNull();
    expect(multicastGroup(s, c)).toBe('ff02::12');
    // IPv4 instances on one interface share a socket whatever their source; IPv6 pins its source
    expect(transportKey(m, '10.0.0.1')).toBe(transportKey(u, '10.0.0.2'));
    expect(transportKey(s, 'fe80::1')).not.toBe(transportKey(s, 'fe80::2'));
  });

  it('AH instances (v2, IPv4) get a socket of their own; AH elsewhere is not AH', () => {
    const ah = '  version 2\n  authentication {\n    auth_type AH\n    auth_pass secret\n  }';
    const pass = '  version 2\n  authentication {\n    auth_type PASS\n    auth_pass secret\n  }';
    const c = configOf(inst('A', 51, 'eth0', ah) + inst('P', 52, 'eth0', pass) + inst('N', 53));
    const [a, p, n] = c.vrrpInstances as [VrrpInstance, VrrpInstance, VrrpInstance];
    expect([usesAh(a), usesAh(p), usesAh(n)]).toEqual([true, false, false]);
    expect(transportKey(a, '10.0.0.1')).not.toBe(transportKey(p, '10.0.0.1'));
    expect(transportKey(p, '10.0.0.1')).toBe(transportKey(n, '10.0.0.1'));
    expect(usesAh({ version: 3, family: 4, authentication: { type: 'AH', pass: 'x' } })).toBe(false);
  });
});
