#!/usr/bin/env node
// Checker bench: N real servers, one TCP_CHECK each at delay_loop 1, against one listener
// (a separate process, so its CPU is not ours) on 0.0.0.0:PORT reached through N loopback
// addresses 127.1.x.y: the checks run through our engine (scheduling, retry state, health,
// desired table) exactly as in the daemon. Prints checks/s, the checker's CPU as % of one
// core, and RSS growth per real server, next to keepalived 2.2.7's figures measured on this
// machine kind (../shared/notes/keepalived-reference.md).
//
// IPVS: this bench injects a no-op IPVS client (the host kernel has no IPVS); every health
// change still computes the desired table and diff, only the netlink write is skipped.
//
//   npm run build && node --expose-gc bench/checker.mjs      (BENCH_N=10000 BENCH_SECONDS=10)
import { fork } from 'node:child_process';
import { CheckerEngine } from '../dist/src/checker/engine.js';
import { memoryOwnedStore } from '../dist/src/checker/owned.js';
import { runCheck } from '../dist/src/check/run-check.js';
import { createLogger } from '../dist/src/log/logger.js';
import { config, realServer, tcpCheck, virtualServer } from '../dist/test/checker/model-kit.js';

const N = Number(process.env.BENCH_N ?? 10000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_S = 3;
const PORT = Number(process.env.BENCH_PORT ?? 47999);
const KEEPALIVED = { checksPerS: 9231, cpuPct: 36.5, rssPerRsKB: (12 - 5) * 1024 / 10000 };

if (process.argv[2] === '--listener') {
  const net = await import('node:net');
  // accept and close at once, never reading: the listener must not be the bottleneck
  const server = net.createServer({ pauseOnConnect: true }, (s) => { s.on('error', () => {}); s.destroy(); });
  server.listen({ port: PORT, host: '0.0.0.0', backlog: 8192 }, () => process.send?.('listening'));
  const report = setInterval(() => process.send?.({ cpu: process.cpuUsage() }), 1000);
  process.on('disconnect', () => { clearInterval(report); process.exit(0); });
} else {
  await main();
}

async function main() {
  const gc = globalThis.gc ?? (() => {});
  const listener = fork(new URL(import.meta.url).pathname, ['--listener'], { stdio: 'inherit' });
  let listenerCpu = null;
  listener.on('message', (m) => { if (m && m.cpu) listenerCpu = m.cpu; });
  await new Promise((resolve, reject) => {
    listener.once('message', resolve);
    listener.once('exit', (c) => reject(new Error(`listener exited ${c}`)));
  });

  gc(); gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const unique = [];
  for (let i = 0; i < N; i++) {
    const block = Math.floor(i / 254);
    const address = `127.${1 + (block >> 8)}.${block & 255}.${(i % 254) + 1}`;
    unique.push(realServer(address, PORT, {
      checkers: [tcpCheck({ delayLoopMs: 1000, warmupMs: 1000, connectTimeoutMs: 1000, retry: 0, delayBeforeRetryMs: 1000 })],
    }));
  }
  const vs = virtualServer('10.0.0.1', PORT, { delayLoopMs: 1000, realServers: unique });
  const ipvs = { writes: 0, table: async () => [], apply: async () => {}, setTimeouts: async () => {}, flush: async () => {} };
  let latencySum = 0, latencyN = 0, downEvents = 0;
  const timedCheck = async (c, t, ctx) => {
    const s = performance.now();
    const o = await runCheck(c, t, ctx);
    latencySum += performance.now() - s; latencyN++;
    return o;
  };
  const engine = new CheckerEngine({
    ipvs, owned: memoryOwnedStore(), runCheck: timedCheck, log: createLogger({ proc: 'checker', write: (l) => { if (l.includes('real server down')) downEvents++; } }),
    runScript: () => {}, rereadIntervalMs: 3_600_000,
  });
  await engine.start(config([vs]));

  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  gc(); gc();
  const rss1 = process.memoryUsage().rss;
  const heap1 = process.memoryUsage().heapUsed;
  const checks0 = engine.stats.checksRun;
  const cpu0 = process.cpuUsage();
  const lcpu0 = listenerCpu;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const lcpu1 = listenerCpu;
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const checks = engine.stats.checksRun - checks0;
  const down = [...engine.healthSnapshot().values()].filter((h) => !h.up).length;
  await engine.stop();

  // the floor: the same connects at the same rate with no engine at all (bare runTcpCheck)
  const floor = await bareConnects(unique, Math.min(SECONDS, 5));

  const checksPerS = checks / wallS;
  const cpuPct = ((cpu.user + cpu.system) / 1e6 / wallS) * 100;
  const perRsKB = (rss1 - rss0) / unique.length / 1024;
  const line = (k, ours, theirs) => console.log(`${k.padEnd(34)} ${String(ours).padStart(12)} ${String(theirs).padStart(14)}`);
  console.log(`checker bench: ${unique.length} real servers x TCP_CHECK, delay_loop 1 s, ${SECONDS} s measured after ${WARMUP_S} s warm-up`);
  console.log('IPVS: no-op client injected (no kernel IPVS here): desired table + diff computed, netlink writes skipped');
  console.log(`servers down at the end: ${down}; down transitions during the whole run: ${downEvents}`);
  line('', 'ours', 'keepalived');
  line('checks/s', checksPerS.toFixed(0), KEEPALIVED.checksPerS);
  line('CPU, % of one core', cpuPct.toFixed(1), KEEPALIVED.cpuPct);
  line('CPU per 1,000 checks/s, % core', (cpuPct / (checksPerS / 1000)).toFixed(2), (KEEPALIVED.cpuPct / (KEEPALIVED.checksPerS / 1000)).toFixed(2));
  if (lcpu0 && lcpu1) line('listener process, % of one core', (((lcpu1.user + lcpu1.system) - (lcpu0.user + lcpu0.system)) / 1e6 / wallS * 100).toFixed(1), '-');
  line('mean check duration, ms', (latencySum / latencyN).toFixed(1), '-');
  line('bare TCP_CHECK loop, checks/s', floor.perS.toFixed(0), '-');
  line('bare TCP_CHECK loop, % of one core', floor.cpuPct.toFixed(1), '-');
  line('RSS growth per real server, KB', perRsKB.toFixed(2), `~${KEEPALIVED.rssPerRsKB.toFixed(2)}`);
  line('JS heap (after gc) per real server, KB', ((heap1 - heap0) / unique.length / 1024).toFixed(2), '-');
  line('RSS total, MB', (rss1 / 1048576).toFixed(1), '12 (10k RS)');
  if (!globalThis.gc) console.log('(run with node --expose-gc for settled memory figures)');
  console.log(`targets: >= 10,000 checks/s at <= ${KEEPALIVED.cpuPct} % of a core; RSS growth < 1 KB per real server`);
  console.log(`load average during the run: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} (a shared host skews CPU figures)`);
  listener.disconnect();
  process.exit(0);
}

/** Every server once a second through runCheck alone: what the socket work costs by itself. */
async function bareConnects(servers, seconds) {
  const checker = servers[0].checkers[0];
  let done = 0;
  let stop = false;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const tick = setInterval(() => {}, 1000);
  await Promise.all(servers.map(async (rs, i) => {
    await new Promise((r) => setTimeout(r, (i / servers.length) * 1000));
    while (!stop) {
      const started = Date.now();
      await runCheck(checker, rs, {});
      done++;
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
    }
  }).concat([new Promise((r) => setTimeout(() => { stop = true; r(); }, seconds * 1000))]));
  clearInterval(tick);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { perS: done / wallS, cpuPct: ((cpu.user + cpu.system) / 1e6 / wallS) * 100 };
}
