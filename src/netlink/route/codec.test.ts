import { describe, expect, it } from 'vitest';
import { NetlinkError } from '../errors.js';
import { cString, decodeAttrs, encodeAttrs, u32Bytes, u32From } from '../wire.js';
import {
  classifyLinkUpdate,
  decodeAddress,
  decodeIfAddrMsg,
  decodeIfInfoMsg,
  decodeLink,
  encodeAddAddress,
  encodeAddrGenModeNone,
  encodeCreateIpvlan,
  encodeCreateMacvlan,
  encodeDeleteAddress,
  encodeFullRoute,
  encodeIfAddrMsg,
  encodeIfInfoMsg,
  parseScope,
  vrrpVirtualMac,
} from './codec.js';
import {
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_AF_SPEC,
  IFLA_INET6_ADDR_GEN_MODE,
  IFLA_IPVLAN_FLAGS,
  IFLA_IPVLAN_MODE,
  IFLA_MACVLAN_MODE,
  IFLA_MTU,
  IFLA_OPERSTATE,
  RTM_DELADDR,
  RTM_DELROUTE,
  RTM_NEWLINK,
} from './constants.js';
import { eventsFromNotification } from './events.js';
import type { Link } from './model.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// These byte layouts are little-endian host order, as on this x86_64 machine kind.
describe('rtnetlink family headers', () => {
  it('round-trips ifaddrmsg and ifinfomsg', () => {
    const addr = { family: 10, prefixLen: 64, flags: 0x82, scope: 253, index: 7 };
    expect(encodeIfAddrMsg(addr)).toEqual(hex('0a 40 82 fd 07000000'));
    expect(decodeIfAddrMsg(encodeIfAddrMsg(addr))).toEqual(addr);
    const info = { family: 0, type: 1, index: 3, flags: 0x11043, change: 1 };
    expect(encodeIfInfoMsg(info)).toEqual(hex('00 00 0100 03000000 43100100 01000000'));
    expect(decodeIfInfoMsg(encodeIfInfoMsg(info))).toEqual(info);
  });
});

describe('address requests', () => {
  it('encodes an IPv4 VIP with label, broadcast and scope', () => {
    const payload = encodeAddAddress({
      ifindex: 3,
      family: 4,
      address: '192.0.2.10',
      prefix: 24,
      broadcast: '+',
      label: 'eth0:vip',
      scope: 'link',
    });
    expect(decodeIfAddrMsg(payload)).toEqual({ family: 2, prefixLen: 24, flags: 0, scope: 253, index: 3 });
    const attrs = decodeAttrs(payload.subarray(8));
    expect(attrs.get(IFA_LOCAL)).toEqual(Buffer.from([192, 0, 2, 10]));
    expect(attrs.get(IFA_ADDRESS)).toEqual(Buffer.from([192, 0, 2, 10]));
    expect(attrs.get(IFA_BROADCAST)).toEqual(Buffer.from([192, 0, 2, 255]));
    expect(attrs.get(IFA_LABEL)).toEqual(cString('eth0:vip'));
    expect(attrs.has(IFA_FLAGS)).toBe(false);
  });

  it('encodes an IPv6 VIP with NODAD in the header and in IFA_FLAGS', () => {
    const payload = encodeAddAddress({ ifindex: 4, family: 6, address: '2001:db8::10', prefix: 64, noDad: true, noPrefixRoute: true });
    expect(decodeIfAddrMsg(payload)).toMatchObject({ family: 10, prefixLen: 64, flags: 0x02 });
    expect(u32From(decodeAttrs(payload.subarray(8)).get(IFA_FLAGS)!)).toBe(0x202);
  });

  it('refuses what the kernel would refuse less clearly', () => {
    expect(() => encodeAddAddress({ ifindex: 1, family: 4, address: '192.0.2.1', prefix: 33 })).toThrow(/prefix \/33/);
    expect(() => encodeAddAddress({ ifindex: 1, family: 6, address: '2001:db8::1', prefix: 64, broadcast: '2001:db8::ff' })).toThrow(/no broadcast/);
    expect(() => encodeAddAddress({ ifindex: 1, family: 4, address: '192.0.2.1', prefix: 24, label: 'a-label-much-too-long' })).toThrow(/1-15/);
  });

  it('deletes by local address and prefix only', () => {
    const payload = encodeDeleteAddress({ ifindex: 3, family: 4, address: '192.0.2.10', prefix: 24, label: 'eth0:vip' });
    expect([...decodeAttrs(payload.subarray(8)).keys()]).toEqual([IFA_LOCAL]);
  });

  it('parses scope names and numbers', () => {
    expect(parseScope('LINK')).toBe('link');
    expect(parseScope('200')).toBe(200);
    expect(() => parseScope('galaxy')).toThrow(/unknown address scope/);
  });
});

describe('kernel address messages', () => {
  it('decodes a point-to-point IPv4 address with flags from IFA_FLAGS', () => {
    const payload = Buffer.concat([
      encodeIfAddrMsg({ family: 2, prefixLen: 32, flags: 0x80, scope: 0, index: 5 }),
      encodeAttrs([
        { type: IFA_ADDRESS, value: Buffer.from([10, 0, 0, 2]) },
        { type: IFA_LOCAL, value: Buffer.from([10, 0, 0, 1]) },
        { type: IFA_LABEL, value: cString('tun0') },
        { type: IFA_FLAGS, value: u32Bytes(0x280) },
      ]),
    ]);
    expect(decodeAddress(payload)).toEqual({
      ifindex: 5,
      family: 4,
      address: '10.0.0.1',
      prefix: 32,
      peer: '10.0.0.2',
      broadcast: null,
      label: 'tun0',
      scope: 'global',
      flags: { secondary: false, noDad: false, optimistic: false, dadFailed: false, deprecated: false, tentative: false, permanent: true, noPrefixRoute: true },
    });
  });

  it('decodes IPv6 (IFA_ADDRESS only) in canonical form and ignores other families', () => {
    const v6 = Buffer.concat([
      encodeIfAddrMsg({ family: 10, prefixLen: 64, flags: 0x42, scope: 0, index: 2 }),
      encodeAttrs([{ type: IFA_ADDRESS, value: Buffer.from('20010db8000000000000000000000010', 'hex') }]),
    ]);
    expect(decodeAddress(v6)).toMatchObject({ address: '2001:db8::10', peer: null, flags: { noDad: true, tentative: true } });
    expect(decodeAddress(encodeIfAddrMsg({ family: 7, prefixLen: 0, flags: 0, scope: 0, index: 2 }))).toBeNull();
  });
});

function linkPayload(over: { index?: number; flags?: number; name?: string; mtu?: number; oper?: number; family?: number } = {}): Buffer {
  return Buffer.concat([
    encodeIfInfoMsg({ family: over.family ?? 0, type: 1, index: over.index ?? 3, flags: over.flags ?? IFF_UP | IFF_RUNNING | IFF_LOWER_UP, change: 0 }),
    encodeAttrs([
      { type: IFLA_IFNAME, value: cString(over.name ?? 'eth1') },
      { type: IFLA_ADDRESS, value: Buffer.from([0x52, 0x54, 0, 1, 2, 3]) },
      { type: IFLA_MTU, value: u32Bytes(over.mtu ?? 1500) },
      { type: IFLA_OPERSTATE, value: Buffer.from([over.oper ?? 6]) },
      { type: IFLA_LINKINFO, nested: true, value: encodeAttrs([{ type: IFLA_INFO_KIND, value: cString('veth') }]) },
    ]),
  ]);
}

describe('links and link events', () => {
  it('decodes a link', () => {
    expect(decodeLink(linkPayload())).toMatchObject({
      index: 3,
      name: 'eth1',
      mac: '52:54:00:01:02:03',
      mtu: 1500,
      adminUp: true,
      running: true,
      lowerUp: true,
      operState: 'up',
      kind: 'veth',
    });
    expect(decodeLink(linkPayload({ family: 7 }))).toBeNull(); // AF_BRIDGE port info
  });

  it('classifies transitions by admin up and running, as keepalived does', () => {
    const up = decodeLink(linkPayload())!;
    const adminDown = decodeLink(linkPayload({ flags: 0, oper: 2 }))!;
    const noCarrier = decodeLink(linkPayload({ flags: IFF_UP, oper: 3 }))!;
    const bigger = decodeLink(linkPayload({ mtu: 9000 }))!;
    expect(classifyLinkUpdate(up, adminDown).kind).toBe('link-down');
    expect(classifyLinkUpdate(up, noCarrier).kind).toBe('link-down');
    expect(classifyLinkUpdate(noCarrier, up).kind).toBe('link-up');
    expect(classifyLinkUpdate(up, bigger)).toEqual({ kind: 'link-changed', link: bigger, previous: up });
    expect(classifyLinkUpdate(null, up).kind).toBe('link-up');
    expect(classifyLinkUpdate(null, adminDown).kind).toBe('link-down');
  });

  it('turns notifications into events and drops repeats that change nothing', () => {
    const up = decodeLink(linkPayload())!;
    const msg = (type: number, payload: Buffer) => ({ type, flags: 0, seq: 0, pid: 0, payload });
    const known = (l: Link | null) => () => l;
    expect(eventsFromNotification(msg(RTM_NEWLINK, linkPayload()), known(up))).toEqual([]);
    expect(eventsFromNotification(msg(RTM_NEWLINK, linkPayload({ flags: 0 })), known(up))).toMatchObject([{ kind: 'link-down' }]);
    const addr = Buffer.concat([
      encodeIfAddrMsg({ family: 2, prefixLen: 24, flags: 0, scope: 0, index: 3 }),
      encodeAttrs([{ type: IFA_LOCAL, value: Buffer.from([192, 0, 2, 1]) }]),
    ]);
    expect(eventsFromNotification(msg(RTM_DELADDR, addr), known(null))).toMatchObject([
      { kind: 'address-removed', address: { address: '192.0.2.1', prefix: 24, ifindex: 3 } },
    ]);
    // a route removal names what keepalived compares: table past 255 from RTA_TABLE, metric, tos, device
    const route = encodeFullRoute(
      {
        family: 4,
        type: 1,
        table: 1000,
        protocol: 18,
        scope: null,
        tos: 8,
        flags: 0,
        destination: '10.9.0.0',
        destinationLength: 24,
        source: null,
        preferredSource: null,
        gateway: null,
        oif: 4,
        priority: 5,
        realms: null,
        expires: null,
        pref: null,
        ttlPropagate: null,
        metrics: new Map(),
        lock: 0,
        congctl: null,
        nexthops: [],
      },
      'delete',
    );
    expect(eventsFromNotification(msg(RTM_DELROUTE, route), known(null))).toEqual([
      { kind: 'route-removed', route: { family: 4, destination: '10.9.0.0', length: 24, tos: 8, table: 1000, protocol: 18, oif: 4, priority: 5 } },
    ]);
  });
});

describe('NetlinkError', () => {
  it('carries errno, code and a sentence', () => {
    const err = new NetlinkError('add address 192.0.2.1/24 on ifindex 3', 17);
    expect(err).toMatchObject({ errno: 17, code: 'EEXIST', operation: 'add address 192.0.2.1/24 on ifindex 3' });
    expect(err.message).toBe('add address 192.0.2.1/24 on ifindex 3: File exists (EEXIST)');
    expect(new NetlinkError('x', 22, 'prefix too long').message).toBe('x: Invalid argument (EINVAL) [prefix too long]');
  });
});

describe('VMAC links', () => {
  it('builds the RFC 5798 virtual router MACs', () => {
    expect(vrrpVirtualMac(51, 4)).toBe('00:00:5e:00:01:33');
    expect(vrrpVirtualMac(255, 6)).toBe('00:00:5e:00:02:ff');
    expect(() => vrrpVirtualMac(0, 4)).toThrow(/VRID/);
  });

  it('encodes a private-mode macvlan on its parent with the virtual MAC', () => {
    const payload = encodeCreateMacvlan({ name: 'vrrp.51', parentIndex: 4, mac: '00:00:5e:00:01:33' });
    const attrs = decodeAttrs(payload.subarray(16));
    expect(attrs.get(IFLA_IFNAME)).toEqual(cString('vrrp.51'));
    expect(u32From(attrs.get(IFLA_LINK)!)).toBe(4);
    expect(attrs.get(IFLA_ADDRESS)).toEqual(Buffer.from([0, 0, 0x5e, 0, 1, 0x33]));
    const info = decodeAttrs(attrs.get(IFLA_LINKINFO)!);
    expect(info.get(IFLA_INFO_KIND)).toEqual(cString('macvlan'));
    expect(u32From(decodeAttrs(info.get(IFLA_INFO_DATA)!).get(IFLA_MACVLAN_MODE)!)).toBe(1);
    // NLA_F_NESTED must be on the wire for nested attributes (strict kernels insist).
    expect(payload.readUInt16LE(16 + 12 + 8 + 12 + 2) & 0x8000).toBe(0x8000);
  });

  it('encodes a layer 2 ipvlan in the mode use_ipvlan names, created up', () => {
    const payload = encodeCreateIpvlan({ name: 'vrrp.51', parentIndex: 4, mode: 'vepa' });
    expect(decodeIfInfoMsg(payload)).toMatchObject({ flags: IFF_UP, change: IFF_UP });
    const attrs = decodeAttrs(payload.subarray(16));
    expect(attrs.get(IFLA_IFNAME)).toEqual(cString('vrrp.51'));
    expect(u32From(attrs.get(IFLA_LINK)!)).toBe(4);
    const info = decodeAttrs(attrs.get(IFLA_LINKINFO)!);
    expect(info.get(IFLA_INFO_KIND)).toEqual(cString('ipvlan'));
    const data = decodeAttrs(info.get(IFLA_INFO_DATA)!);
    expect(data.get(IFLA_IPVLAN_MODE)!.readUInt16LE(0)).toBe(0); // IPVLAN_MODE_L2
    expect(data.get(IFLA_IPVLAN_FLAGS)!.readUInt16LE(0)).toBe(2); // IPVLAN_F_VEPA
    expect(() => encodeCreateIpvlan({ name: 'a-name-too-long-for-linux', parentIndex: 4, mode: 'bridge' })).toThrow(/1-15/);
  });

  it('turns off IPv6 address generation through IFLA_AF_SPEC / AF_INET6', () => {
    const payload = encodeAddrGenModeNone(9);
    expect(decodeIfInfoMsg(payload)).toMatchObject({ index: 9, flags: 0, change: 0 });
    const inet6 = decodeAttrs(decodeAttrs(payload.subarray(16)).get(IFLA_AF_SPEC)!).get(10)!;
    expect(decodeAttrs(inet6).get(IFLA_INET6_ADDR_GEN_MODE)).toEqual(Buffer.from([1]));
  });

  it('decodes a macvlan or ipvlan mode, and ipvlan flags', () => {
    const vlan = (kind: string, data: { type: number; value: Buffer }[]) =>
      decodeLink(
        Buffer.concat([
          encodeIfInfoMsg({ family: 0, type: 1, index: 5, flags: IFF_UP, change: 0 }),
          encodeAttrs([
            { type: IFLA_IFNAME, value: cString('vrrp.51') },
            { type: IFLA_LINK, value: u32Bytes(2) },
            {
              type: IFLA_LINKINFO,
              nested: true,
              value: encodeAttrs([
                { type: IFLA_INFO_KIND, value: cString(kind) },
                { type: IFLA_INFO_DATA, nested: true, value: encodeAttrs(data) },
              ]),
            },
          ]),
        ]),
      );
    expect(vlan('macvlan', [{ type: IFLA_MACVLAN_MODE, value: u32Bytes(1) }])).toMatchObject({
      kind: 'macvlan',
      parentIndex: 2,
      vlanMode: 1,
      ipvlanFlags: null,
    });
    const u16 = (n: number) => Buffer.from([n, 0]);
    expect(
      vlan('ipvlan', [
        { type: IFLA_IPVLAN_MODE, value: u16(0) },
        { type: IFLA_IPVLAN_FLAGS, value: u16(1) },
      ]),
    ).toMatchObject({ kind: 'ipvlan', vlanMode: 0, ipvlanFlags: 1 });
  });
});
