#!/usr/bin/env node
// Hostile configs (issue 17): `-t -f FILE` of each shape through keepalived-ts and through
// keepalived 2.2.7, one after the other in fresh processes. Prints wall and CPU seconds (user +
// system: on a busy machine the wall time swings with the load, CPU time holds), peak RSS and
// the exit status, and the first error line each printed. Every run has a time limit
// (BENCH_TIMEOUT_S, 60 by default; "timeout" in the table means it was still running) and a
// memory guard (keepalived: a 4 GB address space limit; ours: a V8 heap limit of 2 GB on top of
// its own flags), so a shape that runs away costs this machine bounded time and memory.
//
// Usage: npm run build && node bench/hostile-config.mjs
//        OURS=/path/to/other/bin/keepalived-ts BENCH_KEEPALIVED=0 node bench/hostile-config.mjs
//          (another build of ours, e.g. main's, without running keepalived again)
//        BENCH_SHAPES=brace-line,seq node bench/hostile-config.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const OURS = process.env.OURS ?? join(ROOT, 'bin/keepalived-ts');
const KEEPALIVED = '/usr/sbin/keepalived';
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 60);
const ONLY = process.env.BENCH_SHAPES?.split(',');

const VALID = 'vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 1\n  priority 100\n  virtual_ipaddress {\n    10.9.9.9/32\n  }\n}\n';

/** name -> (dir) => main file, written under dir. */
const SHAPES = {
  'brace-line': (d) => put(d, 'brace-line.conf', `${'{'.repeat(5_000_000)}\n`),
  'brace-lines': (d) => put(d, 'brace-lines.conf', '{\n'.repeat(5_000_000)),
  'include-root-glob': (d) => put(d, 'root.conf', 'include /*/*/*\n'),
  'include-fan-out': (d) => {
    mkdirSync(join(d, 'many'), { recursive: true });
    for (let i = 0; i < 120_000; i++) writeFileSync(join(d, 'many', `f${i}.conf`), '');
    return put(d, 'many.conf', 'include many/*.conf\n');
  },
  'include-self': (d) => put(d, 'self.conf', 'include self.conf\n'),
  'include-loop': (d) => {
    put(d, 'loop-b.conf', 'include loop-a.conf\n');
    return put(d, 'loop-a.conf', 'include loop-b.conf\n');
  },
  'include-chain-1000': (d) => chain(d, 'c1000', 1000),
  'include-chain-2000': (d) => chain(d, 'c2000', 2000),
  seq: (d) => put(d, 'seq.conf', '~SEQ(a, 1000) ~SEQ(b, 1000) ~SEQ(c, 1000) virtual_ipaddress_x $a $b $c\n'),
  'macro-doubling': (d) => {
    const lines = ['$L0=@other x \\', '@other y'];
    for (let k = 1; k <= 30; k++) lines.push(`$L${k}=$L${k - 1} \\`, `$L${k - 1}`);
    return put(d, 'doubling.conf', `${lines.join('\n')}\n$L30\n`);
  },
  'token-11MB': (d) => put(d, 'token.conf', `global_defs {\n  router_id ${'a'.repeat(11_000_000)}\n}\n`),
  'junk-1M-lines': (d) => put(d, 'junk.conf', VALID + Array.from({ length: 1_000_000 }, (_, i) => `junk${i} x y\n`).join('')),
};

function put(dir, name, text) {
  const p = join(dir, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

function chain(dir, sub, n) {
  for (let i = 0; i < n; i++) put(dir, `${sub}/c${i}.conf`, i + 1 < n ? `include c${i + 1}.conf\n` : 'global_defs {\n}\n');
  return join(dir, sub, 'c0.conf');
}

/** One `-t` run under time(1) and timeout(1): wall and CPU s, peak RSS MB, status, first error line. */
function run(argv, env, prefix = []) {
  const rssFile = join(tmpdir(), `kt-hostile-rss-${process.pid}`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', rssFile, ...prefix, 'timeout', '-k', '5', String(TIMEOUT_S), ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, ...env },
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const [, user, sys, kb] = /([\d.]+) ([\d.]+) (\d+)\s*$/.exec(readFileSync(rssFile, 'utf8')) ?? [];
  const cpu = Number(user) + Number(sys);
  const rss = Number(kb) / 1024;
  rmSync(rssFile, { force: true });
  const out = `${r.stderr}\n${r.stdout}`;
  const first = out.split('\n').find((l) => /error|Error|limit|nest|recurs|too|fail/i.test(l)) ?? out.trim().split('\n')[0] ?? '';
  return { wall, cpu, rss, status: r.status === 124 || r.status === 137 ? 'timeout' : r.status, first: first.slice(0, 110) };
}

if (!existsSync('/usr/bin/time')) {
  console.error('bench/hostile-config: /usr/bin/time is missing (Debian package `time`)');
  process.exit(2);
}
const haveKeepalived = process.env.BENCH_KEEPALIVED !== '0' && existsSync(KEEPALIVED);
const dir = mkdtempSync(join(tmpdir(), 'kt-hostile-bench-'));
try {
  console.log(`ours: ${OURS}; keepalived: ${haveKeepalived ? KEEPALIVED : 'not installed'}; limit ${TIMEOUT_S} s each`);
  const head = (who) => `${`${who} s`.padStart(8)} ${`${who} cpu`.padStart(8)} ${`${who} MB`.padStart(8)} ${'exit'.padStart(7)}`;
  console.log(`${'shape'.padEnd(20)} ${head('ours')}   ${head('ka')}`);
  const firsts = [];
  for (const [name, make] of Object.entries(SHAPES)) {
    if (ONLY && !ONLY.includes(name)) continue;
    const file = make(join(dir, name));
    const ours = run([OURS, '-t', '-f', file], { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=2048` });
    const ka = haveKeepalived ? run([KEEPALIVED, '-t', '-l', '-f', file], {}, ['prlimit', '--as=4294967296']) : null;
    const cell = (x) =>
      x
        ? `${x.wall.toFixed(1).padStart(8)} ${x.cpu.toFixed(1).padStart(8)} ${x.rss.toFixed(0).padStart(8)} ${String(x.status).padStart(7)}`
        : ['-', '-', '-', '-'].map((c, i) => c.padStart(i === 3 ? 7 : 8)).join(' ');
    console.log(`${name.padEnd(20)} ${cell(ours)}   ${cell(ka)}`);
    firsts.push(`${name}: ours: ${ours.first.replace(dir, '')}`);
    if (ka) firsts.push(`${name}: keepalived: ${ka.first.replace(dir, '')}`);
    rmSync(join(dir, name), { recursive: true, force: true });
  }
  console.log('\nfirst error line of each:');
  for (const l of firsts) console.log(`  ${l}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
