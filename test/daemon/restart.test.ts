// `systemctl restart` of the MASTER (TERM, wait, start again on the same config) while a
// client keeps talking to a TCP service on the VIP. r1 MASTER (200) and r2 BACKUP (100),
// VRRPv3 at 0.1 s, our daemon on both, a line-echo service on both bound to 0.0.0.0 that
// says which router answered. The client opens a new connection every 50 ms.
// Prints the attempts that failed and the slowest answers; asserts that r2 served while r1
// was away, that the VIP came back to r1 (preempt), and that the service answers after.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../helpers/netns.js';
import { DaemonLab, daemonLabUnavailable, until, vrrpInstance } from './daemon-lab.js';

const skip = daemonLabUnavailable();
if (skip) console.warn(`test/daemon/restart.test.ts skipped: ${skip}`);

const lab = new DaemonLab('kt-dmn-r', 224);
const VIP = lab.vip(100);
const PORT = 7007;
const ECHO = fileURLToPath(new URL('./tcp-echo.mjs', import.meta.url));
const PROBE = fileURLToPath(new URL('./tcp-probe.mjs', import.meta.url));

const conf = (state: 'MASTER' | 'BACKUP', prio: number) =>
  ['global_defs {', `  router_id kt_dmn_${prio}`, '}', vrrpInstance({ state, vrid: 81, prio, version: 3, advertInt: '0.1', vips: [`${VIP}/24`] })].join('\n');

interface Attempt {
  n: number;
  at: number;
  ms: number;
  ok: boolean;
  by: string | null;
  err: string | null;
}

describe.skipIf(skip)('restart of the MASTER under client traffic', () => {
  beforeAll(() => {
    lab.setup();
    // the client takes the new owner's gratuitous ARP for the VIP at once
    lab.net.exec(lab.client.ns, 'sysctl -qw net.ipv4.conf.eth0.arp_accept=1');
  });
  afterAll(async () => {
    lab.stopWatchers();
    await lab.cleanup();
  });

  it('TERM + start of r1: the VIP moves to r2 and back, the service keeps answering', async () => {
    for (const h of [lab.r1, lab.r2]) {
      const echo = lab.spawn(h, ['node', ECHO, h.name, String(PORT)]);
      await new Promise((r) => echo.stdout!.once('data', r));
    }
    const r1Conf = lab.writeConf(conf('MASTER', 200), 'r1.conf');
    const first = await lab.start('ours', lab.r1, r1Conf, /VRRP child running/);
    const backup = await lab.start('ours', lab.r2, lab.writeConf(conf('BACKUP', 100), 'r2.conf'), /VRRP child running/);
    await first.waitLog(/\(VI_1\) Entering MASTER STATE/, 10_000);
    const attempts = jsonLines(lab.spawn(lab.client, ['node', PROBE, VIP, String(PORT), '50', '3000'])) as Attempt[];
    await until(() => attempts.filter((a) => a.ok && a.by === 'r1').length >= 10, 10_000, 'client served by r1');
    const ok = (from: number) => attempts.slice(from).filter((a) => a.ok);

    const before = attempts.length;
    const tTerm = Date.now();
    expect(await first.stop()).toBe(0);
    const tStopped = Date.now();
    const second = await lab.start('ours', lab.r1, r1Conf, /VRRP child running/);
    const tRunning = Date.now();
    await second.waitLog(/\(VI_1\) Entering MASTER STATE/, 10_000);
    const tMaster = Date.now();
    await until(() => lab.hasAddr(lab.r1, VIP) && !lab.hasAddr(lab.r2, VIP), 5_000, 'VIP back on r1 only');
    await until(() => ok(before).some((a) => a.by === 'r1' && a.at > tMaster), 10_000, 'client served by r1 again');
    await until(() => attempts.filter((a) => a.at > tMaster + 1_000).length >= 10, 15_000, 'ten attempts after r1 is back');

    // every attempt started from the TERM on has finished (3 s timeout)
    const window = attempts.filter((a) => a.at >= tTerm - 50 && a.at <= tMaster + 1_000);
    const failed = window.filter((a) => !a.ok);
    const slow = [...window].sort((x, y) => y.ms - x.ms).slice(0, 3);
    const byR2 = window.filter((a) => a.ok && a.by === 'r2');
    console.log(
      [
        `restart of the MASTER: stopped after ${tStopped - tTerm} ms, new daemon running after ${tRunning - tTerm} ms, MASTER again after ${tMaster - tTerm} ms`,
        `client (new connection every 50 ms, 3 s timeout): ${window.length} attempts in the restart window, ${failed.length} failed` +
          (failed.length ? ` (${[...new Set(failed.map((f) => f.err))].join(', ')})` : '') +
          `, ${byR2.length} served by r2, slowest ${slow.map((a) => `${a.ms} ms (started ${a.at - tTerm} ms after TERM, by ${a.by})`).join(', ')}`,
      ].join('\n'),
    );

    // r2 covered for r1 while it was away, and r1 owns the VIP and serves again after
    expect(byR2.length).toBeGreaterThan(0);
    const after = attempts.filter((a) => a.at > tMaster + 1_000);
    expect(after.length).toBeGreaterThanOrEqual(10);
    expect(after.every((a) => a.ok && a.by === 'r1')).toBe(true);
    expect(backup.logSince(0).filter((l) => /Entering MASTER STATE/.test(l)).length).toBe(1);
    // clients keep working: no attempt lost, none waited for a TCP retransmission (1 s)
    expect(failed).toEqual([]);
    expect(slow[0]!.ms).toBeLessThan(1_000);
    await second.stop();
    await backup.stop();
  }, 60_000);
});
