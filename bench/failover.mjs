#!/usr/bin/env node
// Failover bench: ours against keepalived 2.2.7, side by side in the same run, in network
// namespaces (r1 master priority 150, r2 backup priority 100, an observer on the bridge
// capturing with tcpdump; kernel timestamps). For each implementation and scenario, N runs:
//   - wire gap: the master's last advert to the new master's first one (SIGKILL of the
//     master: should be Master_Down_Interval; SIGTERM: priority 0, then Skew_Time);
//   - VIP added: from the new master's first advert (its takeover decision, as seen on the
//     wire) to the VIP appearing on its interface (`ip -ts monitor address` in its
//     namespace; the stamp is when ip read the notification, so it errs late). Negative:
//     the VIP was in place before the advert reached the wire. Also printed: the VIP's
//     time from the old master's last advert (the outage as a client sees it).
// Both routers run the same implementation. Prints min / median / max per row and the
// load average (the machine is shared: figures are indicative).
//
//   npm run build && node bench/failover.mjs
//   BENCH_N=5  BENCH_IMPLS=ours,keepalived  BENCH_SCENARIOS=v2-kill,v2-term,v3-kill,v3-term
//   BENCH_TREES=/path/to/other/built/tree (its VRRP child as ours@NAME too: before/after a change)
import os from 'node:os';
import { configText, labUnavailable, RouterLab, sleep, until } from '../dist/test/vrrp/lab.js';
import { implementations, isOurs, loadAverage as load, stats, treeOf } from './lib.mjs';

const N = Number(process.env.BENCH_N ?? 5);
const IMPLS = implementations();
const MASTER_PRIO = 150;
const BACKUP_PRIO = 100;

const skewMs = (advertMs) => ((256 - BACKUP_PRIO) * advertMs) / 256;
const SCENARIOS = [
  { id: 'v2-kill', version: 2, advertInt: '1', advertMs: 1000, how: 'kill', keepalivedS: 3.611 },
  { id: 'v2-term', version: 2, advertInt: '1', advertMs: 1000, how: 'term', keepalivedS: 0.611 },
  { id: 'v3-kill', version: 3, advertInt: '0.1', advertMs: 100, how: 'kill', keepalivedS: 0.362 },
  { id: 'v3-term', version: 3, advertInt: '0.1', advertMs: 100, how: 'term', keepalivedS: 0.062 },
].filter((s) => (process.env.BENCH_SCENARIOS ?? 'v2-kill,v2-term,v3-kill,v3-term').split(',').includes(s.id));
for (const s of SCENARIOS) s.expectedMs = s.how === 'kill' ? 3 * s.advertMs + skewMs(s.advertMs) : skewMs(s.advertMs);

const why = labUnavailable();
if (why) {
  console.error(`failover bench cannot run: ${why}`);
  process.exit(2);
}

const lab = new RouterLab('kt-iob', 75);
const VIP = lab.vip(100);
const conf = (s, prio) =>
  configText([
    { vrid: 51, prio, version: s.version, advertInt: s.advertInt, vips: [`${VIP}/24`], ...(s.version === 2 ? { auth: { type: 'PASS', pass: 'bench' } } : {}) },
  ]);

/** Starts `impl` (ours, ours@NAME from another tree, keepalived) on a router. */
const startOn = (impl, r, body) => (isOurs(impl) ? lab.start('ours', r, body, { tree: treeOf(impl) }) : lab.start(impl, r, body));

/** One failover: r1 master (started fresh), r2 backup already running. */
async function once(impl, s, cap) {
  const { r1, r2 } = lab;
  lab.flushVips(r1, [`${VIP}/24`]);
  const master = await startOn(impl, r1, conf(s, MASTER_PRIO));
  await until(() => lab.hasAddr(r1, VIP) && !lab.hasAddr(r2, VIP), 30_000, `${impl}: r1 master`);
  await sleep(3 * s.advertMs + 300); // steady state
  const mon = lab.addrMonitor(r2);
  await sleep(300);
  const markTs = Date.now() / 1000;
  if (s.how === 'kill') await master.kill();
  else await master.stop();
  // waiting reads only what the monitor and the capture already collected: polling `ip addr`
  // here would spawn processes all through the Master_Down wait and load the routers
  const added = () => mon.events.find((e) => !e.deleted && e.address === VIP);
  await until(() => added() !== undefined, s.expectedMs + 10_000, `${impl}: r2 takes the VIP`);
  const firstOfR2 = () => cap.adverts().find((a) => a.vrid === 51 && a.src === r2.ip && a.prio === BACKUP_PRIO && a.frame.ts > markTs);
  await until(() => firstOfR2() !== undefined, 5_000, `${impl}: r2 advertising`);
  mon.stop();
  const first = firstOfR2();
  const lastOfR1 = cap
    .adverts()
    .filter((a) => a.vrid === 51 && a.src === r1.ip && a.frame.ts < first.frame.ts)
    .at(-1);
  if (s.how === 'term' && lastOfR1.prio !== 0) throw new Error(`${impl}: no priority 0 advert before the takeover`);
  await master.kill();
  return {
    gapMs: (first.frame.ts - lastOfR1.frame.ts) * 1000,
    vipMs: (added().ts - first.frame.ts) * 1000,
    outageMs: (added().ts - lastOfR1.frame.ts) * 1000,
  };
}

const f3 = (ms) => (ms / 1000).toFixed(3);
const f1 = (ms) => ms.toFixed(1);
const sign = (ms) => (ms >= 0 ? '+' : '') + f1(ms);

const rows = [];
console.log(`failover bench: N=${N}, load average at start ${load()} (${os.cpus().length} CPUs)`);
try {
  await lab.setup();
  const cap = await lab.capture();
  for (const s of SCENARIOS) {
    for (const impl of IMPLS) {
      const backup = await startOn(impl, lab.r2, conf(s, BACKUP_PRIO));
      const runs = [];
      for (let i = 0; i < N; i++) {
        try {
          const r = await once(impl, s, cap);
          runs.push(r);
          console.log(
            `  ${s.id} ${impl} run ${i + 1}: gap ${f3(r.gapMs)} s, VIP ${sign(r.vipMs)} ms from the first advert, ${f3(r.outageMs)} s from the master's last (load ${load()})`,
          );
        } catch (err) {
          console.log(`  ${s.id} ${impl} run ${i + 1}: failed: ${err.message}`);
        }
      }
      await backup.kill();
      await lab.stopAll();
      lab.flushVips(lab.r1, [`${VIP}/24`]);
      lab.flushVips(lab.r2, [`${VIP}/24`]);
      if (runs.length)
        rows.push({
          s,
          impl,
          n: runs.length,
          gap: stats(runs.map((r) => r.gapMs)),
          vip: stats(runs.map((r) => r.vipMs)),
          outage: stats(runs.map((r) => r.outageMs)),
        });
    }
  }
} finally {
  await lab.cleanup();
}

console.log(`\nload average at end ${load()}`);
// VIP column: negative = the VIP was on the interface before the first advert was on the wire
console.log(
  "scenario  impl        runs  wire gap s (min / median / max)   expected  keepalived ref   VIP vs first advert ms (min / med / max)   VIP after the master's last advert s (median)",
);
for (const r of rows) {
  console.log(
    [
      r.s.id.padEnd(9),
      r.impl.padEnd(Math.max(11, ...rows.map((x) => x.impl.length))),
      String(r.n).padEnd(5),
      `${f3(r.gap.min)} / ${f3(r.gap.med)} / ${f3(r.gap.max)}`.padEnd(32),
      f3(r.s.expectedMs).padEnd(9),
      `${r.s.keepalivedS.toFixed(3)}`.padEnd(16),
      `${sign(r.vip.min)} / ${sign(r.vip.med)} / ${sign(r.vip.max)}`.padEnd(42),
      f3(r.outage.med),
    ].join(' '),
  );
}
