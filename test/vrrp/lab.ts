// A router lab for interop tests and the failover bench: two routers (r1, r2) and an
// observer on one bridge, each in its own network namespace, where either router can run
// our VRRP child or keepalived 2.2.7 with the same config text. The observer captures the
// wire with tcpdump (kernel timestamps, whole frames); a router's address changes are read
// with `ip -ts monitor address`. Used by test/vrrp/interop*.test.ts, wire*.test.ts and
// bench/failover.mjs (through dist/test/vrrp/lab.js).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsLab, netnsAvailable, until } from '../helpers/netns.js';

// from dist/test/vrrp/lab.js and from test/vrrp/lab.ts alike: the built child under dist/
const MAIN = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../src/vrrp/main.js' : '../../dist/src/vrrp/main.js', import.meta.url));
const BIN = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../bin/keepalived-ts' : '../../bin/keepalived-ts', import.meta.url));

export type Impl = 'ours' | 'keepalived';

export interface Router {
  name: 'r1' | 'r2';
  ns: string;
  ip: string;
  ip6: string;
  /** eth0's link-local address (the IPv6 advert source). */
  ll: string;
  mac: string;
}

/** Why the lab cannot run here, or null. Printed by callers that skip. */
export function labUnavailable(): string | null {
  const netns = netnsAvailable();
  if (netns) return netns;
  if (!existsSync(MAIN)) return `${MAIN} missing: run \`npm run build\` first`;
  for (const tool of ['keepalived', 'tcpdump']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} not installed`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Config text (the same for both implementations)

export interface InstanceConf {
  name?: string;
  vrid: number;
  prio: number;
  version: 2 | 3;
  /** keepalived syntax: "1", "0.1" */
  advertInt: string;
  vips: string[];
  auth?: { type: 'PASS' | 'AH'; pass: string };
  unicast?: { src: string; peers: string[] };
  extra?: string[];
}

export function instanceConf(c: InstanceConf): string {
  const lines = [
    `vrrp_instance ${c.name ?? 'VI_1'} {`,
    '  state BACKUP',
    '  interface eth0',
    `  virtual_router_id ${c.vrid}`,
    `  priority ${c.prio}`,
    `  advert_int ${c.advertInt}`,
    `  version ${c.version}`,
  ];
  if (c.auth) lines.push('  authentication {', `    auth_type ${c.auth.type}`, `    auth_pass ${c.auth.pass}`, '  }');
  if (c.unicast) lines.push(`  unicast_src_ip ${c.unicast.src}`, '  unicast_peer {', ...c.unicast.peers.map((p) => `    ${p}`), '  }');
  lines.push('  virtual_ipaddress {', ...c.vips.map((v) => `    ${v}`), '  }');
  for (const e of c.extra ?? []) lines.push(`  ${e}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

export function configText(instances: InstanceConf[], globals: string[] = []): string {
  return ['global_defs {', '  router_id kt_io', ...globals.map((g) => `  ${g}`), '}', ...instances.map(instanceConf)].join('\n');
}

// ---------------------------------------------------------------------------------------
// Captured frames

export interface Frame {
  /** Kernel receive time, CLOCK_REALTIME seconds (µs resolution). */
  ts: number;
  dstMac: string;
  srcMac: string;
  ethertype: number;
  /** The whole frame as captured. */
  raw: Buffer;
  ip?: IpView;
  arp?: { op: number; senderMac: string; senderIp: string; targetMac: string; targetIp: string };
}

export interface IpView {
  version: 4 | 6;
  /** IPv4: the whole header; IPv6: the fixed 40-byte header. */
  header: Buffer;
  /** TOS (v4) or traffic class (v6). */
  tos: number;
  /** TTL or hop limit. */
  ttl: number;
  proto: number;
  src: string;
  dst: string;
  /** Everything after the IP header (VRRP, or AH + VRRP). */
  payload: Buffer;
}

export interface AdvertView {
  frame: Frame;
  src: string;
  dst: string;
  version: number;
  vrid: number;
  prio: number;
  /** The VRRP message (after AH when present). */
  vrrp: Buffer;
  ah: boolean;
}

const mac = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ip4 = (b: Buffer) => [...b].join('.');
function ip6(b: Buffer): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(i).toString(16));
  // compress the longest run of zero words, as `ip` prints it
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

export function decodeFrame(ts: number, b: Buffer): Frame {
  const f: Frame = { ts, dstMac: mac(b.subarray(0, 6)), srcMac: mac(b.subarray(6, 12)), ethertype: b.readUInt16BE(12), raw: b };
  const p = b.subarray(14);
  if (f.ethertype === 0x0800 && p.length >= 20) {
    const ihl = (p[0]! & 0x0f) * 4;
    const total = p.readUInt16BE(2);
    f.ip = {
      version: 4,
      header: p.subarray(0, ihl),
      tos: p[1]!,
      ttl: p[8]!,
      proto: p[9]!,
      src: ip4(p.subarray(12, 16)),
      dst: ip4(p.subarray(16, 20)),
      payload: p.subarray(ihl, total),
    };
  } else if (f.ethertype === 0x86dd && p.length >= 40) {
    const len = p.readUInt16BE(4);
    const tclass = (p.readUInt16BE(0) >> 4) & 0xff;
    f.ip = {
      version: 6,
      header: p.subarray(0, 40),
      tos: tclass,
      ttl: p[7]!,
      proto: p[6]!,
      src: ip6(p.subarray(8, 24)),
      dst: ip6(p.subarray(24, 40)),
      payload: p.subarray(40, 40 + len),
    };
  } else if (f.ethertype === 0x0806 && p.length >= 28) {
    f.arp = {
      op: p.readUInt16BE(6),
      senderMac: mac(p.subarray(8, 14)),
      senderIp: ip4(p.subarray(14, 18)),
      targetMac: mac(p.subarray(18, 24)),
      targetIp: ip4(p.subarray(24, 28)),
    };
  }
  return f;
}

export function advertOf(f: Frame): AdvertView | null {
  const ip = f.ip;
  if (!ip) return null;
  let vrrp: Buffer;
  if (ip.proto === 112) vrrp = ip.payload;
  else if (ip.proto === 51 && ip.payload[0] === 112) vrrp = ip.payload.subarray(24);
  else return null;
  if (vrrp.length < 8) return null;
  return { frame: f, src: ip.src, dst: ip.dst, version: vrrp[0]! >> 4, vrid: vrrp[1]!, prio: vrrp[2]!, vrrp, ah: ip.proto === 51 };
}

/** The target address of an ICMPv6 neighbour advertisement, or null. */
export function naTarget(f: Frame): string | null {
  const ip = f.ip;
  if (!ip || ip.version !== 6 || ip.proto !== 58 || ip.payload[0] !== 136 || ip.payload.length < 24) return null;
  return ip6(ip.payload.subarray(8, 24));
}

/** tcpdump writing pcap to its stdout, parsed as it arrives. */
export class Capture {
  readonly frames: Frame[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private headerSeen = false;
  ready: Promise<void>;

  constructor(readonly proc: ChildProcess) {
    let ready!: () => void;
    this.ready = new Promise((r) => (ready = r));
    proc.stderr!.on('data', (d: Buffer) => {
      if (/listening on/.test(d.toString())) ready();
    });
    proc.stdout!.on('data', (d: Buffer) => this.feed(d));
  }

  private feed(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (!this.headerSeen) {
      if (this.buf.length < 24) return;
      if (this.buf.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('unexpected pcap magic (expected little-endian, microseconds)');
      this.buf = this.buf.subarray(24);
      this.headerSeen = true;
    }
    while (this.buf.length >= 16) {
      const caplen = this.buf.readUInt32LE(8);
      if (this.buf.length < 16 + caplen) break;
      const ts = this.buf.readUInt32LE(0) + this.buf.readUInt32LE(4) / 1e6;
      this.frames.push(decodeFrame(ts, Buffer.from(this.buf.subarray(16, 16 + caplen))));
      this.buf = this.buf.subarray(16 + caplen);
    }
  }

  adverts(from = 0): AdvertView[] {
    const out: AdvertView[] = [];
    for (let i = from; i < this.frames.length; i++) {
      const a = advertOf(this.frames[i]!);
      if (a) out.push(a);
    }
    return out;
  }

  stop(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------------------------------
// Address monitor

export interface AddrEvent {
  /** CLOCK_REALTIME seconds, from `ip -ts` (when ip read the notification). */
  ts: number;
  deleted: boolean;
  address: string;
  line: string;
}

function parseMonitorLine(line: string): AddrEvent | null {
  // [2026-11-22T05:01:38.123456] Deleted 3: eth0    inet 10.78.0.100/24 scope global secondary eth0 ...
  const m = /^\[([^\]]+)\]\s*(Deleted )?\d+:\s+\S+\s+inet6? ([0-9a-f.:]+)\//.exec(line);
  if (!m) return null;
  const [date, frac] = m[1]!.split('.');
  const ts = Date.parse(`${date}Z`) / 1000 + Number(`0.${frac ?? '0'}`);
  return { ts, deleted: m[2] !== undefined, address: m[3]!, line };
}

export class AddrMonitor {
  readonly events: AddrEvent[] = [];
  constructor(readonly proc: ChildProcess) {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const e = parseMonitorLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (e) this.events.push(e);
      }
    });
  }
  stop(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------------------------------
// Daemons

export class Daemon {
  private out = '';
  readonly exited: Promise<number | null>;
  constructor(
    readonly impl: Impl,
    readonly router: Router,
    readonly proc: ChildProcess,
    readonly conf: string,
    private readonly pidFiles: { parent: string; vrrp: string } | null,
    logFile: string,
  ) {
    const keep = (d: Buffer) => {
      this.out += d.toString();
      writeFileSync(logFile, d, { flag: 'a' });
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    this.exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  }

  get log(): string {
    return this.out;
  }

  /** The VRRP process: from its pid file under a parent, else the process started. */
  get vrrpPid(): number {
    return this.pidFiles ? Number(readFileSync(this.pidFiles.vrrp, 'utf8').trim()) : this.proc.pid!;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /**
   * Lines that say this daemon refused a peer's advert. keepalived: its receive-check
   * messages (vrrp.c). Ours: the engine's once-per-reason "advert rejected" warning.
   * keepalived's "IPSEC-AH : Syncing seq_num" is not one: a MASTER logs it when it accepts a
   * lower-priority AH advert (one sent as it took over, crossing its own first) and takes
   * that advert's sequence number.
   */
  protocolErrors(): string[] {
    const lines = this.out.split('\n');
    if (this.impl === 'ours') return lines.filter((l) => /advert rejected/.test(l));
    const bad =
      /vrrp packet too|invalid TTL|wrong version|received a \d+ auth|invalid passwd|IPSEC-AH : (?:invalid|sequence number)|interval mismatch|Invalid packet type|unexpected ip number count|ip_tot_len mismatch|icast packet but received|expected \d+ VIPs|not present in MASTER advert|not a unicast peer|not in range|bogus|AH header|checksum/i;
    return lines.filter((l) => bad.test(l));
  }

  /**
   * Ours only: the counters of the USR2 stats dump, in keepalived's format, summed over the
   * instances: adverts received/sent and the error counters (`packet-length`, `auth-failure`...).
   * The dump path is fixed (/tmp/keepalived.stats, as keepalived's), so it is read as soon
   * as the child logs that it wrote it.
   */
  async stats(): Promise<{ received: number; sent: number; rejected: Record<string, number> }> {
    if (this.impl !== 'ours' || !this.running) throw new Error('stats: only from a running VRRP child of ours');
    const written = () => this.out.split('\n').filter((l) => /dump written/.test(l)).length;
    const before = written();
    this.proc.kill('SIGUSR2');
    await until(() => written() > before, 10_000, 'stats dump written');
    return parseStatsDump(readFileSync('/tmp/keepalived.stats', 'utf8'));
  }

  /** A crash: no advert, no VIP removal. A parent (keepalived's, our whole daemon's) is frozen first so it neither restarts the VRRP child nor tells it to stop. */
  async kill(): Promise<void> {
    if (!this.running) return;
    if (this.pidFiles) {
      const parent = this.proc.pid!;
      const vrrp = Number(readFileSync(this.pidFiles.vrrp, 'utf8').trim());
      process.kill(parent, 'SIGSTOP');
      process.kill(vrrp, 'SIGKILL');
      process.kill(parent, 'SIGKILL');
    } else this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** Graceful stop (priority 0 from a master, VIPs released). */
  async stop(): Promise<number | null> {
    if (!this.running) return this.proc.exitCode;
    this.proc.kill('SIGTERM');
    return this.exited;
  }
}

// ---------------------------------------------------------------------------------------
// The lab

export class RouterLab {
  readonly net: NetnsLab;
  readonly dir: string;
  readonly r1: Router;
  readonly r2: Router;
  obs = '';
  obsMac = '';
  private readonly daemons: Daemon[] = [];
  private readonly watchers: { stop(): void }[] = [];
  private seq = 0;

  /** Addresses 10.SUBNET.0.0/24 and fdSUBNET::/64; the tag prefixes every namespace and veth. */
  constructor(
    readonly tag: string,
    readonly subnet = 78,
  ) {
    this.net = new NetnsLab(tag);
    this.dir = mkdtempSync(`/tmp/${tag}-`);
    this.r1 = { name: 'r1', ns: '', ip: `10.${subnet}.0.1`, ip6: `fd${subnet}::1`, ll: '', mac: '' };
    this.r2 = { name: 'r2', ns: '', ip: `10.${subnet}.0.2`, ip6: `fd${subnet}::2`, ll: '', mac: '' };
  }

  /** VIP n of the lab's subnet (10.S.0.n), with its prefix for configs. */
  vip(n: number): string {
    return `10.${this.subnet}.0.${n}`;
  }
  vip6(n: number): string {
    return `fd${this.subnet}::${n.toString(16)}`;
  }

  async setup(): Promise<void> {
    this.r1.ns = this.net.ns('r1');
    this.r2.ns = this.net.ns('r2');
    this.obs = this.net.ns('obs');
    await this.addLan('eth0', 0);
    for (const r of [this.r1, this.r2]) {
      r.ll = this.linkLocal(r.ns, 'eth0')!;
      r.mac = this.macOf(r.ns);
    }
    this.obsMac = this.macOf(this.obs);
  }

  /**
   * A LAN: a bridge with interface `ifname` in r1, r2 and the observer, addresses
   * 10.SUBNET.N.{1,2,9}/24 and fdSUBNET:N::{1,2,9}/64 (N = 0 is the lab's own eth0).
   */
  async addLan(ifname: string, n: number): Promise<void> {
    const br = this.net.bridge(n === 0 ? 'br' : `br${n}`, [
      { ns: this.r1.ns, ifname },
      { ns: this.r2.ns, ifname },
      { ns: this.obs, ifname },
    ]);
    // ff02::12 reaches everyone without MLD state; ageing 0 floods unicast too, so the
    // observer also sees unicast adverts (a hub, as far as capture is concerned)
    this.net.exec(br, 'ip link set br0 type bridge mcast_snooping 0 ageing_time 0');
    const v6 = n === 0 ? `fd${this.subnet}:` : `fd${this.subnet}:${n}:`;
    const hosts: [string, number][] = [
      [this.r1.ns, 1],
      [this.r2.ns, 2],
      [this.obs, 9],
    ];
    for (const [ns, host] of hosts) {
      this.net.exec(
        ns,
        `sysctl -qw net.ipv6.conf.${ifname}.accept_dad=0 && ip addr add 10.${this.subnet}.${n}.${host}/24 dev ${ifname} && ip addr add ${v6}:${host}/64 dev ${ifname} nodad`,
      );
    }
    await until(() => [this.r1, this.r2].every((r) => this.linkLocal(r.ns, ifname) !== null), 15_000, 'link-local addresses usable');
  }

  private linkLocal(ns: string, ifname: string): string | null {
    const out = this.net.exec(ns, `ip -6 -o addr show dev ${ifname} scope link`);
    if (/tentative/.test(out)) return null;
    return /inet6 (fe80::[0-9a-f:]+)\//.exec(out)?.[1] ?? null;
  }

  private macOf(ns: string): string {
    return /link\/ether ([0-9a-f:]+)/.exec(this.net.exec(ns, 'ip -o link show dev eth0'))![1]!;
  }

  exec(ns: string, cmd: string): string {
    return this.net.exec(ns, cmd);
  }

  hasAddr(r: Router, addr: string): boolean {
    return this.net
      .exec(r.ns, 'ip -o addr show dev eth0')
      .split('\n')
      .some((l) => l.includes(` ${addr}/`));
  }

  /** Removes the lab's VIPs from a router (what a reboot of a crashed router would do). */
  flushVips(r: Router, vips: string[]): void {
    for (const v of vips) this.net.exec(r.ns, `ip addr del ${v} dev eth0 2>/dev/null; true`);
  }

  /** tcpdump on the observer (or another namespace): VRRP, AH, ARP and neighbour advertisements. */
  async capture(ns = this.obs, filter = 'ip proto 112 or ip6 proto 112 or ip proto 51 or arp or (icmp6 and ip6[40] == 136)', iface = 'eth0'): Promise<Capture> {
    const p = this.net.spawn(ns, ['tcpdump', '-i', iface, '--immediate-mode', '-U', '-n', '-s', '0', '-w', '-', filter]);
    const c = new Capture(p);
    this.watchers.push(c);
    await Promise.race([c.ready, new Promise((_, rej) => setTimeout(() => rej(new Error('tcpdump did not start')), 15_000))]);
    return c;
  }

  addrMonitor(r: Router): AddrMonitor {
    const m = new AddrMonitor(this.net.spawn(r.ns, ['ip', '-ts', '-o', 'monitor', 'address', 'dev', 'eth0']));
    this.watchers.push(m);
    return m;
  }

  private writeConf(body: string): string {
    const path = join(this.dir, `c${++this.seq}.conf`);
    writeFileSync(path, body);
    return path;
  }

  /**
   * Starts an implementation on a router and waits until it is running. Ours is the VRRP
   * child alone, or with `wholeDaemon` the parent with its VRRP child (`-P`, as keepalived's
   * is started here), the child with the flags the parent gives it. `tree`: ours from another
   * built checkout (a bench comparing before and after a change).
   */
  async start(impl: Impl, r: Router, body: string, opts: { wholeDaemon?: boolean; timeoutMs?: number; tree?: string } = {}): Promise<Daemon> {
    const conf = this.writeConf(body);
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const n = ++this.seq;
    const logFile = join(this.dir, `${r.name}-${impl}-${n}.log`);
    let d: Daemon;
    if (impl === 'ours' && opts.wholeDaemon) {
      const pids = { parent: join(this.dir, `o${n}.pid`), vrrp: join(this.dir, `o${n}-vrrp.pid`) };
      const bin = opts.tree ? join(opts.tree, 'bin/keepalived-ts') : BIN;
      const p = this.net.spawn(r.ns, [bin, '-n', '-l', '-P', '-f', conf, '-p', pids.parent, '-r', pids.vrrp]);
      d = new Daemon('ours', r, p, conf, pids, logFile);
      await until(() => (/VRRP child running/.test(d.log) && existsSync(pids.vrrp)) || !d.running, timeoutMs, `${r.name}: our daemon running`);
    } else if (impl === 'ours') {
      const main = opts.tree ? join(opts.tree, 'dist/src/vrrp/main.js') : MAIN;
      const p = this.net.spawn(r.ns, ['node', main, '--config', conf, '--log-console']);
      d = new Daemon('ours', r, p, conf, null, logFile);
      await until(() => /VRRP child running/.test(d.log) || !d.running, timeoutMs, `${r.name}: our VRRP child running`);
    } else {
      const pids = { parent: join(this.dir, `k${n}.pid`), vrrp: join(this.dir, `k${n}-vrrp.pid`) };
      const p = this.net.spawn(r.ns, ['keepalived', '-n', '-l', '-P', '-f', conf, '-p', pids.parent, '-r', pids.vrrp]);
      d = new Daemon('keepalived', r, p, conf, pids, logFile);
      await until(
        () => (/Entering (BACKUP|MASTER|FAULT) STATE/i.test(d.log) && existsSync(pids.vrrp)) || !d.running,
        timeoutMs,
        `${r.name}: keepalived running`,
      );
    }
    this.daemons.push(d);
    if (!d.running) throw new Error(`${r.name}: ${impl} exited at start:\n${d.log}`);
    return d;
  }

  /** Kills every daemon still running (a test's end, pass or fail). */
  async stopAll(): Promise<void> {
    for (const d of this.daemons.splice(0)) await d.kill().catch(() => undefined);
  }

  async cleanup(): Promise<void> {
    await this.stopAll();
    for (const w of this.watchers) w.stop();
    this.net.cleanup();
    if (!process.env.KT_IO_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** keepalived's /tmp/keepalived.stats, summed over its instances. */
export function parseStatsDump(text: string): { received: number; sent: number; rejected: Record<string, number> } {
  const out = { received: 0, sent: 0, rejected: {} as Record<string, number> };
  let section = '';
  for (const line of text.split('\n')) {
    const head = /^ {2}(\S[^:]*):$/.exec(line);
    if (head) {
      section = head[1]!;
      continue;
    }
    const m = /^ {4}([^:]+): (\d+)$/.exec(line);
    if (!m) continue;
    const n = Number(m[2]);
    if (section === 'Advertisements') {
      if (m[1] === 'Received') out.received += n;
      else if (m[1] === 'Sent') out.sent += n;
    } else if (section === 'Packet Errors' || section === 'Authentication Errors') {
      const key = `${section === 'Packet Errors' ? 'packet' : 'auth'}-${m[1]!.toLowerCase().replace(/ /g, '-')}`;
      out.rejected[key] = (out.rejected[key] ?? 0) + n;
    }
  }
  return out;
}

export const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
export { until };
