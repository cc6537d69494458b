// What the benches share: the load average, figures, process CPU and memory, busy loops,
// packet captures to a file, generated configs, namespaces for a whole daemon, and runs in
// the test VM. Every bench prints ours beside keepalived 2.2.7 measured in the same run.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const BIN = join(ROOT, 'bin/keepalived-ts');
export const KEEPALIVED = '/usr/sbin/keepalived';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const env = (k, d) => process.env[k] ?? d;

/** "1.2 0.9 0.7": printed beside every figure (the machine is shared). */
export const loadAverage = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

export function stats(xs) {
  const v = [...xs].sort((a, b) => a - b);
  const n = v.length;
  const med = n === 0 ? NaN : n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return { n, min: v[0], med, max: v[n - 1] };
}

// ---- other trees: ours before and after a change, in one run ----

/**
 * BENCH_TREES=/path/a,/path/b: other built checkouts (`npm run build` and the native addon
 * built in each) whose daemon runs beside this tree's, e.g. the tree before a change. A bench
 * then runs `ours@NAME` (NAME: the checkout's directory name) right after `ours` for each,
 * alternating with this tree's and keepalived's in the same run: compare them within it.
 */
const OTHER_TREES = (process.env.BENCH_TREES ?? '')
  .split(',')
  .filter(Boolean)
  .map((p) => resolve(p));

export const isOurs = (impl) => impl === 'ours' || impl.startsWith('ours@');

/** The checkout an implementation of ours runs from: this one for `ours`, a BENCH_TREES one for `ours@NAME`. */
export function treeOf(impl) {
  if (impl === 'ours') return ROOT;
  const tree = impl.startsWith('ours@') ? OTHER_TREES.find((t) => basename(t) === impl.slice('ours@'.length)) : undefined;
  if (!tree) throw new Error(`${impl}: neither ours nor a BENCH_TREES checkout`);
  return tree;
}

/** BENCH_IMPLS (`defaults` unless set), each `ours` followed by the BENCH_TREES checkouts: the order a bench alternates in. */
export function implementations(defaults = 'ours,keepalived') {
  const names = OTHER_TREES.map((t) => basename(t));
  if (new Set([...names, basename(ROOT)]).size !== names.length + 1) throw new Error(`BENCH_TREES: every checkout needs its own directory name (${names})`);
  for (const t of OTHER_TREES) if (!existsSync(join(t, 'dist/src/cli/main.js'))) throw new Error(`BENCH_TREES: ${t} is not built (npm run build there)`);
  return env('BENCH_IMPLS', defaults)
    .split(',')
    .flatMap((i) => (i === 'ours' ? ['ours', ...names.map((n) => `ours@${n}`)] : [i]));
}

export function requireRootAndBuild() {
  if (process.getuid?.() !== 0) throw new Error('run as root: the bench creates network namespaces');
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js')) || !existsSync(join(ROOT, 'dist/bundle/keepalived-ts.cjs'))) throw new Error('run `npm run build` first');
}

// ---- processes ----

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** User + system CPU seconds a process has used (/proc/PID/stat), all its threads. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/** RSS, PSS (shared pages split among the processes mapping them) and private memory of one process, KB. */
export function memoryRollup(pid) {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? 0);
  return { rss: kb('Rss'), pss: kb('Pss'), priv: kb('Private_Clean') + kb('Private_Dirty') };
}

export const alive = (pid) => existsSync(`/proc/${pid}`);

/** The pid in a pid file, when that process is alive. */
export function readPid(file) {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return n > 0 && alive(n) ? n : null;
  } catch {
    return null;
  }
}

/** `n` shell busy loops at normal priority, one per core by default: both cores saturated. */
export function busyLoops(n) {
  const procs = Array.from({ length: n }, () => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
  return { stop: () => procs.forEach((p) => p.kill('SIGKILL')) };
}

// ---- captures ----

/**
 * tcpdump writing to a file in namespace `ns` (kernel timestamps, the first 128 bytes of each
 * frame: headers are enough). Writing a file keeps the decoding out of the measured window.
 */
export async function captureToFile(ns, iface, filter, path) {
  const p = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', iface, '--immediate-mode', '-n', '-s', '128', '-w', path, filter], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('tcpdump did not start')), 15_000);
    p.stderr.on('data', (d) => /listening on/.test(d.toString()) && (clearTimeout(t), res()));
    p.once('exit', (code) => rej(new Error(`tcpdump exited with ${code}`)));
  });
  const exited = new Promise((r) => p.once('exit', r));
  return {
    async stop() {
      p.kill('SIGINT');
      await exited;
    },
  };
}

/** The frames of a pcap file (little-endian, microseconds), decoded by `decode(ts, buffer)`. */
export function readPcap(path, decode) {
  const b = readFileSync(path);
  if (b.length < 24 || b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${path}: not a little-endian microsecond pcap`);
  const out = [];
  for (let o = 24; o + 16 <= b.length;) {
    const caplen = b.readUInt32LE(o + 8);
    if (o + 16 + caplen > b.length) break;
    out.push(decode(b.readUInt32LE(o) + b.readUInt32LE(o + 4) / 1e6, b.subarray(o + 16, o + 16 + caplen)));
    o += 16 + caplen;
  }
  return out;
}

/**
 * Gaps between one sender's successive adverts of one VRRP instance, in ms, keyed by
 * `key(advert)`; adverts before `from` or after `to` (seconds) left out.
 */
export function advertGaps(adverts, key, from = 0, to = Infinity) {
  const last = new Map();
  const gaps = new Map();
  for (const a of adverts) {
    const t = a.frame.ts;
    if (t < from || t > to) continue;
    const k = key(a);
    const prev = last.get(k);
    if (prev !== undefined) {
      let g = gaps.get(k);
      if (!g) gaps.set(k, (g = []));
      g.push((t - prev) * 1000);
    }
    last.set(k, t);
  }
  return gaps;
}

// ---- configs ----

/**
 * `services` virtual servers x `realServers` TCP-checked real servers (10.100.x.y:80 ->
 * 172.16+.x.y:80, DR), after the given head (global_defs, VRRP instances).
 */
export function virtualServersConfig({ head, services, realServers = 10, delayLoop = 6, port = 80 }) {
  const out = [head.trimEnd(), ''];
  for (let i = 0; i < services; i++) {
    out.push(
      `virtual_server 10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255} 80 {`,
      `    delay_loop ${delayLoop}`,
      '    lb_algo rr',
      '    lb_kind DR',
      '    protocol TCP',
    );
    for (let r = 0; r < realServers; r++) {
      const j = i * realServers + r;
      out.push(
        `    real_server 172.${16 + (j >> 16)}.${(j >> 8) & 255}.${j & 255} ${port} {`,
        '        weight 1',
        '        TCP_CHECK {',
        '            connect_timeout 3',
        '        }',
        '    }',
      );
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

/** global_defs and one VRRP instance on eth0, as the generated configs start. */
export function oneInstanceHead({ state = 'BACKUP', priority = 100, routerId = 'bench' } = {}) {
  return [
    'global_defs {',
    `    router_id ${routerId}`,
    '}',
    'vrrp_instance VI_1 {',
    `    state ${state}`,
    '    interface eth0',
    '    virtual_router_id 51',
    `    priority ${priority}`,
    '    advert_int 1',
    '    virtual_ipaddress {',
    '        10.200.0.1/16',
    '    }',
    '}',
  ].join('\n');
}

// ---- a whole daemon in a namespace of its own ----

export const sh = (cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
let nsCounter = 0;

/** The interfaces a config names (`interface X`, `dev X`, `lvs_sync_daemon X`) and its VRRP source addresses. */
function needs(text) {
  const ifaces = new Set();
  for (const m of text.matchAll(/^\s*(?:interface|lvs_sync_daemon)\s+([^\s#!]+)/gm)) ifaces.add(m[1]);
  for (const m of text.matchAll(/\sdev\s+([^\s#!}]+)/g)) ifaces.add(m[1]);
  const sources = [...new Set([...text.matchAll(/^\s*(?:unicast|mcast)_src_ip\s+([^\s#!]+)/gm)].map((m) => m[1]))];
  return { ifaces: ifaces.size ? [...ifaces] : ['eth0'], sources };
}

/** A fresh namespace with a veth for each interface the config names (both ends inside: nothing leaves it). */
export function makeNamespace(text, tag = 'kt-bench') {
  const ns = `${tag}-${process.pid % 100000}-${++nsCounter}`;
  sh(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
  const { ifaces, sources } = needs(text);
  ifaces.forEach((dev, i) =>
    sh(`ip -n ${ns} link add ${dev} type veth peer name mpeer${i} && ip -n ${ns} link set ${dev} up && ip -n ${ns} link set mpeer${i} up`),
  );
  for (const a of sources.length ? sources : ['192.0.2.1']) sh(`ip -n ${ns} addr add ${a}/24 dev ${ifaces[0]}`);
  return ns;
}

export function dropNamespace(ns) {
  spawnSync('sh', ['-c', `ip netns pids ${ns} | xargs -r kill -9; ip netns del ${ns}`], { stdio: 'ignore' });
}

/**
 * Services and destinations in the IPVS table of `pid`'s network namespace, from
 * /proc/PID/net/ip_vs: no process spawned (in the TCG guest a spawn every poll starves a
 * daemon that is starting).
 */
export function ipvsCounts(pid) {
  let lines = [];
  try {
    lines = readFileSync(`/proc/${pid}/net/ip_vs`, 'utf8').split('\n');
  } catch {
    /* the process is gone */
  }
  return {
    services: lines.filter((l) => /^(TCP|UDP|SCTP|FWM)\s/.test(l)).length,
    dests: lines.filter((l) => l.startsWith('  ->') && !l.includes('RemoteAddress')).length,
  };
}

/** Makes every 172.16.0.0/12 address local to `ns` and answers TCP on `port` there: every TCP_CHECK passes. */
export async function realServersListener(ns, port) {
  sh(`ip -n ${ns} route add local 172.16.0.0/12 dev lo`);
  const listener = spawn('ip', ['netns', 'exec', ns, process.execPath, join(ROOT, 'bench/lib.mjs'), '--listener', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((r) => listener.stdout.once('data', r));
  return { stop: () => listener.kill('SIGKILL') };
}

const tail = (path) => readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');

/**
 * Starts ours (bin/keepalived-ts, the whole daemon, of this tree or for `ours@NAME` of a
 * BENCH_TREES one) or keepalived on `confPath` in `ns` and waits until the `roles` processes
 * have written their pid files and `ready(pids)` holds.
 * `exec`: the wall time (ms, Date.now()) just before the spawn; `upMs`: from there to ready.
 * `standaloneChecker`: our checker child's module alone, with the flags the parent gives it.
 */
export async function startDaemon(
  impl,
  ns,
  confPath,
  { roles, ready = () => true, timeoutS = 120, pollMs = 250, standaloneChecker = false, label = confPath, oursArgs = [] },
) {
  const dir = mkdtempSync(join(tmpdir(), 'kt-bench-'));
  const pidFiles = { parent: join(dir, 'parent.pid'), vrrp: join(dir, 'vrrp.pid'), checker: join(dir, 'checker.pid') };
  const logPath = join(dir, 'log');
  const log = openSync(logPath, 'w');
  let argv;
  if (standaloneChecker) {
    // (a tree from before the daemon had memory flags runs its checker with none)
    const tree = treeOf(impl);
    const { CHILD_NODE_FLAGS } = await import(join(tree, 'dist/src/daemon/node-flags.js')).catch(() => ({ CHILD_NODE_FLAGS: { checker: [] } }));
    // what the parent spawns: the launcher, an ES module bundle before the code cache, dist/src before the bundle
    const entry = ['dist/bundle/checker.cjs', 'dist/bundle/checker.js', 'dist/src/checker/main.js'].map((f) => join(tree, f)).find((f) => existsSync(f));
    argv = [process.execPath, ...CHILD_NODE_FLAGS.checker, entry, '--config', confPath, '--log-console'];
  } else {
    argv = isOurs(impl)
      ? [join(treeOf(impl), 'bin/keepalived-ts'), '-n', '-l', '-f', confPath, ...oursArgs]
      : [KEEPALIVED, '-n', '-l', ...(roles.includes('checker') ? [] : ['-P']), '-f', confPath];
    argv.push('-p', pidFiles.parent, '-r', pidFiles.vrrp, '-c', pidFiles.checker);
  }
  const exec = Date.now();
  const daemon = spawn('ip', ['netns', 'exec', ns, ...argv], {
    stdio: ['ignore', log, log],
    env: { ...process.env, KEEPALIVED_TS_IPVS_OWNED: join(dir, 'ipvs-owned.json') },
  });
  const exited = new Promise((r) => daemon.once('exit', r));
  const stop = async () => {
    daemon.kill('SIGTERM');
    const t = setTimeout(() => daemon.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
    closeSync(log);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = exec + timeoutS * 1000;
  while (Date.now() < deadline && daemon.exitCode === null) {
    // `ip netns exec` execs in place: a standalone checker's pid is the spawned one
    const got = standaloneChecker ? { checker: alive(daemon.pid) ? daemon.pid : null } : Object.fromEntries(roles.map((r) => [r, readPid(pidFiles[r])]));
    if (roles.every((r) => got[r]) && ready(got)) return { pids: got, exec, upMs: Date.now() - exec, logPath, stop };
    await sleep(pollMs);
  }
  const why = `${label}: ${impl} did not come up; log:\n${tail(logPath)}`;
  await stop();
  throw new Error(why);
}

// ---- the test VM ----

/**
 * Runs `script` (this repository's path) with `args` in the QEMU guest (test/kernel/vm.sh:
 * real kernel IPVS) and hands each stdout line `PREFIX {json}` to `onResult`; other lines are
 * echoed. `passEnv`: variables copied into the guest. The guest clock is HPET-driven, so
 * wall-clock figures there are right (test/kernel/README.md).
 */
export async function runInVm(script, args, { prefix, onResult, passEnv = [], timeoutS = 2400 }) {
  if (!existsSync(join(ROOT, 'test/kernel/vm.sh'))) throw new Error('test/kernel/vm.sh missing');
  const pass = passEnv.flatMap((k) => (process.env[k] ? ['-e', `${k}=${process.env[k]}`] : []));
  const vm = spawn(join(ROOT, 'test/kernel/vm.sh'), ['-t', String(timeoutS), '-k', 'clocksource=hpet', ...pass, '--', process.execPath, script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  vm.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith(`${prefix} `)) onResult(JSON.parse(line.slice(prefix.length + 1)));
      else console.log(`  [vm] ${line}`);
    }
  });
  const code = await new Promise((r) => vm.once('exit', r));
  if (code !== 0) throw new Error(`the VM run exited with ${code}`);
}

// accept and close at once: every TCP_CHECK passes, and the listener costs little
if (process.argv[1] === import.meta.filename && process.argv[2] === '--listener') {
  const net = await import('node:net');
  const server = net.createServer({ pauseOnConnect: true }, (s) => {
    s.on('error', () => {});
    s.destroy();
  });
  server.listen({ port: Number(process.argv[3]), host: '0.0.0.0', backlog: 8192 }, () => process.stdout.write('listening\n'));
}
