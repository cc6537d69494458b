// A VRRP child in a crash loop, whole daemons in namespaces: r1 runs our daemon as MASTER
// (priority 200), r2 keepalived 2.2.7 as BACKUP (100), one VIP. r1's VRRP child is killed
// with SIGKILL whenever one runs, for 12 s: the watchdog's respawn backoff grows (1, 2, 4,
// 8 s) and no VRRP process of r1 advertises. The VIP must not be on both routers meanwhile:
// r1's parent removes what the dead child held once no child can be back before r2's
// Master_Down, and r2 takes over. Both routers' addresses are followed with `ip monitor`
// (kernel event times); the time both held the VIP is summed until r1 is MASTER again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddrEvent } from '../vrrp/lab.js';
import { alive, DaemonLab, daemonLabUnavailable, sleep, until, vrrpInstance } from './daemon-lab.js';

const skip = daemonLabUnavailable(true);
if (skip) console.warn(`test/daemon/crash-loop.test.ts skipped: ${skip}`);

const lab = new DaemonLab('kt-dmn-cl', 232);
const VIP = lab.vip(100);

const conf = (state: 'MASTER' | 'BACKUP', prio: number) =>
  ['global_defs {', `  router_id kt_dmn_cl_${prio}`, '}', vrrpInstance({ state, vrid: 92, prio, version: 2, advertInt: '1', vips: [`${VIP}/24`] })].join('\n');

/** The spans [from, to) in which `events` (one router's) show the VIP present. */
function heldSpans(events: readonly AddrEvent[], address: string, heldAtStart: boolean, start: number, end: number): [number, number][] {
  const spans: [number, number][] = [];
  let since: number | null = heldAtStart ? start : null;
  for (const e of events) {
    if (e.address !== address || e.ts < start || e.ts > end) continue;
    if (!e.deleted && since === null) since = e.ts;
    if (e.deleted && since !== null) {
      spans.push([since, e.ts]);
      since = null;
    }
  }
  if (since !== null) spans.push([since, end]);
  return spans;
}

/** Total time two span lists overlap. */
function overlapSeconds(a: readonly [number, number][], b: readonly [number, number][]): number {
  let total = 0;
  for (const [s1, e1] of a) for (const [s2, e2] of b) total += Math.max(0, Math.min(e1, e2) - Math.max(s1, s2));
  return total;
}

describe.skipIf(skip)('VRRP child killed whenever it runs', () => {
  beforeAll(() => lab.setup());
  afterAll(async () => {
    lab.stopWatchers();
    await lab.cleanup();
  });

  it('kill -9 of the VRRP child for 12 s: the VIP is never on both routers for long', async () => {
    const r1 = await lab.start('ours', lab.r1, lab.writeConf(conf('MASTER', 200), 'r1.conf'), /VRRP child running/);
    const r2 = await lab.start('keepalived', lab.r2, lab.writeConf(conf('BACKUP', 100), 'r2.conf'), /\(VI_1\) Entering BACKUP STATE/);
    await r1.waitLog(/\(VI_1\) Entering MASTER STATE/, 15_000);
    await until(() => lab.hasAddr(lab.r1, VIP), 5_000, 'VIP on r1');
    const m1 = lab.addrMonitor(lab.r1);
    const m2 = lab.addrMonitor(lab.r2);
    await sleep(500);
    const start = Date.now() / 1000;
    const mark = r1.log.length;

    const killed = new Set<number>();
    const end = Date.now() + 12_000;
    while (Date.now() < end) {
      const pid = r1.vrrpPid();
      if (pid !== null && !killed.has(pid) && alive(pid)) {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      }
      await sleep(20);
    }
    // the next child comes back after its backoff and takes MASTER back (priority 200 preempts)
    await until(() => lab.hasAddr(lab.r1, VIP) && !lab.hasAddr(lab.r2, VIP), 40_000, 'r1 MASTER again');
    await sleep(500);
    const stop = Date.now() / 1000;

    const r1Spans = heldSpans(m1.events, VIP, true, start, stop);
    const r2Spans = heldSpans(m2.events, VIP, false, start, stop);
    const both = overlapSeconds(r1Spans, r2Spans);
    const fmt = (spans: [number, number][]) => spans.map(([s, e]) => `${(s - start).toFixed(2)}-${(e - start).toFixed(2)}`).join(', ');
    console.log(
      [
        `kill -9 of r1's VRRP child whenever it ran, 12 s: ${killed.size} children killed`,
        `VIP on r1 (s from the first kill): ${fmt(r1Spans)}`,
        `VIP on r2 (keepalived backup):     ${fmt(r2Spans)}`,
        `on both: ${(both * 1000).toFixed(0)} ms`,
        ...r1
          .logSince(mark)
          .filter((l) => /removed the VIPs|child died/.test(l))
          .slice(0, 8),
      ].join('\n'),
    );

    expect(killed.size).toBeGreaterThanOrEqual(3);
    expect(r1.running).toBe(true);
    // the backup took over while r1 had no VRRP process, and r1 had given the VIP up
    expect(r2Spans.length).toBeGreaterThanOrEqual(1);
    expect(both).toBeLessThan(0.5);
    expect(r1.logSince(mark).some((l) => /removed the VIPs the dead VRRP child held/.test(l))).toBe(true);
    await r1.stop();
    await r2.stop();
  }, 120_000);
});
