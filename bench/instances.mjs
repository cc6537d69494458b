#!/usr/bin/env node
// Many VRRP instances: ours against keepalived 2.2.7 in the same run. A pair of routers on two
// LANs (eth0, eth1; network namespaces, an observer capturing both with kernel timestamps),
// r1 MASTER (priority 150) and r2 BACKUP (100) of every instance, each router the whole
// daemon (parent and VRRP child, `-P`). Cases: 1,000 instances at advert_int 1 and 200 at
// 0.1, VRRPv3, half on each LAN; a LAN has 255 VRIDs per family, so the 1,000 are IPv4 then
// IPv6 on each. Once every VIP is on r1, after BENCH_SETTLE_S, over BENCH_SECONDS:
//   CPU        of each side's VRRP process (/proc/PID/stat, all threads), % of one core
//   RSS, PSS   of each side's VRRP process at the end (/proc/PID/smaps_rollup)
//   jitter     of r1's adverts: |gap between two adverts of one instance - advert_int|, the
//              worst and the 99th percentile over every instance
//   stalls     with BENCH_STALLS=N, after the window: N times, r2's VRRP process stopped
//              (SIGSTOP) for BENCH_STALL_MS (default 0.9 x Master_Down of r2: the adverts it
//              missed are queued, and its Master_Down deadlines fall due as it resumes), then
//              1 s to recover: how many of r2's instances went MASTER (each a spurious
//              takeover: r1 never stopped)
//
//   npm run build && npm run bench:instances     (root; namespaces kt-in-*, or BENCH_LAB_TAG-*)
//   BENCH_SECONDS=60  BENCH_SETTLE_S=10  BENCH_CASES=1000x1,200x0.1  BENCH_IMPLS=ours,keepalived
//   BENCH_STALLS=0  BENCH_STALL_MS  BENCH_TREES (other checkouts of ours beside this one: bench/README.md)
//   BENCH_CHRT=N: both sides' VRRP processes run SCHED_FIFO at priority N during the window, so
//   that the jitter is each daemon's own timing, not the other load of a shared host
import { cpus } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { configText, instanceConf, labUnavailable, RouterLab, decodeFrame, advertOf, until } from '../dist/test/vrrp/lab.js';
import {
  advertGaps,
  captureToFile,
  cpuSeconds,
  env,
  implementations,
  isOurs,
  loadAverage,
  memoryRollup,
  readPcap,
  requireRootAndBuild,
  sleep,
  treeOf,
} from './lib.mjs';

const SECONDS = Number(env('BENCH_SECONDS', 60));
const SETTLE_S = Number(env('BENCH_SETTLE_S', 10));
const CASES = env('BENCH_CASES', '1000x1,200x0.1')
  .split(',')
  .map((c) => {
    const [count, interval] = c.split('x');
    return { count: Number(count), interval };
  });
const IMPLS = implementations();
const STALLS = Number(env('BENCH_STALLS', 0));
const CHRT = env('BENCH_CHRT', '');
const LANS = ['eth0', 'eth1'];
const GOAL = "goal (issue 16): CPU and jitter no worse than keepalived's";

const why = labUnavailable();
if (why) {
  console.error(`instances bench cannot run: ${why}`);
  process.exit(2);
}
requireRootAndBuild();

// BENCH_LAB_TAG: another prefix for the namespaces, so that two checkouts' runs do not collide
const lab = new RouterLab(env('BENCH_LAB_TAG', 'kt-in'), 89);

/** `count` instances over the LANs: per LAN, IPv4 VRIDs 1-255 first, then IPv6. */
function instances(count, interval, prio) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const lan = i % LANS.length;
    const k = Math.floor(i / LANS.length);
    const v6 = k >= 255;
    if (k >= 510) throw new Error(`${count} instances do not fit ${LANS.length} LANs (255 VRIDs per family)`);
    const vrid = (k % 255) + 1;
    const vip = v6 ? `fdcc:${lan}::${vrid.toString(16)}/128` : `10.201.${lan}.${vrid}/32`;
    out.push({ name: `VI_${i}`, vrid, prio, version: 3, advertInt: interval, vips: [vip], lan });
  }
  return out;
}

const config = (list) => [configText([]), ...list.map((c) => instanceConf(c).replace('interface eth0', `interface ${LANS[c.lan]}`))].join('\n');

const macOf = (ns, lan) => /link\/ether ([0-9a-f:]+)/.exec(lab.exec(ns, `ip -o link show dev ${lan}`))[1];

const vipCount = (r) =>
  LANS.reduce(
    (n, lan) =>
      n +
      lab
        .exec(r.ns, `ip -o addr show dev ${lan} | grep -c -e 'inet 10.201.' -e 'inet6 fdcc:' || true`)
        .trim()
        .split('\n')
        .map(Number)
        .reduce((a, b) => a + b, 0),
    0,
  );

/** VIPs a previous case left behind (a daemon stopped while removing 1,000 VIPs) would be counted as this case's. */
function flushVips() {
  for (const r of [lab.r1, lab.r2])
    for (const lan of LANS) lab.exec(r.ns, `ip -4 addr flush dev ${lan} to 10.201.0.0/16; ip -6 addr flush dev ${lan} to fdcc::/16`);
}

async function runCase({ count, interval }, impl) {
  flushVips();
  const opts = { wholeDaemon: true, timeoutMs: 300_000 };
  const start = (r, body) => (isOurs(impl) ? lab.start('ours', r, body, { ...opts, tree: treeOf(impl) }) : lab.start(impl, r, body, opts));
  const backup = await start(lab.r2, config(instances(count, interval, 100)));
  const master = await start(lab.r1, config(instances(count, interval, 150)));
  try {
    await until(() => vipCount(lab.r1) === count && vipCount(lab.r2) === 0, Number(env('BENCH_UP_S', 300)) * 1000, `${impl}: every VIP on r1`).catch((err) => {
      throw new Error(`${err.message} (r1 has ${vipCount(lab.r1)} VIPs, r2 ${vipCount(lab.r2)})`);
    });
    await sleep(SETTLE_S * 1000);
    const pcaps = LANS.map((lan) => join(lab.dir, `in-${impl}-${count}-${lan}.pcap`));
    const caps = await Promise.all(LANS.map((lan, i) => captureToFile(lab.obs, lan, 'ip proto 112 or ip6 proto 112', pcaps[i])));
    const pids = { master: master.vrrpPid, backup: backup.vrrpPid };
    if (CHRT) for (const pid of Object.values(pids)) execFileSync('chrt', ['-f', '-a', '-p', CHRT, String(pid)]);
    const loadStart = loadAverage();
    const cpu0 = { master: cpuSeconds(pids.master), backup: cpuSeconds(pids.backup) };
    const t0 = Date.now();
    await sleep(SECONDS * 1000);
    const wall = (Date.now() - t0) / 1000;
    const cpu = { master: ((cpuSeconds(pids.master) - cpu0.master) / wall) * 100, backup: ((cpuSeconds(pids.backup) - cpu0.backup) / wall) * 100 };
    const mem = { master: memoryRollup(pids.master), backup: memoryRollup(pids.backup) };
    const loadEnd = loadAverage();
    await Promise.all(caps.map((c) => c.stop()));
    const stallTakeovers = STALLS > 0 ? await stalls(backup, Number(interval) * 1000) : null;
    const intervalMs = Number(interval) * 1000;
    const jitters = [];
    let adverts = 0;
    pcaps.forEach((path, lan) => {
      const r1Mac = macOf(lab.r1.ns, LANS[lan]);
      const fromMaster = readPcap(path, decodeFrame)
        .map(advertOf)
        .filter((a) => a && a.frame.srcMac === r1Mac);
      adverts += fromMaster.length;
      for (const gaps of advertGaps(fromMaster, (a) => `${a.frame.ip.version}/${a.vrid}`).values())
        for (const g of gaps) jitters.push(Math.abs(g - intervalMs));
    });
    jitters.sort((a, b) => a - b);
    return {
      count,
      interval,
      impl,
      wall,
      cpu,
      mem,
      adverts,
      loadStart,
      loadEnd,
      stallTakeovers,
      worstJitterMs: jitters.at(-1) ?? NaN,
      p99JitterMs: jitters[Math.floor(jitters.length * 0.99)] ?? NaN,
    };
  } finally {
    await lab.stopAll();
  }
}

/** r2 stopped STALLS times for a while under Master_Down; the instances it took over meanwhile. */
async function stalls(backup, intervalMs) {
  // v3, priority 100: Master_Down = 3 x interval + (256 - 100) / 256 x interval
  const stallMs = Number(env('BENCH_STALL_MS', Math.round(0.9 * (3 + 156 / 256) * intervalMs)));
  const entered = () => (backup.log.match(/Entering MASTER STATE/g) ?? []).length;
  const before = entered();
  for (let i = 0; i < STALLS; i++) {
    process.kill(backup.vrrpPid, 'SIGSTOP');
    await sleep(stallMs);
    process.kill(backup.vrrpPid, 'SIGCONT');
    await sleep(1000);
  }
  return { stalls: STALLS, stallMs, takeovers: entered() - before };
}

console.log(`instances bench: ${SECONDS} s per case after ${SETTLE_S} s settling; load average at start ${loadAverage()} (${cpus().length} CPUs)`);
const rows = [];
try {
  await lab.setup();
  await lab.addLan('eth1', 1);
  for (const c of CASES) {
    for (const impl of IMPLS) {
      try {
        const r = await runCase(c, impl);
        rows.push(r);
        console.log(
          `  ${c.count} x ${c.interval} s ${impl}: MASTER ${r.cpu.master.toFixed(2)} % CPU, BACKUP ${r.cpu.backup.toFixed(2)} %, worst jitter ${r.worstJitterMs.toFixed(1)} ms (load ${r.loadStart} -> ${r.loadEnd})` +
            (r.stallTakeovers
              ? `; ${r.stallTakeovers.stalls} stalls of r2 for ${r.stallTakeovers.stallMs} ms: ${r.stallTakeovers.takeovers} spurious takeovers`
              : ''),
        );
      } catch (err) {
        console.log(`  ${c.count} x ${c.interval} s ${impl}: failed: ${err.message}`);
      }
    }
  }
} finally {
  await lab.cleanup();
}

const mb = (kb) => (kb / 1024).toFixed(1);
console.log(`\n${GOAL}`);
console.log(
  'case          impl             MASTER CPU %  BACKUP CPU %  MASTER RSS / PSS MB  BACKUP RSS / PSS MB  r1 adverts  jitter ms worst / p99  load avg (start -> end of window)',
);
for (const r of rows) {
  console.log(
    [
      `${r.count} x ${r.interval} s`.padEnd(13),
      r.impl.padEnd(16),
      r.cpu.master.toFixed(2).padEnd(13),
      r.cpu.backup.toFixed(2).padEnd(13),
      `${mb(r.mem.master.rss)} / ${mb(r.mem.master.pss)}`.padEnd(20),
      `${mb(r.mem.backup.rss)} / ${mb(r.mem.backup.pss)}`.padEnd(20),
      String(r.adverts).padEnd(11),
      `${r.worstJitterMs.toFixed(1)} / ${r.p99JitterMs.toFixed(1)}`.padEnd(24),
      `${r.loadStart} -> ${r.loadEnd}`,
    ].join(' '),
  );
}
for (const c of CASES)
  for (const o of rows.filter((r) => isOurs(r.impl) && r.count === c.count && r.interval === c.interval)) {
    const k = rows.find((r) => r.impl === 'keepalived' && r.count === c.count && r.interval === c.interval);
    if (!k) continue;
    const verdict = (a, b) => (a <= b ? 'met' : 'NOT met');
    console.log(
      `  ${c.count} x ${c.interval} s ${o.impl}: MASTER CPU ${(o.cpu.master / k.cpu.master).toFixed(2)}x keepalived's (${verdict(o.cpu.master, k.cpu.master)}), BACKUP CPU ${(o.cpu.backup / k.cpu.backup).toFixed(2)}x (${verdict(o.cpu.backup, k.cpu.backup)}), worst jitter ${(o.worstJitterMs / k.worstJitterMs).toFixed(2)}x (${verdict(o.worstJitterMs, k.worstJitterMs)})`,
    );
  }
console.log(`load average at end ${loadAverage()}`);
