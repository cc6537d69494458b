#!/usr/bin/env node
// Scale-out bench: active-active directors announced over BGP (bgp_announce) beside a
// keepalived 2.2.7 active/backup pair, in the same run.
//
// Host, network namespaces (test/scale-out/lab.ts: an FRR upstream with ECMP and BFD
// 200 ms x 3, the shipped FRR and BIRD snippets):
//   - ours: three directors (FRR, FRR, BIRD), each announcing the VIP while its own VRRP
//     instance is MASTER (no IPVS on this host). UDP queries from one client: the spread over
//     the directors; kill -9 of a whole director (keepalived-ts, its routing daemon, its
//     server) to the upstream's FIB change (`ip monitor`, BFD), and the queries lost; TERM
//     of keepalived-ts (withdraw, drain 0.5 s, stop) to the FIB change, and the queries lost;
//   - keepalived: two directors, VRRP (advert_int 1) moving a VIP on the fabric: all queries
//     to the MASTER; kill -9 of the MASTER to the upstream's neighbour entry for the VIP
//     changing (the backup's gratuitous ARP), and the queries lost; same for TERM.
// QEMU guest, real IPVS (test/kernel/scenarios/scale-out.ts, clocksource=hpet): three
// directors forwarding by DR with mh (mh-port, mh-fallback) to three real servers,
// long-lived and short TCP connections: TERM of a director to the upstream's FIB change
// (withdraw-stop) and the connections broken by a graceful stop and restart, and by a
// kill -9 of a whole director (broken-kill, broken-stop in the last line).
//
//   npm run bench:scale-out          (builds first; needs root, frr, bird2, keepalived, QEMU)
//   BENCH_N=3  BENCH_SKIP_VM=1
// Ends with one line for scripts:
//   scale-out: directors 3, spread A/B/C %, withdraw-kill X ms, withdraw-stop Y ms, broken-kill K, broken-stop S
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScaleOutLab, scaleOutLabUnavailable, vrrpL3Conf, sleep } from '../dist/test/scale-out/lab.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_N ?? 3);
const QUERIES = 3000;
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const range = (xs) => (xs.length ? `${Math.min(...xs)} / ${median(xs)} / ${Math.max(...xs)}` : 'n/a');

const why = scaleOutLabUnavailable(true);
if (why) {
  console.error(`scale-out bench cannot run: ${why}`);
  process.exit(2);
}

/** Resolves with Date.now() at the first `ip -o monitor WHAT` line in `ns` that contains `needle`. */
function firstEvent(lab, ns, what, needle) {
  const mon = lab.net.spawn(ns, ['ip', '-o', 'monitor', what]);
  const seen = new Promise((resolve) => {
    mon.stdout.on('data', (b) => {
      if (!b.toString().includes(needle)) return;
      resolve(Date.now());
      mon.kill();
    });
  });
  return { seen, ready: sleep(300), stop: () => mon.kill() };
}

// ---------------------------------------------------------------- ours, host
async function ours() {
  const lab = new ScaleOutLab('ksob');
  const out = { spread: {}, killMs: [], lostKill: [], stopMs: [], lostStop: [] };
  try {
    await lab.setup(['frr', 'frr', 'bird']);
    const d = lab.directors;
    const conf = (x) => vrrpL3Conf({ instance: `ANYCAST_${d.indexOf(x) + 1}`, vrid: 50 + d.indexOf(x) + 1, priority: 100, state: 'MASTER' });
    const startAll = async (x) => {
      await lab.startRouting(x);
      lab.startNameServer(x);
      await lab.startDaemon(x, 'ours', conf(x), /bgp_announce: announcing/);
    };
    for (const x of d) await startAll(x);
    await lab.waitNameServers();
    await lab.waitNextHops(
      d.map((x) => x.ip),
      60_000,
    );

    const client = lab.startClient(5);
    await client.answered(QUERIES, 120_000);
    const s = await client.stop();
    const total = Object.values(s.byName).reduce((a, b) => a + b, 0);
    out.spread = Object.fromEntries(d.map((x) => [x.name, Math.round((100 * (s.byName[x.name] ?? 0)) / total)]));

    // kill: -9 of the whole director (keepalived-ts, its routing daemon, its server): BFD;
    // stop: TERM of keepalived-ts alone (withdraw, drain, stop), its routing daemon stays
    for (const how of ['kill', 'stop']) {
      for (let i = 0; i < N; i++) {
        const x = d[i % d.length];
        const c = lab.startClient(5);
        await c.answered(200);
        const ev = firstEvent(lab, lab.upstream, 'route', '10.99.0.1');
        await ev.ready;
        const before = c.stats().failed;
        const t0 = Date.now();
        const stopping = how === 'kill' ? lab.killDirector(x) : x.daemon.stop();
        (how === 'kill' ? out.killMs : out.stopMs).push((await ev.seen) - t0);
        await stopping;
        await lab.waitNextHops(
          d.filter((y) => y !== x).map((y) => y.ip),
          10_000,
        );
        await sleep(600); // queries sent just before the FIB change time out after 500 ms
        (how === 'kill' ? out.lostKill : out.lostStop).push((await c.stop()).failed - before);
        if (how === 'kill') {
          await startAll(x);
          await lab.waitNameServers();
        } else await lab.startDaemon(x, 'ours', conf(x), /bgp_announce: announcing/);
        await lab.waitNextHops(
          d.map((y) => y.ip),
          60_000,
        );
      }
    }
  } finally {
    lab.cleanup();
  }
  return out;
}

// ---------------------------------------------------------------- keepalived pair, host
const K_VIP = '10.77.0.100';
const keepalivedConf = (priority) => `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 70
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${K_VIP}/24 dev eth0
  }
}
`;

async function keepalivedPair() {
  const lab = new ScaleOutLab('ksok');
  const out = { spread: {}, killMs: [], stopMs: [], lostKill: [], lostStop: [] };
  try {
    await lab.setup(['frr', 'frr']);
    const [a, b] = lab.directors;
    for (const x of [a, b]) lab.startNameServer(x);
    await lab.waitNameServers();
    const prio = (x) => (x === a ? 150 : 100);
    const start = (x) => lab.startDaemon(x, 'keepalived', keepalivedConf(prio(x)), /Entering (MASTER|BACKUP) STATE/);
    const masterIs = async (x) => {
      for (let i = 0; i < 100; i++) {
        if (lab.net.exec(x.ns, 'ip -o addr show dev eth0').includes(K_VIP)) return;
        await sleep(100);
      }
      throw new Error(`${x.name} did not become MASTER`);
    };
    let backup = await start(b);
    let master = await start(a);
    await masterIs(a);

    const client = lab.startClient(5, K_VIP);
    await client.answered(1000, 120_000);
    const s = await client.stop();
    const total = Object.values(s.byName).reduce((x, y) => x + y, 0);
    out.spread = Object.fromEntries([a, b].map((x) => [x.name, Math.round((100 * (s.byName[x.name] ?? 0)) / total)]));

    for (const how of ['kill', 'stop']) {
      for (let i = 0; i < N; i++) {
        const c = lab.startClient(5, K_VIP);
        await c.answered(200);
        // the upstream learns the backup's MAC for the VIP from its gratuitous ARP
        const ev = firstEvent(lab, lab.upstream, 'neigh', K_VIP);
        await ev.ready;
        const before = c.stats().failed;
        const t0 = Date.now();
        if (how === 'kill') lab.killOurs(a);
        else await master.stop();
        const seen = await Promise.race([ev.seen, sleep(15_000).then(() => NaN)]);
        ev.stop();
        (how === 'kill' ? out.killMs : out.stopMs).push(seen - t0);
        await masterIs(b);
        await sleep(600);
        (how === 'kill' ? out.lostKill : out.lostStop).push((await c.stop()).failed - before);
        master = await start(a); // preempts back
        await masterIs(a);
        await sleep(2000);
      }
    }
    void backup;
  } finally {
    lab.cleanup();
  }
  return out;
}

// ---------------------------------------------------------------- ours, QEMU guest
function vm() {
  if (process.env.BENCH_SKIP_VM === '1') return Promise.resolve(null);
  const dir = mkdtempSync(join(ROOT, '.cache', 'kt-bench-scale-out-'));
  const results = join(dir, 'results.json');
  return new Promise((resolve) => {
    const p = spawn(
      join(ROOT, 'test', 'kernel', 'vm.sh'),
      [
        '-k',
        'clocksource=hpet',
        '-t',
        '2400',
        '-e',
        'KERNEL_SCENARIOS=scale-out',
        '--',
        'node',
        join(ROOT, 'dist', 'test', 'kernel', 'guest-runner.js'),
        results,
      ],
      { cwd: ROOT },
    );
    let output = '';
    p.stdout.on('data', (b) => {
      output += b;
    });
    p.stderr.on('data', (b) => {
      output += b;
    });
    p.on('close', () => {
      const fig = (re) => {
        const m = re.exec(output);
        return m ? Number(m[1]) : NaN;
      };
      let failed = [];
      if (existsSync(results)) {
        const r = JSON.parse(readFileSync(results, 'utf8'))[0];
        failed = r.error ? [r.error] : r.observations.filter((o) => JSON.stringify(o.actual) !== JSON.stringify(o.expected)).map((o) => o.label);
      } else failed = ['the VM produced no results'];
      rmSync(dir, { recursive: true, force: true });
      resolve({
        withdrawStop: fig(/FIGURE withdraw-stop (\d+) ms/),
        withdrawKill: fig(/FIGURE withdraw-kill (\d+) ms/),
        brokenKill: fig(/FIGURE broken-kill (\d+)/),
        brokenStop: fig(/broken-stop (\d+)/),
        bfdMs: fig(/BFD (\d+) ms x 3/),
        failed,
      });
    });
  });
}

console.log(`scale-out bench: N=${N}, load ${load()}`);
const o = await ours();
console.log(
  `ours (host):       spread ${JSON.stringify(o.spread)} %, withdraw-kill min/median/max ${range(o.killMs)} ms (BFD 200 ms x 3), lost ${range(o.lostKill)}; withdraw-stop ${range(o.stopMs)} ms, lost ${range(o.lostStop)} (load ${load()})`,
);
const k = await keepalivedPair();
console.log(
  `keepalived (host): spread ${JSON.stringify(k.spread)} %, failover-kill ${range(k.killMs)} ms, lost ${range(k.lostKill)}; failover-stop ${range(k.stopMs)} ms, lost ${range(k.lostStop)} (load ${load()})`,
);
const v = await vm();
if (v) {
  console.log(
    `ours (QEMU, real IPVS DR + mh, TCG): withdraw-stop ${v.withdrawStop} ms, withdraw-kill ${v.withdrawKill} ms (BFD ${v.bfdMs} ms x 3 there), connections broken: kill ${v.brokenKill}, stop+restart ${v.brokenStop}`,
  );
  if (v.failed.length) console.log(`  the VM scenario failed: ${v.failed.join('; ')}`);
  console.log(
    'keepalived (QEMU): an active/backup pair has one director; NAT connections through it break at a failover without lvs_sync_daemon (not measured here)',
  );
}
// latencies from the three-director topology (host); broken TCP connections need IPVS (the VM)
const spread = Object.values(o.spread).join('/');
const orNa = (x) => (x === undefined || Number.isNaN(x) ? 'n/a' : x);
console.log(
  `scale-out: directors 3, spread ${spread} %, withdraw-kill ${median(o.killMs)} ms, withdraw-stop ${median(o.stopMs)} ms, broken-kill ${orNa(v?.brokenKill)}, broken-stop ${orNa(v?.brokenStop)}`,
);
