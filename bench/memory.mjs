#!/usr/bin/env node
// Memory bench: what the daemon's processes hold, ours against keepalived 2.2.7 measured in
// the same run, side by side. For each process (parent, VRRP child, checker child):
//   RSS      every resident page the process maps, shared ones included in full;
//   PSS      each page divided by the number of processes mapping it (/proc/PID/smaps_rollup);
//   Private  pages no other process maps (Private_Clean + Private_Dirty: for Node, its heap);
// and for the three together: the sums, plus "together" = every physical page any of the
// three maps, counted once (page frames from /proc/PID/pagemap). PSS is what issue 16's goals
// are stated in: the three processes under 40 MB of PSS on a small config, and our checker
// on 1,000 x 10 under keepalived's three processes plus 30 MB; both are printed beside the
// figures. This bench is itself a Node process (and so may be anything else on the host): it
// shares libnode's pages with ours, so PSS hands part of them to it and reads a little low
// for ours; "together" counts them in full, what the daemon costs the machine alone.
// "node floor": three Node processes that only wait (`node FLAGS -e 'setInterval(...)'`), with
// the flags the daemon gives its parent, VRRP and checker processes, measured in the same run
// right before each config: what Node itself costs, so the reader sees how much of ours is
// Node's and how much is the daemon's own. Ours minus the floor is printed beside the goal.
//
// Two parts:
//   host  every examples/*.conf in a network namespace holding the interfaces the config
//         names (veth pairs with both ends inside). This kernel has no IPVS: our checker
//         loads its modules and config, then waits for IPVS (no checks run); keepalived's
//         checker would exit and take its daemon down, so keepalived runs VRRP only (-P)
//         and its checker is measured in the VM part.
//   vm    (test/kernel/vm.sh: real kernel IPVS, a TCG guest) examples/dr-director-pair.conf
//         and a generated 1,000 virtual servers x 10 real servers TCP_CHECK config, all
//         three processes of both implementations; the 10,000 real servers are local
//         addresses (a `local 172.16.0.0/12` route) answered by one listener, so every check
//         passes and every destination is in the table, as in production.
// Each run: start, wait until the processes are up (and, in the VM, the IPVS table is
// complete), settle, then take SAMPLES samples a second apart and report the maximum.
//
//   npm run build && npm run bench:memory       (root; namespaces kt-mem-PID-N)
//   BENCH_PARTS=host,vm  BENCH_CONFIGS=nat,dr-director-pair  BENCH_SETTLE_S=15  BENCH_SAMPLES=3
//   BENCH_VM_SETTLE_S=45  BENCH_DELAY_LOOP=30 (the 1,000 x 10 config)  BENCH_IMPLS=ours,keepalived
//   BENCH_VM_CASES=small,large  BENCH_CHECKER_ALONE=1 (1,000 x 10 in the VM: our checker module alone)
//   BENCH_ROUNDS=1 (host: each config measured this many times, the implementations alternating)
//   BENCH_FLOOR=1 (host: 0 skips the node floor)  BENCH_FLOOR_SETTLE_S=3
//   BENCH_TREES=/path/to/other/built/tree (its daemon as ours@NAME too, on the host and in the VM: before/after a change)
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  ROOT,
  alive,
  dropNamespace,
  env,
  implementations,
  ipvsCounts,
  isOurs,
  loadAverage,
  makeNamespace,
  memoryRollup,
  oneInstanceHead,
  realServersListener,
  requireRootAndBuild,
  runInVm,
  sleep,
  startDaemon,
  virtualServersConfig,
} from './lib.mjs';

const PAGE = 4096;
const PARTS = env('BENCH_PARTS', 'host,vm').split(',');
const IMPLS = implementations();
const ROUNDS = Number(env('BENCH_ROUNDS', 1));
const SETTLE_S = Number(env('BENCH_SETTLE_S', 15));
const VM_SETTLE_S = Number(env('BENCH_VM_SETTLE_S', 45));
const SAMPLES = Number(env('BENCH_SAMPLES', 3));
const DELAY_LOOP = Number(env('BENCH_DELAY_LOOP', 30));
const LISTEN_PORT = 80;
const FLOOR = env('BENCH_FLOOR', '1') === '1';
const FLOOR_SETTLE_S = Number(env('BENCH_FLOOR_SETTLE_S', 3));
const FLOOR_NAME = 'node floor';
/** Issue 16's goals, MB of PSS. */
const GOAL_SMALL_PSS_MB = 40;
const GOAL_LARGE_OVER_KEEPALIVED_MB = 30;
const ROLES = ['parent', 'vrrp', 'checker'];

// ---- reading memory ----

/** Adds the page frame number of every resident page of `pid` to `frames`. */
function addResidentFrames(pid, frames) {
  const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const fd = openSync(`/proc/${pid}/pagemap`, 'r');
  const CHUNK = 65536;
  const buf = Buffer.alloc(CHUNK * 8);
  try {
    let start = 0;
    let end = 0;
    for (const line of smaps.split('\n')) {
      const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
      if (range) {
        start = parseInt(range[1], 16) / PAGE;
        end = parseInt(range[2], 16) / PAGE;
        continue;
      }
      // only mappings with something resident are read (V8 reserves far more than it uses)
      if (!line.startsWith('Rss:') || /^Rss:\s+0 kB/.test(line)) continue;
      for (let p = start; p < end; p += CHUNK) {
        const n = Math.min(CHUNK, end - p);
        const got = readSync(fd, buf, 0, n * 8, p * 8) / 8;
        for (let i = 0; i < got; i++) {
          const hi = buf.readUInt32LE(i * 8 + 4);
          if (hi & 0x80000000) frames.add((hi & 0x7fffff) * 2 ** 32 + buf.readUInt32LE(i * 8)); // bit 63 present, bits 0-54 PFN
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** One sample of every process: per-role rollups and the union of their pages, KB. */
function sample(pids) {
  const out = { roles: {}, togetherKb: 0 };
  const frames = new Set();
  for (const [role, pid] of Object.entries(pids)) {
    out.roles[role] = memoryRollup(pid);
    addResidentFrames(pid, frames);
  }
  out.togetherKb = (frames.size * PAGE) / 1024;
  return out;
}

/** The maximum of each figure over the samples. */
function maxOf(samples) {
  const m = { roles: {}, togetherKb: Math.max(...samples.map((s) => s.togetherKb)) };
  for (const role of Object.keys(samples[0].roles)) {
    m.roles[role] = {};
    for (const k of ['rss', 'pss', 'priv']) m.roles[role][k] = Math.max(...samples.map((s) => s.roles[role][k]));
  }
  return m;
}

// ---- one measurement ----

/**
 * Starts one implementation on `confPath` in `ns`, waits for its processes (and `ready()`),
 * settles, samples, stops it. Returns the maximum figures and how long it took to come up.
 */
async function measure(impl, ns, confPath, { roles, settleS, ready, observe = () => ({}), startTimeoutS = 120, label, standaloneChecker = false }) {
  const d = await startDaemon(impl, ns, confPath, { roles, ready, timeoutS: startTimeoutS, standaloneChecker, label });
  try {
    await sleep(settleS * 1000);
    const samples = [];
    for (let i = 0; i < SAMPLES; i++) {
      const gone = roles.filter((r) => !alive(d.pids[r]));
      if (gone.length)
        throw new Error(
          `${label}: ${impl} lost its ${gone.join(', ')} process while sampling; log:\n${readFileSync(d.logPath, 'utf8').split('\n').slice(-15).join('\n')}`,
        );
      samples.push(sample(d.pids));
      if (i < SAMPLES - 1) await sleep(1000);
    }
    return { ...maxOf(samples), ...observe(d.pids), upS: d.upMs / 1000, load: loadAverage() };
  } finally {
    await d.stop();
  }
}

/**
 * Three Node processes that only wait, with the flags the daemon gives its parent, VRRP and
 * checker processes (this tree's src/daemon/node-flags.ts), sampled as the daemon's are.
 */
async function measureFloor() {
  const { PARENT_NODE_FLAGS, CHILD_NODE_FLAGS } = await import(join(ROOT, 'dist/src/daemon/node-flags.js'));
  const flags = { parent: PARENT_NODE_FLAGS, vrrp: CHILD_NODE_FLAGS.vrrp, checker: CHILD_NODE_FLAGS.checker };
  const procs = ROLES.map((role) => [role, spawn(process.execPath, [...flags[role], '-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' })]);
  try {
    await sleep(FLOOR_SETTLE_S * 1000);
    const pids = Object.fromEntries(procs.map(([role, p]) => [role, p.pid]));
    const samples = [];
    for (let i = 0; i < SAMPLES; i++) {
      samples.push(sample(pids));
      if (i < SAMPLES - 1) await sleep(1000);
    }
    return { ...maxOf(samples), load: loadAverage() };
  } finally {
    for (const [, p] of procs) p.kill('SIGKILL');
  }
}

// ---- the two parts ----

async function hostPart(emit) {
  const wanted = process.env.BENCH_CONFIGS?.split(',');
  const dir = mkdtempSync(join(tmpdir(), 'kt-mem-host-'));
  const large = join(dir, 'large-1000x10.conf');
  writeFileSync(large, largeConfig());
  const cases = readdirSync(join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.conf'))
    .sort()
    .map((f) => ({ name: f, path: join(ROOT, 'examples', f) }))
    .concat([{ name: LARGE_NAME, path: large }])
    .filter((c) => !wanted || wanted.includes(basename(c.path, '.conf')) || (wanted.includes('large') && c.path === large));
  try {
    for (const c of cases) {
      const text = readFileSync(c.path, 'utf8');
      const hasVs = /^\s*virtual_server\s/m.test(text);
      for (const impl of Array.from({ length: ROUNDS }, () => (FLOOR ? [FLOOR_NAME, ...IMPLS] : IMPLS)).flat()) {
        if (impl === FLOOR_NAME) {
          emit({ part: 'host', config: c.name, impl, ...(await measureFloor()) });
          continue;
        }
        const roles = ['parent', 'vrrp', ...(hasVs && isOurs(impl) ? ['checker'] : [])];
        const ns = makeNamespace(text, 'kt-mem');
        try {
          const r = await measure(impl, ns, c.path, { roles, settleS: SETTLE_S, label: c.name });
          emit({ part: 'host', config: c.name, impl, ...r });
        } catch (err) {
          emit({ part: 'host', config: c.name, impl, error: err.message });
        } finally {
          dropNamespace(ns);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const LARGE_NAME = '1,000 x 10 TCP_CHECK';

/** 1,000 virtual servers x 10 TCP-checked real servers, plus one VRRP instance. */
const largeConfig = () =>
  virtualServersConfig({
    head: oneInstanceHead({ state: 'MASTER', priority: 150, routerId: 'mem_bench' }),
    services: 1000,
    realServers: 10,
    delayLoop: DELAY_LOOP,
    port: LISTEN_PORT,
  });

async function vmPart(emit) {
  const dir = mkdtempSync(join(tmpdir(), 'kt-mem-vm-'));
  const large = join(dir, 'large-1000x10.conf');
  writeFileSync(large, largeConfig());
  const cases = [
    { name: 'dr-director-pair.conf', path: join(ROOT, 'examples/dr-director-pair.conf'), services: 1, dests: 0 },
    { name: LARGE_NAME, path: large, services: 1000, dests: 10000 },
  ].filter((c, i) =>
    env('BENCH_VM_CASES', 'small,large')
      .split(',')
      .includes(i === 0 ? 'small' : 'large'),
  );
  try {
    for (const c of cases) {
      for (const impl of IMPLS) {
        const text = readFileSync(c.path, 'utf8');
        const ns = makeNamespace(text, 'kt-mem');
        let listener = null;
        try {
          // every real server is a local address of the namespace, answered by one listener
          if (c.dests) listener = await realServersListener(ns, LISTEN_PORT);
          const ready = (pids) => {
            const n = ipvsCounts(pids.checker);
            return n.services >= c.services && n.dests >= c.dests;
          };
          const observe = (pids) => ({ ipvs: ipvsCounts(pids.checker) });
          // The whole daemon on 1,000 x 10 as well: in the TCG guest its three processes take
          // ~45 s to load and parse 66,000 lines on one vCPU, past the watchdog's first 30 s
          // start-up allowance, which now doubles after a start-up kill, so it comes up.
          // BENCH_CHECKER_ALONE=1 (host side, passed to the guest) measures our checker
          // child's module by itself instead, as this bench did before.
          const alone = process.env.BENCH_CHECKER_ALONE === '1' && isOurs(impl) && c.dests > 0;
          const r = await measure(impl, ns, c.path, {
            roles: alone ? ['checker'] : ROLES,
            standaloneChecker: alone,
            settleS: VM_SETTLE_S,
            ready,
            observe,
            startTimeoutS: 600,
            label: c.name,
          });
          emit({ part: 'vm', config: c.name, impl: alone ? 'ours*' : impl, ...r });
        } catch (err) {
          emit({ part: 'vm', config: c.name, impl, error: err.message });
        } finally {
          listener?.stop();
          dropNamespace(ns);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the VM part in a guest and collects its results. */
async function vmFromHost(emit) {
  const pass = ['BENCH_IMPLS', 'BENCH_SAMPLES', 'BENCH_VM_SETTLE_S', 'BENCH_DELAY_LOOP', 'BENCH_VM_CASES', 'BENCH_CHECKER_ALONE', 'BENCH_TREES'];
  await runInVm(import.meta.filename, ['--guest'], {
    prefix: 'MEMBENCH',
    onResult: emit,
    passEnv: pass,
    timeoutS: Number(env('BENCH_VM_TIMEOUT', 2400)),
  }).catch((e) => emit({ part: 'vm', error: e.message }));
}

// ---- printing ----

const mb = (kb) => (kb / 1024).toFixed(1);
const IMPL_WIDTH = Math.max(FLOOR_NAME.length, ...IMPLS.map((i) => i.length));

function printTable(results) {
  const cell = (f) => (f ? `${mb(f.rss).padStart(5)} ${mb(f.pss).padStart(5)} ${mb(f.priv).padStart(5)}` : '    -     -     -');
  const head = (s) => s.padStart(17);
  console.log(
    `\n${'config'.padEnd(28)} ${'impl'.padEnd(IMPL_WIDTH)} ${head('parent')}  ${head('VRRP')}  ${head('checker')}  ${'sum RSS'.padStart(7)} ${'sum PSS'.padStart(7)} ${'sum Prv'.padStart(7)} ${'together'.padStart(8)}`,
  );
  console.log(`${''.padEnd(28)} ${''.padEnd(IMPL_WIDTH)} ${'  RSS   PSS   Prv'}  ${'  RSS   PSS   Prv'}  ${'  RSS   PSS   Prv'}`);
  let last = '';
  for (const r of results) {
    const where = `${r.config} (${r.part})`;
    const name = where === last ? '' : where;
    last = where;
    if (r.error) {
      console.log(`${name.padEnd(28)} ${r.impl?.padEnd(IMPL_WIDTH) ?? ''} failed: ${r.error.split('\n')[0]} (log above)`);
      continue;
    }
    const roles = Object.values(r.roles);
    const sum = (k) => roles.reduce((a, f) => a + f[k], 0);
    console.log(
      `${name.padEnd(28)} ${r.impl.padEnd(IMPL_WIDTH)} ${cell(r.roles.parent)}  ${cell(r.roles.vrrp)}  ${cell(r.roles.checker)}  ${mb(sum('rss')).padStart(7)} ${mb(sum('pss')).padStart(7)} ${mb(sum('priv')).padStart(7)} ${mb(r.togetherKb).padStart(8)}`,
    );
  }
}

/** Issue 16's two goals, beside each figure they are about. */
function printGoals(results) {
  const ok = results.filter((r) => !r.error);
  const sumPss = (r) => Object.values(r.roles).reduce((a, f) => a + f.pss, 0) / 1024;
  const sumPriv = (r) => Object.values(r.roles).reduce((a, f) => a + f.priv, 0) / 1024;
  // keepalived's run of the same round: the first after this one (rounds run floor, ours..., keepalived), else the last before
  const keepalivedOf = (r) => {
    const same = (k) => k.impl === 'keepalived' && k.part === r.part && k.config === r.config;
    const at = ok.indexOf(r);
    return ok.slice(at + 1).find(same) ?? ok.slice(0, at).findLast(same);
  };
  // the floor measured right before this run of ours (rounds alternate floor, ours, ...)
  const floorOf = (r) => ok.slice(0, ok.indexOf(r)).findLast((f) => f.impl === FLOOR_NAME && f.part === r.part && f.config === r.config);
  console.log(`\ngoals (issue 16), MB of PSS:`);
  for (const r of ok.filter((x) => x.impl.startsWith('ours') && x.config !== LARGE_NAME && x.roles.checker)) {
    const k = keepalivedOf(r);
    const f = floorOf(r);
    const kText = k ? `; keepalived ${sumPss(k).toFixed(1)} (${Object.keys(k.roles).length} processes)` : '';
    const fText = f
      ? `; node floor ${sumPss(f).toFixed(1)} (private ${sumPriv(f).toFixed(1)}): ours above it ${(sumPss(r) - sumPss(f)).toFixed(1)} (private ${(sumPriv(r) - sumPriv(f)).toFixed(1)})`
      : '';
    console.log(
      `  ${r.config} (${r.part}) ${r.impl}: the three processes ${sumPss(r).toFixed(1)} < ${GOAL_SMALL_PSS_MB}: ${sumPss(r) < GOAL_SMALL_PSS_MB ? 'met' : 'NOT met'}${fText}${kText} (load ${r.load})`,
    );
  }
  for (const r of ok.filter((x) => (x.impl === 'ours' || x.impl === 'ours*') && x.config === LARGE_NAME && x.roles.checker)) {
    const k = keepalivedOf(r);
    const checker = r.roles.checker.pss / 1024;
    if (!k) {
      console.log(`  ${LARGE_NAME} (${r.part}): ours' checker ${checker.toFixed(1)}; keepalived not measured in this run`);
      continue;
    }
    const limit = sumPss(k) + GOAL_LARGE_OVER_KEEPALIVED_MB;
    console.log(
      `  ${LARGE_NAME} (${r.part}): ours' checker ${checker.toFixed(1)} < keepalived's three ${sumPss(k).toFixed(1)} + ${GOAL_LARGE_OVER_KEEPALIVED_MB} = ${limit.toFixed(1)}: ${checker < limit ? 'met' : 'NOT met'} (load ${r.load}; keepalived's ${k.load})`,
    );
  }
}

// ---- entry points ----

if (process.argv[2] === '--guest') {
  await vmPart((r) => process.stdout.write(`MEMBENCH ${JSON.stringify(r)}\n`));
  process.exit(0);
} else {
  requireRootAndBuild();
  const results = [];
  const emit = (r) => {
    results.push(r);
    if (r.error) console.log(`  ${r.part} ${r.config ?? ''} ${r.impl ?? ''}: failed: ${r.error}`);
    else
      console.log(
        `  ${r.part} ${r.config} ${r.impl}: together ${mb(r.togetherKb)} MB${r.upS ? `, up after ${r.upS.toFixed(1)} s` : ''}${r.ipvs ? `, IPVS ${r.ipvs.services} services ${r.ipvs.dests} destinations` : ''} (load ${r.load})`,
      );
  };
  console.log(`memory bench: load average at start ${loadAverage()}`);
  if (PARTS.includes('host')) await hostPart(emit);
  if (PARTS.includes('vm')) await vmFromHost(emit);
  printTable(results);
  console.log(
    `\nMB; each figure the maximum of ${SAMPLES} samples 1 s apart, after the processes were up and had settled ${SETTLE_S} s (VM: ${VM_SETTLE_S} s of guest time).`,
  );
  console.log("RSS: resident pages, shared ones in full. PSS: shared pages divided among every process mapping them, this bench's own Node");
  console.log('included. Prv: pages only that process maps. together: every page of the three processes counted once (pagemap frames).');
  console.log('host: no kernel IPVS, so our checker loads its modules and config, then waits for IPVS (no checks run), and keepalived');
  console.log('runs VRRP only (-P: its checker would exit and stop the daemon). vm: real IPVS in a TCG guest, all processes of both.');
  console.log(`1,000 x 10: delay_loop ${DELAY_LOOP}, every real server answers (local addresses, one listener).`);
  if (results.some((r) => r.impl === FLOOR_NAME))
    console.log(`${FLOOR_NAME}: three Node processes that only wait (-e), with the daemon's flags for its parent, VRRP and checker processes.`);
  if (results.some((r) => r.impl === 'ours*'))
    console.log("ours*: our checker child's module run alone, with the flags the parent gives it (BENCH_CHECKER_ALONE=1).");
  printGoals(results);
  console.log(`load average at end ${loadAverage()}`);
}
