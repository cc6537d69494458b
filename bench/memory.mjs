#!/usr/bin/env node
// Memory bench: what the daemon's processes hold, ours against keepalived 2.2.7 measured in
// the same run, side by side. For each process (parent, VRRP child, checker child):
//   RSS      every resident page the process maps, shared ones included in full;
//   PSS      each page divided by the number of processes mapping it (/proc/PID/smaps_rollup);
//   Private  pages no other process maps (Private_Clean + Private_Dirty: for Node, its heap);
// and for the three together: the sums, plus "together" = every physical page any of the
// three maps, counted once (page frames from /proc/PID/pagemap). The 100 MB target is checked
// against "together": three Node processes share libnode's ~33 MB of text, so the sum of RSS
// counts it three times; the sum of PSS counts it once only when nothing else maps libnode,
// but this bench is itself a Node process (and so is any other Node program on the host), so
// PSS hands part of it to them and reads low. "together" is what the daemon costs the
// machine when it runs alone, whatever else runs beside it.
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
//   npm run build && node bench/memory.mjs       (root; namespaces kt-mem-PID-N)
//   BENCH_PARTS=host,vm  BENCH_CONFIGS=nat,dr-director-pair  BENCH_SETTLE_S=15  BENCH_SAMPLES=3
//   BENCH_VM_SETTLE_S=45  BENCH_DELAY_LOOP=30 (the 1,000 x 10 config)  BENCH_IMPLS=ours,keepalived
//   BENCH_VM_CASES=small,large  BENCH_CHECKER_ALONE=1 (1,000 x 10 in the VM: our checker module alone)
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/keepalived-ts');
const KEEPALIVED = '/usr/sbin/keepalived';
const CHECKER_MAIN = join(ROOT, 'dist/src/checker/main.js');
// (a tree from before the daemon had memory flags runs its checker with none)
const { CHILD_NODE_FLAGS } = await import(join(ROOT, 'dist/src/daemon/node-flags.js')).catch(() => ({ CHILD_NODE_FLAGS: { checker: [] } }));
const TARGET_MB = 100;
const PAGE = 4096;
const env = (k, d) => process.env[k] ?? d;
const PARTS = env('BENCH_PARTS', 'host,vm').split(',');
const IMPLS = env('BENCH_IMPLS', 'ours,keepalived').split(',');
const SETTLE_S = Number(env('BENCH_SETTLE_S', 15));
const VM_SETTLE_S = Number(env('BENCH_VM_SETTLE_S', 45));
const SAMPLES = Number(env('BENCH_SAMPLES', 3));
const DELAY_LOOP = Number(env('BENCH_DELAY_LOOP', 30));
const LISTEN_PORT = 80;
/** keepalived 2.2.7 RSS measured earlier on this machine kind (../shared/notes/keepalived-reference.md). */
const REFERENCE_RSS_MB = { parent: 10, vrrp: 5, checker: 5, checkerLarge: 12 };
const ROLES = ['parent', 'vrrp', 'checker'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- reading memory ----

/** RSS, PSS and Private of one process, KB. */
function rollup(pid) {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? 0);
  return { rss: kb('Rss'), pss: kb('Pss'), priv: kb('Private_Clean') + kb('Private_Dirty') };
}

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
    out.roles[role] = rollup(pid);
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

// ---- namespaces and daemons ----

const sh = (cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
let nsCounter = 0;

/** The interfaces a config names (`interface X`, `dev X`, `lvs_sync_daemon X`) and its VRRP source addresses. */
function needs(text) {
  const ifaces = new Set();
  for (const m of text.matchAll(/^\s*(?:interface|lvs_sync_daemon)\s+([^\s#!]+)/gm)) ifaces.add(m[1]);
  for (const m of text.matchAll(/\sdev\s+([^\s#!}]+)/g)) ifaces.add(m[1]);
  const sources = [...new Set([...text.matchAll(/^\s*(?:unicast|mcast)_src_ip\s+([^\s#!]+)/gm)].map((m) => m[1]))];
  return { ifaces: ifaces.size ? [...ifaces] : ['eth0'], sources };
}

/** A fresh namespace with a veth for each interface (both ends inside: nothing leaves it). */
function makeNamespace(text) {
  const ns = `kt-mem-${process.pid % 100000}-${++nsCounter}`;
  sh(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
  const { ifaces, sources } = needs(text);
  ifaces.forEach((dev, i) => sh(`ip -n ${ns} link add ${dev} type veth peer name mpeer${i} && ip -n ${ns} link set ${dev} up && ip -n ${ns} link set mpeer${i} up`));
  for (const a of sources.length ? sources : ['192.0.2.1']) sh(`ip -n ${ns} addr add ${a}/24 dev ${ifaces[0]}`);
  return ns;
}

function dropNamespace(ns) {
  spawnSync('sh', ['-c', `ip netns pids ${ns} | xargs -r kill -9; ip netns del ${ns}`], { stdio: 'ignore' });
}

const tail = (path) => readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
const alive = (pid) => existsSync(`/proc/${pid}`);
const readPid = (f) => {
  try {
    const n = Number(readFileSync(f, 'utf8').trim());
    return n > 0 && alive(n) ? n : null;
  } catch {
    return null;
  }
};

/**
 * Starts one implementation on `confPath` in `ns`, waits for its processes (and `ready()`),
 * settles, samples, stops it. Returns the maximum figures and the processes' pids.
 */
async function measure(impl, ns, confPath, { roles, settleS, ready = () => true, observe = () => ({}), startTimeoutS = 120, label, standaloneChecker = false }) {
  const dir = mkdtempSync(join(tmpdir(), 'kt-mem-'));
  const pidFiles = { parent: join(dir, 'parent.pid'), vrrp: join(dir, 'vrrp.pid'), checker: join(dir, 'checker.pid') };
  const logPath = join(dir, 'log');
  const log = openSync(logPath, 'w');
  // standaloneChecker: our checker child's module run by itself, with the flags the parent
  // gives it; its pid is ours (`ip netns exec` execs in place)
  const argv = standaloneChecker
    ? [process.execPath, ...CHILD_NODE_FLAGS.checker, CHECKER_MAIN, '--config', confPath, '--log-console']
    : impl === 'ours'
      ? [BIN, '-n', '-l', '-f', confPath]
      : [KEEPALIVED, '-n', '-l', ...(roles.includes('checker') ? [] : ['-P']), '-f', confPath];
  if (!standaloneChecker) argv.push('-p', pidFiles.parent, '-r', pidFiles.vrrp, '-c', pidFiles.checker);
  const daemon = spawn('ip', ['netns', 'exec', ns, ...argv], {
    stdio: ['ignore', log, log],
    env: { ...process.env, KEEPALIVED_TS_IPVS_OWNED: join(dir, 'ipvs-owned.json') },
  });
  const exited = new Promise((r) => daemon.once('exit', r));
  const t0 = Date.now();
  try {
    const deadline = Date.now() + startTimeoutS * 1000;
    let pids = null;
    let upS = 0;
    while (Date.now() < deadline) {
      const got = standaloneChecker ? { checker: alive(daemon.pid) ? daemon.pid : null } : Object.fromEntries(roles.map((r) => [r, readPid(pidFiles[r])]));
      if (roles.every((r) => got[r]) && ready(got)) {
        pids = got;
        upS = (Date.now() - t0) / 1000;
        break;
      }
      if (daemon.exitCode !== null) break;
      await sleep(250);
    }
    if (!pids) throw new Error(`${label}: ${impl} did not come up; log:\n${tail(logPath)}`);
    await sleep(settleS * 1000);
    const samples = [];
    for (let i = 0; i < SAMPLES; i++) {
      const gone = roles.filter((r) => !alive(pids[r]));
      if (gone.length) throw new Error(`${label}: ${impl} lost its ${gone.join(', ')} process while sampling; log:\n${tail(logPath)}`);
      samples.push(sample(pids));
      if (i < SAMPLES - 1) await sleep(1000);
    }
    return { ...maxOf(samples), ...observe(pids), upS };
  } finally {
    daemon.kill('SIGTERM');
    const t = setTimeout(() => daemon.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
    closeSync(log);
    rmSync(dir, { recursive: true, force: true });
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
      for (const impl of IMPLS) {
        const roles = ['parent', 'vrrp', ...(hasVs && impl === 'ours' ? ['checker'] : [])];
        const ns = makeNamespace(text);
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

/** 1,000 virtual servers x 10 TCP-checked real servers (as bench/parse.mjs), plus one VRRP instance. */
function largeConfig(services = 1000, perService = 10) {
  const out = ['global_defs {', '    router_id mem_bench', '}', 'vrrp_instance VI_1 {', '    state MASTER', '    interface eth0',
    '    virtual_router_id 51', '    priority 150', '    advert_int 1', '    virtual_ipaddress {', '        10.200.0.1/16', '    }', '}'];
  for (let i = 0; i < services; i++) {
    out.push(`virtual_server 10.100.${i >> 8}.${i & 255} 80 {`, `    delay_loop ${DELAY_LOOP}`, '    lb_algo rr', '    lb_kind DR', '    protocol TCP');
    for (let r = 0; r < perService; r++) {
      const j = i * perService + r;
      out.push(`    real_server 172.${16 + (j >> 16)}.${(j >> 8) & 255}.${j & 255} ${LISTEN_PORT} {`, '        weight 1',
        '        TCP_CHECK {', '            connect_timeout 3', '        }', '    }');
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

/**
 * Services and destinations in the IPVS table of `pid`'s network namespace, read from
 * /proc/PID/net/ip_vs: no process spawned (in the TCG guest a spawn every poll starves the
 * daemon's start-up).
 */
function ipvsCounts(pid) {
  let lines = [];
  try {
    lines = readFileSync(`/proc/${pid}/net/ip_vs`, 'utf8').split('\n');
  } catch {
    /* the process is gone */
  }
  return { services: lines.filter((l) => /^(TCP|UDP|SCTP|FWM)\s/.test(l)).length, dests: lines.filter((l) => l.startsWith('  ->') && !l.includes('RemoteAddress')).length };
}

async function vmPart(emit) {
  const dir = mkdtempSync(join(tmpdir(), 'kt-mem-vm-'));
  const large = join(dir, 'large-1000x10.conf');
  writeFileSync(large, largeConfig());
  const cases = [
    { name: 'dr-director-pair.conf', path: join(ROOT, 'examples/dr-director-pair.conf'), services: 1, dests: 0 },
    { name: LARGE_NAME, path: large, services: 1000, dests: 10000 },
  ].filter((c, i) => env('BENCH_VM_CASES', 'small,large').split(',').includes(i === 0 ? 'small' : 'large'));
  try {
    for (const c of cases) {
      for (const impl of IMPLS) {
        const text = readFileSync(c.path, 'utf8');
        const ns = makeNamespace(text);
        let listener = null;
        try {
          if (c.dests) {
            // every real server is a local address of the namespace, answered by one listener
            sh(`ip -n ${ns} route add local 172.16.0.0/12 dev lo`);
            listener = spawn('ip', ['netns', 'exec', ns, process.execPath, import.meta.filename, '--listener', String(LISTEN_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
            await new Promise((r) => listener.stdout.once('data', r));
          }
          const ready = (pids) => {
            const n = ipvsCounts(pids.checker);
            return n.services >= c.services && n.dests >= c.dests;
          };
          const observe = (pids) => ({ ipvs: ipvsCounts(pids.checker), loadavg: loadavg() });
          // The whole daemon on 1,000 x 10 as well: in the TCG guest its three processes take
          // ~45 s to load and parse 66,000 lines on one vCPU, past the watchdog's first 30 s
          // start-up allowance, which now doubles after a start-up kill, so it comes up.
          // BENCH_CHECKER_ALONE=1 (host side, passed to the guest) measures our checker
          // child's module by itself instead, as this bench did before.
          const alone = process.env.BENCH_CHECKER_ALONE === '1' && impl === 'ours' && c.dests > 0;
          const r = await measure(impl, ns, c.path, {
            roles: alone ? ['checker'] : ROLES, standaloneChecker: alone, settleS: VM_SETTLE_S, ready, observe, startTimeoutS: 600, label: c.name,
          });
          emit({ part: 'vm', config: c.name, impl: alone ? 'ours*' : impl, ...r });
        } catch (err) {
          emit({ part: 'vm', config: c.name, impl, error: err.message });
        } finally {
          listener?.kill('SIGKILL');
          dropNamespace(ns);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the VM part in a guest and collects its results (lines `MEMBENCH {json}`). */
async function vmFromHost(emit) {
  if (!existsSync(join(ROOT, 'test/kernel/vm.sh'))) return emit({ part: 'vm', error: 'test/kernel/vm.sh missing' });
  const pass = ['BENCH_IMPLS', 'BENCH_SAMPLES', 'BENCH_VM_SETTLE_S', 'BENCH_DELAY_LOOP', 'BENCH_VM_CASES', 'BENCH_CHECKER_ALONE'].flatMap((k) => (process.env[k] ? ['-e', `${k}=${process.env[k]}`] : []));
  const vm = spawn(join(ROOT, 'test/kernel/vm.sh'), ['-t', env('BENCH_VM_TIMEOUT', '2400'), ...pass, '--', process.execPath, import.meta.filename, '--guest'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  vm.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('MEMBENCH ')) emit(JSON.parse(line.slice(9)));
      else console.log(`  [vm] ${line}`);
    }
  });
  const code = await new Promise((r) => vm.once('exit', r));
  if (code !== 0) emit({ part: 'vm', error: `the VM run exited with ${code}` });
}

// ---- printing ----

const mb = (kb) => (kb / 1024).toFixed(1);

function printTable(results) {
  const cell = (f) => (f ? `${mb(f.rss).padStart(5)} ${mb(f.pss).padStart(5)} ${mb(f.priv).padStart(5)}` : '    -     -     -');
  const head = (s) => s.padStart(17);
  console.log(`\n${'config'.padEnd(28)} ${'impl'.padEnd(10)} ${head('parent')}  ${head('VRRP')}  ${head('checker')}  ${'sum RSS'.padStart(7)} ${'sum PSS'.padStart(7)} ${'sum Prv'.padStart(7)} ${'together'.padStart(8)}`);
  console.log(`${''.padEnd(28)} ${''.padEnd(10)} ${'  RSS   PSS   Prv'}  ${'  RSS   PSS   Prv'}  ${'  RSS   PSS   Prv'}`);
  let last = '';
  for (const r of results) {
    const where = `${r.config} (${r.part})`;
    const name = where === last ? '' : where;
    last = where;
    if (r.error) {
      console.log(`${name.padEnd(28)} ${r.impl?.padEnd(10) ?? ''} failed: ${r.error.split('\n')[0]} (log above)`);
      continue;
    }
    const roles = Object.values(r.roles);
    const sum = (k) => roles.reduce((a, f) => a + f[k], 0);
    console.log(`${name.padEnd(28)} ${r.impl.padEnd(10)} ${cell(r.roles.parent)}  ${cell(r.roles.vrrp)}  ${cell(r.roles.checker)}  ${mb(sum('rss')).padStart(7)} ${mb(sum('pss')).padStart(7)} ${mb(sum('priv')).padStart(7)} ${mb(r.togetherKb).padStart(8)}`);
  }
}

// ---- entry points ----

if (process.argv[2] === '--listener') {
  // accept and close at once: every TCP_CHECK passes, and the listener costs little
  const net = await import('node:net');
  const server = net.createServer({ pauseOnConnect: true }, (s) => { s.on('error', () => {}); s.destroy(); });
  server.listen({ port: Number(process.argv[3]), host: '0.0.0.0', backlog: 8192 }, () => process.stdout.write('listening\n'));
} else if (process.argv[2] === '--guest') {
  await vmPart((r) => process.stdout.write(`MEMBENCH ${JSON.stringify(r)}\n`));
  process.exit(0);
} else {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) throw new Error('run `npm run build` first');
  if (process.getuid?.() !== 0) throw new Error('run as root: the bench creates network namespaces');
  const results = [];
  const emit = (r) => {
    results.push(r);
    if (r.error) console.log(`  ${r.part} ${r.config ?? ''} ${r.impl ?? ''}: failed: ${r.error}`);
    else console.log(`  ${r.part} ${r.config} ${r.impl}: together ${mb(r.togetherKb)} MB${r.upS ? `, up after ${r.upS.toFixed(1)} s` : ''}${r.ipvs ? `, IPVS ${r.ipvs.services} services ${r.ipvs.dests} destinations` : ''}`);
  };
  console.log(`memory bench: load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (PARTS.includes('host')) await hostPart(emit);
  if (PARTS.includes('vm')) await vmFromHost(emit);
  printTable(results);
  console.log(`\nMB; each figure the maximum of ${SAMPLES} samples 1 s apart, after the processes were up and had settled ${SETTLE_S} s (VM: ${VM_SETTLE_S} s of guest time).`);
  console.log('RSS: resident pages, shared ones in full. PSS: shared pages divided among every process mapping them, this bench\'s own Node');
  console.log('included. Prv: pages only that process maps. together: every page of the three processes counted once (pagemap frames).');
  console.log(`target: all three processes together under ${TARGET_MB} MB on the small configs, checked against "together": the sum of RSS counts`);
  console.log('libnode\'s shared text three times, the sum of PSS gives part of it to other Node processes (this bench included).');
  console.log('host: no kernel IPVS, so our checker loads its modules and config, then waits for IPVS (no checks run), and keepalived');
  console.log('runs VRRP only (-P: its checker would exit and stop the daemon). vm: real IPVS in a TCG guest, all processes of both.');
  console.log(`1,000 x 10: delay_loop ${DELAY_LOOP}, every real server answers (local addresses, one listener).`);
  if (results.some((r) => r.impl === 'ours*')) console.log('ours*: our checker child\'s module run alone, with the flags the parent gives it (BENCH_CHECKER_ALONE=1).');
  console.log(`keepalived 2.2.7 measured earlier on this machine kind (RSS): parent ${REFERENCE_RSS_MB.parent}, VRRP ${REFERENCE_RSS_MB.vrrp}, checker ${REFERENCE_RSS_MB.checker} MB small; checker ${REFERENCE_RSS_MB.checkerLarge} MB at 1,000 x 10.`);
  for (const r of results.filter((x) => !x.error && x.impl === 'ours' && x.roles.checker && x.config.endsWith('.conf'))) {
    const ok = r.togetherKb / 1024 < TARGET_MB;
    console.log(`  target ${r.config} (${r.part}): together ${mb(r.togetherKb)} MB ${ok ? '<' : '>='} ${TARGET_MB} MB: ${ok ? 'met' : 'NOT met'}`);
  }
  console.log(`load average at end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}
