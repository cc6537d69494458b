// vrrp_strict and its firewall beside keepalived 2.2.7, in namespaces: the same config run
// by each (ours as the whole daemon), `nft list ruleset` of the router compared after start,
// as MASTER, after yielding to a higher priority, and after stop; and from an observer on
// the LAN, whether the VIP answers (ping, TCP) on a MASTER without and with accept mode.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configText, labUnavailable, RouterLab, sleep, until, type Daemon, type Impl } from './lab.js';

const why = labUnavailable() ?? nftUnavailable();
if (why) console.warn(`strict-firewall tests skipped: ${why}`);

function nftUnavailable(): string | null {
  try {
    execFileSync('sh', ['-c', 'command -v nft'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'nft (nftables) not installed';
  }
}

const lab = new RouterLab('kt-sfw', 93);
const IMPLS: Impl[] = ['keepalived', 'ours'];

/** `nft list ruleset`, the counters' figures left out (traffic differs from run to run). */
function ruleset(ns: string): string {
  return lab
    .exec(ns, 'nft list ruleset')
    .replace(/counter packets \d+ bytes \d+/g, 'counter')
    .trim();
}

const strictConf = (prio: number, instanceExtra: string[] = [], globalExtra: string[] = []) =>
  configText(
    [
      {
        vrid: 93,
        prio,
        version: 2,
        advertInt: '1',
        vips: [`${lab.vip(100)}/24`],
        extra: ['virtual_ipaddress_excluded {', `    ${lab.vip6(100)}`, '    fe80::93/64', '  }', ...instanceExtra],
      },
    ],
    ['vrrp_strict', 'nftables_counters', ...globalExtra],
  );

async function state(d: Daemon, s: 'MASTER' | 'BACKUP', count = 1): Promise<void> {
  await until(() => d.log.split('\n').filter((l) => l.includes(`Entering ${s} STATE`)).length >= count || !d.running, 30_000, `${d.router.name} ${s}`);
  if (!d.running) throw new Error(`${d.impl} exited:\n${d.log}`);
}

/** r1's `nft list ruleset` under each implementation: after start (with `atStart`), as MASTER, after stop. */
async function rulesets(instanceExtra: string[], atStart: boolean): Promise<Record<Impl, string[]>> {
  const seen: Record<Impl, string[]> = { keepalived: [], ours: [] };
  for (const impl of IMPLS) {
    const d = await lab.start(impl, lab.r1, strictConf(150, instanceExtra), { wholeDaemon: true });
    if (atStart) seen[impl].push(ruleset(lab.r1.ns));
    await state(d, 'MASTER');
    await sleep(300);
    seen[impl].push(ruleset(lab.r1.ns));
    await d.stop();
    seen[impl].push(ruleset(lab.r1.ns));
    lab.flushVips(lab.r1, [`${lab.vip(100)}/24`]);
  }
  if (process.env.KT_SFW_PRINT) console.log(JSON.stringify(seen, null, 1));
  return seen;
}

function reachable(target: string): { ping: boolean; tcp: boolean } {
  const ping = /(\d+) received/.exec(lab.exec(lab.obs, `ping -n -c 2 -i 0.3 -W 1 ${target} 2>&1; true`))?.[1] !== '0';
  const connect = `const s = require('net').connect(9393, '${target}'); s.setTimeout(2000, () => process.exit(1)); s.on('connect', () => process.exit(0)); s.on('error', () => process.exit(1))`;
  const tcp = lab.exec(lab.obs, `node -e "${connect}" && echo ok; true`).includes('ok');
  return { ping, tcp };
}

describe.skipIf(why !== null)('vrrp_strict firewall beside keepalived 2.2.7 (namespaces)', () => {
  let listener: ChildProcess | null = null;
  beforeAll(async () => {
    await lab.setup();
    // something to connect to on the VIP: answered unless the firewall drops it
    listener = lab.net.spawn(lab.r1.ns, ['node', '-e', "require('net').createServer((s) => s.end()).listen(9393)"]);
  }, 120_000);
  afterAll(async () => {
    listener?.kill();
    await lab.cleanup();
  });

  it('nft list ruleset: the same tables after start, as MASTER, after yielding, none after stop', async () => {
    const seen: Record<Impl, string[]> = { keepalived: [], ours: [] };
    for (const impl of IMPLS) {
      const r1 = await lab.start(impl, lab.r1, strictConf(150), { wholeDaemon: true });
      seen[impl].push(ruleset(lab.r1.ns));
      await state(r1, 'MASTER');
      await sleep(300);
      seen[impl].push(ruleset(lab.r1.ns));
      // a higher priority master appears: r1 yields, its VIPs and their drop rules go
      const r2 = await lab.start('keepalived', lab.r2, strictConf(200), { wholeDaemon: true });
      await state(r1, 'BACKUP', 2);
      await until(() => !lab.hasAddr(lab.r1, lab.vip(100)), 10_000, 'VIP left r1');
      await sleep(500);
      seen[impl].push(ruleset(lab.r1.ns));
      await r1.stop();
      seen[impl].push(ruleset(lab.r1.ns));
      await r2.stop();
      lab.flushVips(lab.r1, [`${lab.vip(100)}/24`]);
    }
    if (process.env.KT_SFW_PRINT) console.log(JSON.stringify(seen, null, 1));
    expect(seen.ours).toEqual(seen.keepalived);
    // and what keepalived shows is what the layout says: the VIP in the ip table's set as MASTER
    expect(seen.keepalived[1]).toContain(`elements = { ${lab.vip(100)} }`);
    expect(seen.keepalived[1]).toContain('ip daddr @vips counter drop');
    expect(seen.keepalived[1]).toContain(`elements = { ${lab.vip6(100)} }`);
    expect(seen.keepalived[1]).toContain('elements = { fe80::93 . "eth0" }');
    expect(seen.keepalived[3]).toBe('');
  }, 240_000);

  it('dont_track_primary: its link-local VIP matched by interface name, as keepalived lays it out', async () => {
    const seen = await rulesets(['dont_track_primary'], false);
    expect(seen.ours).toEqual(seen.keepalived);
    expect(seen.keepalived[0]).toContain('type ipv6_addr . ifname');
    expect(seen.keepalived[0]).toContain('ip6 daddr . iifname @vips_link_local_name counter drop');
    expect(seen.keepalived[1]).toBe('');
  }, 180_000);

  it('use_vmac: the IGMP/MLD reports of the macvlan steered out by its base (both families: it carries IPv6 VIPs too), as keepalived', async () => {
    const seen = await rulesets(['use_vmac'], true);
    expect(seen.ours).toEqual(seen.keepalived);
    // BACKUP: only the VMAC parts; MASTER: the VIP parts after them
    expect(seen.keepalived[0]).toContain('elements = { "vrrp.93" : "eth0" }');
    expect(seen.keepalived[0]).toContain('ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map counter drop');
    expect(seen.keepalived[0]).toContain('icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set counter drop');
    expect(seen.keepalived[0]).not.toContain('set vips');
    expect(seen.keepalived[1]).toContain('icmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map counter drop');
    expect(seen.keepalived[1]).toContain('ip daddr @vips counter drop');
    expect(seen.keepalived[2]).toBe('');
  }, 180_000);

  it('disable_local_igmp with use_vmac: no IGMP/MLD steering for the IPv4 VMAC, igmp_link_local_mcast_reports 0 while running and 1 again after, as keepalived', async () => {
    const sysctl = () => lab.exec(lab.r1.ns, 'cat /proc/sys/net/ipv4/igmp_link_local_mcast_reports').trim();
    const seen: Record<Impl, string[]> = { keepalived: [], ours: [] };
    for (const impl of IMPLS) {
      lab.exec(lab.r1.ns, 'echo 1 > /proc/sys/net/ipv4/igmp_link_local_mcast_reports');
      const d = await lab.start(impl, lab.r1, strictConf(150, ['use_vmac'], ['disable_local_igmp']), { wholeDaemon: true });
      await state(d, 'MASTER');
      await sleep(300);
      seen[impl].push(ruleset(lab.r1.ns), `sysctl ${sysctl()}`);
      await d.stop();
      seen[impl].push(`sysctl ${sysctl()}`);
      lab.flushVips(lab.r1, [`${lab.vip(100)}/24`]);
    }
    if (process.env.KT_SFW_PRINT) console.log(JSON.stringify(seen, null, 1));
    expect(seen.ours).toEqual(seen.keepalived);
    expect(seen.keepalived[0]).not.toContain('vmac_map');
    expect(seen.keepalived[0]).toContain('ip daddr @vips counter drop');
    expect(seen.keepalived.slice(1)).toEqual(['sysctl 0', 'sysctl 1']);
  }, 180_000);

  it('a MASTER without accept mode does not answer on its VIP; with accept (VRRPv3) it does', async () => {
    const results: Record<string, { ping: boolean; tcp: boolean }> = {};
    for (const impl of IMPLS) {
      for (const mode of ['no-accept', 'accept'] as const) {
        const conf =
          mode === 'accept'
            ? configText([{ vrid: 93, prio: 150, version: 3, advertInt: '1', vips: [`${lab.vip(100)}/24`], extra: ['accept'] }], ['vrrp_strict'])
            : configText([{ vrid: 93, prio: 150, version: 2, advertInt: '1', vips: [`${lab.vip(100)}/24`] }], ['vrrp_strict']);
        const d = await lab.start(impl, lab.r1, conf, { wholeDaemon: true });
        await state(d, 'MASTER');
        await until(() => lab.hasAddr(lab.r1, lab.vip(100)), 10_000, 'VIP on r1');
        await sleep(300);
        results[`${impl} ${mode}`] = reachable(lab.vip(100));
        // the router's own address is never dropped
        results[`${impl} ${mode} own address`] = reachable(lab.r1.ip);
        await d.stop();
        lab.flushVips(lab.r1, [`${lab.vip(100)}/24`]);
      }
    }
    expect(results).toEqual({
      'keepalived no-accept': { ping: false, tcp: false },
      'keepalived no-accept own address': { ping: true, tcp: true },
      'keepalived accept': { ping: true, tcp: true },
      'keepalived accept own address': { ping: true, tcp: true },
      'ours no-accept': { ping: false, tcp: false },
      'ours no-accept own address': { ping: true, tcp: true },
      'ours accept': { ping: true, tcp: true },
      'ours accept own address': { ping: true, tcp: true },
    });
  }, 240_000);

  it('a table left by a crash is replaced at start and gone after stop', async () => {
    lab.exec(
      lab.r1.ns,
      `nft add table ip keepalived && nft add set ip keepalived vips '{ type ipv4_addr; }' && nft add element ip keepalived vips '{ 10.93.0.250 }'`,
    );
    const d = await lab.start('ours', lab.r1, strictConf(150), { wholeDaemon: true });
    await until(() => !ruleset(lab.r1.ns).includes('10.93.0.250'), 10_000, 'stale table replaced');
    expect(d.log).toContain('Deleting old ip keepalived table');
    await state(d, 'MASTER');
    await d.stop();
    expect(ruleset(lab.r1.ns)).toBe('');
    lab.flushVips(lab.r1, [`${lab.vip(100)}/24`]);
  }, 120_000);
});
