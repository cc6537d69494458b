// The VRRP engine on fake ports and a fake clock: no root, no sockets, no sleeping. What
// the namespace tests show on the wire (test/vrrp/), shown here from the engine's ports:
// the adverts it sends, the VIPs it adds and removes, the GARPs it starts.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeSync, constants as fsc, existsSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../clock/fake-clock.js';
import type { VirtualIp, VrrpInstance } from '../config/model.js';
import { createLogger, type LogRecord } from '../log/logger.js';
import type { InterfaceAddress, Link, RouteWatch, RuleSpec } from '../netlink/index.js';
import { ScriptHost } from '../script/index.js';
import { VrrpEngine } from './engine.js';
import type {
  AdvertSocket,
  AnnouncePort,
  FirewallPort,
  LinkTrackerEvents,
  LinkView,
  ProcessPort,
  ReceivedPacket,
  RoutingPort,
  TransportOptions,
  VipPort,
  VirtualLinkPort,
  VrrpHost,
} from './engine-ports.js';
import type { ProcEvent } from '../netlink/index.js';
import type { ProcessInfo } from './track-process.js';
import type { FirewallRules } from '../firewall/rules.js';
import { configOf, instanceText, removedRoute, removeConfigFiles } from './engine-testkit.js';
import { until } from '../../test/helpers/netns.js';
import { installedVips, vipDevice, virtualIpToSpec } from './vips.js';
import type { HeldByVrrp } from '../watchdog/ipc.js';
import { encodeAdvert, encodeAhDatagram, encodeIpv4Datagram, parseIpv4Packet, RejectReason } from './packet.js';

const OURS = '10.0.0.1';
const PEER = '10.0.0.2';
const VIP = '10.0.0.100';

const link = (index: number, name: string, up = true): Link =>
  ({
    index,
    name,
    mac: `02:00:00:00:00:0${index}`,
    broadcastMac: 'ff:ff:ff:ff:ff:ff',
    mtu: 1500,
    adminUp: up,
    running: up,
    lowerUp: up,
    operState: up ? 'up' : 'down',
    hardwareType: 1,
    kind: 'veth',
  }) as Link;

const address = (ifindex: number, addr: string): InterfaceAddress =>
  ({
    ifindex,
    family: 4,
    address: addr,
    prefix: 24,
    peer: null,
    broadcast: null,
    label: null,
    scope: 'global',
    flags: { secondary: false, noDad: false, optimistic: false, dadFailed: false, deprecated: false, tentative: false, permanent: true },
  }) as InterfaceAddress;

class FakeSocket implements AdvertSocket {
  readonly sent: { dst: string; priority: number; packet: Buffer }[] = [];
  prioritised: readonly string[] = [];
  closed = false;
  constructor(
    readonly opts: TransportOptions,
    readonly deliver: (p: ReceivedPacket) => void,
  ) {}
  send(packet: Buffer, dst: string): Promise<void> {
    const r = parseIpv4Packet(packet);
    if (!r.ok) throw new Error(`the engine sent an advert that does not parse: ${r.reason}`);
    // a copy, as the kernel takes one: the engine stamps the next advert's IP id into its buffer
    this.sent.push({ dst, priority: r.rx.advert.priority, packet: Buffer.from(packet) });
    return Promise.resolve();
  }
  prioritise(sources: readonly string[]): void {
    this.prioritised = sources;
  }
  /** Packets the kernel has queued that the event loop has not read yet (readPending takes them). */
  readonly queued: ReceivedPacket[] = [];
  readPending(): void {
    for (const p of this.queued.splice(0)) this.deliver(p);
  }
  close(): void {
    this.closed = true;
  }
}

/** Processes by pid, and the kernel's events about them (or none: `connector` false). */
class FakeProcesses implements ProcessPort {
  readonly procs = new Map<number, ProcessInfo>();
  connector = true;
  private emit: ((ev: ProcEvent) => void) | null = null;

  list(): ProcessInfo[] {
    return [...this.procs.values()];
  }
  read(pid: number): ProcessInfo | null {
    return this.procs.get(pid) ?? null;
  }
  subscribe(onEvent: (ev: ProcEvent) => void): Promise<{ close(): void }> {
    if (!this.connector) return Promise.reject(new Error('subscribe to process events (send): Connection refused (ECONNREFUSED)'));
    this.emit = onEvent;
    return Promise.resolve({ close: () => (this.emit = null) });
  }
  /** fork of `parent` into `pid`, then exec of argv (null: no exec, the child keeps the parent's image). */
  spawn(pid: number, argv: string[] | null, parent = 1): void {
    const image = argv ? { comm: argv[0]!.slice(0, 15), cmdline: argv.map((a) => `${a}\0`).join('') } : this.procs.get(parent)!;
    this.procs.set(pid, { pid, comm: image.comm, cmdline: image.cmdline });
    this.emit?.({ kind: 'fork', parentTgid: parent, childPid: pid, childTgid: pid });
    if (argv) this.emit?.({ kind: 'exec', pid, tgid: pid });
  }
  kill(pid: number): void {
    this.procs.delete(pid);
    this.emit?.({ kind: 'exit', pid, tgid: pid });
  }
}

/** The host: lo and one interface eth0 (10.0.0.1/24), VIPs as a set, sockets and GARPs recorded. */
class FakeHost implements VrrpHost {
  readonly procs = new FakeProcesses();
  readonly links = new Map<string, Link>([
    ['lo', link(1, 'lo')],
    ['eth0', link(2, 'eth0')],
  ]);
  readonly addrs = new Map<string, InterfaceAddress[]>([['eth0', [address(2, OURS)]]]);
  /** VIPs on the host, `ifname address/prefix`. */
  readonly vipsOnHost = new Set<string>();
  readonly vipLog: string[] = [];
  /** Routing calls in order: `+route TEXT`, `-rule TEXT`, `+addr ADDRESS` ... */
  readonly routingLog: string[] = [];
  readonly sockets: FakeSocket[] = [];
  readonly garps: { link: string; addresses: readonly string[]; repeat: number }[] = [];
  events: LinkTrackerEvents | null = null;
  closed = false;
  /** Fired while the link view opens (the subscription is live before the first listing). */
  eventsWhileOpening: ((e: LinkTrackerEvents) => void) | null = null;
  routeWatch: RouteWatch | null = null;
  /** The firewall's tables: the addresses dropped (null: no table); its changes go to vipLog. */
  firewall: { table: string; dropped: string[] } | null = null;
  firewallClosed = false;
  openFirewall?: () => FirewallPort;

  /** A host with the VRRP firewall: each change logged as `fw ADDRESSES` beside the VIP changes. */
  withFirewall(): void {
    this.openFirewall = () => ({
      apply: (rules: FirewallRules | null) => {
        this.firewall = rules && { table: rules.settings.table, dropped: [...rules.ipv4, ...rules.ipv6] };
        this.vipLog.push(`fw ${this.firewall?.dropped.join(',') ?? 'none'}`);
        return Promise.resolve();
      },
      close: () => {
        this.firewallClosed = true;
        this.firewall = null;
        return Promise.resolve();
      },
    });
  }

  openLinks(events: LinkTrackerEvents): Promise<LinkView> {
    this.events = events;
    this.eventsWhileOpening?.(events);
    const links = this.links;
    return Promise.resolve({
      link: (n) => links.get(n) ?? null,
      ifindex: (n) => links.get(n)?.index ?? null,
      isUp: (n) => Boolean(links.get(n)?.adminUp && links.get(n)?.running),
      addresses: (n) => Promise.resolve(this.addrs.get(n) ?? []),
      refresh: () => Promise.resolve(),
      watchRoutes: (w) => void (this.routeWatch = w),
      close: () => undefined,
    });
  }

  vips(): VipPort {
    const key = (inst: VrrpInstance, v: VirtualIp) => `${vipDevice(inst, v)} ${v.address}/${v.prefix}`;
    return {
      add: (inst, vips) => {
        for (const v of vips) {
          this.vipsOnHost.add(key(inst, v));
          this.vipLog.push(`+${key(inst, v)}`);
        }
        return Promise.resolve();
      },
      remove: (inst, vips) => {
        for (const v of vips) {
          this.vipsOnHost.delete(key(inst, v));
          this.vipLog.push(`-${key(inst, v)}`);
        }
        return Promise.resolve();
      },
      present: (inst) => Promise.resolve(installedVips(inst).filter((v) => this.vipsOnHost.has(key(inst, v)))),
      specs: (inst, vips) =>
        vips.flatMap((v) => {
          const dev = this.links.get(vipDevice(inst, v));
          return dev ? [virtualIpToSpec(v, dev.index)] : [];
        }),
    };
  }

  routing(): RoutingPort {
    const record = (sign: string, what: string, texts: readonly string[]) => {
      for (const t of texts) this.routingLog.push(`${sign}${what} ${t}`);
      return Promise.resolve();
    };
    return {
      addRoutes: (routes) =>
        record(
          '+',
          'route',
          routes.map((r) => r.text),
        ),
      removeRoutes: (routes) =>
        record(
          '-',
          'route',
          routes.map((r) => r.text),
        ),
      addRules: (rules) =>
        record(
          '+',
          'rule',
          rules.map((r) => r.text),
        ),
      removeRules: (rules) =>
        record(
          '-',
          'rule',
          rules.map((r) => r.text),
        ),
      addAddresses: (a) =>
        record(
          '+',
          'addr',
          a.map((x) => `${x.address}/${x.prefix} ${x.dev}`),
        ),
      removeAddresses: (a) =>
        record(
          '-',
          'addr',
          a.map((x) => `${x.address}/${x.prefix} ${x.dev}`),
        ),
    };
  }

  /** use_vmac links made and deleted, `+name kind on base mac` / `-name`. */
  readonly linkLog: string[] = [];

  virtualLinks(): VirtualLinkPort {
    return {
      ensure: (want) => {
        const name = want.name ?? `${want.prefix}.${want.vrid}`;
        this.links.set(name, { ...link(10 + this.links.size, name), mac: want.mac, kind: want.kind, parentIndex: this.links.get(want.base)!.index });
        this.linkLog.push(`+${name} ${want.kind} on ${want.base} ${want.mac}`);
        return Promise.resolve(name);
      },
      remove: (name) => {
        this.links.delete(name);
        this.linkLog.push(`-${name}`);
        return Promise.resolve();
      },
    };
  }

  openSocket(opts: TransportOptions, onPacket: (p: ReceivedPacket) => void): AdvertSocket {
    const s = new FakeSocket(opts, onPacket);
    this.sockets.push(s);
    return s;
  }

  openAnnouncer(): AnnouncePort {
    return {
      announceRepeatedly: (l, addresses, repeat) => {
        this.garps.push({ link: l.name, addresses, repeat });
        return Promise.resolve([]);
      },
      close: () => undefined,
    };
  }

  processes(): ProcessPort {
    return this.procs;
  }

  close(): void {
    this.closed = true;
  }

  get socket(): FakeSocket {
    const open = this.sockets.filter((s) => !s.closed);
    if (open.length !== 1) throw new Error(`${open.length} open sockets`);
    return open[0]!;
  }

  /** Priorities of the adverts sent so far (then forgets them). */
  takeSent(): number[] {
    const s = this.sockets.flatMap((x) => x.sent.splice(0));
    return s.map((x) => x.priority);
  }
}

interface PeerAdvert {
  priority: number;
  vrid?: number;
  src?: string;
  vips?: string[];
  ah?: { pass: string; seq: number };
}

/** A peer's advert as the socket hands it to the engine: the whole IPv4 datagram. */
function peerPacket(a: PeerAdvert): ReceivedPacket {
  const src = a.src ?? PEER;
  const dst = '224.0.0.18';
  const payload = encodeAdvert({
    version: 2,
    family: 4,
    vrid: a.vrid ?? 51,
    priority: a.priority,
    advertIntMs: 1000,
    addresses: a.vips ?? [VIP],
    auth: a.ah ? { type: 'AH', pass: a.ah.pass } : null,
    src,
    dst,
  });
  const data = a.ah
    ? encodeAhDatagram(payload, { src, dst, id: 1, pass: a.ah.pass, seq: a.ah.seq, unicast: false })
    : encodeIpv4Datagram(payload, { src, dst, id: 1 });
  return {
    payload: data,
    source: src,
    destination: dst,
    hopLimit: 255,
    sourceBytes: Buffer.from(src.split('.').map(Number)),
    destinationBytes: Buffer.from(dst.split('.').map(Number)),
  };
}

const instance = (extra = '', vips: string[] = [`${VIP}/24`]) => `
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
${vips.map((v) => `    ${v}`).join('\n')}
  }
${extra}
}
`;

interface Rig {
  engine: VrrpEngine;
  host: FakeHost;
  clock: FakeClock;
  logs: LogRecord[];
  state(): string;
}

const running: Rig[] = [];

async function rig(
  text: string,
  prepare?: (h: FakeHost) => void,
  opts: { dontReleaseVrrp?: boolean; onHeldChange?: (h: HeldByVrrp) => void } = {},
): Promise<Rig> {
  const host = new FakeHost();
  prepare?.(host);
  const clock = new FakeClock();
  const logs: LogRecord[] = [];
  const log = createLogger({ proc: 'vrrp', collect: (r) => logs.push(r) });
  const engine = new VrrpEngine({ log, host, clock, scripts: new ScriptHost({ log }), dontReleaseVrrp: opts.dontReleaseVrrp, onHeldChange: opts.onHeldChange });
  await engine.start(configOf(text));
  await clock.settle();
  const r = { engine, host, clock, logs, state: () => engine.status()[0]!.state };
  running.push(r);
  return r;
}

/** Runs `engine.stop()` while the clock moves, as the process would. */
async function stopWhile(r: Rig, during: () => Promise<void>): Promise<void> {
  let stopped = false;
  const p = r.engine.stop().then(() => (stopped = true));
  await during();
  for (let i = 0; i < 20 && !stopped; i++) await r.clock.advance(500);
  await p;
}

/** Master_Down_Interval for priority 100, v2, 1 s adverts: 3 s + (256 - 100)/256 s. */
const MASTER_DOWN_MS = 3000 + (156 * 1000) / 256;

describe('VrrpEngine on fake ports', () => {
  afterEach(async () => {
    for (const r of running.splice(0)) await stopWhile(r, () => Promise.resolve());
  });
  afterAll(() => removeConfigFiles());

  it('use_vmac: the macvlan is made at start, adverts go out on it, the VIPs go on it, it is deleted at stop', async () => {
    const r = await rig(instance('  use_vmac', [`${VIP}/24`, '10.0.0.101/24 dev eth0', '10.9.0.1/24 dev lo']));
    expect(r.host.linkLog).toEqual(['+vrrp.51 macvlan on eth0 00:00:5e:00:01:33']);
    expect(r.host.socket.opts).toMatchObject({ ifname: 'vrrp.51', ifindex: r.host.links.get('vrrp.51')!.index, srcAddress: OURS });
    await r.clock.advance(MASTER_DOWN_MS + 1);
    expect(r.state()).toBe('MASTER');
    expect(r.host.takeSent()).toEqual([100]);
    // written without a device or on the base interface: on the VMAC; on another device: there
    expect([...r.host.vipsOnHost].sort()).toEqual(['lo 10.9.0.1/24', `vrrp.51 ${VIP}/24`, 'vrrp.51 10.0.0.101/24']);
    expect(r.host.garps.map((g) => g.link)).toContain('vrrp.51');
    await stopWhile(r, () => Promise.resolve());
    running.splice(running.indexOf(r), 1);
    expect(r.host.vipsOnHost.size).toBe(0);
    expect(r.host.linkLog).toEqual(['+vrrp.51 macvlan on eth0 00:00:5e:00:01:33', '-vrrp.51']);
  });

  it('use_ipvlan: adverts go out on the ipvlan from its address, the VIPs stay on the base as keepalived 2.2.7 leaves them', async () => {
    const r = await rig(instance('  use_ipvlan 10.0.0.11/24 private'));
    expect(r.host.linkLog).toEqual(['+vrrp.51 ipvlan on eth0 00:00:5e:00:01:33']);
    expect(r.host.socket.opts).toMatchObject({ ifname: 'vrrp.51', ifindex: r.host.links.get('vrrp.51')!.index, srcAddress: '10.0.0.11' });
    await r.clock.advance(MASTER_DOWN_MS + 1);
    expect(r.state()).toBe('MASTER');
    expect([...r.host.vipsOnHost]).toEqual([`eth0 ${VIP}/24`]);
  });

  it('an advert that arrives while a later instance is still being set up waits for no machine (start goes on)', async () => {
    const two = `${instance()}${instance('  use_vmac').replace('VI_1', 'VI_2').replace('virtual_router_id 51', 'virtual_router_id 52')}`;
    const r = await rig(two, (h) => {
      const links = h.virtualLinks();
      // the first instance's socket is open and readable while the second's VMAC is made
      h.virtualLinks = () => ({ ...links, ensure: (want, claimed) => (h.sockets[0]!.deliver(peerPacket({ priority: 200 })), links.ensure(want, claimed)) });
    });
    expect(r.logs.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([]);
    expect(r.host.sockets.map((s) => s.opts.ifname)).toEqual(['eth0', 'vrrp.52']);
    expect(r.engine.status().map((i) => i.state)).toEqual(['BACKUP', 'BACKUP']);
  });

  it('use_vmac with vmac_xmit_base: the VIPs on the VMAC, the adverts on the base interface; a named VMAC', async () => {
    const r = await rig(instance('  use_vmac vmac51\n  vmac_xmit_base'));
    expect(r.host.linkLog).toEqual(['+vmac51 macvlan on eth0 00:00:5e:00:01:33']);
    expect(r.host.socket.opts).toMatchObject({ ifname: 'eth0', ifindex: 2 });
    await r.clock.advance(MASTER_DOWN_MS + 1);
    expect([...r.host.vipsOnHost]).toEqual([`vmac51 ${VIP}/24`]);
  });

  it('use_vmac: the VMAC going away puts the instance in FAULT (it is tracked like its interface)', async () => {
    const r = await rig(instance('  use_vmac'));
    await r.clock.advance(MASTER_DOWN_MS + 1);
    expect(r.state()).toBe('MASTER');
    r.host.links.delete('vrrp.51');
    r.host.events!.onLink('vrrp.51', false);
    await r.clock.settle();
    expect(r.state()).toBe('FAULT');
  });

  it('reload: an instance that drops use_vmac loses its VMAC; one that is removed too', async () => {
    const r = await rig(instance('  use_vmac'));
    await r.engine.reload(configOf(instance()));
    await r.clock.settle();
    expect(r.host.linkLog).toEqual(['+vrrp.51 macvlan on eth0 00:00:5e:00:01:33', '-vrrp.51']);
    expect(r.host.socket.opts).toMatchObject({ ifname: 'eth0' });
    await r.engine.reload(configOf(instance('  use_vmac')));
    await r.engine.reload(configOf(instance().replace('virtual_router_id 51', 'virtual_router_id 52')));
    await r.clock.settle();
    expect(r.host.linkLog.slice(2)).toEqual(['+vrrp.51 macvlan on eth0 00:00:5e:00:01:33', '-vrrp.51']);
  });

  it('use_vmac_addr: the VIP on eth1 goes on a VMAC of eth1; a reload without it deletes the VMAC', async () => {
    const r = await rig(instance('  use_vmac_addr', [`${VIP}/24`, '10.0.1.100/24 dev eth1']), (h) => h.links.set('eth1', link(3, 'eth1', true)));
    expect(r.host.linkLog).toEqual(['+vrrp.51 macvlan on eth1 00:00:5e:00:01:33']);
    await r.clock.advance(MASTER_DOWN_MS);
    expect([...r.host.vipsOnHost].sort()).toEqual([`eth0 ${VIP}/24`, 'vrrp.51 10.0.1.100/24']);
    await r.engine.reload(configOf(instance('  use_vmac_addr')));
    await r.clock.settle();
    expect(r.host.linkLog.slice(1)).toEqual(['-vrrp.51']);
    expect([...r.host.vipsOnHost]).toEqual([`eth0 ${VIP}/24`]);
  });

  it('start: BACKUP until Master_Down passes in silence, then MASTER: advert, VIPs, GARP', async () => {
    const r = await rig(instance());
    expect(r.state()).toBe('BACKUP');
    expect(r.host.socket.opts).toMatchObject({ ifname: 'eth0', ifindex: 2, group: '224.0.0.18' });
    await r.clock.advance(MASTER_DOWN_MS - 1);
    expect(r.state()).toBe('BACKUP');
    expect(r.host.takeSent()).toEqual([]);
    expect(r.host.vipsOnHost.size).toBe(0);
    await r.clock.advance(1);
    expect(r.state()).toBe('MASTER');
    expect(r.host.takeSent()).toEqual([100]);
    expect([...r.host.vipsOnHost]).toEqual([`eth0 ${VIP}/24`]);
    expect(r.host.garps).toEqual([{ link: 'eth0', addresses: [VIP], repeat: 5 }]);
    // then one advert per advert_int
    await r.clock.advance(3000);
    expect(r.host.takeSent()).toEqual([100, 100, 100]);
    expect(r.logs.map((l) => l.msg)).toContain('(VI_1) Entering MASTER STATE');
  });

  it('a higher-priority master keeps it BACKUP; its silence makes it MASTER; its return takes the VIPs back', async () => {
    const r = await rig(instance());
    for (let i = 0; i < 10; i++) {
      r.host.socket.deliver(peerPacket({ priority: 200 }));
      await r.clock.advance(1000);
    }
    expect(r.state()).toBe('BACKUP');
    expect(r.engine.status()[0]!.master).toBe(PEER);
    expect(r.host.takeSent()).toEqual([]);
    // the known master's adverts get their own receive queue (flood resistance)
    expect(r.host.socket.prioritised).toEqual([PEER]);
    await r.clock.advance(MASTER_DOWN_MS);
    expect(r.state()).toBe('MASTER');
    expect(r.host.vipsOnHost.size).toBe(1);
    r.host.socket.deliver(peerPacket({ priority: 200 }));
    await r.clock.settle();
    expect(r.state()).toBe('BACKUP');
    // yielding: the VIPs stay a moment for the new master's GARPs to land (handover.ts)
    expect(r.host.vipsOnHost.size).toBe(1);
    await r.clock.advance(100);
    expect(r.host.vipsOnHost.size).toBe(0);
  });

  it('a BACKUP reads the adverts still queued on its socket before it acts on Master_Down (a stalled event loop)', async () => {
    const r = await rig(instance());
    r.host.socket.deliver(peerPacket({ priority: 200 }));
    await r.clock.advance(MASTER_DOWN_MS - 10);
    // the master's next advert arrived but the process was not scheduled to read it: the
    // deadline falls due with it still in the queue
    r.host.socket.queued.push(peerPacket({ priority: 200 }));
    await r.clock.advance(20);
    expect(r.state()).toBe('BACKUP');
    expect(r.host.socket.queued).toEqual([]);
    expect(r.host.takeSent()).toEqual([]);
    expect(r.host.vipsOnHost.size).toBe(0);
    // the advert it read moved the deadline: silence from then on makes it MASTER
    await r.clock.advance(MASTER_DOWN_MS);
    expect(r.state()).toBe('MASTER');
  });

  it('reports what it holds for the parent: the VIPs as the kernel was asked for them and Master_Down, from MASTER to yielding', async () => {
    const reports: HeldByVrrp[] = [];
    const r = await rig(instance(), undefined, { onHeldChange: (h) => reports.push(h) });
    expect(reports).toEqual([{ addresses: [], masterDownMs: null }]);
    await r.clock.advance(MASTER_DOWN_MS);
    expect(r.state()).toBe('MASTER');
    const vip = { ifindex: 2, family: 4, address: VIP, prefix: 24 };
    expect(reports.at(-1)).toMatchObject({ addresses: [vip], masterDownMs: MASTER_DOWN_MS });
    r.host.socket.deliver(peerPacket({ priority: 200 }));
    await r.clock.settle();
    // yielding: still on the host for a moment, but no longer a master a backup waits for
    expect(reports.at(-1)).toMatchObject({ addresses: [vip], masterDownMs: null });
    await r.clock.advance(100);
    expect(reports.at(-1)).toEqual({ addresses: [], masterDownMs: null });
  });

  it("a peer's advert that arrives while later instances are still being created is not an error", async () => {
    const text = [1, 2, 3].map((i) => instanceText(`VI_${i}`, i, 'eth0', '', [`10.0.0.10${i}/24`])).join('');
    const r = await rig(text, (h) => {
      const open = h.openLinks.bind(h);
      h.openLinks = async (events) => {
        const view = await open(events);
        let asked = 0;
        // the instances' sources are read one by one: before the third, VI_1's socket is open
        const addresses = view.addresses.bind(view);
        view.addresses = (n, f) => {
          if (++asked === 3) h.socket.deliver(peerPacket({ priority: 200, vrid: 1, vips: ['10.0.0.101'] }));
          return addresses(n, f);
        };
        return view;
      };
    });
    expect(r.logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.msg)).toEqual([]);
    expect(r.engine.status().map((s) => s.state)).toEqual(['BACKUP', 'BACKUP', 'BACKUP']);
    // and the instance runs: its master's adverts keep it BACKUP past Master_Down
    for (let i = 0; i < 5; i++) {
      r.host.socket.deliver(peerPacket({ priority: 200, vrid: 1, vips: ['10.0.0.101'] }));
      await r.clock.advance(1000);
    }
    expect(r.engine.status().map((s) => s.state)).toEqual(['BACKUP', 'MASTER', 'MASTER']);
  });

  it('instances that become MASTER at one deadline make one report to the parent, with all of them', async () => {
    const reports: HeldByVrrp[] = [];
    const text = [1, 2, 3].map((i) => instanceText(`VI_${i}`, i, 'eth0', '', [`10.0.0.10${i}/24`])).join('');
    const r = await rig(text, undefined, { onHeldChange: (h) => reports.push(h) });
    expect(reports).toHaveLength(1);
    await r.clock.advance(MASTER_DOWN_MS);
    expect(r.engine.status().map((s) => s.state)).toEqual(['MASTER', 'MASTER', 'MASTER']);
    expect(reports).toHaveLength(2);
    expect(reports[1]!.addresses.map((a) => a.address)).toEqual(['10.0.0.101', '10.0.0.102', '10.0.0.103']);
  });

  it('adoption: VIPs found at start are kept while no other master is seen, released when one is', async () => {
    const r = await rig(instance(), (h) => h.vipsOnHost.add(`eth0 ${VIP}/24`));
    expect(r.logs.some((l) => l.msg.includes('VIPs already present'))).toBe(true);
    // a restarted child resumes MASTER at once: no Master_Down wait, the VIPs never left
    expect(r.state()).toBe('MASTER');
    expect(r.host.vipLog).not.toContain(`-eth0 ${VIP}/24`);
    r.host.socket.deliver(peerPacket({ priority: 200 }));
    await r.clock.advance(200);
    expect(r.state()).toBe('BACKUP');
    expect(r.host.vipsOnHost.size).toBe(0);
  });

  it('adoption: VIPs found at start stay while the instance is the only master', async () => {
    const r = await rig(instance(), (h) => h.vipsOnHost.add(`eth0 ${VIP}/24`));
    await r.clock.advance(10_000);
    expect(r.state()).toBe('MASTER');
    expect(r.host.vipsOnHost.size).toBe(1);
    expect(r.host.takeSent().every((p) => p === 100)).toBe(true);
  });

  it('handover on stop: priority 0 at once, VIPs kept until the successor advertises (plus the linger), then removed', async () => {
    const r = await rig(instance());
    await r.clock.advance(MASTER_DOWN_MS);
    expect(r.state()).toBe('MASTER');
    r.host.takeSent();
    await stopWhile(r, async () => {
      await r.clock.settle();
      expect(r.host.takeSent()).toEqual([0]);
      await r.clock.advance(500);
      expect(r.host.vipsOnHost.size).toBe(1); // no successor yet
      r.host.socket.deliver(peerPacket({ priority: 50 }));
      await r.clock.advance(99);
      expect(r.host.vipsOnHost.size).toBe(1);
      await r.clock.advance(1);
      expect(r.host.vipsOnHost.size).toBe(0);
    });
    expect(r.host.closed).toBe(true);
    expect(r.host.sockets.every((s) => s.closed)).toBe(true);
  });

  it('handover on stop without a successor: the VIPs go when none can come any more (1 s + 250 ms for v2)', async () => {
    const r = await rig(instance());
    await r.clock.advance(MASTER_DOWN_MS);
    await stopWhile(r, async () => {
      await r.clock.advance(1249);
      expect(r.host.vipsOnHost.size).toBe(1);
      await r.clock.advance(1);
      expect(r.host.vipsOnHost.size).toBe(0);
    });
  });

  it('-V (dont_release_vrrp): a stopping MASTER leaves its VIPs', async () => {
    const r = await rig(instance(), undefined, { dontReleaseVrrp: true });
    await r.clock.advance(MASTER_DOWN_MS);
    await stopWhile(r, () => r.clock.advance(3000));
    expect(r.host.vipsOnHost.size).toBe(1);
  });

  it('AH: an advert accepted once is refused when replayed; a later sequence number is accepted', async () => {
    const auth = 'authentication {\n    auth_type AH\n    auth_pass secret\n  }';
    const r = await rig(instance(auth));
    expect(r.host.socket.opts.protocol).toBe(51);
    const rx = () => r.engine.status()[0]!.advertsReceived;
    r.host.socket.deliver(peerPacket({ priority: 200, ah: { pass: 'secret', seq: 10 } }));
    expect(rx()).toBe(1);
    r.host.socket.deliver(peerPacket({ priority: 200, ah: { pass: 'secret', seq: 10 } }));
    expect(r.engine.rejects.counts[RejectReason.AuthMismatch]).toBe(1);
    expect(r.logs.some((l) => l.msg.includes('a replay'))).toBe(true);
    r.host.socket.deliver(peerPacket({ priority: 200, ah: { pass: 'secret', seq: 11 } }));
    expect(rx()).toBe(2);
    // a wrong key is refused too
    r.host.socket.deliver(peerPacket({ priority: 200, ah: { pass: 'other', seq: 12 } }));
    expect(r.engine.rejects.counts[RejectReason.AuthMismatch]).toBe(2);
    expect(r.state()).toBe('BACKUP');
  });

  it('interface down: FAULT, VIPs removed; up again: BACKUP, then MASTER after Master_Down', async () => {
    const r = await rig(instance());
    await r.clock.advance(MASTER_DOWN_MS);
    expect(r.state()).toBe('MASTER');
    r.host.links.set('eth0', link(2, 'eth0', false));
    r.host.events!.onLink('eth0', false);
    await r.clock.settle();
    expect(r.state()).toBe('FAULT');
    expect(r.host.vipsOnHost.size).toBe(0);
    r.host.links.set('eth0', link(2, 'eth0', true));
    r.host.events!.onLink('eth0', true);
    await r.clock.settle();
    expect(r.state()).toBe('BACKUP');
    await r.clock.advance(MASTER_DOWN_MS);
    expect(r.state()).toBe('MASTER');
  });

  it('link and address events while the link view is still opening are taken from the state it opens with', async () => {
    const r = await rig(instance(), (h) => {
      h.links.set('eth0', link(2, 'eth0', false));
      h.eventsWhileOpening = (e) => {
        e.onLink('eth0', false);
        e.onAddressRemoved(address(2, OURS));
        e.onAddressAdded?.(address(2, OURS));
      };
    });
    expect(r.state()).toBe('FAULT');
  });

  it("a VIP removed behind a MASTER's back: BACKUP with priority 0, MASTER again after the skew time with the VIP", async () => {
    const r = await rig(instance());
    await r.clock.advance(MASTER_DOWN_MS);
    r.host.takeSent();
    r.host.vipsOnHost.delete(`eth0 ${VIP}/24`);
    r.host.events!.onAddressRemoved(address(2, VIP));
    await r.clock.settle();
    expect(r.state()).toBe('BACKUP');
    expect(r.host.takeSent()).toEqual([0]);
    await r.clock.advance((156 * 1000) / 256);
    expect(r.state()).toBe('MASTER');
    expect([...r.host.vipsOnHost]).toEqual([`eth0 ${VIP}/24`]);
  });

  it("a `no_track` VIP removed behind a MASTER's back is left deleted and the instance stays MASTER (keepalived address_is_ours)", async () => {
    const r = await rig(instance('', [`${VIP}/24 no_track`]));
    await r.clock.advance(MASTER_DOWN_MS);
    r.host.takeSent();
    r.host.vipsOnHost.delete(`eth0 ${VIP}/24`);
    r.host.events!.onAddressRemoved(address(2, VIP));
    await r.clock.settle();
    expect(r.state()).toBe('MASTER');
    await r.clock.advance(1000);
    expect(r.host.takeSent()).toEqual([100]);
    expect([...r.host.vipsOnHost]).toEqual([]);
  });

  it('reload: a MASTER keeps its state and edits only its VIPs; a new priority is on the next advert', async () => {
    const r = await rig(instance());
    await r.clock.advance(MASTER_DOWN_MS);
    r.host.takeSent();
    r.host.vipLog.length = 0;
    await r.engine.reload(configOf(instance('', [`${VIP}/24`, '10.0.0.101/24']).replace('priority 100', 'priority 150')));
    await r.clock.settle();
    expect(r.state()).toBe('MASTER');
    expect(r.host.vipLog).toEqual(['+eth0 10.0.0.101/24']);
    await r.clock.advance(1000);
    expect(r.host.takeSent()).toEqual([150]);
    // the old socket stays: same interface, same source
    expect(r.host.sockets).toHaveLength(1);
  });

  it('reload of a BACKUP: its takeover advert carries the new priority and VIPs, and its IP id moves on', async () => {
    const r = await rig(instance());
    r.host.socket.deliver(peerPacket({ priority: 200 }));
    await r.clock.advance(1000);
    await r.engine.reload(configOf(instance('', [`${VIP}/24`, '10.0.0.101/24']).replace('priority 100', 'priority 150')));
    r.host.socket.deliver(peerPacket({ priority: 200 }));
    await r.clock.advance(MASTER_DOWN_MS);
    expect(r.state()).toBe('MASTER');
    await r.clock.advance(1000);
    const sent = r.host.socket.sent.splice(0).map((x) => x.packet);
    const decoded = sent.map((packet) => parseIpv4Packet(packet)).map((p) => (p.ok ? [p.rx.advert.priority, p.rx.advert.addresses] : p.reason));
    expect(decoded.length).toBeGreaterThan(1);
    expect(decoded).toEqual(decoded.map(() => [150, [VIP, '10.0.0.101']]));
    // the IPv4 id is stamped in per send (keepalived counts it per advert)
    expect(sent.map((p) => p.readUInt16BE(4))).toEqual(sent.map((_, i) => i + 1));
  });

  it('reload: a removed instance stops as on shutdown (priority 0, VIPs removed); an added one starts in BACKUP', async () => {
    const r = await rig(instance());
    await r.clock.advance(MASTER_DOWN_MS);
    r.host.takeSent();
    const other = instance().replace('VI_1', 'VI_2').replace('virtual_router_id 51', 'virtual_router_id 52').replace(VIP, '10.0.0.200');
    await r.engine.reload(configOf(other));
    await r.clock.settle();
    expect(r.host.takeSent()).toEqual([0]);
    expect(r.host.vipsOnHost.has(`eth0 ${VIP}/24`)).toBe(false);
    expect(r.engine.status().map((s) => [s.name, s.state])).toEqual([['VI_2', 'BACKUP']]);
    await r.clock.advance(MASTER_DOWN_MS);
    expect(r.engine.status()[0]!.state).toBe('MASTER');
    expect([...r.host.vipsOnHost]).toEqual(['eth0 10.0.0.200/24']);
  });

  describe('vrrp_notify_fifo lines', () => {
    const dir = mkdtempSync('/tmp/kt-engine-fifo-');
    const fds: number[] = [];
    afterAll(() => {
      for (const fd of fds) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    });
    let n = 0;
    /** A rig writing to a FIFO of its own, and what has been written to it so far. */
    async function withFifo(text: string): Promise<{ r: Rig; lines: () => string[]; globals: string }> {
      const path = join(dir, `fifo${++n}`);
      const globals = `global_defs {\n  vrrp_notify_fifo ${path}\n}\n`;
      const r = await rig(`${globals}${text}`);
      // the engine holds the FIFO open read-write: what it wrote waits in the pipe
      const fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
      fds.push(fd);
      const seen: string[] = [];
      return {
        r,
        globals,
        lines: () => {
          const buf = Buffer.alloc(4096);
          let got = 0;
          try {
            got = readSync(fd, buf);
          } catch {
            // EAGAIN: nothing new
          }
          seen.push(...buf.subarray(0, got).toString().split('\n').filter(Boolean));
          return seen;
        },
      };
    }

    it('a MASTER answering a lower-priority advert writes MASTER_RX_LOWER_PRI with its own priority, once per advert', async () => {
      const { r, lines } = await withFifo(instance());
      await r.clock.advance(MASTER_DOWN_MS);
      expect(lines()).toEqual(['INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 100']);
      r.host.socket.deliver(peerPacket({ priority: 50 }));
      r.host.socket.deliver(peerPacket({ priority: 50 }));
      await r.clock.settle();
      expect(r.state()).toBe('MASTER');
      expect(lines().slice(2)).toEqual(['INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100', 'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100']);
      // a higher one is no such line: the instance gives way
      r.host.socket.deliver(peerPacket({ priority: 200 }));
      await r.clock.settle();
      expect(lines().slice(4)).toEqual(['INSTANCE "VI_1" BACKUP 100']);
      // nor is a lower one heard as BACKUP
      r.host.socket.deliver(peerPacket({ priority: 50 }));
      await r.clock.settle();
      expect(lines().slice(5)).toEqual([]);
    });

    it('runs notify_master_rx_lower_pri with each such line', async () => {
      const mark = join(dir, 'rx-lower');
      const { r, lines } = await withFifo(instance(`  notify_master_rx_lower_pri "/usr/bin/touch ${mark}"`));
      await r.clock.advance(MASTER_DOWN_MS);
      r.host.socket.deliver(peerPacket({ priority: 50 }));
      await r.clock.settle();
      expect(lines()).toContain('INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100');
      await until(() => existsSync(mark), 5000, 'notify_master_rx_lower_pri ran');
    });

    it('an instance a reload removes is FAULT on the FIFO (keepalived), DELETED with notify_deleted; never STOP', async () => {
      const other = instance().replace('VI_1', 'VI_2').replace('virtual_router_id 51', 'virtual_router_id 52').replace(VIP, '10.0.0.200');
      for (const [extra, as] of [
        ['', 'FAULT'],
        ['  notify_deleted', 'DELETED'],
      ] as const) {
        const { r, lines, globals } = await withFifo(instance(extra));
        await r.clock.advance(MASTER_DOWN_MS);
        await r.engine.reload(configOf(`${globals}${other}`));
        await r.clock.settle();
        expect(r.host.takeSent().slice(-1)).toEqual([0]);
        expect(lines().filter((l) => l.includes('VI_1'))).toEqual(['INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 100', `INSTANCE "VI_1" ${as} 100`]);
      }
    });
  });

  it('a sync group moves together: a higher-priority master for one member takes both to BACKUP', async () => {
    const two = `${instance()}${instance().replace('VI_1', 'VI_2').replace('virtual_router_id 51', 'virtual_router_id 52').replace(VIP, '10.0.0.200')}
vrrp_sync_group G {
  group {
    VI_1
    VI_2
  }
}`;
    const r = await rig(two);
    await r.clock.advance(MASTER_DOWN_MS);
    expect(r.engine.status().map((s) => s.state)).toEqual(['MASTER', 'MASTER']);
    // VI_2 hears a higher priority master: the whole group goes BACKUP
    r.host.socket.deliver(peerPacket({ priority: 200, vrid: 52, vips: ['10.0.0.200'] }));
    await r.clock.advance(200);
    expect(r.engine.status().map((s) => s.state)).toEqual(['BACKUP', 'BACKUP']);
    expect(r.host.vipsOnHost.size).toBe(0);
  });

  describe('track_process', () => {
    const tracked = (block: string, ref = 'sleeper') => `
vrrp_track_process sleeper {
  process sleep kt-marker
${block}
}
${instance(`  track_process {\n    ${ref}\n  }`)}`;

    it('weight 0: FAULT while no matching process runs; an exec of one brings the instance back, its exit takes it down', async () => {
      const r = await rig(tracked(''));
      expect(r.state()).toBe('FAULT');
      r.host.procs.spawn(500, ['sleep', 'other']);
      await r.clock.advance(MASTER_DOWN_MS * 2);
      expect(r.state()).toBe('FAULT');
      r.host.procs.spawn(501, ['sleep', 'kt-marker']);
      await r.clock.settle();
      expect(r.state()).toBe('BACKUP');
      await r.clock.advance(MASTER_DOWN_MS);
      expect(r.state()).toBe('MASTER');
      expect(r.host.vipsOnHost.size).toBe(1);
      r.host.procs.kill(501);
      await r.clock.settle();
      expect(r.state()).toBe('FAULT');
      expect(r.host.vipsOnHost.size).toBe(0);
      expect(r.logs.map((l) => l.msg)).toEqual(
        expect.arrayContaining(['Quorum gained for tracked process sleeper', 'Quorum lost for tracked process sleeper']),
      );
    });

    it('a process running at start counts (the /proc scan); weight -50 lowers the priority terminate_delay after the exit', async () => {
      const r = await rig(tracked('  weight -50\n  terminate_delay 2'), (h) =>
        h.procs.procs.set(42, { pid: 42, comm: 'sleep', cmdline: 'sleep\0kt-marker\0' }),
      );
      await r.clock.advance(MASTER_DOWN_MS);
      expect(r.state()).toBe('MASTER');
      r.host.takeSent();
      r.host.procs.kill(42);
      await r.clock.advance(1000);
      expect(r.host.takeSent()).toEqual([100]);
      // back within the delay: the loss never counted
      r.host.procs.spawn(43, ['sleep', 'kt-marker']);
      await r.clock.advance(3000);
      expect(r.host.takeSent()).toEqual([100, 100, 100]);
      r.host.procs.kill(43);
      await r.clock.advance(2000);
      r.host.takeSent();
      await r.clock.advance(1000);
      expect(r.host.takeSent()).toEqual([50]);
    });

    it('quorum 2: one process is not enough; a fork of it is, after fork_delay', async () => {
      const r = await rig(tracked('  quorum 2\n  fork_delay 1.5'), (h) => h.procs.procs.set(42, { pid: 42, comm: 'sleep', cmdline: 'sleep\0kt-marker\0' }));
      expect(r.state()).toBe('FAULT');
      r.host.procs.spawn(43, null, 42);
      await r.clock.advance(1499);
      expect(r.state()).toBe('FAULT');
      await r.clock.advance(1);
      expect(r.state()).toBe('BACKUP');
    });

    it("the instance's own weight overrides the block's; reverse turns a running process into the penalty", async () => {
      const r = await rig(tracked('  weight 30', 'sleeper weight 20 reverse'), (h) =>
        h.procs.procs.set(42, { pid: 42, comm: 'sleep', cmdline: 'sleep\0kt-marker\0' }),
      );
      expect(r.engine.status()[0]!.priority).toBe(80);
      r.host.procs.kill(42);
      await r.clock.settle();
      expect(r.engine.status()[0]!.priority).toBe(100);
    });

    it('where the kernel has no process events, /proc is polled', async () => {
      const r = await rig(tracked(''), (h) => (h.procs.connector = false));
      expect(r.state()).toBe('FAULT');
      expect(r.logs.some((l) => l.level === 'warn' && l.msg.includes('polling /proc'))).toBe(true);
      r.host.procs.procs.set(77, { pid: 77, comm: 'sleep', cmdline: 'sleep\0kt-marker\0' });
      await r.clock.advance(1000);
      expect(r.state()).toBe('BACKUP');
      r.host.procs.procs.delete(77);
      await r.clock.advance(1000);
      expect(r.state()).toBe('FAULT');
    });

    it("a sync group's track_process applies to its members", async () => {
      const text = `
vrrp_track_process sleeper {
  process sleep
}
vrrp_sync_group G {
  group {
    VI_1
  }
  track_process {
    sleeper
  }
}
${instance()}`;
      const r = await rig(text);
      expect(r.state()).toBe('FAULT');
      r.host.procs.spawn(9, ['sleep', 'anything']);
      await r.clock.settle();
      expect(r.state()).toBe('BACKUP');
    });
  });

  describe('virtual_routes / virtual_rules and static_* through the routing port', () => {
    const ROUTED = instance(`  virtual_routes {
    10.9.0.0/24 via 10.0.0.254 dev eth0
  }
  virtual_rules {
    from 10.0.0.0/24 table 100 priority 100
  }`);
    const STATICS = `static_ipaddress {
  10.0.0.50/24 dev eth0
}
static_routes {
  10.8.0.0/24 via 10.0.0.254 dev eth0
}
static_rules {
  to 10.8.0.0/24 table 100 priority 50
}
`;

    it('MASTER adds the routes, then the rules; BACKUP takes rules, then routes, away at once', async () => {
      const r = await rig(ROUTED);
      expect(r.host.routingLog).toEqual([]);
      await r.clock.advance(MASTER_DOWN_MS);
      expect(r.state()).toBe('MASTER');
      expect(r.host.routingLog.splice(0)).toEqual(['+route 10.9.0.0/24 via 10.0.0.254 dev eth0', '+rule from 10.0.0.0/24 table 100 priority 100']);
      r.host.socket.deliver(peerPacket({ priority: 200 }));
      await r.clock.settle();
      expect(r.state()).toBe('BACKUP');
      expect(r.host.routingLog.splice(0)).toEqual(['-rule from 10.0.0.0/24 table 100 priority 100', '-route 10.9.0.0/24 via 10.0.0.254 dev eth0']);
      // a BACKUP hearing its master again removes nothing more
      r.host.socket.deliver(peerPacket({ priority: 200 }));
      await r.clock.advance(1000);
      expect(r.host.routingLog).toEqual([]);
    });

    it('FAULT removes them; stop removes them from a MASTER; a BACKUP stops without touching them', async () => {
      const r = await rig(ROUTED);
      await r.clock.advance(MASTER_DOWN_MS);
      r.host.routingLog.length = 0;
      r.host.events!.onLink('eth0', false);
      await r.clock.settle();
      expect(r.state()).toBe('FAULT');
      expect(r.host.routingLog.splice(0)).toEqual(['-rule from 10.0.0.0/24 table 100 priority 100', '-route 10.9.0.0/24 via 10.0.0.254 dev eth0']);
      r.host.events!.onLink('eth0', true);
      await r.clock.advance(MASTER_DOWN_MS + 10);
      expect(r.state()).toBe('MASTER');
      expect(r.host.routingLog.splice(0)).toEqual(['+route 10.9.0.0/24 via 10.0.0.254 dev eth0', '+rule from 10.0.0.0/24 table 100 priority 100']);
      await stopWhile(running.pop()!, () => Promise.resolve());
      expect(r.host.routingLog.splice(0)).toEqual(['-rule from 10.0.0.0/24 table 100 priority 100', '-route 10.9.0.0/24 via 10.0.0.254 dev eth0']);
      const backup = await rig(ROUTED);
      await stopWhile(running.pop()!, () => Promise.resolve());
      expect(backup.host.routingLog).toEqual([]);
    });

    it('reload of a MASTER: a removed route goes, a new rule comes, unchanged ones stay', async () => {
      const r = await rig(ROUTED);
      await r.clock.advance(MASTER_DOWN_MS);
      r.host.routingLog.length = 0;
      const next = instance(`  virtual_routes {
    10.9.1.0/24 via 10.0.0.254 dev eth0
  }
  virtual_rules {
    from 10.0.0.0/24 table 100 priority 100
    fwmark 7 table 101 priority 101
  }`);
      await r.engine.reload(configOf(next));
      await r.clock.settle();
      expect(r.state()).toBe('MASTER');
      expect(r.host.routingLog.splice(0)).toEqual([
        '-route 10.9.0.0/24 via 10.0.0.254 dev eth0',
        '+route 10.9.1.0/24 via 10.0.0.254 dev eth0',
        '+rule fwmark 7 table 101 priority 101',
      ]);
      // and leaving MASTER removes what the new config has
      r.host.socket.deliver(peerPacket({ priority: 200 }));
      await r.clock.settle();
      expect(r.host.routingLog.splice(0)).toEqual([
        '-rule from 10.0.0.0/24 table 100 priority 100',
        '-rule fwmark 7 table 101 priority 101',
        '-route 10.9.1.0/24 via 10.0.0.254 dev eth0',
      ]);
    });

    const removedRule = (more: Partial<RuleSpec>): RuleSpec => ({
      family: 4,
      action: 1,
      table: 100,
      tos: 0,
      invert: false,
      source: null,
      destination: null,
      priority: null,
      fwmark: null,
      fwmask: null,
      realms: null,
      suppressPrefixLength: null,
      suppressIfgroup: null,
      iifName: null,
      oifName: null,
      tunnelId: null,
      l3mdev: false,
      uidRange: null,
      protocol: 18,
      ipProto: null,
      sport: null,
      dport: null,
      goto: null,
      ...more,
    });

    it('a tracked virtual route or rule deleted behind a MASTER: BACKUP with priority 0, back to MASTER after the skew time, re-adding it', async () => {
      const r = await rig(ROUTED);
      expect(r.host.routeWatch).toEqual({ ipv4Routes: true, ipv6Routes: false, ipv4Rules: true, ipv6Rules: false });
      await r.clock.advance(MASTER_DOWN_MS);
      r.host.takeSent();
      r.host.routingLog.length = 0;
      // another table, another metric or another protocol is not ours
      r.host.events!.onRouteRemoved!(removedRoute('10.9.0.0', 24, { table: 100 }));
      r.host.events!.onRouteRemoved!(removedRoute('10.9.0.0', 24, { priority: 5 }));
      r.host.events!.onRouteRemoved!(removedRoute('10.9.0.0', 24, { protocol: 4 }));
      await r.clock.settle();
      expect(r.state()).toBe('MASTER');
      r.host.events!.onRouteRemoved!(removedRoute('10.9.0.0', 24));
      await r.clock.settle();
      expect(r.state()).toBe('BACKUP');
      expect(r.host.takeSent()).toEqual([0]);
      expect(r.logs.some((l) => l.msg.includes('`10.9.0.0/24 via 10.0.0.254 dev eth0` deleted behind our back'))).toBe(true);
      await r.clock.advance((156 * 1000) / 256);
      expect(r.state()).toBe('MASTER');
      expect(r.host.routingLog.splice(0)).toEqual([
        '-rule from 10.0.0.0/24 table 100 priority 100',
        '-route 10.9.0.0/24 via 10.0.0.254 dev eth0',
        '+route 10.9.0.0/24 via 10.0.0.254 dev eth0',
        '+rule from 10.0.0.0/24 table 100 priority 100',
      ]);
      // the rule: a different priority is another rule; the same one is ours
      r.host.takeSent();
      r.host.events!.onRuleRemoved!(removedRule({ source: { address: '10.0.0.0', length: 24 }, priority: 101 }));
      await r.clock.settle();
      expect(r.state()).toBe('MASTER');
      r.host.events!.onRuleRemoved!(removedRule({ source: { address: '10.0.0.0', length: 24 }, priority: 100 }));
      await r.clock.settle();
      expect(r.state()).toBe('BACKUP');
      // a BACKUP's routes are not there: their removal (ours, on leaving MASTER) changes nothing
      r.host.events!.onRouteRemoved!(removedRoute('10.9.0.0', 24));
      await r.clock.settle();
      expect(r.host.takeSent()).toEqual([0]);
    });

    it('a static route, rule or address deleted behind our back is added again', async () => {
      const r = await rig(`${STATICS}${instance()}`);
      // static entries without a track_group join no route group (keepalived process_static_entries)
      expect(r.host.routeWatch).toEqual({ ipv4Routes: false, ipv6Routes: false, ipv4Rules: false, ipv6Rules: false });
      await r.clock.settle();
      r.host.routingLog.length = 0;
      r.host.events!.onRouteRemoved!(removedRoute('10.8.0.0', 24, { priority: 7 }));
      r.host.events!.onRuleRemoved!(removedRule({ destination: { address: '10.8.0.0', length: 24 }, priority: 50 }));
      r.host.events!.onAddressRemoved(address(2, '10.0.0.50'));
      await r.clock.settle();
      expect(r.host.routingLog.splice(0)).toEqual([
        '+route 10.8.0.0/24 via 10.0.0.254 dev eth0',
        '+rule to 10.8.0.0/24 table 100 priority 50',
        '+addr 10.0.0.50/24 eth0',
      ]);
      expect(r.state()).toBe('BACKUP');
    });

    it("track_group: the group's instances track a static entry's interface, unweighted (FAULT while it is down); others do not", async () => {
      const statics = (group: string) => `track_group G {\n  group {\n    VI_1\n  }\n}\nstatic_routes {\n  10.8.0.0/24 via 10.1.0.254 dev eth1${group}\n}\n`;
      const withEth1 = (h: FakeHost) => void h.links.set('eth1', link(3, 'eth1', true));
      for (const [group, down] of [
        [' track_group G', 'FAULT'],
        ['', 'MASTER'],
        [' track_group G no_track', 'MASTER'],
      ] as const) {
        const r = await rig(`${statics(group)}${instance()}`, withEth1);
        await r.clock.advance(MASTER_DOWN_MS);
        expect(r.state()).toBe('MASTER');
        r.host.links.set('eth1', link(3, 'eth1', false));
        r.host.events!.onLink('eth1', false);
        await r.clock.settle();
        expect(r.state(), group).toBe(down);
        await stopWhile(running.pop()!, () => Promise.resolve());
      }
    });

    it('a `no_track` static address deleted behind our back is not added again', async () => {
      const r = await rig(`${STATICS.replace('10.0.0.50/24 dev eth0', '10.0.0.50/24 dev eth0 no_track')}${instance()}`);
      await r.clock.settle();
      r.host.routingLog.length = 0;
      r.host.events!.onAddressRemoved(address(2, '10.0.0.50'));
      await r.clock.settle();
      expect(r.host.routingLog).toEqual([]);
    });

    it('static_*: leftovers cleared then applied at start whatever the state, reconciled on reload, removed at stop', async () => {
      const r = await rig(`${STATICS}${instance()}`);
      expect(r.state()).toBe('BACKUP');
      expect(r.host.routingLog.splice(0)).toEqual([
        '-rule to 10.8.0.0/24 table 100 priority 50',
        '-route 10.8.0.0/24 via 10.0.0.254 dev eth0',
        '-addr 10.0.0.50/24 eth0',
        '+addr 10.0.0.50/24 eth0',
        '+route 10.8.0.0/24 via 10.0.0.254 dev eth0',
        '+rule to 10.8.0.0/24 table 100 priority 50',
      ]);
      await r.engine.reload(configOf(`${STATICS.replace('10.8.0.0/24 via', '10.8.5.0/24 via')}${instance()}`));
      await r.clock.settle();
      expect(r.host.routingLog.splice(0)).toEqual(['-route 10.8.0.0/24 via 10.0.0.254 dev eth0', '+route 10.8.5.0/24 via 10.0.0.254 dev eth0']);
      // the kernel drops a link's routes when it goes down: the tracked static ones come back with it
      r.host.events!.onLink('eth0', false);
      r.host.events!.onLink('eth0', true);
      await r.clock.settle();
      expect(r.host.routingLog.splice(0)).toEqual(['+route 10.8.5.0/24 via 10.0.0.254 dev eth0']);
      await stopWhile(running.pop()!, () => Promise.resolve());
      expect(r.host.routingLog.splice(0)).toEqual([
        '-rule to 10.8.0.0/24 table 100 priority 50',
        '-route 10.8.5.0/24 via 10.0.0.254 dev eth0',
        '-addr 10.0.0.50/24 eth0',
      ]);
    });
  });

  describe('the VRRP firewall (accept mode)', () => {
    const strict = (extra = '') => `global_defs {\n  vrrp_strict\n}\n${instance(extra)}`;

    it('a MASTER without accept: the drop rule goes in before its VIP and out after it; the tables go at stop', async () => {
      const r = await rig(strict(), (h) => h.withFirewall());
      // start: the tables are reconciled, nothing dropped
      expect(r.host.vipLog).toEqual(['fw ']);
      expect(r.host.firewall).toEqual({ table: 'keepalived', dropped: [] });
      await r.clock.advance(MASTER_DOWN_MS);
      expect(r.state()).toBe('MASTER');
      expect(r.host.vipLog).toEqual(['fw ', `fw ${VIP}`, `+eth0 ${VIP}/24`]);
      r.host.socket.deliver(peerPacket({ priority: 200 }));
      await r.clock.advance(200);
      expect(r.state()).toBe('BACKUP');
      expect(r.host.vipLog.slice(3)).toEqual([`-eth0 ${VIP}/24`, 'fw ']);
      await stopWhile(running.pop()!, () => Promise.resolve());
      expect(r.host.firewallClosed).toBe(true);
    });

    it('accept mode (or the address owner): the VIP is never dropped', async () => {
      const r = await rig(`global_defs {\n  nftables fw\n}\n${instance('  accept')}`, (h) => h.withFirewall());
      await r.clock.advance(MASTER_DOWN_MS);
      expect(r.state()).toBe('MASTER');
      expect(r.host.vipsOnHost.size).toBe(1);
      expect(r.host.firewall).toEqual({ table: 'fw', dropped: [] });
      expect(r.host.vipLog.filter((l) => l.startsWith('fw ') && l !== 'fw ')).toEqual([]);
    });

    it('reload: accept turned on for a MASTER takes its VIP out of the drop set; the VIP stays', async () => {
      const r = await rig(`global_defs {\n  nftables\n}\n${instance('  no_accept')}`, (h) => h.withFirewall());
      await r.clock.advance(MASTER_DOWN_MS);
      expect(r.host.firewall?.dropped).toEqual([VIP]);
      await r.engine.reload(configOf(`global_defs {\n  nftables\n}\n${instance('  accept')}`));
      await r.clock.settle();
      expect(r.state()).toBe('MASTER');
      expect(r.host.firewall?.dropped).toEqual([]);
      expect(r.host.vipsOnHost.size).toBe(1);
    });

    it('without a firewall configured (accept mode, no nftables) there is no table', async () => {
      const r = await rig(instance(), (h) => h.withFirewall());
      await r.clock.advance(MASTER_DOWN_MS);
      expect(r.host.vipLog).toEqual(['fw none', 'fw none', `+eth0 ${VIP}/24`]);
      expect(r.host.firewall).toBeNull();
    });
  });
});
