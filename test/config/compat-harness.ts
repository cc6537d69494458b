// Runs keepalived 2.2.7 and keepalived-ts on the same config file in one throw-away network
// namespace holding the interfaces the file names, and reports what each did:
// - `-t`: keepalived's exit code and messages; ours' report (the same function `-t` prints,
//   called in this process against the namespace's interfaces: no node start per file);
// - the VRRP daemon: whether it came up, and what it runs. keepalived's model is read from
//   its `-d` dump (written before its VRRP child enters its loop); ours from its log and from
//   the model its tolerant start-up load builds;
// - the checker: whether it accepts the virtual servers. The host has no IPVS, so neither
//   checker can really start here: keepalived's verdict is how its child exits (CONFIG:
//   refused; FATAL after "Initializing ipvs": accepted), ours' is its start-up load.
// Each daemon is stopped as soon as its verdict is known.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { configTest, type ConfigTestReport } from '../../src/cli/config-test.js';
import { loadConfig, type KeepalivedConfig } from '../../src/config/index.js';

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
    testStatus: number; testOutput: string;
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
      const w = line.replace(/[#!].*/, '').trim().split(/\s+/)[0];
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
  const keys = 'notify|notify_master|notify_backup|notify_fault|notify_stop|notify_deleted|notify_up|notify_down|quorum_up|quorum_down|script|misc_path|startup_script|shutdown_script|notify_master_rx_lower_pri';
  return text.replace(new RegExp(`^(\\s*(?:${keys}))\\s+("[^"]*"|'[^']*'|[^{}\\n]*?)(\\s*[{}]?\\s*)$`, 'gm'), '$1 "/bin/true"$3');
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
  ns: string, cmd: string[], verdict: (log: string) => boolean | null, timeoutMs: number,
  whileUp: (log: string) => Promise<void> = async () => undefined,
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
      log += b;
      if (up === null && (up = verdict(log)) !== null) {
        if (up) void whileUp(log).finally(stop);
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
        name: m[1]!, version: 0, syncGroup: null, wantState: '', interface: '', vrid: 0, priority: 0, advertIntMs: 0,
        preempt: true, auth: 'none', vips: [], excludedVips: [], unicastPeers: [], trackInterfaces: [], trackScripts: [],
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
      case 'VRRP Version': cur.version = Number(value); break;
      case 'Sync group': cur.syncGroup = value; break;
      case 'Wantstate': cur.wantState = value; break;
      case 'Interface': cur.interface = value.split(',')[0]!; break;
      case 'Virtual Router ID': cur.vrid = Number(value); break;
      case 'Priority': cur.priority = Number(value); break;
      case 'Advert interval': cur.advertIntMs = Number(value.split(' ')[0]) * (value.endsWith('milli-sec') ? 1 : 1000); break;
      case 'Preempt': cur.preempt = value === 'enabled'; break;
      case 'Authentication type': cur.auth = value === 'SIMPLE_PASSWORD' ? 'PASS' : value === 'IPSEC_AH' ? 'AH' : 'none'; break;
      case 'Password': cur.auth = `PASS ${value}`; break;
      default:
        if (/^Virtual IP \(\d+\):$/.test(key!)) list = cur.vips;
        else if (key === 'Virtual IP Excluded :') list = cur.excludedVips;
        else if (key === 'Unicast Peer :') list = cur.unicastPeers;
        else if (key === 'Tracked interfaces :') list = cur.trackInterfaces;
        else if (key === 'Tracked scripts :') list = cur.trackScripts;
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
  }
  return out;
}

/** The same summary of ours' model. */
export function summarise(c: KeepalivedConfig): InstanceSummary[] {
  const vip = (dev: string) => (v: KeepalivedConfig['vrrpInstances'][number]['virtualIpaddresses'][number]) =>
    `${v.address}${v.prefix === (v.family === 6 ? 128 : 32) ? '' : `/${v.prefix}`} dev ${v.dev ?? dev}`;
  return c.vrrpInstances.map((i) => ({
    name: i.name, version: i.version, syncGroup: i.syncGroup, wantState: i.state, interface: i.interface,
    vrid: i.virtualRouterId, priority: i.priority, advertIntMs: i.advertIntMs, preempt: !i.nopreempt,
    auth: i.authentication ? (i.authentication.type === 'PASS' ? `PASS ${i.authentication.pass}` : 'AH') : 'none',
    vips: i.virtualIpaddresses.map(vip(i.interface)), excludedVips: i.virtualIpaddressesExcluded.map(vip(i.interface)),
    unicastPeers: i.unicastPeers.map((p) => p.address), trackInterfaces: i.trackInterfaces.map((t) => t.name),
    trackScripts: i.trackScripts.map((t) => t.name),
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
  return c.virtualServers.flatMap((vs) => {
    const k = vs.key;
    const name = k.kind === 'ip' ? `[${ip(k.address)}]:${vs.protocol.toLowerCase()}:${k.port}` : k.kind === 'fwmark' ? `FWM ${k.fwmark}` : `[${k.group}]:0`;
    return vs.realServers.map((rs) => `${name} -> [${ip(rs.address)}]:${rs.port}`);
  }).sort();
}

let seq = 0;

/** A namespace holding `names` as veth ends (each with an IPv4 address), loopback up. */
function makeNamespace(ns: string, names: string[], sources: string[]): string[] {
  const ip = (...a: string[]) => spawnSync('ip', a, { stdio: 'ignore' }).status === 0;
  if (!ip('netns', 'add', ns)) throw new Error(`cannot create namespace ${ns}`);
  // IPv6 instances need a usable link-local address at once, not one still in DAD
  spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'], { stdio: 'ignore' });
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  const made: string[] = [];
  names.forEach((name, i) => {
    if (!ip('-n', ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `kcp${i}`)) return;
    ip('-n', ns, 'link', 'set', name, 'up');
    ip('-n', ns, 'link', 'set', `kcp${i}`, 'up');
    ip('-n', ns, 'addr', 'add', `192.0.2.${i + 1}/24`, 'dev', name);
    made.push(name, `kcp${i}`);
  });
  for (const a of sources) if (made[0]) ip('-n', ns, 'addr', 'add', `${a}/32`, 'dev', made[0]);
  return made;
}

/** The addresses on the namespace's interfaces (`ADDRESS/PREFIX dev IF`), sorted. */
function addresses(ns: string): string[] {
  const out = spawnSync('ip', ['-n', ns, '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout ?? '';
  return out.split('\n').map((l) => /^\d+: (\S+)\s+inet6? (\S+)/.exec(l)).filter((m) => m !== null)
    .map((m) => `${m![2]} dev ${m![1]}`).filter((a) => !a.startsWith('fe80:')).sort();
}

/** Polls the namespace's addresses until `enough` holds (or `ms` pass); returns the last set. */
async function addressesOnce(ns: string, enough: (a: string[]) => boolean, ms: number): Promise<string[]> {
  const until = Date.now() + ms;
  let a = addresses(ns);
  while (!enough(a) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    a = addresses(ns);
  }
  return a;
}

/** A fixture's `# NAME: value` header lines. */
export function header(text: string, name: string): string[] {
  return [...text.matchAll(new RegExp(`^# ${name}: (.*)$`, 'gm'))].map((m) => m[1]!.trim());
}

/** Runs both on one file in a namespace of its own; removes the namespace. */
export async function compareOnFile(file: string): Promise<CompatRun> {
  const text = readFileSync(file, 'utf8');
  const ns = `ktcc${process.pid % 10000}x${seq++}`;
  const dir = mkdtempSync(join(tmpdir(), `${ns}-`));
  // a fixture may say which interfaces the host has (to leave one out on purpose)
  const named = header(text, 'host-interfaces')[0]?.split(/\s+/) ?? interfacesOf(text);
  const observeVips = header(text, 'observe').includes('vips');
  try {
    const links = makeNamespace(ns, named, sourceAddresses(text));
    const before = addresses(ns);
    const added = (a: string[]) => a.filter((x) => !before.includes(x));
    let vips: CompatRun['vips'] = null;
    const runnable = join(dir, basename(file));
    writeFileSync(runnable, withoutScripts(text));
    const hasVrrp = /^\s*vrrp_instance\s/m.test(text);
    const hasLvs = /^\s*virtual_server\s/m.test(text);
    const pids = (who: string) => ['-p', join(dir, `${who}.pid`), '-r', join(dir, `${who}-vrrp.pid`), '-c', join(dir, `${who}-check.pid`)];

    const theirTest = run(ns, [KEEPALIVED, '-t', '-f', file], 20_000);
    const ourTest = configTest(file, { hostInterfaces: new Set(['lo', ...links]) });
    const start = loadConfig(runnable, { tolerant: true });

    // one daemon after the other: two VRRP daemons in one namespace would see each other
    let theirVrrp: CompatRun['theirs']['vrrp'] = null;
    let ourVrrp: VrrpVerdict | null = null;
    if (hasVrrp) {
      let theirVips: string[] = [];
      const k = await watchDaemon(ns, [KEEPALIVED, '-n', '-l', '-D', '-d', '-P', '-f', runnable, ...pids('k')], keepalivedVrrpUp, 20_000,
        async (log) => {
          if (!observeVips) return;
          // the address owners' VIPs, as its dump lists them, go up at once
          const want = parseVrrpDump(log).filter((i) => i.priority === 255).flatMap((i) => i.vips.map((v) => v.split(' ')[0]!));
          theirVips = added(await addressesOnce(ns, (a) => want.every((w) => a.some((x) => x.startsWith(w.includes('/') ? w : `${w}/`))), 5000));
        });
      const model = parseVrrpDump(k.log);
      theirVrrp = { ...k, instances: model.map((i) => i.name).sort(), model };
      // its VRRP child needs IPVS for lvs_sync_daemon: without it on this host, no verdict
      if (!k.up && /Module ip_vs not found|Can't initialize ipvs|IPVS: Can't initialize/.test(k.log)) theirVrrp = null;
      if (theirVrrp) {
        let ourVips: string[] = [];
        const o = await watchDaemon(ns, [process.execPath, BIN, '-n', '-l', '-P', '-f', runnable, ...pids('o')],
          (log) => (/VRRP child running/.test(log) ? true : null), 60_000, async () => {
            if (observeVips) ourVips = added(await addressesOnce(ns, (a) => added(a).join() === theirVips.join(), 5000));
          });
        if (observeVips) vips = { theirs: theirVips, ours: ourVips };
        const instances = [...new Set([...o.log.matchAll(/\(([^)\s]+)\) entering (?:BACKUP|MASTER|FAULT) state/g)].map((m) => m[1]!))].sort();
        ourVrrp = { ...o, instances };
      }
    }
    let theirChecker: boolean | null = null;
    let ourChecker: boolean | null = null;
    let checkerLog = '';
    if (hasLvs) {
      // accepted: it went on to IPVS (missing here), or started with no virtual server left
      const c = await watchDaemon(ns, [KEEPALIVED, '-n', '-l', '-D', '-C', '-f', runnable, ...pids('kc')],
        (log) => (/permanent error CONFIG/.test(log) ? false : /Initializing ipvs|Startup complete/.test(log) ? true : null), 15_000);
      checkerLog = c.log;
      theirChecker = c.up;
      ourChecker = start.config !== null;
    }
    const t = await theirTest;
    return {
      file, interfaces: links.filter((l) => !l.startsWith('kcp')), vips,
      theirs: { testStatus: t.status, testOutput: t.output, vrrp: theirVrrp, checker: theirChecker, checkerLog },
      ours: { test: ourTest, vrrp: ourVrrp, model: start.config, checker: ourChecker },
    };
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `work` on each item, at most `width` at a time. */
export async function inBatches<T, R>(items: T[], width: number, work: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
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
