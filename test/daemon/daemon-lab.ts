// A lab for process-level daemon tests: routers r1, r2 and a client on one bridge (each in
// its own network namespace, see test/helpers/netns.ts), where a router runs the whole
// daemon (`bin/keepalived-ts -n -l`, watchdog parent + children) or keepalived 2.2.7 with
// the same config text. Each daemon gets its own /tmp (a tmpfs mounted inside the
// namespace's mount namespace), so the fixed dump paths (/tmp/keepalived.*) of parallel
// tests never meet; the test reads them through /proc/PID/root/tmp. Configs and pid files
// live in a run directory outside /tmp for the same reason.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsLab, netnsAvailable, until } from '../helpers/netns.js';
import { AddrMonitor, Capture } from '../vrrp/lab.js';

// from test/daemon/ and from dist/test/daemon/ (the benches) alike
const UP = import.meta.url.includes('/dist/') ? '../../../' : '../../';
export const BIN = fileURLToPath(new URL(`${UP}bin/keepalived-ts`, import.meta.url));
/** The checkout this lab runs from: re-mounted for each daemon when /tmp would hide it. */
const ROOT = fileURLToPath(new URL(UP, import.meta.url)).replace(/\/$/, '');
/** What BIN runs (tools/bundle.mjs). */
const BUILT = fileURLToPath(new URL(`${UP}dist/bundle/keepalived-ts.cjs`, import.meta.url));

export type Impl = 'ours' | 'keepalived';

/** Why the lab cannot run here, or null (callers print it when they skip). */
export function daemonLabUnavailable(needKeepalived = false): string | null {
  const netns = netnsAvailable();
  if (netns) return netns;
  if (!existsSync(BUILT)) return `${BUILT} missing: run \`npm run build\` first`;
  for (const tool of ['tcpdump', ...(needKeepalived ? ['keepalived'] : [])]) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} not installed`;
    }
  }
  return null;
}

export interface Host {
  name: string;
  ns: string;
  ip: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A daemon's VRRP state changes logged since `mark` (keepalived's wording, ours too). */
export const stateChanges = (d: { logSince(from: number): string[] }, mark: number): string[] => d.logSince(mark).filter((l) => /Entering \w+ STATE/.test(l));

/** A process's resident memory now and its peak so far, in MB (/proc/PID/status). */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Whether a process id is alive (and not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

export function readPid(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export class RunningDaemon {
  private out = '';
  readonly exited: Promise<number | null>;
  readonly startedAt = Date.now();

  constructor(
    readonly impl: Impl,
    readonly host: Host,
    readonly proc: ChildProcess,
    readonly confPath: string,
    readonly pidFiles: { parent: string; vrrp: string; checker: string },
  ) {
    const keep = (d: Buffer) => (this.out += d.toString());
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    this.exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  }

  get log(): string {
    return this.out;
  }

  /** Log lines after character offset `from` (take `log.length` as a mark). */
  logSince(from: number): string[] {
    return this.out
      .slice(from)
      .split('\n')
      .filter((l) => l.length > 0);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The parent's pid: `ip netns exec` and `sh -c 'exec ...'` both exec, so it is ours. */
  get pid(): number {
    return this.proc.pid!;
  }

  vrrpPid(): number | null {
    return readPid(this.pidFiles.vrrp);
  }

  checkerPid(): number | null {
    return readPid(this.pidFiles.checker);
  }

  /** A file of this daemon's private /tmp. */
  tmpFile(name: string): string {
    return `/proc/${this.pid}/root/tmp/${name}`;
  }

  signal(sig: NodeJS.Signals | number): void {
    process.kill(this.pid, sig);
  }

  async waitLog(re: RegExp, ms: number, from = 0): Promise<void> {
    await until(() => re.test(this.out.slice(from)) || !this.running, ms, `${this.host.name}: ${re}`);
    if (!re.test(this.out.slice(from))) throw new Error(`${this.host.name}: exited before ${re}:\n${this.out}`);
  }

  async stop(): Promise<number | null> {
    if (this.running) this.proc.kill('SIGTERM');
    return this.exited;
  }
}

export class DaemonLab {
  readonly net: NetnsLab;
  readonly run: string;
  readonly r1: Host;
  readonly r2: Host;
  readonly client: Host;
  private readonly daemons: RunningDaemon[] = [];
  private readonly watchers: { stop(): void }[] = [];
  private seq = 0;

  /** Addresses 10.SUBNET.0.0/24; `tag` (kt-dmn-...) prefixes every namespace and veth. */
  constructor(
    readonly tag: string,
    readonly subnet: number,
  ) {
    this.net = new NetnsLab(tag);
    this.run = mkdtempSync(`/run/${tag}-`);
    this.r1 = { name: 'r1', ns: '', ip: `10.${subnet}.0.1` };
    this.r2 = { name: 'r2', ns: '', ip: `10.${subnet}.0.2` };
    this.client = { name: 'client', ns: '', ip: `10.${subnet}.0.9` };
  }

  vip(n: number): string {
    return `10.${this.subnet}.0.${n}`;
  }

  setup(): void {
    for (const h of [this.r1, this.r2, this.client]) h.ns = this.net.ns(h.name);
    const br = this.net.bridge(
      'br',
      [this.r1, this.r2, this.client].map((h) => ({ ns: h.ns, ifname: 'eth0' })),
    );
    // ageing 0: the bridge floods like a hub, so the client also sees unicast frames
    this.net.exec(br, 'ip link set br0 type bridge mcast_snooping 0 ageing_time 0');
    for (const h of [this.r1, this.r2, this.client]) this.net.exec(h.ns, `ip addr add ${h.ip}/24 dev eth0`);
  }

  writeConf(text: string, name = `c${++this.seq}.conf`): string {
    const p = join(this.run, name);
    writeFileSync(p, text);
    return p;
  }

  /** Starts a daemon on `host` with config file `conf` (see writeConf); waits for `ready`. */
  async start(impl: Impl, host: Host, conf: string, ready: RegExp, extraArgs: string[] = []): Promise<RunningDaemon> {
    const n = ++this.seq;
    const pidFiles = {
      parent: join(this.run, `${host.name}-${n}.pid`),
      vrrp: join(this.run, `${host.name}-${n}-vrrp.pid`),
      checker: join(this.run, `${host.name}-${n}-checker.pid`),
    };
    // A checkout under /tmp (a CI clone, say) would vanish under the daemon's own /tmp: it is
    // bind-mounted first on a directory of the run dir and run from there.
    const underTmp = ROOT === '/tmp' || ROOT.startsWith('/tmp/');
    const proj = join(this.run, 'checkout');
    if (underTmp) mkdirSync(proj, { recursive: true });
    const bin = underTmp ? join(proj, 'bin/keepalived-ts') : BIN;
    const cmd = impl === 'ours' ? [bin] : ['keepalived'];
    const args = [...cmd, '-n', '-l', '-f', conf, '-p', pidFiles.parent, '-r', pidFiles.vrrp, '-c', pidFiles.checker, ...extraArgs];
    const quoted = args.map((a) => `'${a}'`).join(' ');
    const remount = underTmp ? `mount --bind '${ROOT}' '${proj}' && ` : '';
    const p = this.net.spawn(host.ns, ['sh', '-c', `${remount}mount -t tmpfs -o mode=1777 tmpfs /tmp && exec ${quoted}`]);
    const d = new RunningDaemon(impl, host, p, conf, pidFiles);
    this.daemons.push(d);
    await d.waitLog(ready, 30_000);
    return d;
  }

  addrMonitor(h: Host): AddrMonitor {
    const m = new AddrMonitor(this.net.spawn(h.ns, ['ip', '-ts', '-o', 'monitor', 'address', 'dev', 'eth0']));
    this.watchers.push(m);
    return m;
  }

  /** tcpdump of VRRP on the client's port. */
  async capture(): Promise<Capture> {
    const p = this.net.spawn(this.client.ns, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-n', '-s', '0', '-w', '-', 'ip proto 112 or arp']);
    const c = new Capture(p);
    this.watchers.push(c);
    await Promise.race([c.ready, sleep(15_000).then(() => Promise.reject(new Error('tcpdump did not start')))]);
    return c;
  }

  /** A long-running helper process in a namespace (killed at cleanup). */
  spawn(h: Host, argv: string[]): ChildProcess {
    return this.net.spawn(h.ns, argv);
  }

  hasAddr(h: Host, addr: string): boolean {
    return this.net
      .exec(h.ns, 'ip -o addr show dev eth0')
      .split('\n')
      .some((l) => l.includes(` ${addr}/`));
  }

  /** A test's end: stops the monitors and captures, then every daemon still running (TERM). */
  async stopAll(): Promise<void> {
    this.stopWatchers();
    for (const d of this.daemons) await d.stop();
  }

  /** Stops the monitors and captures started so far (a test's end, pass or fail). */
  stopWatchers(): void {
    for (const w of this.watchers.splice(0)) w.stop();
  }

  async cleanup(): Promise<void> {
    for (const d of this.daemons) {
      if (d.running) d.proc.kill('SIGKILL');
    }
    for (const w of this.watchers) w.stop();
    this.net.cleanup();
    // The checkout's bind mounts live in the daemons' own mount namespaces; were one ever
    // visible here, a recursive removal would delete the checkout itself: rmdir first.
    const proj = join(this.run, 'checkout');
    if (existsSync(proj)) rmdirSync(proj);
    rmSync(this.run, { recursive: true, force: true });
  }
}

/** A vrrp_instance block for the daemon tests. */
export function vrrpInstance(o: {
  name?: string;
  state?: 'MASTER' | 'BACKUP';
  vrid: number;
  prio: number;
  version?: 2 | 3;
  advertInt?: string;
  vips: string[];
  extra?: string[];
}): string {
  return [
    `vrrp_instance ${o.name ?? 'VI_1'} {`,
    `  state ${o.state ?? 'BACKUP'}`,
    '  interface eth0',
    `  virtual_router_id ${o.vrid}`,
    `  priority ${o.prio}`,
    `  advert_int ${o.advertInt ?? '1'}`,
    `  version ${o.version ?? 2}`,
    ...(o.extra ?? []).map((e) => `  ${e}`),
    '  virtual_ipaddress {',
    ...o.vips.map((v) => `    ${v}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

export { until };
