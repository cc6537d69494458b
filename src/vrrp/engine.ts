// The VRRP engine: the I/O shell around the pure state machines (fsm.ts, sync-group.ts).
// It owns the instances of one config and everything they touch on the host: one transport
// (transport.ts) per (interface, family, protocol) shared by its instances, the armed deadlines
// (deadlines.ts, on the monotonic performance.now() clock the machines are fed), VIPs and GARP/NA,
// notify scripts and the notify FIFO, vrrp_script runners, track_file watchers and link
// events. It executes each step's actions in order and feeds back what happens.
//
// Ordering: adverts and timers act at once (they carry the protocol's timing); netlink
// changes, GARP bursts and notify scripts go through one queue, so a notify_master script
// starts after its VIPs are on the interface and a FAULT's removal never overtakes the
// MASTER's add that preceded it.
import type { GlobalDefs, KeepalivedConfig, VrrpInstance } from '../config/model.js';
import { valueKey } from '../config/value-key.js';
import { emptyStats, type VrrpStats } from '../dump/vrrp-snapshot.js';
import type { Logger } from '../log/logger.js';
import { STATE_CODES, type VrrpMetrics } from '../metrics/vrrp-metrics.js';
import type { AddressSpec, InterfaceAddress } from '../netlink/index.js';
import type { HeldByVrrp } from '../watchdog/ipc.js';
import { canonicalAddress } from './addr.js';
import { advertSource, instanceKey, matchInstances, multicastGroup, transportKey, usesAh } from './engine-plan.js';
import { TrackFileWatcher } from './engine-track-file.js';
import { ProcessTracker } from './engine-track-process.js';
import { createMachine, isLowerPriorityRival, step, type InstanceMachine, type TimerName, type VrrpAction, type VrrpEvent } from './fsm.js';
import { wallSeconds, type InstanceView } from './to-dump-snapshot.js';
import { LINGER_MS, SuccessorWatch, successorWaitMs } from './handover.js';
import { advertDestinations, expectationsFromConfig, instanceSpecFromConfig, notifyPriorityChangesOf } from './instance-spec.js';
import { countRejection, peekVrid } from './instance-stats.js';
import { systemClock, type Clock } from '../clock/index.js';
import type { AdvertSocket, AnnouncePort, LinkView, RoutingPort, VipPort, VirtualLinkPort, VrrpHost } from './engine-ports.js';
import { vrrpAlertsOn } from './alerts.js';
import { routingChanges, staticAddressChanges } from './routing.js';
import { ownerOfRemovedRoute, ownerOfRemovedRule, routeWatch, type RemovalOwner } from './route-tracking.js';
import {
  addressVmacWants,
  defaultVirtualLinkName,
  onAddressVmacs,
  onVirtualLink,
  virtualLinkWant,
  vmacFirewallFamilies,
  type VirtualLinkWant,
} from './vmac.js';
import { FencedVips } from './fenced-vips.js';
import { fifoPlan, NotifyFifos, vrrpFifoLine } from '../notify/fifo.js';
import {
  AlertOutbox,
  createSmtpAlertSender,
  vrrpGroupAlert,
  vrrpInstanceAlert,
  type AlertMessage,
  type SmtpAlertSender,
  type VrrpAlertState,
} from '../notify/smtp-alert.js';
import { ScriptHost, ownerOf, vrrpScriptUses } from '../script/index.js';
import {
  checkAdvertForInstance,
  encodeAdvert,
  encodeAhDatagram,
  encodeIpv4Datagram,
  IPPROTO_AH,
  RejectCounter,
  RejectReason,
  withIpv4Id,
  type EncodeParams,
  type InstanceExpectations,
} from './packet.js';
import { ahVerdict, parseReceived } from './receive.js';
import { REJECT_LOG_WINDOW_MS, RejectionLog, summaryText } from './reject-log.js';
import { VrrpScriptRunner, vrrpScriptVerdict } from './script-runner.js';
import type { ScriptStatus } from './script-status.js';
import { createGroup, stepGroup, syncGroupSpecFromConfig, type GroupMachine } from './sync-group.js';
import { advertEarlyMs, masterDownMs } from './timers.js';
import { Deadlines, type Deadline } from './deadlines.js';
import type { ReceivedPacket } from './transport.js';
import { installedVips, isThisVip, vipChanges, vipDevice } from './vips.js';
import { vrrpRoutes, type InstanceAnnounceState } from '../announce/decide.js';
import type { AnnouncementPort } from './engine-ports.js';
import { syncGroupLine, vrrpStateLine } from '../log/keepalived-lines.js';

export interface EngineOptions {
  log: Logger;
  /** prom-client metrics the parent's status endpoint collects (optional). */
  metrics?: VrrpMetrics;
  /** -V / --dont-release-vrrp: leave VIPs in place on shutdown. */
  dontReleaseVrrp?: boolean;
  /**
   * What the instances hold on the host changed (see held()): the watchdog parent removes
   * it if this process dies and will not be back in time.
   */
  onHeldChange?: (held: HeldByVrrp) => void;
  /** Links, addresses, VIPs, VRRP sockets and GARP: the kernel's (kernelHost) or a test's. */
  host: VrrpHost;
  /** Default: the process's monotonic clock and timers. */
  clock?: Clock;
  /** Runs vrrp_scripts and notify scripts; default: a ScriptHost on this engine's log. */
  scripts?: ScriptHost;
  /** smtp_alert delivery; default: nodemailer to global_defs smtp_server. */
  alertSender?: (g: GlobalDefs) => SmtpAlertSender | null;
}

interface TransportEntry {
  key: string;
  ifname: string;
  family: 4 | 6;
  /** IP protocol 51: the socket of the instances with `auth_type AH`. */
  ah: boolean;
  source: string;
  group: string | null;
  transport: AdvertSocket;
  members: Instance[];
  /** The sources last given to transport.prioritise(), as a sorted key. */
  prioritised: string;
  /** A member's current master or the members changed since the sources were last given. */
  peersDirty: boolean;
  /** What a received packet is looked up with; null after the members changed. */
  index: MemberIndex | null;
}

/** An instance's adverts as last encoded, one per destination, and what they were encoded from. */
interface EncodedAdverts {
  cfg: VrrpInstance;
  source: string;
  destinations: string[];
  expect: InstanceExpectations;
  priority: number;
  packets: Buffer[];
}

/** A transport's members by VRID and the parse options they share, built on first use. */
interface MemberIndex {
  byVrid: Map<number, Instance>;
  parse: { acceptChecksumAsV2: boolean; acceptMulticastDstChecksum: true };
}

type Unit = { kind: 'one'; machine: InstanceMachine; inst: Instance } | { kind: 'group'; name: string; machine: GroupMachine; members: Instance[] };

/** An instance a start or reload is still creating: it gets its unit (machine) once all are made. */
const isBeingCreated = (i: Instance): boolean => (i.unit as Unit | null) === null;

/** Runtime of one vrrp_instance. Kept across a reload when the instance is matched. */
interface Instance {
  cfg: VrrpInstance;
  source: string;
  destinations: string[];
  expect: InstanceExpectations;
  transport: TransportEntry | null;
  unit: Unit;
  timers: Map<TimerName, Deadline>;
  garp: AbortController | null;
  /** IPv4 id of the last advert: keepalived counts it per instance from 1, skipping 0. */
  ipId: number;
  /**
   * IPsec AH sequence counter (keepalived's ipsecah_counter): one number for both ways, the
   * last sent or accepted; see packet.ts ahSequenceAcceptable.
   */
  ahSeq: number;
  /** use_vmac / use_ipvlan: the link the instance runs on (which may be missing: it could not be made). */
  vmac: string | null;
  /** use_vmac_addr: the VMACs of its VIPs on other interfaces or of the other family. */
  addressVmacs: string[];
  /** Where its adverts go out and come in: the VMAC, or `interface` (vmac_xmit_base, no VMAC). */
  advertIf: string;
  /** Our VIPs were found on the host at start (a restarted child): keep them until we know better. */
  adopted: boolean;
  removed: boolean;
  /** keepalived's per-instance counters (the USR2 / JSON dumps); SIGURG clears them. */
  stats: VrrpStats;
  transitions: number;
  /** Wall-clock seconds of the last state change, for the dumps. */
  lastTransition: number;
  /** Priority of the last advert accepted from the current master. */
  masterPriority: number;
  /** The effective priority last seen after a step (notify_priority_changes). */
  lastPriority: number | null;
  /** Its virtual_routes / virtual_rules are installed (keepalived's per-route `set`). */
  routingSet: boolean;
  /** The master address its transport's known peers were last computed with. */
  knownMaster: string | null;
  /** Its adverts as last encoded (encodedAdverts): re-encoded only when what they carry changes. */
  adverts: EncodedAdverts | null;
}

export interface InstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  family: 4 | 6;
  state: string;
  priority: number;
  basePriority: number;
  /** The current master's address while BACKUP (null when unknown or when we are MASTER). */
  master: string | null;
  source: string;
  vips: string[];
  syncGroup: string | null;
  advertsSent: number;
  advertsReceived: number;
  transitions: number;
}

export class VrrpEngine {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly host: VrrpHost;
  private readonly dontRelease: boolean;
  private links!: LinkView;
  /** False until start() has the link view: events before that are in the state it reads. */
  private linksOpen = false;
  private vips!: VipPort;
  /** virtual_routes/rules and static_*; absent on a host without them (a test's fakes). */
  private routing: RoutingPort | null = null;
  private virtualLinks!: VirtualLinkPort;
  /** The VIPs behind the VRRP firewall, when the host has one (fenced-vips.ts). */
  private fence: FencedVips | null = null;
  /**
   * bgp_announce `follow vrrp` (VRRP over L3): each prefix routed while its instance is
   * MASTER, the priority in the metric (the MED), so the routing daemon announces the MASTER
   * only and a split brain prefers the higher priority.
   */
  private announcements: AnnouncementPort | null = null;
  private announcer: AnnouncePort | null | undefined;
  private readonly scriptHost: ScriptHost;
  private fifos: NotifyFifos | null = null;
  private readonly alertSender: (g: GlobalDefs) => SmtpAlertSender | null;
  private alerts: AlertOutbox | null = null;
  private alertsKey = '';
  /** keepalived's last_email_state: one mail per state, per instance or sync group name. */
  private readonly lastEmailState = new Map<string, string>();
  private config!: KeepalivedConfig;
  /** `config` as instances track it (see applyGlobals). */
  private tracked!: KeepalivedConfig;
  private instances: Instance[] = [];
  private readonly transports = new Map<string, TransportEntry>();
  private readonly scripts = new Map<string, VrrpScriptRunner>();
  private readonly files = new Map<string, TrackFileWatcher>();
  /** The vrrp_track_process blocks some instance or sync group tracks; null when none is. */
  private processes: ProcessTracker | null = null;
  private ops: Promise<void> = Promise.resolve();
  private readonly sends = new Set<Promise<void>>();
  readonly rejects = new RejectCounter();
  /** What is logged of refused adverts: bounded, whatever the sources (reject-log.ts). */
  private readonly rejectLog = new RejectionLog();
  private rejectWindow: unknown = null;
  private stopping = false;
  /** MASTERs stopping: their VIPs stay until a successor advertises (handover.ts). */
  private handover: Instance[] = [];
  /** The stopping MASTERs waiting for their successors (out of `handover`, still holding VIPs). */
  private leaving: Instance[] = [];
  /** Stopping, successors heard: announcements withdrawn, VIPs kept for the drain. */
  private draining = false;
  private readonly successors: SuccessorWatch<Instance>;
  /** Every instance's timers (Instance.timers), behind one clock timer. */
  private readonly deadlines: Deadlines;
  /** Yielded MASTERs whose VIPs go LINGER_MS later (handover.ts), by instance. */
  private readonly lingering = new Map<Instance, unknown>();
  private readonly metrics: VrrpMetrics | null;
  private readonly onHeldChange: ((held: HeldByVrrp) => void) | null;
  /** Something that changes held() happened since it was last reported. */
  private heldDirty = true;
  private heldReported = '';
  private heldReportDue = false;

  constructor(opts: EngineOptions) {
    this.log = opts.log;
    this.onHeldChange = opts.onHeldChange ?? null;
    this.metrics = opts.metrics ?? null;
    this.clock = opts.clock ?? systemClock;
    this.host = opts.host;
    this.successors = new SuccessorWatch<Instance>(this.clock);
    this.deadlines = new Deadlines(this.clock);
    this.dontRelease = opts.dontReleaseVrrp ?? false;
    this.scriptHost = opts.scripts ?? new ScriptHost({ log: opts.log });
    this.alertSender = opts.alertSender ?? createSmtpAlertSender;
  }

  // -------------------------------------------------------------------------------------
  // Life cycle

  async start(config: KeepalivedConfig): Promise<void> {
    this.config = config;
    this.links = await this.host.openLinks({
      onLink: (name, up) => this.onLink(name, up),
      onAddressRemoved: (a) => this.onAddressRemoved(a),
      onAddressAdded: (a) => void this.onAddressAdded(a),
      onRouteRemoved: (r) => this.onRoutingRemoved(ownerOfRemovedRoute(r, this.liveConfigs(), this.config.staticRoutes, (d) => this.links.ifindex(d))),
      onRuleRemoved: (r) => this.onRoutingRemoved(ownerOfRemovedRule(r, this.liveConfigs(), this.config.staticRules)),
    });
    this.linksOpen = true;
    this.vips = this.host.vips(this.links);
    this.routing = this.host.routing?.(this.links) ?? null;
    this.applyStatics(null, config);
    this.links.watchRoutes(routeWatch(config));
    this.virtualLinks = this.host.virtualLinks(this.log);
    const firewall = this.host.openFirewall?.(this.log);
    if (firewall) {
      this.fence = new FencedVips(this.vips, firewall, config, this.log);
      this.vips = this.fence;
      await this.fence.configure(config);
    }
    this.announcements = this.host.openAnnouncements?.(this.log) ?? null;
    await this.announcements?.configure(config);
    this.applyGlobals(config);
    const fresh: Instance[] = [];
    const claimed = new Set<string>();
    for (const cfg of config.vrrpInstances) fresh.push(await this.createInstance(...(await this.placeOnVirtualLink(cfg, claimed))));
    this.instances = fresh;
    this.buildUnits(config, new Map());
    this.syncWatchers(config);
    for (const inst of fresh) this.seedObservations(inst);
    for (const inst of fresh) await this.checkAdoption(inst);
    this.startUnits(this.unitsOf(fresh), true);
    this.reportHeld();
  }

  /** TERM: priority 0 from masters, VIPs removed (unless -V), notify_stop; then close. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.fifos?.endReaders();
    for (const r of this.scripts.values()) r.stop();
    for (const w of this.files.values()) w.stop();
    this.processes?.stop();
    for (const u of this.unitsOf(this.instances)) this.deliverUnit(u, { type: 'shutdown' });
    for (const [inst, t] of this.lingering) {
      this.clock.clearTimer(t);
      if (!this.dontRelease) this.queue(() => this.vips.remove(inst.cfg, installedVips(inst.cfg)));
    }
    this.lingering.clear();
    const leaving = this.handover.splice(0);
    this.leaving = leaving;
    await this.successors.wait(leaving, (i) => successorWaitMs(i.cfg.version, i.cfg.advertIntMs));
    // VRRP over L3: the route goes once the successor took over, the VIPs a drain later
    this.draining = true;
    await this.announcements?.drain((a) => vrrpRoutes(a, (name) => this.announceState(name)));
    for (const inst of leaving) this.queue(() => this.vips.remove(inst.cfg, installedVips(inst.cfg)));
    for (const inst of this.instances) {
      if (inst.adopted && !this.dontRelease) this.queue(() => this.vips.remove(inst.cfg, installedVips(inst.cfg)));
      this.clearTimers(inst);
    }
    this.deadlines.close();
    this.removeStatics(this.config);
    await this.drain();
    await this.fence?.close();
    await this.announcements?.close();
    for (const t of this.transports.values()) t.transport.close();
    if (this.rejectWindow) this.endRejectWindow(false); // what the last window counted
    this.transports.clear();
    // keepalived deletes its VMACs at shutdown, but not with -V (the VIPs on them stay)
    if (!this.dontRelease) for (const inst of this.instances) await this.removeVirtualLink(inst);
    this.announcer?.close();
    // optional: a start that failed half-way may not have opened these
    this.links?.close();
    this.host.close();
    this.fifos?.close();
    this.fifos = null;
    // mails of the last transitions are on their way (bounded by smtp_connect_timeout)
    await this.alerts?.settled();
    this.alerts?.close();
    this.alerts = null;
    // notify_stop scripts and anything else still running end with us
    await this.scriptHost.stop();
  }

  /** Applies a new config: matched instances keep their state; a MASTER only edits its VIPs. */
  async reload(config: KeepalivedConfig): Promise<void> {
    const m = matchInstances(this.instances, config.vrrpInstances);
    this.applyStatics(this.config, config);
    this.config = config;
    this.links.watchRoutes(routeWatch(config));
    this.applyGlobals(config);
    await this.announcements?.configure(config);
    if (this.fence) {
      const fence = this.fence;
      this.queue(() => fence.configure(config));
    }
    // removed instances stop (priority 0, VIPs released) and are announced as keepalived does (fsm.ts onDelete)
    for (const inst of m.removed) this.deliver(inst, { type: 'delete' });
    for (const inst of m.removed) {
      inst.removed = true;
      if (inst.transport) membersChanged(inst.transport);
      this.clearTimers(inst);
      inst.garp?.abort();
      this.queue(() => this.removeVirtualLink(inst));
    }
    await this.drain();
    const claimed = new Set<string>();
    const carried = new Map<Instance, InstanceMachine>();
    const kept: Instance[] = [];
    for (const { old, next: written } of m.kept) {
      const placed = await this.placeOnVirtualLink(written, claimed);
      // what the new config still runs on stays; the rest goes
      await this.removeVirtualLink(
        old,
        [placed[1], ...placed[2]].filter((n): n is string => n !== null),
      );
      const next = placed[0];
      old.vmac = placed[1];
      old.addressVmacs = placed[2];
      const machine = this.machineOf(old);
      if (machine.state === 'MASTER') {
        const ch = vipChanges(old.cfg, next);
        if (ch.remove.length) this.queue(() => this.vips.remove(old.cfg, ch.remove));
        if (ch.add.length) this.queue(() => this.vips.add(next, ch.add));
      }
      if (old.routingSet) this.reconcileRouting(old.cfg, next);
      await this.configureInstance(old, next);
      carried.set(old, { ...machine, spec: this.specFor(old) });
      kept.push(old);
    }
    const added: Instance[] = [];
    for (const cfg of m.added) added.push(await this.createInstance(...(await this.placeOnVirtualLink(cfg, claimed))));
    // config order, as a fresh start would have it
    const byName = new Map([...kept, ...added].map((i) => [i.cfg.name, i]));
    this.instances = config.vrrpInstances.map((c) => byName.get(c.name)!);
    this.closeUnusedTransports();
    this.buildUnits(config, carried);
    this.syncWatchers(config);
    // a changed base priority or tracking list takes effect through the machine
    for (const inst of kept) this.deliver(inst, { type: 'priority', basePriority: inst.cfg.priority });
    for (const inst of added) this.seedObservations(inst);
    this.startUnits(this.unitsOf(added));
    this.heldDirty = true;
    this.reportHeld();
    this.syncAnnouncements();
    await this.drain();
  }

  status(): InstanceStatus[] {
    return this.instances.map((i) => {
      const m = this.machineOf(i);
      return {
        name: i.cfg.name,
        interface: i.cfg.interface,
        vrid: i.cfg.virtualRouterId,
        family: i.cfg.family,
        state: m.state,
        priority: m.effective.priority,
        basePriority: m.basePriority,
        master: m.masterAddress,
        source: i.source,
        vips: installedVips(i.cfg).map((v) => `${v.address}/${v.prefix}`),
        syncGroup: i.unit.kind === 'group' ? i.unit.name : null,
        advertsSent: i.stats.advertSent,
        advertsReceived: i.stats.advertRcvd,
        transitions: i.transitions,
      };
    });
  }

  /** Each instance as the dump files show it (to-dump-snapshot.ts converts them, src/dump/ formats them). */
  views(): { config: KeepalivedConfig; instances: InstanceView[] } {
    const instances = this.instances.map((i) => {
      const machine = this.machineOf(i);
      const { cfg, source, stats, lastTransition, masterPriority } = i;
      return { cfg, machine, source, stats, lastTransition, masterPriority, vipsSet: machine.state === 'MASTER' || i.adopted };
    });
    return { config: this.config, instances };
  }

  /**
   * The addresses the instances have (or may have) on the host: those of MASTERs, of VIPs
   * adopted at start, of MASTERs handing over or yielding. With the soonest a backup of a
   * MASTER takes over once its adverts stop: the MASTER's own Master_Down interval (a backup,
   * of lower priority, waits at least that long).
   */
  held(): HeldByVrrp {
    const addresses: AddressSpec[] = [];
    let soonest: number | null = null;
    const handing = new Set(this.handover);
    for (const inst of this.instances) {
      const m = this.machineOf(inst);
      const master = m.state === 'MASTER' || inst.adopted;
      if (!master && !this.lingering.has(inst) && !handing.has(inst)) continue;
      addresses.push(...this.vips.specs(inst.cfg, installedVips(inst.cfg)));
      if (!master) continue;
      const down = masterDownMs(inst.cfg.version, m.effective.priority, inst.cfg.advertIntMs);
      soonest = soonest === null ? down : Math.min(soonest, down);
    }
    return { addresses, masterDownMs: soonest };
  }

  /**
   * reportHeld once the steps due now are done: hundreds of instances changing state at once
   * make one report, not one each (each report reads every instance).
   */
  private reportHeldSoon(): void {
    if (!this.heldDirty || !this.onHeldChange || this.heldReportDue) return;
    this.heldReportDue = true;
    this.clock.afterIo(() => {
      this.heldReportDue = false;
      this.reportHeld();
    });
  }

  /** Tells onHeldChange what is held, if that may have changed and did. */
  private reportHeld(): void {
    if (!this.heldDirty || !this.onHeldChange || !this.vips) return;
    this.heldDirty = false;
    const held = this.held();
    const key = JSON.stringify(held);
    if (key === this.heldReported) return;
    this.heldReported = key;
    this.onHeldChange(held);
  }

  /** Each running vrrp_script's counter and whether it is running now (keepalived.data). */
  scriptStates(): Map<string, { counter: number; status: string; running: boolean }> {
    return new Map([...this.scripts].map(([name, r]) => [name, r.state()]));
  }

  /** keepalived's STATS_CLEAR. */
  clearStats(): void {
    for (const i of this.instances) i.stats = emptyStats();
  }

  private labels(inst: Instance) {
    return { instance: inst.cfg.name, interface: inst.cfg.interface, vrid: String(inst.cfg.virtualRouterId) };
  }

  /** Resolves once every queued netlink change, GARP start and notify has been issued. */
  async drain(): Promise<void> {
    for (;;) {
      const ops = this.ops;
      await ops;
      await Promise.allSettled([...this.sends]);
      if (ops === this.ops) return;
    }
  }

  // -------------------------------------------------------------------------------------
  // Building instances

  private applyGlobals(config: KeepalivedConfig): void {
    const g = config.globalDefs;
    this.scriptHost.load(g, vrrpScriptUses(config));
    // vrrp_scripts disabled at load are not tracked: their instances run as if without them (keepalived)
    const usable = config.vrrpScripts.filter((s) => vrrpScriptVerdict(s, this.scriptHost).ok);
    this.tracked = usable.length === config.vrrpScripts.length ? config : { ...config, vrrpScripts: usable };
    const plan = fifoPlan(g, 'vrrp');
    // an unchanged set of FIFOs stays open (its reader keeps reading) across a reload
    if (this.fifos?.key !== JSON.stringify(plan.fifos)) {
      this.fifos?.close();
      this.fifos = plan.fifos.length > 0 || plan.notes.length > 0 ? new NotifyFifos(plan, 'vrrp', this.scriptHost, this.log) : null;
    }
    const alertsKey = JSON.stringify([g.smtpServer, g.smtpHeloName, g.smtpConnectTimeoutMs, g.notificationEmail, g.notificationEmailFrom]);
    if (alertsKey !== this.alertsKey) {
      this.alertsKey = alertsKey;
      this.alerts?.close();
      const sender = this.alertSender(g);
      this.alerts = sender ? new AlertOutbox(sender, this.log) : null;
    }
  }

  /** smtp_alert for an instance or sync group entering `state`, once per state as keepalived sends. */
  private mailState(key: string, own: boolean | null, state: string, message: (s: VrrpAlertState) => AlertMessage | null): void {
    const g = this.config.globalDefs;
    if (!this.alerts || !vrrpAlertsOn(g, own)) return;
    if (state !== 'MASTER' && state !== 'BACKUP' && state !== 'FAULT' && state !== 'STOP' && state !== 'DELETED') return;
    const mail = message(state);
    if (!mail) return;
    if (this.lastEmailState.get(key) === state) return;
    this.lastEmailState.set(key, state);
    // keepalived 2.2.7 queues its Stopping mails at shutdown but exits before they leave:
    // none ever arrives, so none is sent here either
    if (this.stopping) return;
    this.alerts.send(mail);
  }

  /**
   * use_vmac / use_ipvlan: makes (or takes over) the instance's link and gives back the
   * instance as it runs on it. A link that cannot be made leaves the instance without a
   * socket, in FAULT, as keepalived's instance whose interface is missing.
   */
  private async placeOnVirtualLink(written: VrrpInstance, claimed: Set<string>): Promise<[VrrpInstance, string | null, string[]]> {
    const [cfg, own] = await this.placeOnOwnLink(written, claimed);
    const wants = addressVmacWants(cfg, own, this.config.globalDefs);
    if (!wants.size) return [cfg, own, []];
    const names = new Map<string, string>();
    for (const [key, want] of wants) {
      const name = await this.ensureVirtualLink(want, claimed);
      if (name !== null) names.set(key, name);
    }
    await this.links.refresh();
    return [onAddressVmacs(cfg, own, names), own, [...names.values()]];
  }

  private async placeOnOwnLink(cfg: VrrpInstance, claimed: Set<string>): Promise<[VrrpInstance, string | null]> {
    const want = virtualLinkWant(cfg, this.config.globalDefs);
    if (!want) return [cfg, null];
    const name = await this.ensureVirtualLink(want, claimed);
    if (name !== null) {
      await this.links.refresh();
      return [onVirtualLink(cfg, name), name];
    }
    // not made: the instance runs on the name it would have had (missing, so in FAULT), as keepalived's
    const missing = want.name ?? defaultVirtualLinkName(want.prefix, want.vrid, want.family, (n) => claimed.has(n));
    return [onVirtualLink(cfg, missing), missing];
  }

  /** Makes or takes over a link, behind the firewall's IGMP/MLD steering; null (logged) when it cannot be made. */
  private async ensureVirtualLink(want: VirtualLinkWant, claimed: Set<string>): Promise<string | null> {
    try {
      const name = await this.virtualLinks.ensure(want, claimed);
      claimed.add(name);
      await this.fence?.addVmac({ vmac: name, base: want.base }, vmacFirewallFamilies(want, this.config.globalDefs.disableLocalIgmp));
      return name;
    } catch (err) {
      const name = want.name ?? defaultVirtualLinkName(want.prefix, want.vrid, want.family, (n) => claimed.has(n));
      this.log.error({ instance: want.instance }, `(${want.instance}) cannot create ${want.kind} ${name} on ${want.base}: ${(err as Error).message}`);
      return null;
    }
  }

  private async removeVirtualLink(inst: Instance, keep: readonly string[] = []): Promise<void> {
    const names = [inst.vmac, ...inst.addressVmacs].filter((n): n is string => n !== null && !keep.includes(n));
    inst.vmac = null;
    inst.addressVmacs = [];
    for (const name of names) {
      await this.fence?.removeVmac(name);
      try {
        await this.virtualLinks.remove(name);
      } catch (err) {
        this.log.error({ instance: inst.cfg.name }, `(${inst.cfg.name}) Error removing VMAC interface ${name}: ${(err as Error).message}`);
      }
    }
  }

  private async createInstance(cfg: VrrpInstance, vmac: string | null = null, addressVmacs: string[] = []): Promise<Instance> {
    const inst: Instance = {
      cfg,
      vmac,
      addressVmacs,
      advertIf: cfg.interface,
      source: '',
      destinations: [],
      expect: expectationsFromConfig(cfg, this.config.globalDefs),
      transport: null,
      unit: null as unknown as Unit,
      timers: new Map(),
      garp: null,
      ipId: 0,
      ahSeq: 0,
      adopted: false,
      removed: false,
      stats: emptyStats(),
      transitions: 0,
      lastPriority: null,
      routingSet: false,
      knownMaster: null,
      adverts: null,
      lastTransition: wallSeconds(),
      masterPriority: 0,
    };
    await this.configureInstance(inst, cfg);
    return inst;
  }

  /** (Re)derives everything that comes from the instance's config, socket included. */
  private async configureInstance(inst: Instance, cfg: VrrpInstance): Promise<void> {
    inst.cfg = cfg;
    inst.advertIf = inst.vmac && !cfg.vmacXmitBase ? inst.vmac : cfg.interface;
    const addrs: InterfaceAddress[] = await this.links.addresses(cfg.interface, cfg.family);
    inst.source = advertSource(cfg, addrs);
    inst.destinations = advertDestinations(cfg, this.config.globalDefs);
    inst.expect = expectationsFromConfig(cfg, this.config.globalDefs);
    const key = transportKey(cfg, inst.source, inst.advertIf);
    if (inst.transport?.key !== key) {
      const at = inst.transport?.members.indexOf(inst) ?? -1;
      if (at >= 0) inst.transport!.members.splice(at, 1);
      if (inst.transport) membersChanged(inst.transport);
      inst.transport = this.transportFor(cfg, inst.advertIf, inst.source, key);
      inst.transport?.members.push(inst);
    }
    // its VRID, peers or checksum option may be new
    if (inst.transport) membersChanged(inst.transport);
  }

  private specFor(inst: Instance) {
    return instanceSpecFromConfig(inst.cfg, this.tracked, { localAddress: inst.source });
  }

  private transportFor(cfg: VrrpInstance, ifname: string, source: string, key: string): TransportEntry | null {
    const group = multicastGroup(cfg, this.config);
    let t: TransportEntry | null = this.transports.get(key) ?? null;
    if (t && group && t.group !== group) {
      // a multicast instance joins a socket so far used for unicast only: reopen with the group
      t.transport.close();
      this.transports.delete(key);
      const members = t.members;
      t = this.openTransport(cfg, ifname, source, key, group);
      if (t) t.members.push(...members);
      for (const x of members) x.transport = t;
    }
    return t ?? this.openTransport(cfg, ifname, source, key, group);
  }

  private openTransport(cfg: VrrpInstance, ifname: string, source: string, key: string, group: string | null): TransportEntry | null {
    const ifindex = this.links.ifindex(ifname);
    if (ifindex === null) {
      this.log.error({ instance: cfg.name }, `interface ${ifname} not found: the instance stays in FAULT`);
      return null;
    }
    try {
      const protocol = usesAh(cfg) ? IPPROTO_AH : undefined;
      const entry: TransportEntry = {
        key,
        ifname,
        family: cfg.family,
        ah: protocol === IPPROTO_AH,
        source,
        group,
        transport: null as unknown as AdvertSocket,
        members: [],
        prioritised: '',
        peersDirty: true,
        index: null,
      };
      entry.transport = this.host.openSocket(
        { family: cfg.family, ifname, ifindex, srcAddress: source, group, protocol },
        (p) => this.onPacket(entry, p),
        (e) => this.log.error({ interface: ifname }, `VRRP socket error: ${e.message}`),
      );
      this.transports.set(key, entry);
      return entry;
    } catch (err) {
      this.log.error({ instance: cfg.name, interface: ifname }, `cannot open VRRP socket: ${(err as Error).message}`);
      return null;
    }
  }

  private closeUnusedTransports(): void {
    for (const [key, t] of this.transports) {
      t.members = t.members.filter((m) => !m.removed);
      membersChanged(t);
      if (t.members.length === 0) {
        t.transport.close();
        this.transports.delete(key);
      }
    }
  }

  /** Single instances get their own machine; sync group members share one group machine. */
  private buildUnits(config: KeepalivedConfig, carried: Map<Instance, InstanceMachine>): void {
    const byName = new Map(this.instances.map((i) => [i.cfg.name, i]));
    const machine = (i: Instance) => carried.get(i) ?? createMachine(this.specFor(i));
    const grouped = new Set<Instance>();
    for (const sg of config.vrrpSyncGroups) {
      const members = sg.group.map((n) => byName.get(n)).filter((i): i is Instance => i !== undefined);
      if (members.length === 0) continue;
      const spec = { ...syncGroupSpecFromConfig(sg), members: members.map((i) => i.cfg.name) };
      const g = createGroup(spec, members.map(machine));
      // a carried group resumes in its members' state
      const states = members.map((i) => g.members[i.cfg.name]!.state);
      g.state = states.includes('MASTER') ? 'MASTER' : states.includes('FAULT') ? 'FAULT' : states.includes('BACKUP') ? 'BACKUP' : 'INIT';
      const unit: Unit = { kind: 'group', name: sg.name, machine: g, members };
      for (const i of members) {
        i.unit = unit;
        grouped.add(i);
      }
    }
    for (const i of this.instances) if (!grouped.has(i)) i.unit = { kind: 'one', machine: machine(i), inst: i };
    for (const t of this.transports.values()) membersChanged(t);
  }

  private unitsOf(insts: readonly Instance[]): Unit[] {
    return [...new Set(insts.map((i) => i.unit))];
  }

  /** `fresh`: this child's first start; a unit whose VIPs were found on the host resumes MASTER. */
  private startUnits(units: readonly Unit[], fresh = false): void {
    for (const u of units) {
      const members = u.kind === 'one' ? [u.inst] : u.members;
      this.deliverUnit(u, { type: 'start', resume: fresh && members.every((i) => i.adopted) });
    }
  }

  /** Link state, script and file values the machine must know before it starts. */
  private seedObservations(inst: Instance): void {
    const spec = this.specFor(inst);
    for (const t of spec.tracking.interfaces) {
      const up = this.links.isUp(t.name) && (t.name !== inst.advertIf || inst.transport !== null);
      if (!up) this.deliver(inst, { type: 'interface', name: t.name, up: false });
    }
    for (const s of spec.tracking.scripts) {
      const r = this.scripts.get(s.name);
      if (r && r.status !== 'init') this.deliver(inst, { type: 'script', name: s.name, status: r.status });
    }
    for (const f of spec.tracking.files) {
      const w = this.files.get(f.name);
      if (w && w.current !== 0) this.deliver(inst, { type: 'track-file', name: f.name, value: w.current });
    }
    for (const p of spec.tracking.processes) {
      if (this.processes?.up(p.name) === false) this.deliver(inst, { type: 'track-process', name: p.name, up: false });
    }
  }

  private async checkAdoption(inst: Instance): Promise<void> {
    const present = await this.vips.present(inst.cfg);
    if (present.length > 0) {
      inst.adopted = true;
      await this.fence?.adopt(inst.cfg, present);
      this.log.info({ instance: inst.cfg.name, vips: present.map((v) => v.address) }, 'VIPs already present: kept while no other master is seen');
    }
  }

  private syncWatchers(config: KeepalivedConfig): void {
    const same = (a: unknown, b: unknown) => valueKey(a) === valueKey(b);
    const wantedScripts = new Map(this.tracked.vrrpScripts.map((s) => [s.name, s]));
    for (const [name, r] of this.scripts) {
      const next = wantedScripts.get(name);
      if (!next || !same(next, r.script)) {
        r.stop();
        this.scripts.delete(name);
      }
    }
    for (const s of wantedScripts.values()) {
      if (this.scripts.has(s.name)) continue;
      if (!this.instances.some((i) => this.specFor(i).tracking.scripts.some((t) => t.name === s.name))) continue;
      const r = new VrrpScriptRunner(s, this.scriptHost, (name, status) => this.onScript(name, status), this.log);
      this.scripts.set(s.name, r);
      r.start();
    }
    const wantedFiles = new Map(config.trackFiles.map((f) => [f.name, f]));
    for (const [name, w] of this.files) {
      const next = wantedFiles.get(name);
      if (!next || !same(next, w.def)) {
        w.stop();
        this.files.delete(name);
      }
    }
    for (const f of config.trackFiles) {
      if (this.files.has(f.name)) continue;
      const w = new TrackFileWatcher(f, (name, value) => this.onTrackFile(name, value));
      this.files.set(f.name, w);
      w.start();
    }
    this.syncProcessTracker(config);
  }

  /**
   * One tracker for every vrrp_track_process an instance tracks (by itself or through its
   * sync group), counted afresh when the set changes: a /proc scan, then events. Instances
   * whose tracked process changed status meanwhile hear it; new instances are seeded.
   */
  private syncProcessTracker(config: KeepalivedConfig): void {
    const tracked = new Set(this.instances.flatMap((i) => this.specFor(i).tracking.processes.map((p) => p.name)));
    const wanted = config.trackProcesses.filter((p) => tracked.has(p.name));
    if (this.processes && valueKey(this.processes.defs) === valueKey(wanted)) return;
    const before = this.processes;
    before?.stop();
    this.processes = null;
    if (wanted.length === 0) return;
    const tracker = new ProcessTracker(wanted, this.host.processes(), this.clock, this.log, (name, up) => this.onTrackProcess(name, up));
    this.processes = tracker;
    // a reload: every tracking instance hears the fresh count (a start seeds them instead)
    if (before) for (const p of wanted) this.onTrackProcess(p.name, tracker.up(p.name)!);
    void tracker.start();
  }

  // -------------------------------------------------------------------------------------
  // Events in

  private machineOf(inst: Instance): InstanceMachine {
    const u = inst.unit;
    return u.kind === 'one' ? u.machine : u.machine.members[inst.cfg.name]!;
  }

  private deliver(inst: Instance, ev: VrrpEvent): void {
    const u = inst.unit;
    const now = this.clock.now();
    if (u.kind === 'one') {
      const r = step(u.machine, ev, now);
      u.machine = r.machine;
      for (const a of r.actions) this.execute(inst, a);
    } else {
      const r = stepGroup(u.machine, inst.cfg.name, ev, now);
      u.machine = r.machine;
      for (const a of r.actions) this.executeGroup(u, a.instance, a.action);
    }
    this.afterStep(u);
  }

  private deliverUnit(u: Unit, ev: VrrpEvent): void {
    if (u.kind === 'one') return this.deliver(u.inst, ev);
    const r = stepGroup(u.machine, '*', ev, this.clock.now());
    u.machine = r.machine;
    for (const a of r.actions) this.executeGroup(u, a.instance, a.action);
    this.afterStep(u);
  }

  private onPacket(t: TransportEntry, p: ReceivedPacket): void {
    if (this.stopping && !this.successors.active) return;
    const index = (t.index ??= indexMembers(t.members));
    const r = parseReceived(t, p, index.parse);
    const member = (vrid: number | null) => {
      const m = vrid === null ? undefined : index.byVrid.get(vrid);
      return m && !m.removed ? m : (t.members.find((x) => x.cfg.virtualRouterId === vrid && !x.removed) ?? this.otherProtocolMember(t, vrid));
    };
    if (!r.ok) {
      // keepalived charges a malformed advert to the instance of its VRID
      const owner = member(peekVrid(p.data, t.family));
      if (owner) this.count(owner, countRejection(r.reason, null, owner.expect));
      return this.rejected(r.reason, p.source, null, t.ifname);
    }
    const rx = r.rx;
    const inst = member(rx.advert.vrid);
    if (!inst) return this.rejected(RejectReason.VridMismatch, rx.src, null, t.ifname);
    const c = checkAdvertForInstance(rx, inst.expect);
    if (!c.ok) {
      this.count(inst, countRejection(c.reason, rx, inst.expect));
      return this.rejected(c.reason, rx.src, inst, t.ifname);
    }
    // an instance a start or reload is still creating has no machine yet: its socket is
    // open (a peer's adverts arrive while the next instances are created), but keepalived
    // reads no socket before then either, and the sender's next advert follows
    if (isBeingCreated(inst)) return;
    if (this.stopping) {
      if (rx.advert.priority > 0) this.successors.heard(inst);
      return;
    }
    const lowerRival = isLowerPriorityRival(this.machineOf(inst), rx.advert, rx.src);
    if (rx.ah) {
      const v = ahVerdict(inst.ahSeq, rx.ah.seq, lowerRival);
      if (!v.ok) {
        this.count(inst, countRejection(RejectReason.AuthMismatch, rx, inst.expect));
        return this.rejected(RejectReason.AuthMismatch, rx.src, inst, t.ifname, { why: v.why, seq: rx.ah.seq, last: inst.ahSeq });
      }
      inst.ahSeq = v.nextSeq;
    }
    inst.stats.advertRcvd++;
    if (rx.advert.priority === 0) inst.stats.priZeroRcvd++;
    this.metrics?.advertsReceived.inc(this.labels(inst));
    this.deliver(inst, { type: 'advert', advert: c.rx.advert, src: c.rx.src });
    if (lowerRival) this.masterRxLowerPri(inst);
    const m = this.machineOf(inst);
    if (m.state === 'BACKUP' && m.masterAddress === rx.src) inst.masterPriority = rx.advert.priority;
  }

  /**
   * An IPv4 advert for a VRID that runs on this interface over the other protocol (plain
   * VRRP for an AH instance, or AH for a plain one): its instance refuses it as an auth
   * mismatch, where a lookup in this socket alone would call it someone else's VRID.
   */
  private otherProtocolMember(t: TransportEntry, vrid: number | null): Instance | undefined {
    if (t.family !== 4 || vrid === null) return undefined;
    for (const o of this.transports.values()) {
      if (o === t || o.family !== 4 || o.ifname !== t.ifname || o.ah === t.ah) continue;
      const m = o.members.find((x) => x.cfg.virtualRouterId === vrid && !x.removed);
      if (m) return m;
    }
    return undefined;
  }

  private count(inst: Instance, c: ReturnType<typeof countRejection>): void {
    if (c.received) inst.stats.advertRcvd++;
    if (c.field) inst.stats[c.field]++;
  }

  /**
   * Counted always; logged in full when it starts an episode of its kind, then summarised
   * once per window (reject-log.ts). `detail.why`: a fixed text that tells one cause of a
   * reason from another (each its own kind).
   */
  private rejected(reason: RejectReason, src: string, inst: Instance | null, ifname: string, detail?: { why: string } & Record<string, unknown>): void {
    this.rejects.add(reason);
    this.metrics?.rejected.inc({ interface: ifname, reason });
    const kind = detail ? `${reason}: ${detail.why}` : reason;
    const first = this.rejectLog.record(kind, src, this.clock.now());
    this.rejectWindow ??= this.clock.setTimer(() => this.endRejectWindow(), REJECT_LOG_WINDOW_MS, true);
    if (!first) return;
    const fields = { reason, src, instance: inst?.cfg.name, interface: ifname, ...detail };
    // other routers' VRIDs on a shared LAN are normal
    if (reason === RejectReason.VridMismatch) this.log.debug(fields, 'advert for a VRID we do not run');
    else this.log.warn(fields, `advert rejected: ${kind} (more are counted and summarised every ${REJECT_LOG_WINDOW_MS / 1000} s)`);
  }

  /** Logs the window's summaries; `more`: open the next window while an episode goes on. */
  private endRejectWindow(more = true): void {
    this.clock.clearTimer(this.rejectWindow);
    this.rejectWindow = null;
    for (const s of this.rejectLog.rollover(this.clock.now())) {
      const reason = s.key.split(':')[0];
      const fields = { reason, dropped: s.dropped, sources: s.sources, examples: s.examples };
      if (reason === RejectReason.VridMismatch) this.log.debug(fields, summaryText(s, s.key));
      else this.log.warn(fields, summaryText(s, s.key));
    }
    if (more && this.rejectLog.active) this.rejectWindow = this.clock.setTimer(() => this.endRejectWindow(), REJECT_LOG_WINDOW_MS, true);
  }

  private onLink(name: string, up: boolean): void {
    if (this.stopping || !this.linksOpen) return;
    this.log.info({ interface: name, up }, `interface ${name} ${up ? 'up' : 'down'}`);
    if (!up && this.links.ifindex(name) === null) {
      // the link is gone: its sockets are bound to a dead ifindex; reopen when it returns
      for (const [key, t] of this.transports) {
        if (t.ifname !== name) continue;
        t.transport.close();
        this.transports.delete(key);
        for (const m of t.members) m.transport = null;
      }
    }
    if (up) {
      // an interface that was missing at start (or re-created): open the instances' socket now
      for (const inst of this.instances) {
        if ((inst.cfg.interface === name || inst.advertIf === name) && inst.transport === null) void this.configureInstance(inst, inst.cfg);
      }
      this.reinstateStaticRoutes(name);
    }
    for (const inst of this.instances) {
      if (this.specFor(inst).tracking.interfaces.some((t) => t.name === name)) this.deliver(inst, { type: 'interface', name, up });
    }
  }

  /**
   * A VIP deleted behind a MASTER's back sends it to BACKUP (it takes MASTER back after the
   * skew time, VIPs and all); a deleted static address is added again (keepalived
   * address_is_ours, reinstate_static_address). The first VIP that matches decides: one
   * with `no_track` makes the deletion nobody's, and a static one with it is not put back.
   */
  private onAddressRemoved(a: InterfaceAddress): void {
    if (this.stopping || !this.linksOpen) return;
    for (const inst of this.instances) {
      if (inst.removed || this.machineOf(inst).state !== 'MASTER') continue;
      const vip = installedVips(inst.cfg).find((v) => {
        const ifindex = this.links.ifindex(vipDevice(inst.cfg, v));
        return ifindex !== null && isThisVip(a, v, ifindex);
      });
      if (!vip) continue;
      if (vip.noTrack) break;
      this.log.warn({ instance: inst.cfg.name, vip: vip.address }, `VIP ${vip.address} deleted behind our back while MASTER: going BACKUP`);
      this.deliver(inst, { type: 'deleted-behind-back', what: `VIP ${vip.address}` });
      break;
    }
    const routing = this.routing;
    const address = this.config.staticAddresses.find((s) => {
      if (s.noTrack) return false;
      const ifindex = this.links.ifindex(s.dev);
      return ifindex !== null && isThisVip(a, s, ifindex);
    });
    if (!routing || !address) return;
    this.log.info({ address: address.address, dev: address.dev }, `Restoring deleted static address ${address.address}/${address.prefix} dev ${address.dev}`);
    this.queue(() => routing.addAddresses([address]));
  }

  /** The instances a route or rule removal can belong to (a removed one's are going anyway). */
  private liveConfigs(): VrrpInstance[] {
    return this.instances.filter((i) => !i.removed).map((i) => i.cfg);
  }

  /** An instance's tracked route or rule deleted: BACKUP if MASTER; a static one: added again. */
  private onRoutingRemoved(owner: RemovalOwner | null): void {
    if (this.stopping || !this.linksOpen || !owner) return;
    const routing = this.routing;
    switch (owner.kind) {
      case 'instance': {
        const inst = this.instances.find((i) => i.cfg.name === owner.instance && !i.removed);
        if (!inst || this.machineOf(inst).state !== 'MASTER') return;
        this.log.warn(
          { instance: inst.cfg.name, entry: owner.text },
          `virtual route or rule \`${owner.text}\` deleted behind our back while MASTER: going BACKUP`,
        );
        this.deliver(inst, { type: 'deleted-behind-back', what: `virtual route or rule ${owner.text}` });
        return;
      }
      case 'static-route':
        if (!routing) return;
        this.log.info({ route: owner.route.text }, `Restoring deleted static route ${owner.route.text}`);
        this.queue(() => routing.addRoutes([owner.route], 'static'));
        return;
      case 'static-rule':
        if (!routing) return;
        this.log.info({ rule: owner.rule.text }, `Restoring deleted static rule ${owner.rule.text}`);
        this.queue(() => routing.addRules([owner.rule], 'static'));
        return;
    }
  }

  /**
   * An instance that started before its interface had a usable address (advert source
   * 0.0.0.0 / ::) takes the first one that appears, as keepalived does.
   */
  private async onAddressAdded(a: InterfaceAddress): Promise<void> {
    if (this.stopping || !this.linksOpen || a.flags.tentative) return;
    for (const inst of this.instances) {
      if (inst.source !== '0.0.0.0' && inst.source !== '::') continue;
      if (inst.cfg.family !== a.family || this.links.ifindex(inst.cfg.interface) !== a.ifindex) continue;
      await this.configureInstance(inst, inst.cfg);
      if (inst.source === '0.0.0.0' || inst.source === '::') continue;
      this.log.info({ instance: inst.cfg.name, source: inst.source }, 'advert source address now known');
      const spec = this.specFor(inst);
      const u = inst.unit;
      if (u.kind === 'one') u.machine = { ...u.machine, spec };
      else u.machine = { ...u.machine, members: { ...u.machine.members, [inst.cfg.name]: { ...this.machineOf(inst), spec } } };
    }
    this.closeUnusedTransports();
  }

  private onScript(name: string, status: ScriptStatus): void {
    if (this.stopping) return;
    for (const inst of this.instances) {
      if (this.specFor(inst).tracking.scripts.some((t) => t.name === name)) this.deliver(inst, { type: 'script', name, status });
    }
  }

  private onTrackProcess(name: string, up: boolean): void {
    if (this.stopping) return;
    for (const inst of this.instances) {
      if (this.specFor(inst).tracking.processes.some((t) => t.name === name)) this.deliver(inst, { type: 'track-process', name, up });
    }
  }

  private onTrackFile(name: string, value: number): void {
    if (this.stopping) return;
    for (const inst of this.instances) {
      if (this.specFor(inst).tracking.files.some((t) => t.name === name)) this.deliver(inst, { type: 'track-file', name, value });
    }
  }

  // -------------------------------------------------------------------------------------
  // Actions out

  private executeGroup(u: Extract<Unit, { kind: 'group' }>, member: string | null, a: VrrpAction): void {
    if (member !== null) {
      const inst = u.members.find((m) => m.cfg.name === member);
      if (inst) this.execute(inst, a);
      return;
    }
    if (a.type === 'state-changed') {
      const line = syncGroupLine(u.name, a.to);
      if (line) this.log.info({ event: { group: u.name, from: a.from, to: a.to, reason: a.reason } }, line);
      if (a.to !== 'INIT') this.fifos?.write(vrrpFifoLine('GROUP', u.name, a.to));
      const group = this.config.vrrpSyncGroups.find((x) => x.name === u.name);
      this.mailState(`group ${u.name}`, group?.smtpAlert ?? null, a.to, (s) =>
        s === 'DELETED' ? null : vrrpGroupAlert(this.config.globalDefs.routerId, u.name, s),
      );
    } else if (a.type === 'notify') {
      const n = a;
      this.queue(() => this.scriptHost.notify(n.argv, ownerOf(n.user, n.group), `notify of sync group ${u.name}`));
    }
  }

  private execute(inst: Instance, a: VrrpAction): void {
    switch (a.type) {
      case 'state-changed': {
        const prio = this.machineOf(inst).effective.priority;
        const event = { instance: inst.cfg.name, from: a.from, to: a.to, reason: a.reason, priority: prio };
        const line = vrrpStateLine(inst.cfg.name, a.to, a.from, inst.cfg.trackScripts.length > 0);
        if (line) this.log.info({ event }, line);
        else this.log.info({ event }, `(${inst.cfg.name}) leaving ${a.from} STATE for ${a.to}`);
        if (a.to !== 'INIT') this.fifos?.write(vrrpFifoLine('INSTANCE', inst.cfg.name, a.to, prio));
        this.mailState(`instance ${inst.cfg.name}`, inst.cfg.smtpAlert, a.to, (s) => vrrpInstanceAlert(this.config.globalDefs.routerId, inst.cfg.name, s));
        inst.transitions++;
        inst.lastTransition = wallSeconds();
        this.heldDirty = true;
        if (a.to === 'MASTER') inst.stats.becomeMaster++;
        // keepalived counts a release when MASTER gives way (BACKUP, FAULT), not at shutdown
        if (a.from === 'MASTER' && a.to !== 'STOP') inst.stats.releaseMaster++;
        this.metrics?.state.set(this.labels(inst), STATE_CODES[a.to]);
        this.metrics?.priority.set(this.labels(inst), prio);
        this.metrics?.transitions.inc({ ...this.labels(inst), to: a.to });
        return;
      }
      case 'send-advert':
        this.sendAdvert(inst, a.priority);
        return;
      case 'add-vips': {
        inst.adopted = false;
        this.heldDirty = true;
        const cfg = inst.cfg;
        this.queue(() => this.vips.add(cfg, installedVips(cfg)));
        this.addRouting(inst);
        return;
      }
      case 'remove-vips': {
        inst.garp?.abort();
        inst.garp = null;
        this.heldDirty = true;
        if (this.stopping && this.dontRelease) return;
        // keepalived removes them as the instance leaves MASTER, before its addresses
        this.removeRouting(inst);
        if (this.stopping) {
          this.handover.push(inst);
          return;
        }
        const cfg = inst.cfg;
        if (this.machineOf(inst).state === 'BACKUP') {
          // yielding to a higher-priority master: it adds the VIPs and sends its GARPs just
          // after its advert; answer what still reaches us until then (handover.ts)
          this.clock.clearTimer(this.lingering.get(inst));
          this.lingering.set(
            inst,
            this.clock.setTimer(() => {
              this.lingering.delete(inst);
              this.heldDirty = true;
              this.reportHeld();
              this.syncAnnouncements();
              if (this.machineOf(inst).state !== 'MASTER') this.queue(() => this.vips.remove(cfg, installedVips(cfg)));
            }, LINGER_MS),
          );
          return;
        }
        this.queue(() => this.vips.remove(cfg, installedVips(cfg)));
        return;
      }
      case 'send-garp': {
        const { repeat, intervalMs } = a;
        this.queue(() => this.startGarp(inst, repeat, intervalMs));
        return;
      }
      case 'arm-timer': {
        let d = inst.timers.get(a.name);
        if (!d) {
          const name = a.name;
          // Adverts already queued on a socket are read first (deadlines run after I/O): on a
          // loaded host a deadline and the advert that should have moved it can fall due in
          // one loop turn, and then the advert must win, or a backup takes over from a live
          // master (with AH, under a sequence number the master has just used, which it then
          // refuses as a replay). libuv reads a bounded batch per socket and turn, and after
          // a stall hundreds of instances' adverts can wait: Master_Down reads them all.
          const readFirst = name === 'master-down' ? () => inst.transport?.transport.readPending() : null;
          d = this.deadlines.create((due) => {
            if (!inst.removed && !this.stopping) this.deliver(inst, { type: 'timer', name, due });
          }, readFirst);
          inst.timers.set(name, d);
        }
        // periodic adverts due about together go out in one wake-up (timers.ts advertEarlyMs)
        if (a.name === 'advert') d.earlyMs = advertEarlyMs(inst.cfg.advertIntMs);
        this.deadlines.arm(d, a.at);
        return;
      }
      case 'cancel-timer': {
        const d = inst.timers.get(a.name);
        if (d) this.deadlines.cancel(d);
        return;
      }
      case 'notify': {
        const n = a;
        this.queue(() => this.scriptHost.notify(n.argv, ownerOf(n.user, n.group), `notify of ${inst.cfg.name}`));
        return;
      }
      case 'deleted':
        this.fifos?.write(vrrpFifoLine('INSTANCE', inst.cfg.name, a.as, this.machineOf(inst).effective.priority));
        // "Entering FAULT state", or with notify_deleted "Deleted" (keepalived vrrp_smtp_notifier)
        this.mailState(`instance ${inst.cfg.name}`, inst.cfg.smtpAlert, a.as, (st) => vrrpInstanceAlert(this.config.globalDefs.routerId, inst.cfg.name, st));
        return;
    }
  }

  private syncAnnouncements(): void {
    this.announcements?.sync((a) => vrrpRoutes(a, (name) => this.announceState(name)));
  }

  /**
   * An instance as bgp_announce sees it: a stopping MASTER stays announced at priority 0 until
   * its successor is heard, and local until the drain is over; a yielding one local for LINGER_MS.
   */
  private announceState(name: string): InstanceAnnounceState | undefined {
    const inst = this.instances.find((i) => i.cfg.name === name && !i.removed);
    if (!inst) return undefined;
    const m = this.machineOf(inst);
    const leaving = this.handover.includes(inst) || this.leaving.includes(inst);
    const announce = (m.state === 'MASTER' && !this.stopping) || (leaving && !this.draining);
    return { priority: this.stopping ? 0 : m.effective.priority, announce, local: announce || leaving || this.lingering.has(inst) };
  }

  /** Adopted VIPs go once another master is seen, or the instance faults or stops. */
  private afterStep(u: Unit): void {
    this.syncAnnouncements();
    const members = u.kind === 'one' ? [u.inst] : u.members;
    for (const inst of members) {
      const t = inst.transport;
      if (t) {
        const master = this.machineOf(inst).masterAddress;
        if (master !== inst.knownMaster) {
          inst.knownMaster = master;
          t.peersDirty = true;
        }
        if (t.peersDirty) this.prioritiseKnownPeers(t);
      }
      // priority moves with tracking without any state change
      this.priorityMoved(inst);
      this.advertReady(inst);
      if (!inst.adopted) continue;
      const m = this.machineOf(inst);
      const lost = m.state === 'FAULT' || (m.state === 'BACKUP' && m.masterAddress !== null);
      if (!lost) continue;
      inst.adopted = false;
      this.heldDirty = true;
      this.log.info({ instance: inst.cfg.name, state: m.state, master: m.masterAddress }, 'releasing VIPs found at start');
      const cfg = inst.cfg;
      this.queue(() => this.vips.remove(cfg, installedVips(cfg)));
    }
    this.reportHeldSoon();
  }

  /** keepalived's send_event_notify: for every lower-priority advert a MASTER answers, its script and FIFO line. */
  private masterRxLowerPri(inst: Instance): void {
    const script = inst.cfg.notifyMasterRxLowerPri;
    if (script) this.queue(() => this.scriptHost.notify(script.argv, ownerOf(script.user, script.group), `notify_master_rx_lower_pri of ${inst.cfg.name}`));
    this.fifos?.write(vrrpFifoLine('INSTANCE', inst.cfg.name, 'MASTER_RX_LOWER_PRI', this.machineOf(inst).effective.priority));
  }

  /** keepalived's MASTER_PRIORITY / BACKUP_PRIORITY FIFO line where notify_priority_changes is on. */
  private priorityMoved(inst: Instance): void {
    const m = this.machineOf(inst);
    const prio = m.effective.priority;
    this.metrics?.priority.set(this.labels(inst), prio);
    const before = inst.lastPriority;
    inst.lastPriority = prio;
    if (before === null || before === prio || !this.fifos) return;
    if (!notifyPriorityChangesOf(inst.cfg, this.config) || m.state === 'INIT') return;
    this.fifos.write(vrrpFifoLine('INSTANCE', inst.cfg.name, m.state === 'MASTER' ? 'MASTER_PRIORITY' : 'BACKUP_PRIORITY', prio));
  }

  /**
   * The adverts a flood must not crowd out: those of each member's current master and of its
   * configured unicast peers get a receive queue of their own (transport.ts prioritise).
   */
  private prioritiseKnownPeers(t: TransportEntry): void {
    t.peersDirty = false;
    const peers = new Set<string>();
    for (const m of t.members) {
      if (m.removed || isBeingCreated(m)) continue;
      for (const p of m.cfg.unicastPeers) peers.add(canonicalAddress(p.address, t.family) ?? p.address);
      const master = this.machineOf(m).masterAddress;
      if (master) peers.add(master);
    }
    const sources = [...peers].sort();
    const key = sources.join(' ');
    if (key === t.prioritised) return;
    t.prioritised = key;
    try {
      t.transport.prioritise(sources);
    } catch (err) {
      this.log.error({ interface: t.ifname }, `cannot give known peers their own receive queue: ${(err as Error).message}`);
    }
  }

  private sendAdvert(inst: Instance, priority: number): void {
    const t = inst.transport;
    if (!t) return;
    const cfg = inst.cfg;
    // one advert for keepalived's counters however many unicast peers it goes to; its
    // priority-0 counter skips the one sent on the way to FAULT
    inst.stats.advertSent++;
    if (priority === 0 && this.machineOf(inst).state !== 'FAULT') inst.stats.priZeroSent++;
    // keepalived counts the IP id (never 0: the kernel would pick one) and the AH sequence
    // number once per advert, so every unicast peer gets the same ones
    inst.ipId = (inst.ipId % 0xffff) + 1;
    const ah = usesAh(cfg) && cfg.authentication ? { type: 'AH' as const, pass: cfg.authentication.pass } : null;
    if (ah) inst.ahSeq++;
    const unicast = cfg.unicastPeers.length > 0;
    inst.destinations.forEach((dst, i) => {
      try {
        const encoded = ah ? null : this.encodedAdverts(inst, t, priority);
        let packet: Buffer;
        if (encoded) packet = cfg.family === 6 ? encoded.packets[i]! : withIpv4Id(encoded.packets[i]!, inst.ipId);
        else {
          const payload = encodeAdvert(this.advertParams(inst, t, priority, dst, ah));
          packet = cfg.family === 6 ? payload : encodeAhDatagram(payload, { src: inst.source, dst, id: inst.ipId, pass: ah!.pass, seq: inst.ahSeq, unicast });
        }
        this.metrics?.advertsSent.inc(this.labels(inst));
        const queued = t.transport.send(packet, dst);
        if (!queued) return;
        const p = queued.catch((err: Error) => {
          this.log.warn({ instance: cfg.name, dst }, `advert send failed: ${err.message}`);
        });
        this.sends.add(p);
        void p.finally(() => this.sends.delete(p));
      } catch (err) {
        this.log.error({ instance: cfg.name }, `cannot build advert: ${(err as Error).message}`);
      }
    });
  }

  private advertParams(inst: Instance, t: TransportEntry, priority: number, dst: string, ah: { type: 'AH'; pass: string } | null): EncodeParams {
    const cfg = inst.cfg;
    return {
      version: cfg.version,
      family: cfg.family,
      vrid: cfg.virtualRouterId,
      priority,
      advertIntMs: cfg.advertIntMs,
      addresses: inst.expect.addresses,
      auth: ah ?? (cfg.version === 2 && cfg.authentication?.type === 'PASS' ? { type: 'PASS', pass: cfg.authentication.pass } : null),
      src: t.family === 6 && inst.source === '::' ? '::' : inst.source,
      dst,
      checksumAsV2: cfg.v3ChecksumAsV2,
    };
  }

  /**
   * Without AH an advert depends only on the config, the source, the destinations and the
   * priority; the IPv4 id is stamped in per send (withIpv4Id). IPv6: the payload as sent.
   */
  private encodedAdverts(inst: Instance, t: TransportEntry, priority: number): EncodedAdverts {
    const c = inst.adverts;
    if (c && c.cfg === inst.cfg && c.source === inst.source && c.destinations === inst.destinations && c.expect === inst.expect && c.priority === priority)
      return c;
    const packets = inst.destinations.map((dst) => {
      const payload = encodeAdvert(this.advertParams(inst, t, priority, dst, null));
      return inst.cfg.family === 6 ? payload : encodeIpv4Datagram(payload, { src: inst.source, dst, id: 0 });
    });
    inst.adverts = { cfg: inst.cfg, source: inst.source, destinations: inst.destinations, expect: inst.expect, priority, packets };
    return inst.adverts;
  }

  /**
   * A BACKUP's advert is encoded before its Master_Down expires, so the takeover sends a
   * ready packet: encoding it then, with the encoder's first run compiled on the spot, put
   * milliseconds between the decision and the advert on a loaded host. Re-encoded only when
   * what it carries changes (a reload, a tracked priority); AH adverts are built per send.
   */
  private advertReady(inst: Instance): void {
    const t = inst.transport;
    if (!t || inst.removed || usesAh(inst.cfg)) return;
    const m = this.machineOf(inst);
    if (m.state !== 'BACKUP') return;
    try {
      this.encodedAdverts(inst, t, m.effective.priority);
    } catch {
      /* sendAdvert logs what cannot be built, when it is sent */
    }
  }

  private startGarp(inst: Instance, repeat: number, intervalMs: number): void {
    if (this.announcer === undefined) {
      try {
        this.announcer = this.host.openAnnouncer();
      } catch (err) {
        this.announcer = null;
        this.log.error(`gratuitous ARP / NA unavailable: ${(err as Error).message}`);
      }
    }
    const announcer = this.announcer;
    if (!announcer || this.machineOf(inst).state !== 'MASTER') return;
    inst.garp ??= new AbortController();
    const signal = inst.garp.signal;
    const byDev = new Map<string, string[]>();
    for (const v of installedVips(inst.cfg)) {
      const dev = vipDevice(inst.cfg, v);
      byDev.set(dev, [...(byDev.get(dev) ?? []), canonicalAddress(v.address, v.family) ?? v.address]);
    }
    for (const [dev, addrs] of byDev) {
      const link = this.links.link(dev);
      if (!link) continue;
      void announcer.announceRepeatedly({ index: link.index, name: link.name, mac: link.mac }, addrs, repeat, intervalMs, signal).then((errs) => {
        if (errs.length) this.log.warn({ instance: inst.cfg.name, dev }, `GARP/NA: ${errs[0]!.message}`);
      });
    }
  }

  // -------------------------------------------------------------------------------------
  // Routes and rules (routing.ts)

  /** virtual_routes, then virtual_rules, as keepalived adds them after the VIPs. */
  private addRouting(inst: Instance): void {
    const routing = this.routing;
    if (!routing || inst.routingSet) return;
    const cfg = inst.cfg;
    if (!cfg.virtualRoutes.length && !cfg.virtualRules.length) return;
    inst.routingSet = true;
    this.queue(async () => {
      await routing.addRoutes(cfg.virtualRoutes, cfg.name);
      await routing.addRules(cfg.virtualRules, cfg.name);
    });
  }

  /** Rules first, then routes (keepalived vrrp_restore_interface). */
  private removeRouting(inst: Instance): void {
    const routing = this.routing;
    if (!routing || !inst.routingSet) return;
    inst.routingSet = false;
    const cfg = inst.cfg;
    this.queue(async () => {
      await routing.removeRules(cfg.virtualRules, cfg.name);
      await routing.removeRoutes(cfg.virtualRoutes, cfg.name);
    });
  }

  /** A MASTER's reload: what left the config goes, what came in is added, the rest stays. */
  private reconcileRouting(before: VrrpInstance, after: VrrpInstance): void {
    const routing = this.routing;
    if (!routing) return;
    const routes = routingChanges(before.virtualRoutes, after.virtualRoutes);
    const rules = routingChanges(before.virtualRules, after.virtualRules);
    this.queue(async () => {
      await routing.removeRules(rules.remove, after.name);
      await routing.removeRoutes(routes.remove, after.name);
      await routing.addRoutes(routes.add, after.name);
      await routing.addRules(rules.add, after.name);
    });
  }

  /**
   * static_ipaddress, static_routes, static_rules. At start (`before` null) keepalived first
   * clears leftovers of a previous run, then adds them all; a reload removes what left the
   * config and adds what came in.
   */
  private applyStatics(before: KeepalivedConfig | null, after: KeepalivedConfig): void {
    const routing = this.routing;
    if (!routing) return;
    const gone = before ?? after;
    const addresses = before
      ? staticAddressChanges(before.staticAddresses, after.staticAddresses)
      : { remove: after.staticAddresses, add: after.staticAddresses };
    const routes = before ? routingChanges(before.staticRoutes, after.staticRoutes) : { remove: after.staticRoutes, add: after.staticRoutes };
    const rules = before ? routingChanges(before.staticRules, after.staticRules) : { remove: after.staticRules, add: after.staticRules };
    if (
      !gone.staticAddresses.length &&
      !gone.staticRoutes.length &&
      !gone.staticRules.length &&
      !after.staticAddresses.length &&
      !after.staticRoutes.length &&
      !after.staticRules.length
    )
      return;
    this.queue(async () => {
      await routing.removeRules(rules.remove, 'static');
      await routing.removeRoutes(routes.remove, 'static');
      await routing.removeAddresses(addresses.remove);
      await routing.addAddresses(addresses.add);
      await routing.addRoutes(routes.add, 'static');
      await routing.addRules(rules.add, 'static');
    });
  }

  /**
   * The kernel drops the routes of a link that goes down; keepalived adds its tracked static
   * routes through that link again when it comes back (vrrp_if.c interface_up).
   */
  private reinstateStaticRoutes(ifname: string): void {
    const routing = this.routing;
    const routes = this.config.staticRoutes.filter((r) => r.track && r.dev === ifname);
    if (!routing || !routes.length) return;
    this.log.info({ interface: ifname, routes: routes.length }, 'restoring static routes');
    this.queue(() => routing.addRoutes(routes, 'static'));
  }

  /** At stop keepalived removes the static rules, routes and addresses (vrrp_daemon.c stop_vrrp). */
  private removeStatics(config: KeepalivedConfig): void {
    const routing = this.routing;
    if (!routing) return;
    this.queue(async () => {
      await routing.removeRules(config.staticRules, 'static');
      await routing.removeRoutes(config.staticRoutes, 'static');
      await routing.removeAddresses(config.staticAddresses);
    });
  }

  private queue(op: () => void | Promise<void>): void {
    this.ops = this.ops.then(op).catch((err: Error) => this.log.error(`VRRP host update failed: ${err.message}`));
  }

  private clearTimers(inst: Instance): void {
    for (const d of inst.timers.values()) this.deadlines.cancel(d);
  }
}

/** Lookups and known peers are recomputed on next use. */
function membersChanged(t: TransportEntry): void {
  t.index = null;
  t.peersDirty = true;
}

function indexMembers(members: readonly Instance[]): MemberIndex {
  const byVrid = new Map<number, Instance>();
  for (const m of members) if (!m.removed && !byVrid.has(m.cfg.virtualRouterId)) byVrid.set(m.cfg.virtualRouterId, m);
  return { byVrid, parse: { acceptChecksumAsV2: members.some((m) => m.cfg.v3ChecksumAsV2), acceptMulticastDstChecksum: true } };
}

export { instanceKey };
