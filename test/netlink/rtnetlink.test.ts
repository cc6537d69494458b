/**
 * rtnetlink against a real kernel, inside a network namespace this file creates: addresses
 * (labels, broadcast, scope, IPv6 nodad, idempotency, typed errors), links, and the event
 * stream (an address deleted by `ip addr del`, a link set down/up).
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError, NetlinkSubscription, RouteNetlink, vrrpVirtualMac } from '../../src/netlink/index.js';
import type { NetlinkEvent } from '../../src/netlink/index.js';
import { Namespaces, enterNamespace, ipJson, ipn, netnsUnavailableReason } from './netns.js';

const unavailable = netnsUnavailableReason();
if (unavailable) console.warn(`skipping rtnetlink namespace tests: ${unavailable}`);

interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  label?: string;
  nodad?: boolean;
  tentative?: boolean;
}
interface IpLink {
  ifname: string;
  ifindex: number;
  address: string;
  mtu: number;
  operstate: string;
  flags: string[];
  addr_info?: IpAddrInfo[];
}

describe.skipIf(unavailable !== null)('rtnetlink in a network namespace', () => {
  const namespaces = new Namespaces();
  let ns = '';
  let leave: (() => void) | null = null;
  let rtnl: RouteNetlink;
  let dev0 = 0;
  let dev1 = 0;

  const addrsOf = (dev: string): IpAddrInfo[] => ipJson<IpLink[]>(ns, 'addr', 'show', 'dev', dev)[0]?.addr_info ?? [];

  beforeAll(() => {
    ns = namespaces.create('rt');
    ipn(ns, 'link', 'add', 'kt-nl-d0', 'type', 'veth', 'peer', 'name', 'kt-nl-d1');
    ipn(ns, 'link', 'set', 'kt-nl-d0', 'up');
    ipn(ns, 'link', 'set', 'kt-nl-d1', 'up');
    leave = enterNamespace(ns);
    rtnl = RouteNetlink.open();
  });

  afterAll(() => {
    rtnl?.close();
    leave?.();
    namespaces.deleteAll();
  });

  it('resolves link names and indexes and reports MAC, MTU and state as ip(8) does', async () => {
    dev0 = await rtnl.linkIndex('kt-nl-d0');
    dev1 = await rtnl.linkIndex('kt-nl-d1');
    ipn(ns, 'link', 'set', 'kt-nl-d1', 'mtu', '1400');
    const ipView = ipJson<IpLink[]>(ns, 'link', 'show');
    const links = await rtnl.listLinks();
    expect(links.map((l) => l.name).sort()).toEqual(ipView.map((l) => l.ifname).sort());
    for (const expected of ipView) {
      const link = links.find((l) => l.index === expected.ifindex)!;
      expect(link.name).toBe(expected.ifname);
      expect(link.mac).toBe(expected.address);
      expect(link.mtu).toBe(expected.mtu);
      expect(link.operState).toBe(expected.operstate.toLowerCase());
      expect(link.adminUp).toBe(expected.flags.includes('UP'));
    }
    expect(await rtnl.linkName(dev0)).toBe('kt-nl-d0');
    const d1 = await rtnl.getLink('kt-nl-d1');
    expect(d1).toMatchObject({ index: dev1, mtu: 1400, kind: 'veth', adminUp: true });
    expect(await rtnl.getLink('kt-nl-none')).toBeNull();
    await expect(rtnl.linkIndex('kt-nl-none')).rejects.toMatchObject({ code: 'ENODEV', errno: 19 });
  });

  it('adds an IPv4 address with label, broadcast and scope, idempotently', async () => {
    const spec = {
      ifindex: dev0,
      family: 4 as const,
      address: '192.0.2.10',
      prefix: 24,
      broadcast: '192.0.2.255',
      label: 'kt-nl-d0:vip',
      scope: 'link' as const,
    };
    expect(await rtnl.addAddress(spec)).toBe('added');
    expect(await rtnl.addAddress(spec)).toBe('already-present');

    const seenByIp = addrsOf('kt-nl-d0').filter((a) => a.local === '192.0.2.10');
    expect(seenByIp).toEqual([expect.objectContaining({ prefixlen: 24, broadcast: '192.0.2.255', scope: 'link', label: 'kt-nl-d0:vip' })]);

    const listed = await rtnl.listAddresses({ ifindex: dev0, family: 4 });
    expect(listed).toEqual([
      expect.objectContaining({ address: '192.0.2.10', prefix: 24, broadcast: '192.0.2.255', label: 'kt-nl-d0:vip', scope: 'link', peer: null }),
    ]);

    // `+` computes the directed broadcast, as `brd +` does.
    const second = { ifindex: dev0, family: 4 as const, address: '198.51.100.7', prefix: 25, broadcast: '+' };
    expect(await rtnl.addAddress(second)).toBe('added');
    expect(addrsOf('kt-nl-d0').find((a) => a.local === '198.51.100.7')).toMatchObject({ broadcast: '198.51.100.127', scope: 'global' });

    expect(await rtnl.deleteAddress(spec)).toBe('deleted');
    expect(await rtnl.deleteAddress(spec)).toBe('already-absent');
    expect(addrsOf('kt-nl-d0').map((a) => a.local)).not.toContain('192.0.2.10');
    expect(await rtnl.deleteAddress(second)).toBe('deleted');
  });

  it('adds IPv6 addresses with nodad (usable at once) and without (tentative first)', async () => {
    const vip = { ifindex: dev0, family: 6 as const, address: '2001:db8:0:0::10', prefix: 64, noDad: true };
    expect(await rtnl.addAddress(vip)).toBe('added');
    expect(await rtnl.addAddress(vip)).toBe('already-present');
    const found = await rtnl.findAddress(vip);
    expect(found).toMatchObject({ address: '2001:db8::10', prefix: 64, family: 6 });
    expect(found!.flags).toMatchObject({ noDad: true, tentative: false });
    expect(addrsOf('kt-nl-d0').find((a) => a.local === '2001:db8::10')).toMatchObject({ nodad: true });

    const plain = { ifindex: dev0, family: 6 as const, address: '2001:db8::11', prefix: 64 };
    expect(await rtnl.addAddress(plain)).toBe('added');
    expect((await rtnl.findAddress(plain))!.flags).toMatchObject({ noDad: false, tentative: true });

    expect(await rtnl.deleteAddress(vip)).toBe('deleted');
    expect(await rtnl.deleteAddress(vip)).toBe('already-absent');
    expect(await rtnl.deleteAddress(plain)).toBe('deleted');
    expect(await rtnl.findAddress(vip)).toBeNull();
  });

  it('reports kernel refusals as NetlinkError with errno, code and a sentence', async () => {
    const err = await rtnl.addAddress({ ifindex: 999_999, family: 4, address: '192.0.2.99', prefix: 24 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ errno: 19, code: 'ENODEV' });
    expect((err as Error).message).toBe('add address 192.0.2.99/24 on ifindex 999999: No such device (ENODEV)');
    // Malformed specs never reach the kernel.
    await expect(rtnl.addAddress({ ifindex: dev0, family: 4, address: '2001:db8::1', prefix: 24 })).rejects.toThrow(/not IPv4/);
    await expect(rtnl.addAddress({ ifindex: dev0, family: 6, address: '2001:db8::1', prefix: 64, label: 'x' })).rejects.toThrow(/labels/);
  });

  it('streams an address removed by `ip addr del` and a link set down and up', async () => {
    const sub = await NetlinkSubscription.open();
    const events: NetlinkEvent[] = [];
    sub.on((e) => events.push(e));
    const waitFor = async (pred: (e: NetlinkEvent) => boolean, what: string): Promise<NetlinkEvent> => {
      for (let i = 0; i < 100; i++) {
        const hit = events.find(pred);
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no ${what} event within 2 s; got ${JSON.stringify(events.map((e) => e.kind))}`);
    };
    try {
      await rtnl.addAddress({ ifindex: dev0, family: 4, address: '203.0.113.5', prefix: 24, label: 'kt-nl-d0:ev' });
      const added = await waitFor((e) => e.kind === 'address-added' && e.address.address === '203.0.113.5', 'address-added');
      expect(added).toMatchObject({ address: { ifindex: dev0, prefix: 24, label: 'kt-nl-d0:ev' } });

      ipn(ns, 'addr', 'del', '203.0.113.5/24', 'dev', 'kt-nl-d0');
      const removed = await waitFor((e) => e.kind === 'address-removed' && e.address.address === '203.0.113.5', 'address-removed');
      expect(removed).toMatchObject({ address: { ifindex: dev0, family: 4, prefix: 24 } });

      ipn(ns, 'addr', 'add', '2001:db8::77/64', 'dev', 'kt-nl-d0', 'nodad');
      ipn(ns, 'addr', 'del', '2001:db8::77/64', 'dev', 'kt-nl-d0');
      await waitFor((e) => e.kind === 'address-removed' && e.address.address === '2001:db8::77', 'IPv6 address-removed');

      ipn(ns, 'link', 'set', 'kt-nl-d0', 'down');
      const down = await waitFor((e) => e.kind === 'link-down' && e.link.index === dev0, 'link-down');
      expect(down).toMatchObject({ link: { name: 'kt-nl-d0', adminUp: false } });
      expect(sub.link(dev0)?.adminUp).toBe(false);

      ipn(ns, 'link', 'set', 'kt-nl-d0', 'up');
      const up = await waitFor((e) => e.kind === 'link-up' && e.link.index === dev0, 'link-up');
      expect(up).toMatchObject({ link: { name: 'kt-nl-d0', adminUp: true, running: true } });
      // The event order is the kernel's: removed before down before up.
      const kinds = events.filter((e) => e === removed || e === down || e === up).map((e) => e.kind);
      expect(kinds).toEqual(['address-removed', 'link-down', 'link-up']);
    } finally {
      sub.close();
    }
  });

  it('reports an overrun when notifications outpace a small receive buffer, then keeps working', async () => {
    const sub = await NetlinkSubscription.open({ recvBufferSize: 4096 });
    const events: NetlinkEvent[] = [];
    sub.on((e) => events.push(e));
    try {
      // `ip -batch` runs synchronously: the event loop cannot read while ~400 notifications queue.
      const batch = Array.from({ length: 200 }, (_, i) => `addr add 198.18.${i >> 8}.${i & 255}/32 dev kt-nl-d1\n`).join('');
      execFileSync('ip', ['-n', ns, '-batch', '-'], { input: batch });
      ipn(ns, 'addr', 'flush', 'dev', 'kt-nl-d1');
      for (let i = 0; i < 100 && !events.some((e) => e.kind === 'overrun'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(events.some((e) => e.kind === 'overrun')).toBe(true);
      // After the overrun the subscription still delivers, and its link view was re-read.
      ipn(ns, 'link', 'set', 'kt-nl-d1', 'mtu', '1300');
      for (let i = 0; i < 100 && !events.some((e) => e.kind === 'link-changed' && e.link.mtu === 1300); i++) await new Promise((r) => setTimeout(r, 20));
      expect(sub.link(dev1)?.mtu).toBe(1300);
    } finally {
      sub.close();
    }
  });

  it('creates and deletes a VRRP virtual MAC (macvlan) interface idempotently', async () => {
    const spec = { name: 'kt-nl-vmac', parentIndex: dev0, mac: vrrpVirtualMac(51, 4) };
    expect(await rtnl.createMacvlan(spec)).toBe('added');
    expect(await rtnl.createMacvlan(spec)).toBe('already-present');
    const seen = ipJson<
      { ifindex: number; address: string; link_index?: number; link?: string; linkinfo: { info_kind: string; info_data: { mode: string } } }[]
    >(ns, '-d', 'link', 'show', 'kt-nl-vmac')[0]!; // `ip link show NAME` fails when the link is absent
    expect(seen).toMatchObject({ address: '00:00:5e:00:01:33', linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } });
    const link = await rtnl.getLink('kt-nl-vmac');
    expect(link).toMatchObject({ index: seen.ifindex, kind: 'macvlan', mac: '00:00:5e:00:01:33', parentIndex: dev0 });
    expect(await rtnl.deleteLink(seen.ifindex)).toBe('deleted');
    expect(await rtnl.deleteLink(seen.ifindex)).toBe('already-absent');
    expect(await rtnl.getLink('kt-nl-vmac')).toBeNull();
  });
});
