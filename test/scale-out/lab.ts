/**
 * A routed fabric for bgp_announce, in network namespaces: one upstream router running FRR
 * (zebra, bgpd with ECMP, bfdd), directors each running keepalived-ts (or keepalived 2.2.7)
 * beside FRR or BIRD, and a client behind the upstream.
 *
 *   client 10.78.0.2 --- 10.78.0.1 upstream 10.77.0.1 --- bridge --- 10.77.0.1N director N
 *
 * The directors' routing daemons run the snippets shipped in examples/bgp-announce/ (only
 * the director's own address is replaced), so the tests prove the examples too. Every daemon
 * gets a private directory for its config, sockets and pid files (nothing under /etc/frr or
 * /run/frr), and the BFD timers come from the examples (200 ms x 3).
 *
 * Each director answers queries to the VIP itself (UDP, name-server.mjs): the host kernel has
 * no IPVS, so the data path through real servers, and TCP connections that survive a move
 * between directors, are the VM's part (test/kernel/scenarios/scale-out.ts).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsLab, netnsAvailable, sh, until } from '../helpers/netns.js';
import { RunningDaemon, alive, readPid, sleep } from '../daemon/daemon-lab.js';

export { sleep, until, alive, readPid };
export type Routing = 'frr' | 'bird';
export type Impl = 'ours' | 'keepalived';

/** The checkout: this file runs from test/ (vitest) and from dist/test/ (the bench). */
function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const ROOT = checkoutRoot();
const EXAMPLES = join(ROOT, 'examples', 'bgp-announce');
const NAME_SERVER = join(ROOT, 'test', 'scale-out', 'name-server.mjs');
const NAME_CLIENT = join(ROOT, 'test', 'scale-out', 'name-client.mjs');
export const PORT = 5353;

/** The example director's address, replaced by each director's own. */
const EXAMPLE_DIRECTOR = '10.77.0.11';
export const UPSTREAM = '10.77.0.1';
export const CLIENT = '10.78.0.2';
export const VIP = '10.99.0.1';

/** Why the lab cannot run here, or null. */
export function scaleOutLabUnavailable(needKeepalived = false): string | null {
  const netns = netnsAvailable();
  if (netns) return netns;
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) return 'dist/ missing: run `npm run build` first';
  const tools = ['/usr/lib/frr/zebra', '/usr/lib/frr/bgpd', '/usr/lib/frr/bfdd', 'vtysh', 'bird', 'birdc', ...(needKeepalived ? ['keepalived'] : [])];
  for (const t of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
    } catch {
      return `${t} not installed (Debian packages frr, bird2${needKeepalived ? ', keepalived' : ''})`;
    }
  }
  return null;
}

export interface Director {
  name: string;
  ns: string;
  ip: string;
  routing: Routing;
  dir: string;
  daemon: RunningDaemon | null;
  /** The logs of the daemons this director ran before the current one. */
  history: string[];
  /** The routing daemons' pids (FRR: zebra, bfdd, bgpd; BIRD: bird). */
  routingPids: number[];
}

export interface RealServerNs {
  name: string;
  ns: string;
  ip: string;
}

export interface LabOptions {
  /** Real servers on the fabric for IPVS DR (the VM's data path): the VIP on lo, no ARP for it. */
  realServers?: number;
  /** How often waits look at the upstream's FIB (each look spawns `ip`: slow it down in the VM). */
  pollMs?: number;
  /**
   * BFD intervals instead of the examples' 200 ms (x 3): the TCG guest starves its daemons for
   * longer than that while a node process starts, and a false BFD down drops a live director.
   */
  bfdIntervalMs?: number;
}

export class ScaleOutLab {
  readonly net: NetnsLab;
  readonly run: string;
  readonly directors: Director[] = [];
  readonly realServers: RealServerNs[] = [];
  private pollMs = 20;
  private bfdIntervalMs = 200;
  upstream = '';
  client = '';
  private upstreamDir = '';
  private readonly procs: ChildProcess[] = [];

  constructor(readonly tag: string) {
    this.net = new NetnsLab(tag);
    this.run = mkdtempSync(`/run/${tag}-`);
    chmodSync(this.run, 0o711); // FRR runs as user frr and must reach its directory
  }

  /** Builds the fabric with `routings.length` directors and starts the upstream's FRR. */
  async setup(routings: Routing[], opts: LabOptions = {}): Promise<void> {
    this.pollMs = opts.pollMs ?? this.pollMs;
    this.bfdIntervalMs = opts.bfdIntervalMs ?? this.bfdIntervalMs;
    this.upstream = this.net.ns('up');
    this.client = this.net.ns('cl');
    routings.forEach((routing, i) => {
      const name = `d${i + 1}`;
      const dir = join(this.run, name);
      mkdirSync(dir);
      this.directors.push({ name, ns: this.net.ns(name), ip: `10.77.0.${11 + i}`, routing, dir, daemon: null, history: [], routingPids: [] });
    });
    for (let i = 0; i < (opts.realServers ?? 0); i++) {
      const name = `r${i + 1}`;
      this.realServers.push({ name, ns: this.net.ns(name), ip: `10.77.0.${21 + i}` });
    }
    const onFabric = [this.upstream, ...this.directors.map((d) => d.ns), ...this.realServers.map((r) => r.ns)];
    const br = this.net.bridge(
      'sw',
      onFabric.map((ns) => ({ ns, ifname: 'eth0' })),
    );
    this.net.exec(br, 'ip link set br0 type bridge mcast_snooping 0');
    this.net.link(this.upstream, 'eth1', this.client, 'eth0');
    this.net.exec(
      this.upstream,
      [
        `ip addr add ${UPSTREAM}/24 dev eth0`,
        'ip addr add 10.78.0.1/24 dev eth1',
        'sysctl -qw net.ipv4.ip_forward=1',
        // hash on ports too: one client's connections spread over the next hops
        'sysctl -qw net.ipv4.fib_multipath_hash_policy=1',
      ].join(' && '),
    );
    this.net.exec(this.client, `ip addr add ${CLIENT}/24 dev eth0 && ip route add default via 10.78.0.1`);
    for (const d of this.directors) {
      this.net.exec(d.ns, `ip addr add ${d.ip}/24 dev eth0 && ip route add default via ${UPSTREAM}`);
    }
    for (const r of this.realServers) {
      // DR: the real server answers for the VIP but never claims it on the fabric
      this.net.exec(
        r.ns,
        [
          `ip addr add ${r.ip}/24 dev eth0`,
          `ip route add default via ${UPSTREAM}`,
          `ip addr add ${VIP}/32 dev lo`,
          'sysctl -qw net.ipv4.conf.all.arp_ignore=1',
          'sysctl -qw net.ipv4.conf.all.arp_announce=2',
        ].join(' && '),
      );
    }
    this.upstreamDir = join(this.run, 'up');
    mkdirSync(this.upstreamDir);
    const neighbours = this.directors.map((d) => ` neighbor ${d.ip} peer-group DIRECTORS`).join('\n');
    const upstreamConf = this.example('upstream-frr.conf')
      .replace(/^ neighbor 10\.77\.0\.1[1-3] peer-group DIRECTORS$\n?/gm, '')
      .replace(/^( neighbor DIRECTORS bfd profile fast)$/m, `$1\n${neighbours}`);
    await this.startFrr(this.upstream, this.upstreamDir, upstreamConf);
  }

  /** A shipped routing snippet, its BFD intervals as this lab runs them. */
  private example(name: string): string {
    const ms = this.bfdIntervalMs;
    return readFileSync(join(EXAMPLES, name), 'utf8')
      .replace(/(transmit|receive)-interval 200$/gm, `$1-interval ${ms}`)
      .replace(/(min (rx|tx) interval) 200 ms;/g, `$1 ${ms} ms;`);
  }

  /** Starts the director's FRR or BIRD with the example snippet. */
  async startRouting(d: Director): Promise<void> {
    if (d.routing === 'frr') {
      const conf = this.example('director-frr.conf').replaceAll(EXAMPLE_DIRECTOR, d.ip);
      d.routingPids = await this.startFrr(d.ns, d.dir, conf);
    } else {
      const conf = this.example('director-bird.conf').replaceAll(EXAMPLE_DIRECTOR, d.ip);
      writeFileSync(join(d.dir, 'bird.conf'), conf);
      for (const f of ['bird.ctl', 'bird.pid']) rmSync(join(d.dir, f), { force: true }); // a killed one's
      this.net.exec(d.ns, `bird -c ${d.dir}/bird.conf -s ${d.dir}/bird.ctl -P ${d.dir}/bird.pid`);
      await until(() => readPid(join(d.dir, 'bird.pid')) !== null, 10_000, `${d.name}: bird started`);
      d.routingPids = [readPid(join(d.dir, 'bird.pid'))!];
    }
  }

  /**
   * zebra, bfdd and bgpd with empty configs, then the integrated config through vtysh (as
   * FRR's own init script does with frr.conf). Returns their pids.
   */
  private async startFrr(ns: string, dir: string, conf: string): Promise<number[]> {
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, 'frr.conf'), conf);
    const pids: number[] = [];
    const daemons = ['zebra', 'bfdd', 'bgpd'];
    // a killed FRR's sockets and pid files would pass for the new one's
    for (const f of ['zserv.api', 'bfdd.sock', ...daemons.flatMap((n) => [`${n}.vty`, `${n}.pid`])]) rmSync(join(dir, f), { force: true });
    for (const daemon of daemons) {
      writeFileSync(join(dir, `${daemon}.conf`), '');
      const extra = daemon === 'bfdd' ? ` --bfdctl ${dir}/bfdd.sock` : '';
      this.net.exec(
        ns,
        `/usr/lib/frr/${daemon} -d -u frr -g frr -f ${dir}/${daemon}.conf -i ${dir}/${daemon}.pid ` +
          `-z ${dir}/zserv.api --vty_socket ${dir} -P 0 --log file:${dir}/${daemon}.log${extra}`,
      );
      await until(() => existsSync(join(dir, `${daemon}.vty`)), 10_000, `${daemon} in ${ns} started`);
      pids.push(readPid(join(dir, `${daemon}.pid`))!);
    }
    sh(`vtysh --vty_socket ${dir} -f ${dir}/frr.conf`);
    return pids;
  }

  vtysh(dir: string, command: string): string {
    return sh(`vtysh --vty_socket ${dir} -c ${JSON.stringify(command)}`);
  }

  upstreamVtysh(command: string): string {
    return this.vtysh(this.upstreamDir, command);
  }

  writeConf(d: Director, text: string): string {
    const p = join(d.dir, `keepalived-${Date.now()}.conf`);
    writeFileSync(p, text);
    return p;
  }

  /** Runs keepalived-ts (or keepalived 2.2.7) on a director; waits for `ready` in its log. */
  async startDaemon(d: Director, impl: Impl, confText: string, ready: RegExp, extraArgs: string[] = [], readyMs = 30_000): Promise<RunningDaemon> {
    const conf = this.writeConf(d, confText);
    const n = Date.now();
    const pidFiles = { parent: join(d.dir, `${n}.pid`), vrrp: join(d.dir, `${n}-vrrp.pid`), checker: join(d.dir, `${n}-checker.pid`) };
    const cmd = impl === 'ours' ? join(ROOT, 'bin', 'keepalived-ts') : 'keepalived';
    const p = this.net.spawn(d.ns, [cmd, '-n', '-l', '-f', conf, '-p', pidFiles.parent, '-r', pidFiles.vrrp, '-c', pidFiles.checker, ...extraArgs]);
    this.procs.push(p);
    const daemon = new RunningDaemon(impl, { name: d.name, ns: d.ns, ip: d.ip }, p, conf, pidFiles);
    if (d.daemon) d.history.push(d.daemon.log);
    d.daemon = daemon;
    await daemon.waitLog(ready, readyMs);
    return daemon;
  }

  /**
   * The checker child alone, as the daemon would fork it but without the watchdog parent
   * (it runs standalone: TERM stops it): in the TCG guest a loaded checker can miss the
   * parent's heartbeat deadline, and the watchdog is not what the VM scenario is about.
   */
  async startChecker(d: Director, confText: string, readyMs: number): Promise<RunningDaemon> {
    const conf = this.writeConf(d, confText);
    const main = join(ROOT, 'dist', 'src', 'checker', 'main.js');
    const owned = join(d.dir, 'ipvs-owned.json');
    const p = this.net.spawn(d.ns, [process.execPath, '--single-threaded', main, '--config', conf, '--owned-state', owned, '--log-console']);
    this.procs.push(p);
    const pids = { parent: join(d.dir, 'none.pid'), vrrp: join(d.dir, 'none-vrrp.pid'), checker: join(d.dir, 'none-checker.pid') };
    const daemon = new RunningDaemon('ours', { name: d.name, ns: d.ns, ip: d.ip }, p, conf, pids);
    if (d.daemon) d.history.push(d.daemon.log);
    d.daemon = daemon;
    await daemon.waitLog(/checker started/, readyMs);
    return daemon;
  }

  /** The UDP server answering the director's name on PORT (any local address, the VIP too). */
  startNameServer(d: Director): void {
    this.procs.push(this.net.spawn(d.ns, [process.execPath, NAME_SERVER, d.name, String(PORT)]));
  }

  async waitNameServers(): Promise<void> {
    for (const d of this.directors) {
      await until(
        () => {
          try {
            return this.net.exec(d.ns, `ss -Hlun sport = :${PORT}`).includes(`:${PORT}`);
          } catch {
            return false;
          }
        },
        10_000,
        `${d.name}: name server listening`,
      );
    }
  }

  /** The upstream's next hops for `prefix` in its FIB (the kernel's, not FRR's RIB). */
  nextHops(prefix = `${VIP}/32`): string[] {
    const out = this.net.exec(this.upstream, `ip -j route show ${prefix}`);
    const routes = JSON.parse(out || '[]') as { gateway?: string; nexthops?: { gateway: string }[] }[];
    const hops = routes.flatMap((r) => (r.nexthops ? r.nexthops.map((h) => h.gateway) : r.gateway ? [r.gateway] : []));
    return hops.sort();
  }

  /** The MED of each path the upstream has for `prefix`, by next hop, from FRR. */
  upstreamMeds(prefix = `${VIP}/32`): Record<string, number> {
    const j = JSON.parse(this.upstreamVtysh(`show ip bgp ${prefix} json`)) as { paths?: { metric?: number; nexthops?: { ip: string }[] }[] };
    const out: Record<string, number> = {};
    for (const p of j.paths ?? []) out[p.nexthops?.[0]?.ip ?? '?'] = p.metric ?? 0;
    return out;
  }

  /** Waits until the upstream's FIB holds exactly these next hops; returns the milliseconds it took. */
  async waitNextHops(expected: string[], ms: number, prefix = `${VIP}/32`): Promise<number> {
    const want = JSON.stringify([...expected].sort());
    const started = Date.now();
    let last: string[] = [];
    while (JSON.stringify((last = this.nextHops(prefix))) !== want) {
      if (Date.now() - started > ms) throw new Error(`upstream next hops for ${prefix}: ${JSON.stringify(last)}, expected ${want} within ${ms} ms`);
      await sleep(this.pollMs);
    }
    return Date.now() - started;
  }

  /** Starts the query loop in the client namespace (name-client.mjs). */
  startClient(intervalMs = 10, address = VIP): Client {
    const out = join(this.run, `client-${Date.now()}.json`);
    const p = this.net.spawn(this.client, [process.execPath, NAME_CLIENT, address, String(PORT), out, String(intervalMs)]);
    this.procs.push(p);
    return new Client(p, out);
  }

  /** kill -9 of every process in the director's namespace: ours, the routing daemon, the name server. */
  killDirector(d: Director): void {
    sh(`ip netns pids ${d.ns} | xargs -r kill -9`);
  }

  /** kill -9 of keepalived-ts's processes on the director, all at once (the routing daemon stays). */
  killOurs(d: Director): number[] {
    const pids = [d.daemon?.pid, d.daemon?.vrrpPid(), d.daemon?.checkerPid()].filter((p): p is number => typeof p === 'number' && alive(p));
    if (pids.length) sh(`kill -9 ${pids.join(' ')}`);
    return pids;
  }

  /** What a failed wait prints: BGP state on every router, routes, daemon logs. */
  describe(): string {
    const tryRun = (f: () => string) => {
      try {
        return f();
      } catch (e) {
        return (e as Error).message;
      }
    };
    const parts = [`upstream:\n${tryRun(() => this.upstreamVtysh('show bgp summary'))}${tryRun(() => this.net.exec(this.upstream, 'ip route'))}`];
    for (const d of this.directors) {
      parts.push(`${d.name} routes:\n${tryRun(() => this.net.exec(d.ns, 'ip route; ip link show'))}`);
      if (d.routing === 'bird') parts.push(tryRun(() => sh(`birdc -s ${d.dir}/bird.ctl show protocols`)));
      for (const [i, old] of d.history.entries()) parts.push(`${d.name} log ${i + 1}:\n${old.slice(-3000)}`);
      parts.push(`${d.name} log:\n${d.daemon?.log.slice(-3000) ?? ''}`);
    }
    return parts.join('\n');
  }

  cleanup(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    // FRR and BIRD daemonize out of our process tree: their namespaces' pids take them
    this.net.cleanup();
    rmSync(this.run, { recursive: true, force: true });
  }
}

export interface ClientStats {
  sent: number;
  ok: number;
  failed: number;
  byName: Record<string, number>;
}

export class Client {
  constructor(
    private readonly proc: ChildProcess,
    private readonly out: string,
  ) {}

  stats(): ClientStats {
    try {
      return JSON.parse(readFileSync(this.out, 'utf8')) as ClientStats;
    } catch {
      return { sent: 0, ok: 0, failed: 0, byName: {} };
    }
  }

  /** Waits until `n` more queries were answered. */
  async answered(n: number, ms = 20_000): Promise<void> {
    const target = this.stats().ok + n;
    await until(() => this.stats().ok >= target, ms, `${n} answered queries`);
  }

  /** Stops the loop; the final counts are written on the way out. */
  async stop(): Promise<ClientStats> {
    if (this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      await new Promise((r) => this.proc.once('exit', r));
    }
    return this.stats();
  }
}

/**
 * A config for VRRP over L3: the VIP announced while `instance` is MASTER. The instance has no
 * virtual_ipaddress: bgp_announce makes the VIP local (an address would become a connected
 * route, which FRR would export instead of the announcement).
 */
export function vrrpL3Conf(o: {
  instance: string;
  vrid: number;
  priority: number;
  state?: 'MASTER' | 'BACKUP';
  trackScript?: string;
  trackFile?: string;
  extra?: string;
  announce?: boolean;
  peers?: string[];
  src?: string;
}): string {
  const peers = o.peers?.length ? `  unicast_src_ip ${o.src}\n  unicast_peer {\n${o.peers.map((p) => `    ${p}`).join('\n')}\n  }\n` : '';
  const track =
    (o.trackScript ? `  track_script {\n    ${o.trackScript}\n  }\n` : '') +
    // weight 0: any value but 0 in the file puts the instance in FAULT
    (o.trackFile ? `  track_file {\n    health weight 0\n  }\n` : '');
  const trackFile = o.trackFile ? `vrrp_track_file health {\n  file ${o.trackFile}\n}\n` : '';
  const announce =
    o.announce === false
      ? ''
      : `bgp_announce {
  drain 0.5
  prefix ${VIP}/32 {
    follow vrrp ${o.instance}
  }
}
`;
  return `${trackFile}${o.extra ?? ''}vrrp_instance ${o.instance} {
  state ${o.state ?? 'BACKUP'}
  interface eth0
  virtual_router_id ${o.vrid}
  priority ${o.priority}
  advert_int 1
${peers}${track}}
${announce}`;
}
