// Runs keepalived 2.2.7 and keepalived-ts on the same config file, each in a network
// namespace of its own holding the interfaces the file names, at the same time, and reports
// what each did:
// - `-t`: keepalived's exit code and messages; ours' report (the same function `-t` prints,
//   called in this process against the namespace's interfaces: no node start per file);
// - the VRRP daemon: whether it came up, and what it runs. keepalived's model is read from
//   its `-d` dump (written before its VRRP child enters its loop); ours from its log and from
//   the model its tolerant start-up load builds;
// - the checker: whether it accepts the virtual servers. The host has no IPVS, so neither
//   checker can really start here: keepalived's verdict is how its child exits (CONFIG:
//   refused; FATAL after "Initializing ipvs": accepted), ours' is its start-up load.
// Each daemon is stopped as soon as its verdict is known. A run is spread over lanes, each
// with its pair of namespaces reused from file to file. keepalived's results are kept in
// .cache/compat-keepalived (ignored by git) under a hash of the file, this harness and the
// keepalived binary: what is missing there is run again (COMPAT_FRESH=1 runs all of it).
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { configTest, type ConfigTestReport } from '../../src/cli/config-test.js';
import { loadConfig, type KeepalivedConfig } from '../../src/config/index.js';
import { until } from '../helpers/netns.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/keepalived-ts');
export const KEEPALIVED = '/usr/sbin/keepalived';

/** What a VRRP instance runs with, as both daemons can tell it. */
export interface InstanceSummary {
  name: string;
  version: number;
  syncGroup: string | null;
  wantState: string;
  interface: string;
  vrid: number;
  priority: number;
  advertIntMs: number;
  preempt: boolean;
  auth: string;
  /** `ADDRESS[/PREFIX] dev IF` */
  vips: string[];
  excludedVips: string[];
  unicastPeers: string[];
  trackInterfaces: string[];
  trackScripts: string[];
  trackProcesses: string[];
}

export interface VrrpVerdict {
  up: boolean;
  /** keepalived: the instances of its -d dump; ours: the instances that logged a first state. */
  instances: string[];
  log: string;
}

export interface CompatRun {
  file: string;
  interfaces: string[];
  /** `# observe: vips`: the addresses each daemon put on the interfaces while up. */
  vips: { theirs: string[]; ours: string[] } | null;
  theirs: {
    testStatus: number;
    testOutput: string;
    vrrp: (VrrpVerdict & { model: InstanceSummary[] }) | null;
    checker: boolean | null;
    checkerLog: string;
  };
  ours: {
    test: ConfigTestReport;
    vrrp: VrrpVerdict | null;
    /** The model ours' daemon builds at start (tolerant load), or null when it refuses. */
    model: KeepalivedConfig | null;
    checker: boolean | null;
  };
}

/** Interface names a file relies on (instances, tracking, VIP `dev`, sync daemon, bind_if). */
export function interfacesOf(text: string): string[] {
  const names = new Set<string>();
  const valid = (n: string) => /^[A-Za-z0-9_.:@-]{1,15}$/.test(n) && n !== 'lo';
  for (const m of text.matchAll(/^\s*(?:interface|lvs_sync_daemon_interface|default_interface|bind_if|lvs_sync_daemon)\s+(\S+)/gm)) names.add(m[1]!);
  for (const m of text.matchAll(/\bdev\s+(\S+)/g)) names.add(m[1]!);
  for (const m of text.matchAll(/track_interface\s*\{([^}]*)\}/g)) {
    for (const line of m[1]!.split('\n')) {
      const w = line
        .replace(/[#!].*/, '')
        .trim()
        .split(/\s+/)[0];
      if (w) names.add(w);
    }
  }
  return [...names].filter(valid);
}

/** Addresses a file sends from (unicast_src_ip, mcast_src_ip): put on its first interface. */
function sourceAddresses(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/^\s*(?:unicast_src_ip|mcast_src_ip)\s+([0-9.]+)(?:\/\d+)?\s*$/gm)) out.add(m[1]!);
  return [...out];
}

/**
 * The file with every script command replaced by /bin/true, line for line, so that running
 * a daemon on someone's config never runs their notify or check scripts on this host.
 */
export function withoutScripts(text: string): string {
  const keys =
    'notify|notify_master|notify_backup|notify_fault|notify_stop|notify_deleted|notify_up|notify_down|quorum_up|quorum_down|script|misc_path|startup_script|shutdown_script|notify_master_rx_lower_pri';
  // [ \t], not \s: a keyword written without its script (`notify_deleted`) must not take the next line as one
  return text.replace(new RegExp(`^([ \\t]*(?:${keys}))[ \\t]+("[^"]*"|'[^']*'|[^{}\\n]*?)([ \\t]*[{}]?[ \\t]*)$`, 'gm'), '$1 "/bin/true"$3');
}

function run(ns: string, cmd: string[], timeoutMs: number): Promise<{ status: number; output: string }> {
  return new Promise((done) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (b) => (output += b));
    p.stderr.on('data', (b) => (output += b));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      done({ status: code ?? -1, output });
    });
  });
}

/**
 * Starts a daemon and reads its log until `verdict` returns one (then stops it: TERM, KILL
 * 5 s later) or it exits. Resolves once it has exited, so the next one starts on a clean
 * namespace.
 */
function watchDaemon(
  ns: string,
  cmd: string[],
  verdict: (log: string) => boolean | null,
  timeoutMs: number,
  whileUp: (log: string, current: () => string) => Promise<void> = () => Promise.resolve(),
): Promise<{ up: boolean; log: string }> {
  return new Promise((done) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let up: boolean | null = null;
    let kill: NodeJS.Timeout | undefined;
    const stop = () => {
      if (kill) return;
      p.kill('SIGTERM');
      kill = setTimeout(() => p.kill('SIGKILL'), 5000);
    };
    const onData = (b: Buffer) => {
      log += b.toString();
      if (up === null && (up = verdict(log)) !== null) {
        if (up) void whileUp(log, () => log).finally(stop);
        else stop();
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    const timer = setTimeout(stop, timeoutMs);
    p.on('close', () => {
      clearTimeout(timer);
      clearTimeout(kill);
      done({ up: up ?? false, log });
    });
  });
}

const STAMP = /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: /;

/** keepalived's log without its time stamps. */
function keepalivedLines(log: string): string[] {
  return log.split('\n').map((l) => l.replace(STAMP, ''));
}

/**
 * keepalived's VRRP daemon is up once its child has opened its sockets ("VRRP sockpool",
 * logged with -D after every instance's first state), or has started with none to open
 * (its -d dump shows no instance once the parent logs "Startup complete").
 */
function keepalivedVrrpUp(log: string): boolean | null {
  if (/VRRP sockpool: /.test(log)) return true;
  if (/Startup complete/.test(log) && /------< Interfaces >------/.test(log) && !/ VRRP Instance = /.test(log)) return true;
  return null;
}

/** The instances of keepalived's `-d` dump ("VRRP Topology" section). */
export function parseVrrpDump(log: string): InstanceSummary[] {
  const out: InstanceSummary[] = [];
  let inTopology = false;
  let cur: InstanceSummary | null = null;
  let list: string[] | null = null;
  for (const line of keepalivedLines(log)) {
    if (line.startsWith('------<')) {
      inTopology = line.includes('VRRP Topology');
      continue;
    }
    if (!inTopology || !line.startsWith(' ')) continue;
    let m: RegExpExecArray | null;
    if ((m = /^ VRRP Instance = (\S+)$/.exec(line))) {
      cur = {
        name: m[1]!,
        version: 0,
        syncGroup: null,
        wantState: '',
        interface: '',
        vrid: 0,
        priority: 0,
        advertIntMs: 0,
        preempt: true,
        auth: 'none',
        vips: [],
        excludedVips: [],
        unicastPeers: [],
        trackInterfaces: [],
        trackScripts: [],
        trackProcesses: [],
      };
      out.push(cur);
      list = null;
      continue;
    }
    if (!cur) continue;
    if (line.startsWith('     ')) {
      list?.push(line.trim());
      continue;
    }
    list = null;
    const [key, value = ''] = line.trim().split(/ = (.*)/);
    switch (key) {
      case 'VRRP Version':
        cur.version = Number(value);
        break;
      case 'Sync group':
        cur.syncGroup = value;
        break;
      case 'Wantstate':
        cur.wantState = value;
        break;
      case 'Interface':
        cur.interface = value.split(',')[0]!;
        break;
      case 'Virtual Router ID':
        cur.vrid = Number(value);
        break;
      case 'Priority':
        cur.priority = Number(value);
        break;
      case 'Advert interval':
        cur.advertIntMs = Number(value.split(' ')[0]) * (value.endsWith('milli-sec') ? 1 : 1000);
        break;
      case 'Preempt':
        cur.preempt = value === 'enabled';
        break;
      case 'Authentication type':
        cur.auth = value === 'SIMPLE_PASSWORD' ? 'PASS' : value === 'IPSEC_AH' ? 'AH' : 'none';
        break;
      case 'Password':
        cur.auth = `PASS ${value}`;
        break;
      default:
        if (/^Virtual IP \(\d+\):$/.test(key ?? '')) list = cur.vips;
        else if (key === 'Virtual IP Excluded :') list = cur.excludedVips;
        else if (key === 'Unicast Peer :') list = cur.unicastPeers;
        else if (key === 'Tracked interfaces :') list = cur.trackInterfaces;
        else if (key === 'Tracked scripts :') list = cur.trackScripts;
        else if (key === 'Tracked processes :') list = cur.trackProcesses;
    }
  }
  // the parts of each list line both can say: the address with its prefix and device, the name
  for (const i of out) {
    const vip = (l: string) => l.replace(/^(\S+)(?: brd \S+)? dev (\S+).*$/, '$1 dev $2');
    i.vips = i.vips.map(vip);
    i.excludedVips = i.excludedVips.map(vip);
    i.unicastPeers = i.unicastPeers.map((l) => l.split(' ')[0]!);
    i.trackInterfaces = i.trackInterfaces.map((l) => l.split(' ')[0]!);
    i.trackScripts = i.trackScripts.map((l) => l.split(' ')[0]!);
    // `NAME, weight N`
    i.trackProcesses = i.trackProcesses.map((l) => l.split(/[ ,]/)[0]!);
  }
  return out;
}

/** The same summary of ours' model. */
export function summarise(c: KeepalivedConfig): InstanceSummary[] {
  const vip = (dev: string) => (v: KeepalivedConfig['vrrpInstances'][number]['virtualIpaddresses'][number]) =>
    `${v.address}${v.prefix === (v.family === 6 ? 128 : 32) ? '' : `/${v.prefix}`} dev ${v.dev ?? dev}`;
  return c.vrrpInstances.map((i) => ({
    name: i.name,
    version: i.version,
    syncGroup: i.syncGroup,
    wantState: i.state,
    interface: i.interface,
    vrid: i.virtualRouterId,
    priority: i.priority,
    advertIntMs: i.advertIntMs,
    preempt: !i.nopreempt,
    auth: i.authentication ? (i.authentication.type === 'PASS' ? `PASS ${i.authentication.pass}` : 'AH') : 'none',
    vips: i.virtualIpaddresses.map(vip(i.interface)),
    excludedVips: i.virtualIpaddressesExcluded.map(vip(i.interface)),
    unicastPeers: i.unicastPeers.map((p) => p.address),
    trackInterfaces: i.trackInterfaces.map((t) => t.name),
    trackScripts: i.trackScripts.map((t) => t.name),
    trackProcesses: i.trackProcesses.map((t) => t.name),
  }));
}

/**
 * The real servers keepalived's checker had, one `VS -> RS` line each, from the lines it logs
 * while it shuts them down after failing to reach IPVS ("Shutting down service RS from VS VS").
 */
export function parseCheckerServices(log: string): string[] {
  const out: string[] = [];
  for (const line of keepalivedLines(log)) {
    const m = /^Shutting down (?:\(inhibited\) )?service \[([^\]]+)\]:\w+:(\d+) from VS (.+)$/.exec(line);
    if (m) out.push(`${m[3]} -> [${m[1]}]:${m[2]}`);
  }
  return out.sort();
}

/** The same lines from ours' model (keepalived's FMT_VS: `[ADDR]:PROTO:PORT`, `FWM N`, `[GROUP]:0`). */
export function checkerServices(c: KeepalivedConfig): string[] {
  const ip = (a: string) => (a.includes(':') ? new URL(`http://[${a}]/`).hostname.slice(1, -1) : a);
  return c.virtualServers
    .flatMap((vs) => {
      const k = vs.key;
      const name = k.kind === 'ip' ? `[${ip(k.address)}]:${vs.protocol.toLowerCase()}:${k.port}` : k.kind === 'fwmark' ? `FWM ${k.fwmark}` : `[${k.group}]:0`;
      return vs.realServers.map((rs) => `${name} -> [${ip(rs.address)}]:${rs.port}`);
    })
    .sort();
}

/** Runs `ip` without blocking the other lanes; its output, or null when it failed. */
function ip(args: string[], input?: string): Promise<string | null> {
  return new Promise((done) => {
    const p = execFile('ip', args, (err, stdout) => done(err ? null : stdout));
    if (input !== undefined) p.stdin?.end(input);
  });
}

/**
 * A network namespace a lane of the run reuses from file to file: the interfaces a file
 * names are added for it (one `ip -batch`) and removed after it, with whatever a daemon put
 * on them; the firewall rules a daemon may leave (vrrp_strict) are flushed.
 */
export class LaneNamespace {
  private links: string[] = [];

  private constructor(readonly name: string) {}

  static async open(name: string): Promise<LaneNamespace> {
    if ((await ip(['netns', 'add', name])) === null) throw new Error(`cannot create namespace ${name}`);
    // IPv6 instances need a usable link-local address at once, not one still in DAD
    await ip(['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
    return new LaneNamespace(name);
  }

  /** `names` as veth ends (each with an IPv4 address, the first with `sources` too); returns every link made. */
  async prepare(names: string[], sources: string[]): Promise<string[]> {
    const cmds = names.flatMap((name, i) => [
      `link add ${name} type veth peer name kcp${i}`,
      `link set ${name} up`,
      `link set kcp${i} up`,
      `addr add 192.0.2.${i + 1}/24 dev ${name}`,
    ]);
    if (names[0]) cmds.push(...sources.map((a) => `addr add ${a}/32 dev ${names[0]}`));
    if (cmds.length > 0) await ip(['-n', this.name, '-force', '-batch', '-'], cmds.join('\n') + '\n');
    const listed = (await ip(['-n', this.name, '-o', 'link', 'show'])) ?? '';
    const present = new Set([...listed.matchAll(/^\d+: ([^:@\s]+)/gm)].map((m) => m[1]));
    this.links = names.flatMap((n, i) => (present.has(n) ? [n, `kcp${i}`] : []));
    return [...this.links];
  }

  /** Back to loopback alone: the file's links (and their addresses) gone, no firewall rules. */
  async clear(flushFirewall: boolean): Promise<void> {
    // deleting one end of a veth deletes its peer
    const cmds = this.links.filter((x) => !x.startsWith('kcp')).map((l) => `link del ${l}`);
    cmds.push('addr flush dev lo scope global');
    await ip(['-n', this.name, '-force', '-batch', '-'], cmds.join('\n') + '\n');
    this.links = [];
    if (flushFirewall) await ip(['netns', 'exec', this.name, 'nft', 'flush', 'ruleset']);
  }

  async remove(): Promise<void> {
    await ip(['netns', 'del', this.name]);
  }
}

/** The addresses on the namespace's interfaces (`ADDRESS/PREFIX dev IF`), sorted. */
async function addresses(ns: string): Promise<string[]> {
  const out = (await ip(['-n', ns, '-o', 'addr', 'show'])) ?? '';
  return out
    .split('\n')
    .map((l) => /^\d+: (\S+)\s+inet6? (\S+)/.exec(l))
    .filter((m) => m !== null)
    .map((m) => `${m[2]} dev ${m[1]}`)
    .filter((a) => !a.startsWith('fe80:'))
    .sort();
}

/**
 * The addresses added to the namespace once `want` (addresses an owner puts up at once) are
 * all there, or `ms` have passed.
 */
async function addedAddresses(ns: string, before: string[], want: string[], ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  const has = (a: string[]) => want.every((w) => a.some((x) => x.startsWith(w.includes('/') ? w : `${w}/`)));
  let a = await addresses(ns);
  while (!has(a) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    a = await addresses(ns);
  }
  return a.filter((x) => !before.includes(x));
}

/** The owners' VIPs (priority 255), which either daemon puts up as soon as it starts. */
const ownerVips = (instances: InstanceSummary[]) => instances.filter((i) => i.priority === 255).flatMap((i) => i.vips.map((v) => v.split(' ')[0]!));

/** A fixture's `# NAME: value` header lines. */
export function header(text: string, name: string): string[] {
  return [...text.matchAll(new RegExp(`^# ${name}: (.*)$`, 'gm'))].map((m) => m[1]!.trim());
}

/** What a file's run needs to know about it, both daemons alike. */
interface FileFacts {
  file: string;
  text: string;
  /** The interfaces the namespace gets (a fixture may name them: to leave one out on purpose). */
  named: string[];
  sources: string[];
  observeVips: boolean;
  hasVrrp: boolean;
  hasLvs: boolean;
  /** vrrp_strict: a daemon may leave firewall rules in the namespace. */
  strict: boolean;
}

function factsOf(file: string): FileFacts {
  const text = readFileSync(file, 'utf8');
  return {
    file,
    text,
    named: header(text, 'host-interfaces')[0]?.split(/\s+/) ?? interfacesOf(text),
    sources: sourceAddresses(text),
    observeVips: header(text, 'observe').includes('vips'),
    hasVrrp: /^\s*vrrp_instance\s/m.test(text),
    hasLvs: /^\s*virtual_server\s/m.test(text),
    strict: /^\s*(?:vrrp_strict|strict_mode)\b/m.test(text),
  };
}

/** A copy of the file with its scripts replaced (withoutScripts), in a directory of its own. */
function runnableCopy(f: FileFacts, tag: string): { dir: string; path: string; pids: (who: string) => string[] } {
  const dir = mkdtempSync(join(tmpdir(), `${tag}-`));
  const path = join(dir, basename(f.file));
  writeFileSync(path, withoutScripts(f.text));
  return { dir, path, pids: (who) => ['-p', join(dir, `${who}.pid`), '-r', join(dir, `${who}-vrrp.pid`), '-c', join(dir, `${who}-check.pid`)] };
}

type TheirRun = CompatRun['theirs'] & { vips: string[] };

/** keepalived 2.2.7 on one file: -t, its VRRP daemon, then its checker. */
async function keepalivedOnFile(f: FileFacts, ns: LaneNamespace): Promise<TheirRun> {
  await ns.prepare(f.named, f.sources);
  const before = await addresses(ns.name);
  const copy = runnableCopy(f, `${ns.name}k`);
  try {
    const test = run(ns.name, [KEEPALIVED, '-t', '-f', f.file], 15_000);
    let vrrp: TheirRun['vrrp'] = null;
    let vips: string[] = [];
    if (f.hasVrrp) {
      const k = await watchDaemon(
        ns.name,
        [KEEPALIVED, '-n', '-l', '-D', '-d', '-P', '-f', copy.path, ...copy.pids('k')],
        keepalivedVrrpUp,
        30_000,
        async (log) => {
          if (f.observeVips) vips = await addedAddresses(ns.name, before, ownerVips(parseVrrpDump(log)), 20_000);
        },
      );
      const model = parseVrrpDump(k.log);
      vrrp = { ...k, instances: model.map((i) => i.name).sort(), model };
      // its VRRP child needs IPVS for lvs_sync_daemon: without it on this host, no verdict
      if (!k.up && /Module ip_vs not found|Can't initialize ipvs|IPVS: Can't initialize/.test(k.log)) vrrp = null;
    }
    let checker: boolean | null = null;
    let checkerLog = '';
    if (f.hasLvs) {
      // accepted: it went on to IPVS (missing here), or started with no virtual server left
      const c = await watchDaemon(
        ns.name,
        [KEEPALIVED, '-n', '-l', '-D', '-C', '-f', copy.path, ...copy.pids('kc')],
        (log) => (/permanent error CONFIG/.test(log) ? false : /Initializing ipvs|Startup complete/.test(log) ? true : null),
        30_000,
      );
      checkerLog = c.log;
      checker = c.up;
    }
    const t = await test;
    return { testStatus: t.status, testOutput: t.output, vrrp, checker, checkerLog, vips };
  } finally {
    await ns.clear(f.strict);
    rmSync(copy.dir, { recursive: true, force: true });
  }
}

/**
 * Ours on one file: `-t` and the start-up model (the functions the CLI and the daemon call,
 * in this process, against the interfaces the namespace really got), then the VRRP daemon.
 */
async function oursOnFile(
  f: FileFacts,
  ns: LaneNamespace,
): Promise<{ test: ConfigTestReport; model: KeepalivedConfig | null; vrrp: VrrpVerdict | null; vips: string[] }> {
  const links = await ns.prepare(f.named, f.sources);
  const before = await addresses(ns.name);
  const copy = runnableCopy(f, `${ns.name}o`);
  try {
    const present = new Set(['lo', ...links]);
    const test = configTest(f.file, { hostInterfaces: present });
    const model = loadConfig(copy.path, { tolerant: true, hostInterfaces: present }).config;
    if (!f.hasVrrp) return { test, model, vrrp: null, vips: [] };
    let vips: string[] = [];
    const o = await watchDaemon(
      ns.name,
      [process.execPath, BIN, '-n', '-l', '-P', '-f', copy.path, ...copy.pids('o')],
      (log) => (/VRRP child running/.test(log) ? true : null),
      120_000,
      async (_, current) => {
        if (f.observeVips) vips = await addedAddresses(ns.name, before, model ? ownerVips(summarise(model)) : [], 20_000);
        // each instance logs its first state after "VRRP child running": on a loaded machine
        // that can be later than the stop would come
        const names = model?.vrrpInstances.map((i) => i.name) ?? [];
        // (an instance ours does not run never logs one: the verdict then stands as read)
        await until(() => names.every((n) => current().includes(`(${n}) Entering `)), 15_000, 'first states').catch(() => undefined);
      },
    );
    const instances = [...new Set([...o.log.matchAll(/\(([^)\s]+)\) Entering (?:BACKUP|MASTER|FAULT) STATE/g)].map((m) => m[1]!))].sort();
    return { test, model, vrrp: { ...o, instances }, vips };
  } finally {
    await ns.clear(f.strict);
    rmSync(copy.dir, { recursive: true, force: true });
  }
}

const CACHE = join(ROOT, '.cache/compat-keepalived');

/**
 * keepalived's run on a file, from the cache when this very file, harness and keepalived
 * binary were run before on this machine, else run now (and stored). Never committed: the
 * cache directory is ignored by git, and anything missing from it is run again.
 */
function cachePath(f: FileFacts): string {
  const bin = statSync(KEEPALIVED);
  const how = [
    keepalivedOnFile,
    withoutScripts,
    interfacesOf,
    sourceAddresses,
    factsOf,
    runnableCopy,
    watchDaemon,
    keepalivedVrrpUp,
    run,
    ownerVips,
    addedAddresses,
    LaneNamespace,
  ].map(String);
  const key = createHash('sha256')
    .update(JSON.stringify([f.file, f.text, how, bin.size, bin.mtimeMs]))
    .digest('hex');
  return join(CACHE, `${key}.json`);
}

async function keepalivedCached(f: FileFacts, ns: LaneNamespace): Promise<TheirRun> {
  const path = cachePath(f);
  if (!process.env.COMPAT_FRESH && existsSync(path)) {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as TheirRun;
    } catch {
      /* unreadable: run it again */
    }
  }
  const r = await keepalivedOnFile(f, ns);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(`${path}.${process.pid}`, JSON.stringify(r));
  renameSync(`${path}.${process.pid}`, path);
  return r;
}

/** Two namespaces, keepalived's and ours, reused by one lane of the run. */
export interface Lane {
  theirs: LaneNamespace;
  ours: LaneNamespace;
}

let laneSeq = 0;

export async function openLane(): Promise<Lane> {
  const id = `ktcc${process.pid % 10000}l${laneSeq++}`;
  const [theirs, ours] = await Promise.all([LaneNamespace.open(`${id}k`), LaneNamespace.open(`${id}o`)]);
  return { theirs, ours };
}

export async function closeLane(l: Lane): Promise<void> {
  await Promise.all([l.theirs.remove(), l.ours.remove()]);
}

/** Runs both on one file, each in its own namespace of the lane, at the same time. */
export async function compareOnFile(file: string, lane: Lane): Promise<CompatRun> {
  const f = factsOf(file);
  const t0 = Date.now();
  const timed = async <T>(p: Promise<T>) => [await p, ((Date.now() - t0) / 1000).toFixed(1)] as const;
  const [[theirs, theirTime], [ours, ourTime]] = await Promise.all([timed(keepalivedCached(f, lane.theirs)), timed(oursOnFile(f, lane.ours))]);
  if (process.env.COMPAT_TIMING) console.log(`compat: ${basename(file)}: keepalived ${theirTime} s, ours ${ourTime} s`);
  const { vips: theirVips, ...theirRun } = theirs;
  return {
    file,
    interfaces: f.named,
    vips: f.observeVips && theirs.vrrp ? { theirs: theirVips, ours: ours.vips } : null,
    theirs: theirRun,
    ours: {
      test: ours.test,
      // without keepalived's verdict (no IPVS here for its VRRP child), ours' is not compared
      vrrp: theirs.vrrp ? ours.vrrp : null,
      model: ours.model,
      checker: f.hasLvs ? ours.model !== null : null,
    },
  };
}

/** Runs `work` on each item with one of `width` lanes, each lane one item at a time. */
export async function inLanes<T, L, R>(items: T[], lanes: L[], work: (t: T, lane: L) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const drain = async (lane: L) => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, lane);
    }
  };
  await Promise.all(lanes.map(drain));
  return out;
}

/**
 * keepalived's `-t` messages that name a line of `file` ("(FILE: Line N) ..." or, for the
 * main file, "(Line N) ..."), as [line, message].
 */
export function keepalivedLineMessages(output: string, file: string): [number, string][] {
  const out: [number, string][] = [];
  for (const l of output.split('\n')) {
    const m = /^\((?:(.+?): )?Line (\d+)\) (.*)$/.exec(l);
    if (!m) continue;
    if (m[1] !== undefined && m[1] !== file) continue;
    out.push([Number(m[2]), m[3]!]);
  }
  return out;
}

/** Lines of `file` that keepalived-ts' -t output has a diagnostic at. */
export function ourLines(output: string, file: string): Set<number> {
  const lines = new Set<number>();
  for (const l of output.split('\n')) {
    if (!l.startsWith(`${file}:`)) continue;
    const m = /^:(\d+):\d+: /.exec(l.slice(file.length));
    if (m) lines.add(Number(m[1]));
  }
  return lines;
}

/**
 * The lines a block spans, from the line of its keyword to its `}` (comments and quotes
 * skipped), for each line that opens one: keepalived reads the content of a block whose
 * keyword it does not know at the enclosing level, and logs each of its lines.
 */
export function blockSpans(text: string): Map<number, number> {
  const lines = text.split('\n');
  const spans = new Map<number, number>();
  const stack: number[] = [];
  lines.forEach((raw, i) => {
    const line = raw.replace(/"[^"]*"/g, '').replace(/[#!].*/, '');
    for (const ch of line) {
      if (ch === '{') stack.push(i + 1);
      else if (ch === '}') {
        const open = stack.pop();
        if (open !== undefined && !spans.has(open)) spans.set(open, i + 1);
      }
    }
  });
  return spans;
}
