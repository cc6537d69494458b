// use_vmac against keepalived 2.2.7, on the router lab's bridge (r1, r2, observer). The
// same config with `use_vmac` on both sides:
// - each, alone on r1: the macvlan it makes (`ip -d link`: name, MAC, mode, parent), the
//   VIP on it, the sysctls it sets on it and on eth0, and what is left after a stop, are
//   the same for ours as for keepalived's;
// - ours MASTER / keepalived BACKUP: the adverts and GARPs leave with the virtual MAC as
//   source, the VIP's ARP reply carries it; ours is SIGKILLed, keepalived takes over and
//   answers with the same MAC (the point of a VMAC); ours comes
//   back, takes over the VMAC the crash left behind and preempts; a graceful stop deletes
//   it. keepalived MASTER / ours BACKUP: ours hears the adverts (on its own VMAC, where the
//   kernel delivers frames whose source is its MAC) and stays BACKUP.
// - vmac_xmit_base: the adverts leave with eth0's MAC, the VIP is still on the VMAC.
// - use_vmac_addr: a VIP on another interface, and one of the other family, each on a VMAC
//   of its own (names, MACs, parents, addresses), all deleted by a stop, as keepalived.
// - a VIP's own `use_vmac` (none on the instance): that VIP on a VMAC of its interface.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configText, labUnavailable, RouterLab, sleep, until, type Capture, type Impl, type Router } from './lab.js';

const why = labUnavailable();
if (why) console.warn(`use_vmac tests skipped: ${why}`);

const lab = new RouterLab('kt-vx', 68);
const VIP = lab.vip(100);
const VMAC = '00:00:5e:00:01:33';
let cap: Capture;

beforeAll(async () => {
  if (why) return;
  await lab.setup();
  cap = await lab.capture();
});

afterEach(async () => {
  if (why) return;
  await lab.stopAll();
  // what a crash leaves behind goes, as a reboot would take it
  for (const r of [lab.r1, lab.r2]) lab.exec(r.ns, 'ip link del vrrp.51 2>/dev/null; true');
});

afterAll(async () => {
  await lab.cleanup();
});

const conf = (prio: number, extra: string[] = []) =>
  configText([{ vrid: 51, prio, version: 3, advertInt: '0.1', vips: [`${VIP}/24`], extra: ['use_vmac', ...extra] }]);

/** `ip -d link` of the VMAC, reduced to what identifies it (no index, no counters). */
function vmacLink(r: Router, name = 'vrrp.51'): string | null {
  let out: string;
  try {
    out = lab.exec(r.ns, `ip -d -o link show dev ${name}`);
  } catch {
    return null;
  }
  const parent = /@(\S+):/.exec(out)?.[1];
  const mac = /link\/ether ([0-9a-f:]+)/.exec(out)?.[1];
  const mode = /macvlan mode (\S+)/.exec(out)?.[1];
  const gen = /addrgenmode (\S+)/.exec(out)?.[1];
  const up = /<[^>]*\bUP\b/.test(out);
  return `${name}@${parent} ${mac} macvlan ${mode} addrgenmode ${gen} ${up ? 'UP' : 'DOWN'}`;
}

const SYSCTLS = [
  'ipv4/conf/vrrp.51/arp_ignore',
  'ipv4/conf/vrrp.51/accept_local',
  'ipv4/conf/vrrp.51/rp_filter',
  'ipv4/conf/vrrp.51/promote_secondaries',
  'ipv6/conf/vrrp.51/disable_ipv6',
  'ipv4/conf/eth0/arp_ignore',
  'ipv4/conf/eth0/arp_filter',
  'ipv4/conf/all/rp_filter',
  'ipv4/conf/default/rp_filter',
  'ipv4/conf/eth0/rp_filter',
];
function sysctls(r: Router): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of SYSCTLS) out[s] = lab.exec(r.ns, `cat /proc/sys/net/${s} 2>/dev/null || echo absent`).trim();
  return out;
}

const vipOn = (r: Router, dev: string) => lab.exec(r.ns, `ip -o addr show dev ${dev} 2>/dev/null || true`).includes(` ${VIP}/24`);

interface Made {
  link: string | null;
  vip: boolean;
  sysctls: Record<string, string>;
  afterStop: { link: string | null; sysctls: Record<string, string> };
}

/** What `impl` alone on r1 makes of the file, and what is left after a graceful stop. */
async function madeBy(impl: Impl): Promise<Made> {
  const r1 = lab.r1;
  // a non-default base so restoring it is visible; all.rp_filter 1 so keepalived's dance shows
  lab.exec(r1.ns, 'sysctl -qw net.ipv4.conf.eth0.arp_ignore=2 net.ipv4.conf.eth0.arp_filter=0 net.ipv4.conf.all.rp_filter=1');
  const d = await lab.start(impl, r1, conf(150));
  await until(() => vipOn(r1, 'vrrp.51'), 20_000, `${impl}: ${VIP} on vrrp.51`);
  const made = { link: vmacLink(r1), vip: vipOn(r1, 'vrrp.51') && !vipOn(r1, 'eth0'), sysctls: sysctls(r1) };
  await d.stop();
  const after = { link: vmacLink(r1), sysctls: sysctls(r1) };
  lab.exec(r1.ns, 'sysctl -qw net.ipv4.conf.eth0.arp_ignore=0 net.ipv4.conf.eth0.arp_filter=0 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0');
  return { ...made, afterStop: after };
}

describe.skipIf(why)('use_vmac, ours beside keepalived 2.2.7', () => {
  it('alone on a router: the same macvlan, VIP placement and sysctls as keepalived, all undone by a stop', { timeout: 120_000 }, async () => {
    const theirs = await madeBy('keepalived');
    const ours = await madeBy('ours');
    expect(theirs.link).toBe(`vrrp.51@eth0 ${VMAC} macvlan private addrgenmode none UP`);
    expect(ours).toEqual(theirs);
    expect(ours.vip).toBe(true);
    expect(ours.sysctls).toMatchObject({
      'ipv4/conf/vrrp.51/arp_ignore': '1',
      'ipv4/conf/vrrp.51/accept_local': '1',
      'ipv4/conf/vrrp.51/rp_filter': '0',
      'ipv6/conf/vrrp.51/disable_ipv6': '1',
      'ipv4/conf/eth0/arp_ignore': '1',
      'ipv4/conf/eth0/arp_filter': '1',
      'ipv4/conf/all/rp_filter': '0',
    });
    expect(ours.afterStop.link).toBeNull();
    // keepalived puts all.rp_filter back, and leaves eth0's ARP settings as it set them
    expect(ours.afterStop.sysctls).toMatchObject({ 'ipv4/conf/eth0/arp_ignore': '1', 'ipv4/conf/eth0/arp_filter': '1', 'ipv4/conf/all/rp_filter': '1' });
  });

  it(
    'ours MASTER, keepalived BACKUP: adverts from the virtual MAC, failover keeps the MAC, ours takes its VMAC back after a crash',
    { timeout: 120_000 },
    async () => {
      const { r1, r2 } = lab;
      const ours = await lab.start('ours', r1, conf(150));
      await until(() => vipOn(r1, 'vrrp.51'), 20_000, 'ours holds the VIP on vrrp.51');
      const theirs = await lab.start('keepalived', r2, conf(100));
      await sleep(1_500);
      expect(vipOn(r2, 'vrrp.51')).toBe(false);
      expect(vmacLink(r2)).toBe(`vrrp.51@eth0 ${VMAC} macvlan private addrgenmode none UP`);
      const from = cap.frames.length;
      await sleep(500);
      const adverts = cap.adverts(from).filter((a) => a.vrid === 51);
      expect(adverts.length).toBeGreaterThanOrEqual(3);
      expect(adverts.every((a) => a.src === r1.ip && a.prio === 150 && a.frame.srcMac === VMAC)).toBe(true);

      // the VIP answers ARP with the virtual MAC (the observer's entry may then be overwritten
      // by the router's own ARP request from eth0 for the reply, keepalived's behaviour too)
      lab.exec(lab.obs, `ip neigh flush ${VIP} dev eth0; ping -c 1 -W 2 ${VIP} >/dev/null`);
      const arpReplies = () => cap.frames.filter((f) => f.arp?.op === 2 && f.arp.senderIp === VIP).map((f) => `${f.srcMac} ${f.arp!.senderMac}`);
      await until(() => arpReplies().length > 0, 3_000, 'ARP reply for the VIP captured');
      expect(new Set(arpReplies())).toEqual(new Set([`${VMAC} ${VMAC}`]));
      const garps = () => cap.frames.filter((f) => f.arp?.op === 1 && f.arp.senderIp === VIP && f.arp.targetIp === VIP);
      expect(garps().length).toBeGreaterThan(0);
      expect(garps().every((f) => f.srcMac === VMAC && f.arp!.senderMac === VMAC)).toBe(true);

      await ours.kill();
      await until(() => vipOn(r2, 'vrrp.51'), 10_000, 'keepalived takes the VIP after SIGKILL');
      // the crashed router's VMAC (with its VIP) is still there: take it off the bridge's way
      lab.exec(r1.ns, 'ip link set vrrp.51 down');
      const replies = arpReplies().length;
      lab.exec(lab.obs, `ip neigh flush ${VIP} dev eth0; ping -c 1 -W 2 ${VIP} >/dev/null`);
      await until(() => arpReplies().length > replies, 3_000, 'ARP reply from keepalived captured');
      expect(new Set(arpReplies().slice(replies))).toEqual(new Set([`${VMAC} ${VMAC}`]));
      const takeover = cap.frames.length;
      await sleep(500);
      expect(cap.adverts(takeover).filter((a) => a.vrid === 51 && a.src === r2.ip && a.frame.srcMac === VMAC).length).toBeGreaterThanOrEqual(2);

      // back after the crash: the VMAC left behind is taken over (not replaced) and ours preempts
      const back = await lab.start('ours', r1, conf(150));
      await until(() => vipOn(r1, 'vrrp.51') && !vipOn(r2, 'vrrp.51'), 20_000, 'ours preempts on its old VMAC');
      expect(back.log).toMatch(/Found matching interface vrrp\.51/);
      expect(vmacLink(r1)).toBe(`vrrp.51@eth0 ${VMAC} macvlan private addrgenmode none UP`);
      expect(back.protocolErrors()).toEqual([]);
      expect(theirs.protocolErrors()).toEqual([]);

      await back.stop();
      await until(() => vipOn(r2, 'vrrp.51'), 10_000, 'keepalived takes over after our graceful stop');
      expect(vmacLink(r1)).toBeNull();
      expect(lab.exec(r1.ns, 'ip -o addr show')).not.toContain(` ${VIP}/`);
    },
  );

  it('keepalived MASTER, ours BACKUP: ours hears the adverts on its VMAC and stays BACKUP', { timeout: 90_000 }, async () => {
    const { r1, r2 } = lab;
    const theirs = await lab.start('keepalived', r1, conf(150));
    await until(() => vipOn(r1, 'vrrp.51'), 20_000, 'keepalived holds the VIP');
    const ours = await lab.start('ours', r2, conf(100));
    await sleep(2_000);
    expect(vipOn(r2, 'vrrp.51')).toBe(false);
    expect(ours.log).not.toMatch(/Entering MASTER STATE/);
    const st = await ours.stats();
    expect(st.received).toBeGreaterThan(5);
    expect(Object.entries(st.rejected).filter(([, n]) => n > 0)).toEqual([]);
    await theirs.stop();
    await until(() => vipOn(r2, 'vrrp.51'), 10_000, 'ours takes over');
    await ours.stop();
    expect(vmacLink(r2)).toBeNull();
  });

  it('use_vmac_addr: a VMAC for the VIP on eth1 and one for the IPv6 VIP on eth0, as keepalived makes them', { timeout: 120_000 }, async () => {
    await lab.addLan('eth1', 1);
    const S = lab.subnet;
    const file = configText([
      {
        vrid: 51,
        prio: 150,
        version: 3,
        advertInt: '0.1',
        vips: [`${VIP}/24`, `10.${S}.1.100/24 dev eth1`],
        extra: ['use_vmac_addr', 'virtual_ipaddress_excluded {', `    fd${S}::100/64`, '  }'],
      },
    ]);
    /** Each link's identity and its addresses (lifetimes left out). */
    const links = () =>
      ['eth0', 'eth1', 'vrrp.51', 'vrrp6.51'].map((dev) => {
        const addrs = lab
          .exec(lab.r1.ns, `ip -o addr show dev ${dev} 2>/dev/null || true`)
          .split('\n')
          .map((l) => /inet6? (\S+)/.exec(l)?.[1])
          .filter((a) => a !== undefined && !a.startsWith('fe80:'));
        return `${dev.startsWith('vrrp') ? vmacLink(lab.r1, dev) : dev}: ${addrs.join(' ')}`;
      });
    const seen: Record<Impl, string[][]> = { keepalived: [], ours: [] };
    for (const impl of ['keepalived', 'ours'] as const) {
      const d = await lab.start(impl, lab.r1, file);
      await until(() => vipOn(lab.r1, 'eth0') && lab.exec(lab.r1.ns, 'ip -o addr').includes(`fd${S}::100/64`), 20_000, `${impl}: MASTER with its VIPs`);
      seen[impl].push(links());
      await d.stop();
      seen[impl].push(links());
    }
    expect(seen.ours).toEqual(seen.keepalived);
    expect(seen.keepalived[0]).toEqual([
      `eth0: ${lab.r1.ip}/24 ${VIP}/24 ${lab.r1.ip6}/64`,
      `eth1: 10.${S}.1.1/24 fd${S}:1::1/64`,
      `vrrp.51@eth1 ${VMAC} macvlan private addrgenmode none UP: 10.${S}.1.100/24`,
      `vrrp6.51@eth0 00:00:5e:00:02:33 macvlan private addrgenmode none UP: fd${S}::100/64`,
    ]);
    expect(seen.keepalived[1]).toEqual([`eth0: ${lab.r1.ip}/24 ${lab.r1.ip6}/64`, `eth1: 10.${S}.1.1/24 fd${S}:1::1/64`, 'null: ', 'null: ']);
  });

  it(
    "a VIP's own use_vmac (no use_vmac on the instance): that VIP on a VMAC of its interface, eth0's and eth1's, as keepalived",
    { timeout: 120_000 },
    async () => {
      if (!/ eth1@/.test(lab.exec(lab.r1.ns, 'ip -o link'))) await lab.addLan('eth1', 1);
      const S = lab.subnet;
      const file = configText([
        { vrid: 51, prio: 150, version: 3, advertInt: '0.1', vips: [`${VIP}/24 use_vmac`, `10.${S}.1.100/24 dev eth1 use_vmac`, `10.${S}.0.101/24`] },
      ]);
      const links = () =>
        ['eth0', 'eth1', 'vrrp.51', 'vrrp1.51'].map((dev) => {
          const addrs = lab
            .exec(lab.r1.ns, `ip -o -4 addr show dev ${dev} 2>/dev/null || true`)
            .split('\n')
            .map((l) => /inet (\S+)/.exec(l)?.[1])
            .filter((a) => a !== undefined);
          return `${dev.startsWith('vrrp') ? vmacLink(lab.r1, dev) : dev}: ${addrs.join(' ')}`;
        });
      const seen: Record<Impl, string[][]> = { keepalived: [], ours: [] };
      for (const impl of ['keepalived', 'ours'] as const) {
        const d = await lab.start(impl, lab.r1, file);
        await until(() => lab.exec(lab.r1.ns, 'ip -o addr').includes(`10.${S}.1.100/24`), 20_000, `${impl}: MASTER with its VIPs`);
        await sleep(300);
        seen[impl].push(links());
        await d.stop();
        seen[impl].push(links());
      }
      if (process.env.KT_VX_PRINT) console.log(JSON.stringify(seen, null, 1));
      expect(seen.ours).toEqual(seen.keepalived);
      expect(seen.keepalived[0]).toEqual([
        `eth0: ${lab.r1.ip}/24 10.${S}.0.101/24`,
        `eth1: 10.${S}.1.1/24`,
        `vrrp.51@eth0 ${VMAC} macvlan private addrgenmode none UP: ${VIP}/24`,
        `vrrp1.51@eth1 ${VMAC} macvlan private addrgenmode none UP: 10.${S}.1.100/24`,
      ]);
      expect(seen.keepalived[1]).toEqual([`eth0: ${lab.r1.ip}/24`, `eth1: 10.${S}.1.1/24`, 'null: ', 'null: ']);
    },
  );

  it('vmac_xmit_base: the adverts leave from eth0 with its own MAC, the VIP is on the VMAC', { timeout: 60_000 }, async () => {
    const { r1 } = lab;
    const ours = await lab.start('ours', r1, conf(150, ['vmac_xmit_base']));
    await until(() => vipOn(r1, 'vrrp.51'), 20_000, 'ours holds the VIP on vrrp.51');
    const from = cap.frames.length;
    await sleep(500);
    const adverts = cap.adverts(from).filter((a) => a.vrid === 51);
    expect(adverts.length).toBeGreaterThanOrEqual(3);
    expect(adverts.every((a) => a.frame.srcMac === r1.mac)).toBe(true);
    await ours.stop();
    expect(vmacLink(r1)).toBeNull();
  });
});
