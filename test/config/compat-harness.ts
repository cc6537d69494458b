// Runs keepalived 2.2.7 and keepalived-ts on the same config file, each in the same kind of
// throw-away network namespace holding the interfaces the file names, and reports what each
// did: its `-t` exit code and messages, whether its VRRP daemon came up (and with which
// instances), whether its checker accepted the virtual servers. The host has no IPVS, so a
// checker cannot really start here: keepalived's is judged by how its child exits (CONFIG:
// refused; FATAL after "Initializing ipvs": the config was accepted), ours by its start-up load.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { loadConfig } from '../../src/config/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/keepalived-ts');
export const KEEPALIVED = '/usr/sbin/keepalived';

export interface DaemonVerdict {
  up: boolean;
  /** VRRP instances the daemon logged a state for. */
  instances: string[];
  log: string;
}

export interface CompatRun {
  file: string;
  interfaces: string[];
  theirs: { testStatus: number; testOutput: string; vrrp: DaemonVerdict | null; checker: boolean | null };
  ours: { testStatus: number; testOutput: string; vrrp: DaemonVerdict | null; checker: boolean | null };
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
 * Starts a daemon and watches its log: up once `upWhen` matches, refused if it exits first.
 * Then stops it (TERM, KILL after 5 s) and returns the verdict and the log.
 */
function daemon(ns: string, cmd: string[], upWhen: RegExp, instanceLine: RegExp, timeoutMs: number): Promise<DaemonVerdict> {
  return new Promise((done) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let up = false;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      const instances = [...new Set([...log.matchAll(instanceLine)].map((m) => m[1]!))].sort();
      done({ up, instances, log });
    };
    const onData = (b: Buffer) => {
      log += b;
      if (!up && upWhen.test(log)) {
        up = true;
        // a moment for every instance to log its first state, then stop it
        setTimeout(() => p.kill('SIGTERM'), 1500);
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    const timer = setTimeout(() => p.kill('SIGTERM'), timeoutMs);
    const kill = setTimeout(() => p.kill('SIGKILL'), timeoutMs + 5000);
    p.on('close', () => {
      clearTimeout(timer);
      clearTimeout(kill);
      finish();
    });
  });
}

let seq = 0;

/** Runs both on one file in a namespace of its own; removes the namespace. */
export async function compareOnFile(file: string): Promise<CompatRun> {
  const text = readFileSync(file, 'utf8');
  const tag = `ktcc${process.pid % 10000}x${seq++}`;
  const ns = tag;
  const dir = mkdtempSync(join(tmpdir(), `${tag}-`));
  const ip = (...a: string[]) => spawnSync('ip', a, { stdio: 'ignore' }).status === 0;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const interfaces: string[] = [];
    interfacesOf(text).forEach((name, i) => {
      if (!ip('-n', ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `kcp${i}`)) return;
      ip('-n', ns, 'link', 'set', name, 'up');
      ip('-n', ns, 'link', 'set', `kcp${i}`, 'up');
      ip('-n', ns, 'addr', 'add', `192.0.2.${i + 1}/24`, 'dev', name);
      interfaces.push(name);
    });
    for (const a of sourceAddresses(text)) if (interfaces[0]) ip('-n', ns, 'addr', 'add', `${a}/32`, 'dev', interfaces[0]);

    const runnable = join(dir, basename(file));
    writeFileSync(runnable, withoutScripts(text));
    const hasVrrp = /^\s*vrrp_instance\s/m.test(text);
    const hasLvs = /^\s*virtual_server\s/m.test(text);
    const pids = (who: string) => ['-p', join(dir, `${who}.pid`), '-r', join(dir, `${who}-vrrp.pid`), '-c', join(dir, `${who}-check.pid`)];

    const [theirTest, ourTest] = await Promise.all([
      run(ns, [KEEPALIVED, '-t', '-f', file], 20_000),
      run(ns, [process.execPath, BIN, '-t', '-f', file], 60_000),
    ]);
    let theirVrrp: DaemonVerdict | null = null;
    let ourVrrp: DaemonVerdict | null = null;
    if (hasVrrp) {
      // (theirs first, then ours: see below)
      // one after the other: two VRRP daemons in one namespace would see each other
      theirVrrp = await daemon(ns, [KEEPALIVED, '-n', '-l', '-D', '-P', '-f', runnable, ...pids('k')],
        /Entering (BACKUP|MASTER|FAULT) STATE|Startup complete/, /\(([^)\s]+)\) Entering (?:BACKUP|MASTER|FAULT) STATE/g, 5000);
      // its VRRP child needs IPVS for lvs_sync_daemon: without it on this host, no verdict
      if (!theirVrrp.up && /Module ip_vs not found|Can't initialize ipvs/.test(theirVrrp.log)) theirVrrp = null;
      if (theirVrrp) ourVrrp = await daemon(ns, [process.execPath, BIN, '-n', '-l', '-P', '-f', runnable, ...pids('o')],
        /VRRP child running/, /\(([^)\s]+)\) entering (?:BACKUP|MASTER|FAULT) state/g, 30_000);
    }
    let theirChecker: boolean | null = null;
    let ourChecker: boolean | null = null;
    if (hasLvs) {
      const r = await run(ns, [KEEPALIVED, '-n', '-l', '-D', '-C', '-f', runnable, ...pids('kc')], 15_000);
      theirChecker = !/permanent error CONFIG/.test(r.output) && /Initializing ipvs|IPVS/.test(r.output);
      ourChecker = loadConfig(file, { tolerant: true }).config !== null;
    }
    return {
      file, interfaces,
      theirs: { testStatus: theirTest.status, testOutput: theirTest.output, vrrp: theirVrrp, checker: theirChecker },
      ours: { testStatus: ourTest.status, testOutput: ourTest.output, vrrp: ourVrrp, checker: ourChecker },
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
