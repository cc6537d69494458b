#!/usr/bin/env node
// A restart of the MASTER under client traffic (what `systemctl restart keepalived` does:
// stop, then start with the same file), ours against keepalived 2.2.7 in the same run and
// the same topology: network namespaces r1 (MASTER, priority 150) and r2 (BACKUP, 100) on
// one bridge, each serving HTTP on the VIP's port, a client on the bridge requesting
// http://VIP/ every INTERVAL ms, one request per connection (test/kernel/vip-client.ts).
// The stop hands the VIP to r2 (priority 0 advert), the start takes it back (preemption):
// two handovers per restart. Printed: requests made and failed, per implementation and
// run. Both routers run the same implementation, ours
// as the whole daemon (parent + VRRP child, -P), as keepalived is run.
//
//   npm run build && node bench/restart-under-traffic.mjs
//   BENCH_N=3  BENCH_IMPLS=ours,keepalived  BENCH_INTERVAL_MS=50
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configText, labUnavailable, RouterLab, sleep, until } from '../dist/test/vrrp/lab.js';
import { loadAverage, ROOT, stats } from './lib.mjs';

const N = Number(process.env.BENCH_N ?? 3);
const IMPLS = (process.env.BENCH_IMPLS ?? 'ours,keepalived').split(',');
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 50);
/** Traffic before the restart and after the VIP is back: the steady state on both sides. */
const STEADY_MS = 3000;
const CLIENT = join(ROOT, 'dist/test/kernel/vip-client.js');

const why = labUnavailable();
if (why) {
  console.error(`restart-under-traffic bench cannot run: ${why}`);
  process.exit(2);
}

const lab = new RouterLab('kt-rut', 74);
const VIP = lab.vip(100);
const conf = (prio) => configText([{ vrid: 74, prio, version: 2, advertInt: '1', vips: [`${VIP}/24`] }]);
const start = (impl, r, prio) => lab.start(impl, r, conf(prio), { wholeDaemon: true });

/** One restart of r1 (the MASTER) under traffic; r2 runs as BACKUP throughout. */
async function once(impl, run) {
  const { r1, r2 } = lab;
  lab.flushVips(r1, [`${VIP}/24`]);
  lab.flushVips(r2, [`${VIP}/24`]);
  const backup = await start(impl, r2, 100);
  let master = await start(impl, r1, 150);
  await until(() => lab.hasAddr(r1, VIP) && !lab.hasAddr(r2, VIP), 30_000, `${impl}: r1 MASTER`);
  const out = join(lab.dir, `client-${impl}-${run}.json`);
  const client = spawn('ip', ['netns', 'exec', lab.obs, 'node', CLIENT, `http://${VIP}/`, out, String(INTERVAL_MS)], { stdio: 'ignore' });
  await until(() => readStats(out).ok > 0, 15_000, 'the client is served');
  await sleep(STEADY_MS);
  const restartAt = Date.now();
  await master.stop();
  master = await start(impl, r1, 150);
  const restartMs = Date.now() - restartAt;
  await until(() => lab.hasAddr(r1, VIP) && !lab.hasAddr(r2, VIP), 30_000, `${impl}: r1 MASTER again`);
  await sleep(STEADY_MS);
  client.kill('SIGTERM');
  await new Promise((r) => client.once('exit', r));
  await master.stop();
  await backup.stop();
  const s = readStats(out);
  return { ...s, restartMs };
}

function readStats(file) {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8'));
    return { ok: s.ok, failed: s.failed, bodies: s.bodies, errors: s.errors };
  } catch {
    return { ok: 0, failed: 0, bodies: {}, errors: [] };
  }
}

try {
  await lab.setup();
  for (const r of [lab.r1, lab.r2]) {
    lab.exec(r.ns, `mkdir -p ${lab.dir}/${r.name} && echo ${r.name} > ${lab.dir}/${r.name}/index.html`);
    lab.exec(r.ns, `busybox httpd -p 80 -h ${lab.dir}/${r.name}`);
  }
  // the client's neighbour entry for the VIP follows each handover's gratuitous ARP
  lab.exec(lab.obs, 'sysctl -qw net.ipv4.conf.all.arp_accept=1');
  const results = {};
  for (let run = 1; run <= N; run++) {
    for (const impl of IMPLS) {
      const r = await once(impl, run);
      (results[impl] ??= []).push(r);
      console.log(
        `${impl.padEnd(10)} run ${run}: ${r.ok + r.failed} requests, ${r.failed} failed, served by ${JSON.stringify(r.bodies)}, stop+start ${r.restartMs} ms` +
          (r.failed ? `; first errors: ${r.errors.slice(0, 3).join(' | ')}` : ''),
      );
    }
  }
  console.log(`\nfailed requests per restart of the MASTER (every ${INTERVAL_MS} ms, one connection each), ${N} runs, load ${loadAverage()}`);
  for (const impl of IMPLS) {
    const failed = results[impl].map((r) => r.failed);
    const s = stats(failed);
    console.log(`  ${impl.padEnd(10)} failed: ${failed.join(', ')}  (min ${s.min}, median ${s.med}, max ${s.max})`);
  }
} finally {
  await lab.cleanup();
}
