// use_vmac / use_ipvlan / vmac_xmit_base / vmac_prefix as keepalived 2.2.7's parser reads
// them: what it takes, and the words it drops (with a warning where written).
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './ast.js';
import { splitStatements } from './build-testkit.js';
import { buildAndValidate } from './build-pipeline.js';
import { parseVmacMac, validLinkName } from './build-vmac.js';

function load(body: string, globals = '', family6 = false) {
  const vip = family6 ? 'fd00::10/64' : '10.0.0.10/24';
  const text = `global_defs {\n${globals}\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    ${vip}\n  }\n${body}\n}\n`;
  const r = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'host1', null);
  return { inst: r.config!.vrrpInstances[0]!, config: r.config!, msgs: r.diagnostics.map(formatDiagnostic) };
}

describe("a VIP's use_vmac (keepalived vrrp.c checks it against the instance's)", () => {
  const excluded = (line: string) => `  virtual_ipaddress_excluded {\n    ${line}\n  }`;

  it('alone: kept, no warning; with no_track: both read', () => {
    const { inst, msgs } = load(excluded('10.0.0.11/24 use_vmac no_track'));
    expect(inst.virtualIpaddressesExcluded[0]).toMatchObject({ useVmac: true, noTrack: true });
    // keepalived's default firewall is for an instance's own use_vmac only
    expect(msgs).toEqual([]);
  });

  it("on the instance's interface and family with the instance's use_vmac: dropped, the VIP goes on the instance's VMAC", () => {
    const { inst, msgs } = load(`  use_vmac\n${excluded('10.0.0.11/24 use_vmac')}`);
    expect(inst.virtualIpaddressesExcluded[0]!.useVmac).toBe(false);
    expect(msgs.join('\n')).toContain(
      "t.conf:12:5: warning: (VI_1) use_vmac specified for VIP 10.0.0.11/24 and the vrrp instance: keepalived puts it on the instance's VMAC",
    );
  });

  it('on another interface with use_vmac_addr: dropped, use_vmac_addr places it', () => {
    const { inst, msgs } = load(`  use_vmac_addr\n${excluded('10.1.0.11/24 dev eth1 use_vmac')}`);
    expect(inst.virtualIpaddressesExcluded[0]!.useVmac).toBe(false);
    expect(msgs.join('\n')).toContain('(VI_1) use_vmac_addr and use_vmac specified for VIP 10.1.0.11/24: keepalived puts it on a VMAC by use_vmac_addr');
  });
});

describe('use_vmac', () => {
  it('alone: a macvlan with the default name and MAC (chosen at start)', () => {
    const { inst, msgs } = load('  use_vmac');
    expect(inst.vmac).toMatchObject({ kind: 'macvlan', name: null, mac: null });
    expect(inst.vmacXmitBase).toBe(false);
    // keepalived: "use_vmac ... but no firewall configured - using nftables", nothing else
    expect(msgs).toEqual([expect.stringMatching(/or with use_vmac and no firewall is configured/)]);
  });

  it('a name and a MAC in either order; five octets take the VRID as the sixth', () => {
    expect(load('  use_vmac vm51 02:aa:bb:cc:dd:ee').inst.vmac).toMatchObject({ name: 'vm51', mac: '02:aa:bb:cc:dd:ee' });
    expect(load('  use_vmac 2:aa:bb:cc:dd vm51').inst.vmac).toMatchObject({ name: 'vm51', mac: '02:aa:bb:cc:dd:33' });
  });

  it('drops what keepalived drops, with a warning at the word', () => {
    const bad = (arg: string) => load(`  use_vmac ${arg}`);
    for (const [arg, why] of [
      ['01:00:5e:00:00:01', /multicast/],
      ['00:00:5e:00:01:07', /RFC 5798/],
      ['zz:00:5e:00:00:01', /invalid MAC/],
      ['a-name-longer-than-15', /too long/],
    ] as const) {
      const r = bad(arg);
      expect(r.inst.vmac).toMatchObject({ kind: 'macvlan', name: null, mac: null });
      expect(r.msgs.join('\n')).toMatch(why);
      expect(r.msgs[0]).toMatch(/^t\.conf:\d+:\d+: warning:/);
    }
  });

  it('unicast needs vmac_xmit_base: keepalived sets it; vmac_xmit_base without use_vmac is ignored', () => {
    const u = load('  use_vmac\n  unicast_peer {\n    10.0.0.2\n  }');
    expect(u.inst.vmacXmitBase).toBe(true);
    expect(u.msgs.join('\n')).toMatch(/requires vmac_xmit_base/);
    const x = load('  vmac_xmit_base');
    expect(x.inst.vmacXmitBase).toBe(false);
    expect(x.msgs.join('\n')).toMatch(/only valid with a vmac/);
  });

  it('vmac_prefix and vmac_addr_prefix: the first one written counts', () => {
    const { config } = load('  use_vmac', '  vmac_prefix vr\n  vmac_prefix other\n  vmac_addr_prefix va');
    expect(config.globalDefs).toMatchObject({ vmacPrefix: 'vr', vmacAddrPrefix: 'va' });
  });
});

describe('use_ipvlan', () => {
  it('name, address and type in any order; the address is also the advert source', () => {
    const { inst, msgs } = load('  use_ipvlan private 10.0.0.5/24 ipv51');
    expect(inst.vmac).toMatchObject({ kind: 'ipvlan', name: 'ipv51', ipvlanMode: 'private', ipvlanAddress: { address: '10.0.0.5', prefix: 24 } });
    expect(inst.mcastSrcIp).toBe('10.0.0.5');
    expect(msgs).toEqual([]);
  });

  it('an IPv4 ipvlan without an address runs in FAULT in keepalived: said at the line', () => {
    expect(load('  use_ipvlan').msgs.join('\n')).toMatch(/needs an address/);
    expect(load('  use_ipvlan', '', true).msgs).toEqual([]);
  });

  it('a second type or address is ignored, as keepalived does', () => {
    const { inst, msgs } = load('  use_ipvlan bridge vepa 10.0.0.5 10.0.0.6');
    expect(inst.vmac).toMatchObject({ ipvlanMode: 'bridge', ipvlanAddress: { address: '10.0.0.5', prefix: 32 } });
    expect(msgs).toHaveLength(2);
  });
});

describe('word checks', () => {
  it('link names as Linux takes them; MACs as keepalived reads them', () => {
    expect(validLinkName('vrrp.51')).toBe(true);
    expect(['', '.', '..', 'a/b', 'a:b', 'a b', '1234567890123456'].map(validLinkName)).toEqual(Array(7).fill(false));
    expect(parseVmacMac('2:A:b:c:d:e')).toBe('02:0a:0b:0c:0d:0e');
    expect(parseVmacMac('02:aa:bb:cc:dd:')).toBe('02:aa:bb:cc:dd:*');
    expect(parseVmacMac('02:aa:bb:cc')).toBeNull();
    expect(parseVmacMac('02:aaa:bb:cc:dd:ee')).toBeNull();
  });
});
