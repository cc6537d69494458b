#!/usr/bin/env node
// VRRP under a flood of forged invalid adverts: ours against keepalived 2.2.7, same flood,
// same run. For each implementation, a pair of whole daemons in namespaces on one bridge
// (r1 MASTER 150, r2 BACKUP 100, VRRPv2 PASS, adverts every second); the client namespace
// floods the bridge with test/vrrp/vrrp-flood.c (compiled on first use) and captures r1's
// adverts with tcpdump (a kernel filter on r1's address, so the flood costs it nothing).
// Scenarios:
//   line-rate  every kind of invalid advert of test/vrrp/flood-templates.ts (bad TTL, bad
//              checksum, wrong password, other VIPs, wrong count, another VRID), each from a
//              new random source, as fast as BENCH_FLOODERS processes go
//   trickle    two packets a second, one bad TTL and one bad checksum (keepalived's reported
//              weakness: its MASTER stops advertising and the BACKUP takes over)
//   line-rate-v6  the same against a VRRPv3 instance over IPv6 (bad hop limit, bad checksum,
//              other VIPs, another VRID, from random link-local sources)
// Prints per run: packets sent, each VRRP process's RSS before / after (peak), the largest
// gap between r1's adverts on the wire during the flood, the state changes of each router
// (spurious: nothing should change) and the log lines each wrote.
//
//   npm run build && node bench/vrrp-flood.mjs
//   BENCH_IMPLS=ours,keepalived  BENCH_SCENARIOS=line-rate,trickle,line-rate-v6  BENCH_SECONDS=10  BENCH_FLOODERS=2  BENCH_NICE=-10
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonLab, daemonLabUnavailable, sleep, until, vrrpInstance } from '../dist/test/daemon/daemon-lab.js';
import { Capture } from '../dist/test/vrrp/lab.js';
import { floodTemplates, floodTemplates6 } from '../dist/test/vrrp/flood-templates.js';

const IMPLS = (process.env.BENCH_IMPLS ?? 'ours,keepalived').split(',');
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'line-rate,trickle,line-rate-v6').split(',');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FLOODERS = Number(process.env.BENCH_FLOODERS ?? 2);
/** The flooders' niceness: the kernel delivers their frames in their time, so at 0 on a busy host they send less. */
const NICE = process.env.BENCH_NICE ?? '-10';

const why = daemonLabUnavailable(true);
if (why) {
  console.error(`vrrp-flood bench cannot run: ${why}`);
  process.exit(2);
}

const src = new URL('../test/vrrp/vrrp-flood.c', import.meta.url).pathname;
const flooder = join(tmpdir(), `kt-vfb-flood-${statSync(src).mtimeMs.toFixed(0)}`);
if (!existsSync(flooder)) execFileSync('gcc', ['-O2', '-o', flooder, src]);

const lab = new DaemonLab('kt-vfb', 97);
const VIP = lab.vip(100);
const VIP6 = 'fd97::100';
const auth = ['authentication {', '  auth_type PASS', '  auth_pass s3cret', '}'];
const conf = (family, state, prio) =>
  [
    'global_defs {',
    `  router_id kt_vfb_${prio}`,
    '}',
    family === 4
      ? vrrpInstance({ state, vrid: 51, prio, version: 2, advertInt: '1', vips: [`${VIP}/24`], extra: auth })
      : vrrpInstance({ state, vrid: 51, prio, version: 3, advertInt: '1', vips: [`${VIP6}/64`] }),
  ].join('\n');
const templates = floodTemplates({ vrid: 51, pass: 's3cret', vips: [VIP], otherVip: lab.vip(200) });
const byReason = Object.fromEntries(templates.map((t) => [t.reason, t.arg]));
const FLOODS = {
  'line-rate': { family: 4, processes: FLOODERS, rate: 0, args: templates.map((t) => t.arg) },
  trickle: { family: 4, processes: 1, rate: 2, args: [byReason['bad-ttl'], byReason['bad-checksum']] },
  'line-rate-v6': { family: 6, processes: FLOODERS, rate: 0, args: floodTemplates6({ vrid: 51, vips: [VIP6], otherVip: 'fd97::200' }).map((t) => t.arg) },
};

/** r1's eth0 link-local address (its IPv6 adverts' source), once DAD is done. */
async function linkLocal(ns) {
  let ll = null;
  await until(
    () => {
      const out = lab.net.exec(ns, 'ip -6 -o addr show dev eth0 scope link');
      ll = /tentative/.test(out) ? null : (/inet6 (fe80::[0-9a-f:]+)\//.exec(out)?.[1] ?? null);
      return ll !== null;
    },
    15_000,
    'link-local address',
  );
  return ll;
}

/** RSS of a process, or undefined once it is gone (a watchdog may kill a starved VRRP child). */
function rssMb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return undefined;
  }
}
const changes = (d, mark) => d.logSince(mark).filter((l) => /entering \w+ state/i.test(l)).length;
const mb = (x) => x.toFixed(1);

async function flood(f) {
  const runs = Array.from({ length: f.processes }, () => {
    const p = lab.spawn(lab.client, ['nice', '-n', NICE, flooder, 'eth0', String(SECONDS), String(f.rate), lab.vip(0), ...f.args]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    return new Promise((resolve) => p.once('close', () => resolve(JSON.parse(out || '{"sent":0}').sent)));
  });
  return (await Promise.all(runs)).reduce((a, b) => a + b, 0);
}

async function once(impl, scenario) {
  const f = FLOODS[scenario];
  const entering = (state) => (impl === 'ours' ? new RegExp(`\\(VI_1\\) entering ${state} state`) : new RegExp(`\\(VI_1\\) Entering ${state} STATE`));
  if (f.family === 6) for (const r of [lab.r1, lab.r2]) await linkLocal(r.ns); // the advert source must be usable
  const master = await lab.start(impl, lab.r1, lab.writeConf(conf(f.family, 'MASTER', 150)), entering('MASTER'));
  const backup = await lab.start(impl, lab.r2, lab.writeConf(conf(f.family, 'BACKUP', 100)), entering('BACKUP'));
  try {
    await until(() => lab.hasAddr(lab.r1, f.family === 4 ? VIP : VIP6), 15_000, 'VIP on r1');
    const filter = f.family === 4 ? `ip proto 112 and src host ${lab.r1.ip}` : `ip6 proto 112 and src host ${await linkLocal(lab.r1.ns)}`;
    const tcpdump = lab.spawn(lab.client, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-n', '-s', '128', '-w', '-', filter]);
    const cap = new Capture(tcpdump);
    await cap.ready;
    await sleep(3_000);
    const procs = [master, backup].map((d) => ({ d, pid: d.vrrpPid(), mark: d.log.length }));
    for (const p of procs) p.before = p.peak = rssMb(p.pid);
    const sampler = setInterval(() => {
      for (const p of procs) p.peak = Math.max(p.peak, rssMb(p.pid) ?? 0);
    }, 250);
    const start = Date.now() / 1000;
    const sent = await flood(f);
    const end = Date.now() / 1000;
    await sleep(2_000);
    clearInterval(sampler);
    for (const p of procs) p.after = rssMb(p.pid);
    const times = [
      start,
      ...cap
        .adverts()
        .filter((a) => a.vrid === 51)
        .map((a) => a.frame.ts)
        .filter((t) => t >= start && t <= end + 1),
      end + 1,
    ];
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
    cap.stop();
    if (process.env.BENCH_VERBOSE) {
      for (const p of procs)
        console.log(
          `  ${impl} ${p.d.host.name}:\n    ${p.d
            .logSince(p.mark)
            .filter((l) => /entering \w+ state/i.test(l))
            .join('\n    ')}`,
        );
      console.log(
        `  ${impl} r1 adverts seen: ${times
          .slice(1, -1)
          .map((t) => (t - start).toFixed(2))
          .join(' ')}`,
      );
    }
    return {
      sent,
      rss: procs.map((p) => `${mb(p.before)} -> ${p.after === undefined ? 'killed' : mb(p.after)} (peak ${mb(p.peak)})`),
      gapMs: Math.round(gap * 1000),
      changes: procs.map((p) => changes(p.d, p.mark)),
      lines: procs.map((p) => p.d.logSince(p.mark).length),
    };
  } finally {
    await master.stop();
    await backup.stop();
    lab.stopWatchers();
  }
}

try {
  lab.setup();
  console.log(
    `vrrp-flood bench: ${SECONDS} s per flood, ${FLOODERS} flooder processes at line rate, nice ${NICE}; load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log('impl        scenario   packets sent  master VRRP RSS MB          backup VRRP RSS MB          max advert gap  state changes m/b  log lines m/b');
  for (const scenario of SCENARIOS) {
    for (const impl of IMPLS) {
      const r = await once(impl, scenario);
      console.log(
        `${impl.padEnd(11)} ${scenario.padEnd(10)} ${r.sent.toLocaleString('en-US').padStart(12)}  ${r.rss[0].padEnd(27)} ${r.rss[1].padEnd(27)} ${`${r.gapMs} ms`.padStart(14)}  ${`${r.changes[0]} / ${r.changes[1]}`.padStart(17)}  ${`${r.lines[0]} / ${r.lines[1]}`.padStart(13)}`,
      );
    }
  }
  console.log(
    `load after: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await lab.cleanup();
}
