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
// Prints per run: packets sent, each VRRP process's RSS before / after (peak), the largest
// gap between r1's adverts on the wire during the flood, the state changes of each router
// (spurious: nothing should change) and the log lines each wrote.
//
//   npm run build && node bench/vrrp-flood.mjs
//   BENCH_IMPLS=ours,keepalived  BENCH_SCENARIOS=line-rate,trickle  BENCH_SECONDS=10  BENCH_FLOODERS=2
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonLab, daemonLabUnavailable, sleep, until, vrrpInstance } from '../dist/test/daemon/daemon-lab.js';
import { Capture } from '../dist/test/vrrp/lab.js';
import { floodTemplates } from '../dist/test/vrrp/flood-templates.js';

const IMPLS = (process.env.BENCH_IMPLS ?? 'ours,keepalived').split(',');
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'line-rate,trickle').split(',');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FLOODERS = Number(process.env.BENCH_FLOODERS ?? 2);

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
const conf = (state, prio) =>
  ['global_defs {', `  router_id kt_vfb_${prio}`, '}', vrrpInstance({ state, vrid: 51, prio, version: 2, advertInt: '1', vips: [`${VIP}/24`], extra: ['authentication {', '  auth_type PASS', '  auth_pass s3cret', '}'] })].join('\n');
const templates = floodTemplates({ vrid: 51, pass: 's3cret', vips: [VIP], otherVip: lab.vip(200) });
const byReason = Object.fromEntries(templates.map((t) => [t.reason, t.arg]));
const FLOODS = {
  'line-rate': { processes: FLOODERS, rate: 0, args: templates.map((t) => t.arg) },
  trickle: { processes: 1, rate: 2, args: [byReason['bad-ttl'], byReason['bad-checksum']] },
};

const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const changes = (d, mark) => d.logSince(mark).filter((l) => /entering \w+ state/i.test(l)).length;
const mb = (x) => x.toFixed(1);

async function flood(f) {
  const runs = Array.from({ length: f.processes }, () => {
    const p = lab.spawn(lab.client, ['nice', '-n', '-10', flooder, 'eth0', String(SECONDS), String(f.rate), lab.vip(0), ...f.args]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    return new Promise((resolve) => p.once('exit', () => resolve(JSON.parse(out || '{"sent":0}').sent)));
  });
  return (await Promise.all(runs)).reduce((a, b) => a + b, 0);
}

async function once(impl, scenario) {
  const ready = impl === 'ours' ? /\(VI_1\) entering MASTER state/ : /\(VI_1\) Entering MASTER STATE/;
  const master = await lab.start(impl, lab.r1, lab.writeConf(conf('MASTER', 150)), ready);
  const backup = await lab.start(impl, lab.r2, lab.writeConf(conf('BACKUP', 100)), impl === 'ours' ? /\(VI_1\) entering BACKUP state/ : /\(VI_1\) Entering BACKUP STATE/);
  try {
    await until(() => lab.hasAddr(lab.r1, VIP), 15_000, 'VIP on r1');
    const tcpdump = lab.spawn(lab.client, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-n', '-s', '128', '-w', '-', `ip proto 112 and src host ${lab.r1.ip}`]);
    const cap = new Capture(tcpdump);
    await cap.ready;
    await sleep(3_000);
    const procs = [master, backup].map((d) => ({ d, pid: d.vrrpPid(), mark: d.log.length }));
    for (const p of procs) p.before = p.peak = rssMb(p.pid);
    const sampler = setInterval(() => {
      for (const p of procs) if (existsSync(`/proc/${p.pid}`)) p.peak = Math.max(p.peak, rssMb(p.pid));
    }, 250);
    const start = Date.now() / 1000;
    const sent = await flood(FLOODS[scenario]);
    const end = Date.now() / 1000;
    await sleep(2_000);
    clearInterval(sampler);
    for (const p of procs) if (existsSync(`/proc/${p.pid}`)) p.after = rssMb(p.pid);
    const times = [start, ...cap.adverts().filter((a) => a.vrid === 51).map((a) => a.frame.ts).filter((t) => t >= start && t <= end + 1), end + 1];
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
    cap.stop();
    return {
      sent,
      rss: procs.map((p) => `${mb(p.before)} -> ${p.after === undefined ? 'gone' : mb(p.after)} (peak ${mb(p.peak)})`),
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
  console.log(`vrrp-flood bench: ${SECONDS} s per flood, ${FLOODERS} flooder processes at line rate; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log('impl        scenario   packets sent  master VRRP RSS MB          backup VRRP RSS MB          max advert gap  state changes m/b  log lines m/b');
  for (const scenario of SCENARIOS) {
    for (const impl of IMPLS) {
      const r = await once(impl, scenario);
      console.log(
        `${impl.padEnd(11)} ${scenario.padEnd(10)} ${r.sent.toLocaleString('en-US').padStart(12)}  ${r.rss[0].padEnd(27)} ${r.rss[1].padEnd(27)} ${`${r.gapMs} ms`.padStart(14)}  ${`${r.changes[0]} / ${r.changes[1]}`.padStart(17)}  ${`${r.lines[0]} / ${r.lines[1]}`.padStart(13)}`,
      );
    }
  }
  console.log(`load after: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  await lab.cleanup();
}
