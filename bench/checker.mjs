#!/usr/bin/env node
// Checker bench: N real servers, one TCP_CHECK each at delay_loop 1, against a listener (a
// separate process, so its CPU is not ours: bench/accept-close.c, compiled on first use, so
// it never becomes the bottleneck; a Node listener without a C compiler) on 0.0.0.0:PORT
// reached through N loopback addresses 127.1.x.y. The checks run through our engine (scheduler, retry state, health,
// desired table) exactly as in the daemon, with the daemon's own runCheck. Everything runs
// inside a network namespace this bench creates (its own loopback: no port clashes with
// anything else on the host) and removes. As in the checker child, every attempt also goes
// to the metrics/dump observer.
//
// Printed beside ours, from the same run: two floors (the same connects with nothing but a
// bare loop: through Node's net.Socket, and through our native probe) so the cost of the
// sockets themselves is visible. keepalived 2.2.7's figures cannot be measured here (its
// checker exits without kernel IPVS); they come from ../shared/notes/keepalived-reference.md,
// measured on this machine kind, and are labelled so.
//
// IPVS: a no-op client is injected (the host kernel has no IPVS); every health change still
// computes the desired table and diff, only the netlink write is skipped.
//
// The config is keepalived.conf text (N/10 virtual servers x 10 real servers) read by our
// config loader and shared as the checker child shares it (identical checker blocks, one
// object), so the model is the daemon's own; malloc is set up as in the child too.
//
// RSS growth per real server is measured as keepalived's figure was (its checker with
// 1,000 x 10 real servers, 12 MB, minus its checker with a small config, 5 MB): the same
// bench run a second time, in its own process, with BENCH_BASE_N (100) real servers; the
// difference of the two running processes' RSS after warm-up, divided by the difference in
// real servers. Costs every process pays once (JIT code, the probe addon, metrics set-up)
// cancel out. The in-process figure (RSS from before the config to after warm-up, fixed
// costs included) is printed beside it. The growth is split into V8's heap, array buffers
// (the typed columns) and the rest of the anonymous memory (malloc: native addons, V8's own
// tables, allocator slack); BENCH_HEAP_SNAPSHOT=file writes the warmed-up heap to look into.
//
//   npm run build && node --expose-gc bench/checker.mjs      (BENCH_N=10000 BENCH_SECONDS=10 BENCH_BASE_N=100)
//   BENCH_TREES=/path/to/other/built/tree: the same bench on that checkout's engine too (before/after
//   a change), alternating with this one's; BENCH_ROUNDS=3: each this many times. A summary of
//   every run closes the output when there is more than one.
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { implementations, stats, treeOf } from './lib.mjs';

const N = Number(process.env.BENCH_N ?? 10000);
const BASE_N = Number(process.env.BENCH_BASE_N ?? 100);
/** Set by outer() for the base run: warm up, report memory as JSON, no measured phase. */
const MEMORY_ONLY = process.env.BENCH_MEMORY_ONLY === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FLOOR_SECONDS = Math.min(SECONDS, 5);
const WARMUP_S = 3;
/** The checker child's metrics/dump observer on every attempt (BENCH_OBSERVER=0: the engine alone). */
const OBSERVER = process.env.BENCH_OBSERVER !== '0';
const PORT = 47999;
const KEEPALIVED = { checksPerS: 9231, cpuPct: 36.5, rssPerRsKB: ((12 - 5) * 1024) / 10000 };
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
/** The checkout whose engine a run inside the namespace measures (set by outer()). */
const TREE = process.env.BENCH_TREE_ROOT ?? treeOf('ours');
/** Prefix of the line a measured run hands its figures to outer() on. */
const RESULT = 'CHECKER_RESULT';

/** A module of the tree under test, at the first of `paths` (under dist/src) it has: trees before a rename have the older one. */
async function fromTree(...paths) {
  for (const p of paths) {
    const file = join(TREE, 'dist/src', p);
    if (existsSync(file)) return import(file);
  }
  throw new Error(`${TREE}: none of ${paths.join(', ')} built`);
}

const self = new URL(import.meta.url).pathname;
if (process.argv[2] === '--listener') listener();
else if (process.argv[2] === '--in-netns') await main();
else await outer();

/** Where the process's memory is, for the growth breakdown (all in bytes). */
function memoryParts() {
  const m = process.memoryUsage();
  let anon = 0;
  try {
    anon = Number(/Anonymous:\s+(\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    /* no procfs */
  }
  // resident anonymous memory that is neither V8's heap nor array buffers: malloc (native
  // addons, V8's own tables, compiled code metadata) and the allocator's slack
  return { heapCommitted: m.heapTotal, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, otherAnon: anon - m.heapTotal - m.arrayBuffers };
}

/**
 * Re-run this file inside a fresh namespace with its loopback up, once per tree and round;
 * always remove it. Each run gets its tree's checker child V8 flags (src/daemon/node-flags.ts)
 * unless the command line already sets the young generation's size.
 */
async function outer() {
  const own = process.execArgv.some((a) => a.startsWith('--max-semi-space-size'));
  const ns = `kt-ce-bench-${process.pid}`;
  const results = [];
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // this namespace's own accept-queue limits: 10,000 connects a second must not overflow them
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.core.somaxconn=65535', 'net.ipv4.tcp_max_syn_backlog=65535']);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const impl of implementations('ours')) {
        const tree = treeOf(impl);
        const { CHILD_NODE_FLAGS } = await import(join(tree, 'dist/src/daemon/node-flags.js'));
        const flags = [...process.execArgv, ...(own ? [] : CHILD_NODE_FLAGS.checker)];
        const env = { ...process.env, BENCH_TREE_ROOT: tree };
        if (ROUNDS > 1 || impl !== 'ours') console.log(`\n=== ${impl} (${tree}), round ${round} of ${ROUNDS}`);
        // the base run first (small config, memory only), then the measured one, which prints both
        const base = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...flags, self, '--in-netns'], {
          env: { ...env, BENCH_N: String(BASE_N), BENCH_MEMORY_ONLY: '1' },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        if (base.status !== 0) throw new Error(`base run (${BASE_N} real servers) failed: ${base.stdout}`);
        const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...flags, self, '--in-netns'], {
          env: { ...env, BENCH_BASE: base.stdout.trim().split('\n').at(-1) },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        for (const l of r.stdout.split('\n')) {
          if (l.startsWith(`${RESULT} `)) results.push({ impl, round, ...JSON.parse(l.slice(RESULT.length + 1)) });
          else if (l) console.log(l);
        }
        if (r.status !== 0) {
          process.exitCode = r.status ?? 1;
          return;
        }
      }
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
  if (results.length > 1) printSummary(results);
}

/** Every run's headline figures, then each implementation's min / median / max: the spread to judge a difference by. */
function printSummary(results) {
  const cols = [
    ['checks/s', (r) => r.checksPerS.toFixed(0)],
    ['CPU %/1k', (r) => r.cpuPer1k.toFixed(2)],
    ['probe floor %/1k', (r) => r.probeFloorPer1k?.toFixed(2) ?? '-'],
    ['RSS KB/RS', (r) => r.rssPerRs.toFixed(2)],
    ['heap used KB/RS', (r) => r.heapUsedPerRs.toFixed(2)],
    ['buffers KB/RS', (r) => r.arrayBuffersPerRs.toFixed(2)],
    ['other anon KB/RS', (r) => r.otherAnonPerRs.toFixed(2)],
  ];
  const width = Math.max(4, ...results.map((r) => r.impl.length));
  const row = (cells) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(width) : c.padStart(i === 1 ? 5 : 17))).join(' '));
  console.log(`\nsummary: ${results.length} runs of ${N} real servers (RSS etc. per real server against ${BASE_N}, each run its own base)`);
  row(['impl', 'round', ...cols.map(([h]) => h), '     load average']);
  for (const r of results) row([r.impl, String(r.round), ...cols.map(([, f]) => f(r)), r.load]);
  for (const impl of [...new Set(results.map((r) => r.impl))]) {
    const mine = results.filter((r) => r.impl === impl);
    const spread = (k) => {
      const s = stats(mine.map((r) => r[k]));
      return `${s.min.toFixed(2)} / ${s.med.toFixed(2)} / ${s.max.toFixed(2)}`;
    };
    console.log(`${impl.padEnd(width)} min / median / max: CPU per 1,000 checks/s ${spread('cpuPer1k')} %; RSS per real server ${spread('rssPerRs')} KB`);
  }
}

async function listener() {
  const net = await import('node:net');
  // accept and close at once, never reading: the listener must not be the bottleneck
  const server = net.createServer({ pauseOnConnect: true }, (s) => {
    s.on('error', () => {});
    s.destroy();
  });
  server.on('error', (e) => {
    console.error(`listener: ${e.message}`);
    process.exit(1);
  });
  server.listen({ port: PORT, host: '0.0.0.0', backlog: 8192 }, () => process.send?.('listening'));
  const report = setInterval(() => process.send?.({ cpu: process.cpuUsage() }), 1000);
  process.on('disconnect', () => {
    clearInterval(report);
    process.exit(0);
  });
}

async function main() {
  const { CheckerEngine } = await fromTree('checker/engine.js');
  const { memoryOwnedStore } = await fromTree('checker/owned.js');
  const { runCheck } = await fromTree('probe/run-check.js', 'check/run-check.js');
  const { TcpProbes } = await fromTree('probe/tcp-probe.js', 'check/tcp-probe.js');
  const { CheckerObserver } = await fromTree('checker/observer.js');
  const { createCheckerMetrics } = await fromTree('metrics/checker-metrics.js');
  const { createLogger } = await fromTree('log/logger.js');
  const { loadConfig } = await fromTree('config/index.js');
  const { shareIdenticalCheckers } = await fromTree('config/share-checkers.js');
  const { keepLargeBlocksApart, releaseFreedMemory } = await fromTree('native/index.js', 'netlink/native.js');
  keepLargeBlocksApart(); // as the checker child does before its first load (src/checker/main.ts)
  const gc = globalThis.gc ?? (() => {});
  const spaces0 = (await import('node:v8')).getHeapSpaceStatistics();
  const { child, cpu: listenerCpuNow, kind: listenerKind } = await startListener();

  let downEvents = 0;
  // the logger exists before the first load, as in the checker child (src/checker/main.ts): a
  // JSON sink loads pino on creation, and modules loaded after the load sit among the pages
  // it freed and keep them resident
  const log = createLogger({
    proc: 'checker',
    write: (l) => {
      if (l.includes('Removing service') || l.includes('Disabling service')) downEvents++;
    },
  });
  gc();
  gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const confPath = join(tmpdir(), `kt-ce-bench-${process.pid}.conf`);
  writeFileSync(confPath, benchConfig(N));
  const loaded = loadConfig(confPath, { hostname: 'bench' });
  unlinkSync(confPath);
  if (!loaded.config) throw new Error(`bench config refused: ${loaded.diagnostics.map((d) => d.message).join('; ')}`);
  const cfg = loaded.config;
  shareIdenticalCheckers(cfg); // as the checker child does with what it loads (src/checker/main.ts)
  const unique = cfg.virtualServers.flatMap((vs) => vs.realServers);
  const ipvs = {
    writes: 0,
    table: async () => [],
    apply: async () => {},
    setTimeouts: async () => {},
    flush: async () => {},
    startDaemon: async () => {},
    stopDaemon: async () => {},
  };
  // the child's observer with its metrics attached, as after a first /metrics scrape (the worst case)
  const observer = OBSERVER ? new CheckerObserver() : null;
  observer?.attachMetrics(createCheckerMetrics());
  observer?.install(cfg);
  const engine = new CheckerEngine({
    ipvs,
    owned: memoryOwnedStore(),
    runCheck,
    log,
    runScript: () => {},
    rereadIntervalMs: 3_600_000,
    ...(OBSERVER ? { onAttemptDone: (rs, i, checker, outcome, ms) => observer.attempted(rs, i, checker, outcome, ms) } : {}),
  });
  await engine.start(cfg);
  releaseFreedMemory(); // as the checker child does after its start (src/checker/main.ts)

  await sleep(WARMUP_S * 1000);
  gc();
  gc();
  const rss1 = process.memoryUsage().rss;
  const heap1 = process.memoryUsage().heapUsed;
  const parts1 = memoryParts();
  // BENCH_HEAP_SNAPSHOT=file: the warmed-up heap, for a look at what each real server costs
  if (process.env.BENCH_HEAP_SNAPSHOT) (await import('node:v8')).writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT);
  if (MEMORY_ONLY) {
    await engine.stop();
    child.kill();
    console.log(JSON.stringify({ n: unique.length, rss: rss1, heap: heap1, parts: parts1 }));
    process.exit(0);
  }
  const spaces1 = (await import('node:v8')).getHeapSpaceStatistics();
  const checks0 = engine.stats.checksRun;
  const ms0 = engine.stats.checkMs;
  const cpu0 = process.cpuUsage();
  const lcpu0 = listenerCpuNow();
  const t0 = process.hrtime.bigint();
  await sleep(SECONDS * 1000);
  const lcpu1 = listenerCpuNow();
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const checks = engine.stats.checksRun - checks0;
  const meanMs = (engine.stats.checkMs - ms0) / Math.max(1, checks);
  const down = [...engine.healthSnapshot().values()].filter((h) => !h.up).length;
  await engine.stop();

  const netFloor = await bareLoop(unique, FLOOR_SECONDS, netConnect);
  const probes = TcpProbes.shared();
  const probeFloor = probes ? await bareProbeLoop(probes, unique, FLOOR_SECONDS) : null;

  const checksPerS = checks / wallS;
  const cpuPct = ((cpu.user + cpu.system) / 1e6 / wallS) * 100;
  const perRsKB = (rss1 - rss0) / unique.length / 1024;
  const base = process.env.BENCH_BASE ? JSON.parse(process.env.BENCH_BASE) : null;
  const slope = (now, then) => ((now - then) / (unique.length - base.n) / 1024).toFixed(2);
  const per1k = (pct, perS) => (pct / (perS / 1000)).toFixed(2);
  const line = (k, ours, theirs) => console.log(`${k.padEnd(40)} ${String(ours).padStart(10)} ${String(theirs).padStart(16)}`);
  console.log(
    `checker bench: ${unique.length} real servers x TCP_CHECK, delay_loop 1 s, ${SECONDS} s measured after ${WARMUP_S} s warm-up, in a network namespace`,
  );
  console.log(`engine and probes from ${TREE}`);
  console.log('IPVS: no-op client injected (no kernel IPVS here): desired table + diff computed, netlink writes skipped');
  console.log(`V8 flags: ${process.execArgv.join(' ') || '(none)'} (the checker child's from src/daemon/node-flags.ts unless given)`);
  console.log(
    `metrics/dump observer on every attempt: ${OBSERVER ? 'yes, as in the checker child (BENCH_OBSERVER=0: the engine alone)' : 'no (BENCH_OBSERVER=0)'}`,
  );
  console.log(`servers down at the end: ${down}; down transitions during the whole run: ${downEvents}`);
  line('', 'ours', 'keepalived 2.2.7*');
  line('checks/s', checksPerS.toFixed(0), KEEPALIVED.checksPerS);
  line('CPU, % of one core', cpuPct.toFixed(1), KEEPALIVED.cpuPct);
  line('CPU per 1,000 checks/s, % of one core', per1k(cpuPct, checksPerS), per1k(KEEPALIVED.cpuPct, KEEPALIVED.checksPerS));
  if (base) {
    line(`RSS growth per real server, KB (vs ${base.n} RS)`, slope(rss1, base.rss), `~${KEEPALIVED.rssPerRsKB.toFixed(2)}`);
    line(`JS heap growth per real server, KB (vs ${base.n})`, slope(heap1, base.heap), '-');
    if (base.parts) {
      const d = (k) => slope(parts1[k], base.parts[k]);
      line('  of it: V8 heap committed / used, KB/RS', `${d('heapCommitted')} / ${d('heapUsed')}`, '-');
      line('  of it: array buffers / other anonymous, KB/RS', `${d('arrayBuffers')} / ${d('otherAnon')}`, '-');
    }
    line(`  RSS total with ${base.n} real servers, MB`, (base.rss / 1048576).toFixed(1), '5 (small)');
  }
  line('in-process: RSS growth per RS, KB', perRsKB.toFixed(2), '-');
  line('in-process: JS heap (after gc) per RS, KB', ((heap1 - heap0) / unique.length / 1024).toFixed(2), '-');
  line('RSS total, MB', (rss1 / 1048576).toFixed(1), '12 (10k RS)');
  const grew = (name) =>
    ((spaces1.find((x) => x.space_name === name)?.physical_space_size ?? 0) - (spaces0.find((x) => x.space_name === name)?.physical_space_size ?? 0)) /
    unique.length /
    1024;
  line('  of the growth: V8 new / old space, KB/RS', `${grew('new_space').toFixed(2)} / ${grew('old_space').toFixed(2)}`, '-');
  line('mean check duration, ms', meanMs.toFixed(2), '-');
  if (lcpu0 && lcpu1)
    line(`listener (${listenerKind}), % of one core`, (((lcpu1.user + lcpu1.system - (lcpu0.user + lcpu0.system)) / 1e6 / wallS) * 100).toFixed(1), '-');
  console.log('floors, same run (the same connects from a bare loop, no engine):');
  line('  net.Socket loop: checks/s', netFloor.perS.toFixed(0), '-');
  line('  net.Socket loop: per 1,000 checks/s, %', per1k(netFloor.cpuPct, netFloor.perS), '-');
  if (probeFloor) {
    line('  native probe loop: checks/s', probeFloor.perS.toFixed(0), '-');
    line('  native probe loop: per 1,000 checks/s, %', per1k(probeFloor.cpuPct, probeFloor.perS), '-');
  }
  console.log(
    '* keepalived 2.2.7 figures from ../shared/notes/keepalived-reference.md (measured on this machine kind; its checker cannot run here without kernel IPVS)',
  );
  console.log(`targets: >= 10,000 checks/s at <= ${KEEPALIVED.cpuPct} % of a core; RSS growth < 1 KB per real server`);
  console.log(
    `load average during the run: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${(await import('node:os')).cpus().length} cores (a shared host skews CPU figures: compare per-1,000 figures within one run)`,
  );
  if (!globalThis.gc) console.log('(run with node --expose-gc for settled memory figures)');
  if (base?.parts) {
    const perRs = (now, then) => (now - then) / (unique.length - base.n) / 1024;
    const figures = {
      checksPerS,
      cpuPer1k: cpuPct / (checksPerS / 1000),
      probeFloorPer1k: probeFloor ? probeFloor.cpuPct / (probeFloor.perS / 1000) : null,
      rssPerRs: perRs(rss1, base.rss),
      heapUsedPerRs: perRs(parts1.heapUsed, base.parts.heapUsed),
      arrayBuffersPerRs: perRs(parts1.arrayBuffers, base.parts.arrayBuffers),
      otherAnonPerRs: perRs(parts1.otherAnon, base.parts.otherAnon),
      load: loadavg()
        .map((x) => x.toFixed(1))
        .join(' '),
    };
    console.log(`${RESULT} ${JSON.stringify(figures)}`);
  }
  child.kill();
  process.exit(0);
}

/** The C accept-and-close listener when a compiler is at hand, else the Node one. */
async function startListener() {
  const src = new URL('./accept-close.c', import.meta.url).pathname;
  const bin = join(tmpdir(), `kt-ce-accept-close-${statSync(src).mtimeMs.toFixed(0)}`);
  if (!existsSync(bin)) spawnSync('cc', ['-O2', '-o', bin, src], { stdio: 'ignore' });
  let last = null;
  if (existsSync(bin)) {
    const child = spawn(bin, [String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop();
        for (const l of lines) {
          if (l === 'listening') resolve();
          const m = /^cpu (\d+) (\d+)$/.exec(l);
          if (m) last = { user: Number(m[1]), system: Number(m[2]) };
        }
      });
      child.once('exit', (c) => reject(new Error(`listener exited ${c}`)));
    });
    return { child, cpu: () => last, kind: 'C accept-close' };
  }
  const child = fork(self, ['--listener'], { stdio: 'inherit' });
  child.on('message', (m) => {
    if (m && m.cpu) last = m.cpu;
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (c) => reject(new Error(`listener exited ${c}`)));
  });
  return { child, cpu: () => last, kind: 'Node' };
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** n real servers (10 per virtual server) on 127.x.y.z:PORT, each one TCP_CHECK at delay_loop 1. */
function benchConfig(n) {
  const out = [];
  for (let v = 0; v * 10 < n; v++) {
    out.push(`virtual_server 10.0.${v >> 8}.${v & 255} ${PORT} {`, '    delay_loop 1', '    lb_algo rr', '    lb_kind NAT', '    protocol TCP');
    for (let i = v * 10; i < Math.min(n, v * 10 + 10); i++) {
      const block = Math.floor(i / 254);
      out.push(
        `    real_server 127.${1 + (block >> 8)}.${block & 255}.${(i % 254) + 1} ${PORT} {`,
        '        weight 1',
        '        TCP_CHECK {',
        '            connect_timeout 1',
        '            retry 0',
        '            delay_before_retry 1',
        '            warmup 1',
        '        }',
        '    }',
      );
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

/** One net.Socket connect and close, as TCP_CHECK did before the native probe. */
async function netConnect(rs) {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.connect({ host: rs.address, port: rs.port, family: 4 });
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', () => {
      s.destroy();
      resolve();
    });
  });
}

/** Every server once a second through `connect` alone: what the sockets cost by themselves. */
async function bareLoop(servers, seconds, connect) {
  let done = 0;
  let stop = false;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    servers
      .map(async (rs, i) => {
        await sleep((i / servers.length) * 1000);
        while (!stop) {
          const started = Date.now();
          await connect(rs);
          done++;
          await sleep(Math.max(0, 1000 - (Date.now() - started)));
        }
      })
      .concat([
        sleep(seconds * 1000).then(() => {
          stop = true;
        }),
      ]),
  );
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { perS: done / wallS, cpuPct: ((cpu.user + cpu.system) / 1e6 / wallS) * 100 };
}

/** The native probe with the least JS around it: a 1 ms tick starts whatever is due. */
async function bareProbeLoop(probes, servers, seconds) {
  let done = 0;
  const busy = new Uint8Array(servers.length);
  const sink = {
    probeDone: (k) => {
      busy[k] = 0;
      done++;
    },
  };
  const ids = servers.map((rs, k) => probes.register({ host: rs.address, port: rs.port, family: 4, localAddress: null, localPort: null }, sink, k));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const tick = setInterval(() => {
    // server k is due at k/N of every second
    const due = Math.floor(((performance.now() - t0) / 1000) * ids.length);
    for (; next < due; next++) {
      const k = next % ids.length;
      if (busy[k]) continue; // still connecting from its last second
      const r = probes.connect(ids[k]);
      if (r === -1) busy[k] = 1;
      else done++;
    }
  }, 1);
  await sleep(seconds * 1000);
  clearInterval(tick);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await sleep(1100); // let the last probes finish before their ids go
  for (const id of ids) probes.release(id);
  return { perS: done / wallS, cpuPct: ((cpu.user + cpu.system) / 1e6 / wallS) * 100 };
}
