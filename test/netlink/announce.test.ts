/**
 * GARP and unsolicited NA on the wire: two namespaces joined by a veth pair. The peer holds
 * a neighbour entry for the VIP at a wrong MAC; our announcement from the other side must
 * make the peer's kernel move the entry to our real MAC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Announcer, announcementFrame, ipv6ForwardingEnabled } from '../../src/netlink/announce.js';
import { naFlags } from '../../src/netlink/frames.js';
import { RouteNetlink } from '../../src/netlink/index.js';
import type { Link } from '../../src/netlink/index.js';
import { Namespaces, enterNamespace, ipJson, ipn, netnsUnavailableReason, sh, sleep } from './netns.js';

const unavailable = netnsUnavailableReason();
if (unavailable) console.warn(`skipping GARP/NA namespace tests: ${unavailable}`);

const WRONG_MAC = '02:00:00:00:00:99';

interface Neighbour {
  dst: string;
  lladdr?: string;
  state?: string[];
}

describe.skipIf(unavailable !== null)('gratuitous ARP and unsolicited NA between namespaces', () => {
  const namespaces = new Namespaces();
  let ours = '';
  let peer = '';
  let leave: (() => void) | null = null;
  let rtnl: RouteNetlink;
  let link: Link;
  let announcer: Announcer;

  const neighbour = (family: '-4' | '-6', address: string): Neighbour | undefined =>
    ipJson<Neighbour[]>(peer, family, 'neigh', 'show', address, 'dev', 'kt-nl-gb')[0];

  /** Seconds the peer's kernel ignores a new lladdr after an update (neigh locktime). */
  const locktimeMs = (family: 'ipv4' | 'ipv6'): number => {
    const jiffies = sh('ip', ['netns', 'exec', peer, 'cat', `/proc/sys/net/${family}/neigh/kt-nl-gb/locktime`]).trim();
    return (Number(jiffies) / 100) * 1000; // USER_HZ
  };

  async function expectPeerLearns(family: '-4' | '-6', address: string): Promise<string | undefined> {
    for (let i = 0; i < 50; i++) {
      const entry = neighbour(family, address);
      if (entry?.lladdr === link.mac) return entry.lladdr;
      await sleep(20);
    }
    return neighbour(family, address)?.lladdr;
  }

  beforeAll(async () => {
    ours = namespaces.create('ga');
    peer = namespaces.create('gb');
    ipn(ours, 'link', 'add', 'kt-nl-ga', 'type', 'veth', 'peer', 'name', 'kt-nl-gb', 'netns', peer);
    ipn(ours, 'addr', 'add', '192.0.2.1/24', 'dev', 'kt-nl-ga');
    ipn(ours, 'addr', 'add', '2001:db8:1::1/64', 'dev', 'kt-nl-ga', 'nodad');
    ipn(peer, 'addr', 'add', '192.0.2.2/24', 'dev', 'kt-nl-gb');
    ipn(peer, 'addr', 'add', '2001:db8:1::2/64', 'dev', 'kt-nl-gb', 'nodad');
    ipn(ours, 'link', 'set', 'kt-nl-ga', 'up');
    ipn(peer, 'link', 'set', 'kt-nl-gb', 'up');
    leave = enterNamespace(ours);
    rtnl = RouteNetlink.open();
    announcer = new Announcer();
    link = (await rtnl.getLink('kt-nl-ga'))!;
    expect(link.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(link.mac).not.toBe(WRONG_MAC);
    // The VIPs, added as the VRRP master would.
    await rtnl.addAddress({ ifindex: link.index, family: 4, address: '192.0.2.100', prefix: 24 });
    await rtnl.addAddress({ ifindex: link.index, family: 6, address: '2001:db8:1::100', prefix: 64, noDad: true });
  });

  afterAll(() => {
    announcer?.close();
    rtnl?.close();
    leave?.();
    namespaces.deleteAll();
  });

  it("a gratuitous ARP moves the peer's stale entry for the VIP to our MAC", async () => {
    ipn(peer, 'neigh', 'replace', '192.0.2.100', 'lladdr', WRONG_MAC, 'dev', 'kt-nl-gb', 'nud', 'stale');
    expect(neighbour('-4', '192.0.2.100')?.lladdr).toBe(WRONG_MAC);
    // Within locktime of an update the kernel keeps the old lladdr: a GARP then is ignored.
    await sleep(locktimeMs('ipv4') + 200);
    // Control: nothing else moved the entry meanwhile, so what follows is our frame's doing.
    expect(neighbour('-4', '192.0.2.100')?.lladdr).toBe(WRONG_MAC);

    announcer.announce(link, '192.0.2.100');

    expect(await expectPeerLearns('-4', '192.0.2.100')).toBe(link.mac);
  });

  it("an unsolicited NA moves the peer's stale IPv6 entry for the VIP to our MAC", async () => {
    ipn(peer, '-6', 'neigh', 'replace', '2001:db8:1::100', 'lladdr', WRONG_MAC, 'dev', 'kt-nl-gb', 'nud', 'stale');
    await sleep(300);
    expect(neighbour('-6', '2001:db8:1::100')?.lladdr).toBe(WRONG_MAC);

    announcer.announce(link, '2001:db8:1::100');

    expect(await expectPeerLearns('-6', '2001:db8:1::100')).toBe(link.mac);
  });

  it('repeated announcements keep the entry pointed at us and report no errors', async () => {
    ipn(peer, 'neigh', 'replace', '192.0.2.100', 'lladdr', WRONG_MAC, 'dev', 'kt-nl-gb', 'nud', 'stale');
    ipn(peer, '-6', 'neigh', 'replace', '2001:db8:1::100', 'lladdr', WRONG_MAC, 'dev', 'kt-nl-gb', 'nud', 'stale');
    await sleep(locktimeMs('ipv4') + 200);
    const errors = await announcer.announceRepeatedly(link, ['192.0.2.100', '2001:db8:1::100'], 2, 20);
    expect(errors).toEqual([]);
    expect(await expectPeerLearns('-4', '192.0.2.100')).toBe(link.mac);
    expect(await expectPeerLearns('-6', '2001:db8:1::100')).toBe(link.mac);
  });

  it('a send on a missing interface fails with the errno', () => {
    expect(() => announcer.announce({ index: 999_999, name: 'kt-nl-none', mac: link.mac }, '192.0.2.100')).toThrow(expect.objectContaining({ code: 'ENXIO' }));
  });

  it("sets the NA Router flag from the link's IPv6 forwarding, read in our own namespace", () => {
    // The host has no kt-nl-ga: a true here proves /proc/sys/net is read in the namespace.
    expect(ipv6ForwardingEnabled('kt-nl-ga')).toBe(false);
    expect(naFlags(announcementFrame(link, '2001:db8:1::100'))).toMatchObject({ router: false, override: true });
    sh('ip', ['netns', 'exec', ours, 'sysctl', '-q', '-w', 'net.ipv6.conf.kt-nl-ga.forwarding=1']);
    expect(ipv6ForwardingEnabled('kt-nl-ga')).toBe(true);
    expect(naFlags(announcementFrame(link, '2001:db8:1::100'))).toMatchObject({ router: true, override: true });
  });
});
