#!/usr/bin/env node
// Parse-and-validate benchmark: keepalived-ts `-t` against keepalived 2.2.7's `-t` on the
// same generated configs (100, 1,000, 10,000 virtual servers x 10 real servers with
// TCP_CHECK), each run in a fresh process inside a network namespace holding eth0 (the
// interface the configs name), ours and keepalived's alternating. Prints wall time, CPU time
// (user + system, all threads) and peak RSS (median of RUNS runs), plus our in-process load
// time (without Node start-up and module loading). Ours runs as `bin/keepalived-ts -t`, with
// the V8 flags of its #! line (the daemon parent's: single-threaded, so like keepalived it
// does not lean on a second core; `node bin/keepalived-ts` without them uses V8's GC
// threads: less wall time on an idle machine, more CPU). On a busy machine wall times swing with
// the load; CPU times hold better, and the ratio column compares the two programs' walls.
//
// Usage: npm run build && npm run bench:parse   (root: creates namespace kt-cfg-bench-PID)
//        BENCH_SIZES=100,1000 BENCH_RUNS=5 node bench/parse.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, KEEPALIVED, ROOT, oneInstanceHead, virtualServersConfig } from './lib.mjs';

const SIZES = (process.env.BENCH_SIZES ?? '100,1000,10000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** One VRRP instance for the VIPs plus `n` virtual servers with 10 TCP-checked real servers each. */
const generateConfig = (n) => virtualServersConfig({ head: oneInstanceHead(), services: n });

/** Runs a command in the namespace under /usr/bin/time -v: wall and CPU seconds, max RSS MB, exit code. */
function timed(ns, cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', ns, '/usr/bin/time', '-v', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const elapsed = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const inner = elapsed ? Number(elapsed[1] ?? 0) * 3600 + Number(elapsed[2]) * 60 + Number(elapsed[3]) : wall;
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr);
  const cpu = user && sys ? Number(user[1]) + Number(sys[1]) : NaN;
  return { wall: inner, cpu, rssMb: rss ? Number(rss[1]) / 1024 : NaN, status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main() {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) throw new Error('run `npm run build` first');
  if (process.getuid?.() !== 0) throw new Error('run as root: the bench creates a network namespace holding eth0');
  const ns = `kt-cfg-bench-${process.pid % 100000}`;
  const host = `ktcfgb${process.pid % 100000}`;
  const dir = mkdtempSync(join(tmpdir(), 'kt-cfg-bench-'));
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    const haveKeepalived = existsSync(KEEPALIVED);
    const rows = [];
    for (const n of SIZES) {
      const file = join(dir, `vs-${n}.conf`);
      const text = generateConfig(n);
      writeFileSync(file, text);
      const lines = text.split('\n').length - 1;
      const ours = [],
        theirs = [];
      for (let i = 0; i < RUNS; i++) {
        // the command itself, as an operator runs it: its #! line's V8 flags apply
        const o = timed(ns, BIN, ['-t', '-f', file]);
        if (o.status !== 0) throw new Error(`keepalived-ts -t failed on ${file}:\n${o.stderr.slice(0, 2000)}`);
        ours.push(o);
        if (haveKeepalived) theirs.push(timed(ns, KEEPALIVED, ['-t', '-f', file]));
      }
      // In-process: load time alone, after Node and the modules are up.
      const probe = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          '--input-type=module',
          '-e',
          `
        const { loadConfig, hostInterfaces } = await import(${JSON.stringify(join(ROOT, 'dist/src/config/index.js'))});
        const t0 = performance.now();
        const r = loadConfig(${JSON.stringify(file)}, { hostInterfaces: hostInterfaces() });
        process.stdout.write(String(performance.now() - t0) + ' ' + (r.config ? r.config.virtualServers.length : -1));
      `,
        ],
        { encoding: 'utf8' },
      );
      const [loadMs, vsCount] = probe.stdout.split(' ').map(Number);
      if (vsCount !== n) throw new Error(`in-process load built ${vsCount} virtual servers, expected ${n}: ${probe.stderr}`);
      rows.push({
        size: `${n} x 10`,
        lines,
        oursS: median(ours.map((r) => r.wall)),
        oursCpu: median(ours.map((r) => r.cpu)),
        oursMb: median(ours.map((r) => r.rssMb)),
        loadS: loadMs / 1000,
        theirsS: haveKeepalived ? median(theirs.map((r) => r.wall)) : NaN,
        theirsCpu: haveKeepalived ? median(theirs.map((r) => r.cpu)) : NaN,
        theirsMb: haveKeepalived ? median(theirs.map((r) => r.rssMb)) : NaN,
        theirsRc: haveKeepalived ? theirs[0].status : null,
      });
    }
    const pad = (s, w) => String(s).padStart(w);
    console.log(`parse + validate (-t), fresh process each, median of ${RUNS}; load = in-process loadConfig only; cpu = user + system`);
    console.log(
      `${pad('config', 12)} ${pad('lines', 8)} | ${pad('ours s', 7)} ${pad('cpu s', 6)} ${pad('MB', 5)} ${pad('load s', 7)} | ${pad('keepalived s', 12)} ${pad('cpu s', 6)} ${pad('MB', 5)} ${pad('rc', 3)} | ${pad('ours/ka', 7)}`,
    );
    for (const r of rows) {
      console.log(
        `${pad(r.size, 12)} ${pad(r.lines, 8)} | ${pad(r.oursS.toFixed(3), 7)} ${pad(r.oursCpu.toFixed(2), 6)} ${pad(r.oursMb.toFixed(0), 5)} ${pad(r.loadS.toFixed(3), 7)} | ${pad(r.theirsS.toFixed(3), 12)} ${pad(r.theirsCpu.toFixed(2), 6)} ${pad(r.theirsMb.toFixed(0), 5)} ${pad(r.theirsRc ?? '-', 3)} | ${pad((r.oursS / r.theirsS).toFixed(2), 7)}`,
      );
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', host], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
