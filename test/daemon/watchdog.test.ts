// The watchdog under kill -9, whole daemons in namespaces: r1 MASTER (priority 200) and r2
// BACKUP (100) of one VIP, our daemon on both, a client namespace capturing the adverts.
//  - kill -9 of the MASTER's VRRP child: the parent restarts it within a second, the new
//    child resumes as MASTER before r2's Master_Down runs out: the VIP never leaves r1
//    (its address monitor sees no delete) and r2 never becomes MASTER.
//  - kill -9 of the parent: its children notice and stop by themselves, as on TERM: the
//    VRRP child sends priority 0 (r2 takes over after Skew_Time) and removes the VIP; no
//    process of the daemon is left.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { sh } from '../helpers/netns.js';
import { alive, DaemonLab, daemonLabUnavailable, sleep, until, vrrpInstance, type RunningDaemon } from './daemon-lab.js';

const skip = daemonLabUnavailable();
if (skip) console.warn(`test/daemon/watchdog.test.ts skipped: ${skip}`);

const lab = new DaemonLab('kt-dmn-w', 222);
const VIP = lab.vip(100);

const conf = (state: 'MASTER' | 'BACKUP', prio: number, extra = '') =>
  ['global_defs {', `  router_id kt_dmn_${prio}`, '}', vrrpInstance({ state, vrid: 61, prio, version: 2, advertInt: '1', vips: [`${VIP}/24`] }), extra].join(
    '\n',
  );

/** A virtual server so the checker child runs too (it idles without kernel IPVS). */
const virtualServer = [
  'virtual_server 10.222.0.100 80 {',
  '  lb_kind DR',
  '  protocol TCP',
  '  real_server 10.222.0.50 80 {',
  '    TCP_CHECK {',
  '      connect_timeout 1',
  '    }',
  '  }',
  '}',
].join('\n');

let daemons: RunningDaemon[] = [];

const cmdline = (pid: number) => {
  try {
    return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`;
  } catch {
    return `${pid}: (gone)`;
  }
};

async function pair(r1Extra = ''): Promise<{ master: RunningDaemon; backup: RunningDaemon }> {
  const master = await lab.start('ours', lab.r1, lab.writeConf(conf('MASTER', 200, r1Extra)), /VRRP child running/);
  const backup = await lab.start('ours', lab.r2, lab.writeConf(conf('BACKUP', 100)), /VRRP child running/);
  daemons.push(master, backup);
  await master.waitLog(/\(VI_1\) Entering MASTER STATE/, 15_000);
  await until(() => lab.hasAddr(lab.r1, VIP), 5_000, 'VIP on r1');
  expect(backup.log).toMatch(/\(VI_1\) Entering BACKUP STATE/);
  return { master, backup };
}

describe.skipIf(skip)('watchdog under kill -9', () => {
  beforeAll(() => lab.setup());
  afterEach(async () => {
    lab.stopWatchers();
    for (const d of daemons) await d.stop();
    daemons = [];
  });
  afterAll(() => lab.cleanup());

  it("kill -9 of the MASTER's VRRP child: restarted within 1 s, the VIP stays, the backup stays BACKUP", async () => {
    const { master, backup } = await pair();
    const cap = await lab.capture();
    const r1Addrs = lab.addrMonitor(lab.r1);
    const r2Addrs = lab.addrMonitor(lab.r2);
    await sleep(300);
    const oldPid = master.vrrpPid()!;
    const masterMark = master.log.length;
    const backupMark = backup.log.length;
    const t0 = Date.now();
    process.kill(oldPid, 'SIGKILL');
    let restartedMs = -1;
    await until(
      () => {
        const p = master.vrrpPid();
        if (p === null || p === oldPid) return false;
        restartedMs = Date.now() - t0;
        return true;
      },
      10_000,
      'a new VRRP child pid',
    );
    await master.waitLog(/VRRP child running/, 10_000, masterMark);
    const readyMs = Date.now() - t0;
    const fromR1 = () => cap.adverts().filter((a) => a.src === lab.r1.ip && a.frame.ts * 1000 > t0);
    await until(() => fromR1().length > 0, 10_000, 'an advert from the new child');
    const firstAdvertMs = fromR1()[0]!.frame.ts * 1000 - t0;
    // r2's Master_Down (3 x 1 s + 0.61 s) from its last advert before the kill has passed
    await until(() => Date.now() - t0 > 5_500, 10_000, 'r2 Master_Down passed');
    console.log(
      `kill -9 of the MASTER's VRRP child: new child in ${restartedMs} ms (pid file), running after ${readyMs} ms, first advert after ${firstAdvertMs.toFixed(0)} ms`,
    );

    expect(restartedMs).toBeLessThan(1_000);
    expect(alive(oldPid)).toBe(false);
    expect(master.running).toBe(true);
    expect(master.logSince(masterMark).join('\n')).toMatch(/vrrp child died; restarting/);
    // the VIP never left r1
    expect(r1Addrs.events.filter((e) => e.address === VIP && e.deleted)).toEqual([]);
    expect(lab.hasAddr(lab.r1, VIP)).toBe(true);
    // r2 stayed BACKUP: no state change, no advert, no VIP
    expect(backup.logSince(backupMark).filter((l) => /Entering \w+ STATE/.test(l))).toEqual([]);
    expect(cap.adverts().filter((a) => a.src === lab.r2.ip)).toEqual([]);
    expect(r2Addrs.events.filter((e) => e.address === VIP)).toEqual([]);
    // the new child advertises at r1's rate (1 s), priority 200
    expect(fromR1().length).toBeGreaterThanOrEqual(4);
    expect(fromR1().every((a) => a.prio === 200)).toBe(true);
  }, 40_000);

  it('kill -9 of the parent: both children stop by themselves, priority 0 hands over at once, VIP removed, nothing left', async () => {
    const { master } = await pair(virtualServer);
    await master.waitLog(/checker/i, 10_000);
    const cap = await lab.capture();
    const r1Addrs = lab.addrMonitor(lab.r1);
    const r2Addrs = lab.addrMonitor(lab.r2);
    await sleep(300);
    const pids = { parent: master.pid, vrrp: master.vrrpPid()!, checker: master.checkerPid()! };
    expect(Object.values(pids).every((p) => p > 0 && alive(p))).toBe(true);
    const t0 = Date.now();
    process.kill(pids.parent, 'SIGKILL');
    await until(() => !alive(pids.vrrp) && !alive(pids.checker), 10_000, 'both children gone');
    const childrenGoneMs = Date.now() - t0;
    await until(() => r2Addrs.events.some((e) => e.address === VIP && !e.deleted), 10_000, 'r2 takes the VIP');
    const takeoverMs = r2Addrs.events.find((e) => e.address === VIP && !e.deleted)!.ts * 1000 - t0;
    console.log(`kill -9 of the parent: children gone after ${childrenGoneMs} ms, r2 holds the VIP after ${takeoverMs.toFixed(0)} ms`);

    // priority 0 from r1 after the kill: r2 waited Skew_Time (0.61 s), not Master_Down (3.6 s)
    const zero = cap.adverts().filter((a) => a.src === lab.r1.ip && a.prio === 0 && a.frame.ts * 1000 > t0);
    expect(zero.length).toBe(1);
    expect(takeoverMs).toBeLessThan(2_000);
    expect(r1Addrs.events.filter((e) => e.address === VIP && e.deleted).length).toBe(1);
    expect(lab.hasAddr(lab.r1, VIP)).toBe(false);
    // nothing of the daemon is left in r1's namespace (only the address monitor we started)
    const left = sh(`ip netns pids ${lab.r1.ns}`)
      .split('\n')
      .map(Number)
      .filter((p) => p > 0 && p !== r1Addrs.proc.pid && alive(p));
    expect(left.map(cmdline)).toEqual([]);
  }, 40_000);
});
