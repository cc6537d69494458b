/**
 * The checker's I/O shell: runs the health checks through the one check scheduler and retry
 * machine (src/probe/scheduler.ts, checker-state.ts), keeps each real server's health and
 * each virtual server's quorum, and converges the kernel's IPVS table to `desiredTable()`
 * after every change.
 *
 * Reconcile, not replay. At start the kernel's table is read and what already matches is
 * adopted, so a restarted checker does not remove and re-add live servers. Between re-reads
 * the engine diffs against the table it last wrote (so one server going down costs one
 * netlink write, not a dump plus a write); every `rereadIntervalMs` it reads the kernel
 * again and repairs whatever someone changed by hand. It only ever sees services it owns
 * (see owned.ts): foreign services are filtered out of every dump before the diff.
 */
import { type CheckerState, initialState } from '../probe/checker-state.js';
import { realServerHealth } from '../probe/real-server-health.js';
import { type Clock, systemClock } from '../clock/index.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TimeSlice } from '../clock/time-slice.js';
import { type CheckRunner, type CheckerEvent, type RealServerEvent, type SchedulerListener, CheckScheduler } from '../probe/scheduler.js';
import type { HealthCheck, GlobalDefs, KeepalivedConfig, RealServer, ScriptSpec, VirtualServer } from '../config/model.js';
import { type IpvsOp, diff } from '../ipvs/diff.js';
import type { ServiceEntry, Timeouts } from '../ipvs/model.js';
import { type AlertMessage, AlertOutbox, type SmtpAlertSender, createSmtpAlertSender } from '../notify/smtp-alert.js';
import { fifoPlan, NotifyFifos, realServerFifoLine, virtualServerFifoLine } from '../notify/fifo.js';
import { checkerAlert, formatVirtualServer, quorumChangeAlert, shutdownQuorumAlert, shutdownRealServerAlert } from './alerts.js';
import { checkerLine, realServerLine, serviceTrio } from '../log/keepalived-lines.js';
import {
  type RealServerHealth,
  checkExpressible,
  configuredServiceIds,
  desiredTable,
  expandRange,
  healthKey,
  initialQuorum,
  liveWeight,
  nextQuorum,
  realServerId,
  virtualServerId,
} from './desired.js';
import type { AddressPresence } from './local-addresses.js';
import type { VirtualServerReadiness } from '../announce/decide.js';
import type { Logger } from '../log/logger.js';
import { type SyncDaemonPort, SyncDaemonControl, instanceIsMaster, wantedSyncDaemons } from './sync-daemon.js';
import { type OwnedStore, ownedOnly } from './owned.js';
import { PackedTable } from './packed-table.js';
import { ScriptHost, checkerScriptUses, ownerOf } from '../script/index.js';
import type { IpvsPlan } from '../watchdog/plan.js';
import { planIpvsReload } from './reload-plan.js';

/** What the engine needs of the IPVS client (the real IpvsClient fits; tests pass a fake). */
export interface IpvsPort extends SyncDaemonPort {
  /** Netlink writes so far (dumps included). */
  writes: number;
  table(): Promise<ServiceEntry[]>;
  apply(ops: readonly IpvsOp[]): Promise<void>;
  setTimeouts(t: Timeouts): Promise<void>;
  flush(): Promise<void>;
}

export type { CheckRunner } from '../probe/scheduler.js';
export type ScriptRunner = (script: ScriptSpec, why: string) => void;

export type CheckerConfig = Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups' | 'globalDefs'> &
  Partial<Pick<KeepalivedConfig, 'trackFiles' | 'vrrpInstances' | 'ssl'>>;

/** smtp_alert delivery for a config's global_defs; null when it names no server or recipient. */
export type AlertSenderFactory = (g: GlobalDefs) => SmtpAlertSender | null;

export interface EngineOptions {
  ipvs: IpvsPort;
  owned: OwnedStore;
  log: Logger;
  runCheck: CheckRunner;
  /** notify_up/down, quorum_up/down. Default: `scripts` runs them as notify scripts. */
  runScript?: ScriptRunner;
  /** Vets and runs this engine's scripts (MISC_CHECK, notify); default: one on `log`. */
  scripts?: ScriptHost;
  /** Leave the table in place on stop (-I, --dont-release-ipvs). */
  dontReleaseIpvs?: boolean;
  /** Re-read the kernel this often to repair hand edits; default: the shortest delay_loop, 1-60 s. */
  rereadIntervalMs?: number;
  /**
   * The host's addresses (rtnetlink events, see local-addresses.ts): ha_suspend pauses a
   * virtual server's checks while its address is absent, and lvs_sync_daemon follows the
   * named VRRP instance's state by its VIPs. Without it every address counts as present
   * for ha_suspend and the instance as not MASTER.
   */
  addresses?: AddressPresence;
  /** smtp_alert delivery; default: nodemailer to global_defs smtp_server. */
  alertSender?: AlertSenderFactory;
  /**
   * Every check's result as the scheduler applied it (metrics, the USR1 dump): see
   * SchedulerListener.onAttemptDone. Observing here, not by wrapping runCheck, keeps
   * TCP_CHECK on the native probe's batched path.
   */
  onAttemptDone?: SchedulerListener['onAttemptDone'];
  /** [0, 1) source for warmup spreading; injectable so tests are deterministic. */
  random?: () => number;
  /** The check rounds, the kernel re-read and the IPVS retry run on it; default: systemClock. */
  clock?: Clock;
  /** After each pass over the kernel table and each quorum change: bgp_announce re-decides. */
  onReadinessChange?: () => void;
}

export interface EngineStats {
  /** Netlink writes spent applying diffs (dumps excluded). */
  applyWrites: number;
  opsApplied: number;
  /** Times the kernel was read. */
  rereads: number;
  /** Re-reads that found the kernel differing from what we had written. */
  repairs: number;
  checksRun: number;
  /** Milliseconds the completed checks took in total (mean check duration = checkMs / checksRun). */
  checkMs: number;
}

/** keepalived's FMT_RS: the real server with its virtual server's protocol. */
const realServerTrio = (vs: VirtualServer, rs: RealServer) => serviceTrio(rs.address, vs.protocol, rs.port);

/** The engine's scheduler: each real server registered under its own config object. */
type Checks = CheckScheduler<RealServer>;

export class CheckerEngine {
  readonly stats: EngineStats;
  private config: CheckerConfig | null = null;
  /** Runs the checks of the installed config; replaced on every install. */
  private scheduler: Checks | null = null;
  /** Checks completed (and their milliseconds) by schedulers already replaced. */
  private checksBefore = 0;
  private checkMsBefore = 0;
  /** The stopped scheduler whose figures are already in checksBefore. */
  private counted: Checks | null = null;
  /**
   * A real server listed again under the same virtual server (same address and port) is
   * checked once, as its first listing: the later listings' objects, to the first's.
   */
  private duplicates = new Map<RealServer, RealServer>();
  /**
   * Each real server's health, read from the scheduler (which keeps it with the server's
   * checkers) rather than kept twice: the desired table, quorum and dumps use it.
   */
  private readonly health = {
    of: (_vs: VirtualServer, rs: RealServer): RealServerHealth | undefined =>
      viewHealth(this.scheduler ? this.scheduler.health(this.checked(rs)) : startingHealth(rs)),
  };
  private quorum = new Map<string, boolean>();
  private fifos: NotifyFifos | null = null;
  private owned = new Set<string>();
  /**
   * The owned part of the kernel table as we last wrote it (packed: a destination object per
   * real server costs more memory than the checker's other per-server state); null = read it again.
   */
  private actual: PackedTable | null = null;
  private dirty = false;
  /** Real server health changes so far, and how many of them a finished pass has written to the kernel. */
  private healthChanges = 0;
  private writtenHealth = 0;
  private rereadWanted = false;
  /** The last pass wrote the desired table into the kernel (false after a refusal, until a pass succeeds). */
  private installed = false;
  private loop: Promise<void> | null = null;
  private rereadTimer: unknown = null;
  private retryTimer: unknown = null;
  private stopped = false;
  private readonly runScript: ScriptRunner;
  private readonly scriptHost: ScriptHost;
  private readonly random: () => number;
  private readonly clock: Clock;
  /** ha_suspend virtual servers and the addresses that make them present. */
  private haSuspend = new Map<VirtualServer, string[]>();
  private suspendedVs = new Set<VirtualServer>();
  private readonly sync: SyncDaemonControl;
  private sender: AlertOutbox | null = null;
  private readonly unwatchAddresses: (() => void) | null;

  constructor(private readonly opts: EngineOptions) {
    const scripts = (this.scriptHost = opts.scripts ?? new ScriptHost({ log: opts.log }));
    this.runScript = opts.runScript ?? ((s, why) => scripts.notify(s.argv, ownerOf(s.user, s.group), why));
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? systemClock;
    this.sync = new SyncDaemonControl(opts.ipvs, opts.log);
    this.unwatchAddresses = opts.addresses?.onChange(() => this.onAddressChange()) ?? null;
    const checksRun = () => this.checksBefore + (this.live()?.attempts ?? 0);
    const checkMs = () => this.checkMsBefore + (this.live()?.checkMs ?? 0);
    this.stats = {
      applyWrites: 0,
      opsApplied: 0,
      rereads: 0,
      repairs: 0,
      get checksRun() {
        return checksRun();
      },
      get checkMs() {
        return checkMs();
      },
    };
  }

  /**
   * The owned list on disk only lets a restarted checker adopt what it left in the kernel.
   * Failing to read or write it (read-only or unsearchable /run, a full disk) costs that
   * adoption, never the running table: log it and carry on, as keepalived does with the
   * state files it cannot write.
   */
  private loadOwned(): Set<string> {
    try {
      return this.opts.owned.load();
    } catch (e) {
      this.opts.log.error({ err: (e as Error).message }, 'cannot read the list of IPVS services this checker owns; starting with none adopted');
      return new Set();
    }
  }

  private saveOwned(): void {
    try {
      this.opts.owned.save(this.owned);
    } catch (e) {
      this.opts.log.error({ err: (e as Error).message }, 'cannot save the list of IPVS services this checker owns; a restarted checker will not adopt them');
    }
  }

  /** Read the kernel, adopt what matches, fix the rest, start checking. */
  async start(config: CheckerConfig): Promise<void> {
    checkExpressible(config); // refuse a config we cannot express, before touching anything
    this.owned = this.loadOwned();
    const g = config.globalDefs;
    if (g.lvsFlush) {
      // keepalived's lvs_flush empties the whole table at start, foreign services included
      await this.opts.ipvs.flush();
      this.owned.clear();
      this.opts.log.info({}, 'lvs_flush: IPVS table flushed');
    }
    if (g.lvsTimeouts) {
      const t = g.lvsTimeouts;
      await this.opts.ipvs.setTimeouts({ tcp: t.tcpS ?? 0, tcpFin: t.tcpfinS ?? 0, udp: t.udpS ?? 0 });
    }
    // The table first, from every real server's starting state (keepalived's: up unless
    // alpha), then the scheduler that checks them: registering 10,000 real servers does not
    // hold up the table, and no check runs before both are in place.
    this.prepareInstall(config);
    this.installTable(config, new Map());
    await nextTurn(); // one event-loop turn (the watchdog's heartbeat) before the table is written
    await this.reconcileNow(true);
    await this.installChecks(config);
    await this.applySyncDaemons();
    this.startChecks();
  }

  /**
   * Swap in a new configuration. Real servers that still exist (same address and port under a
   * virtual server with the same address/port/protocol, fwmark or group) keep their health;
   * the rest start fresh. Throws, changing nothing, when the config cannot be expressed.
   */
  async reload(config: CheckerConfig): Promise<void> {
    checkExpressible(config);
    this.stopChecks();
    if (config.globalDefs.lvsTimeouts) {
      const t = config.globalDefs.lvsTimeouts;
      await this.opts.ipvs.setTimeouts({ tcp: t.tcpS ?? 0, tcpFin: t.tcpfinS ?? 0, udp: t.udpS ?? 0 });
    }
    await this.install(config);
    await this.reconcileNow(true);
    await this.applySyncDaemons();
    this.startChecks();
  }

  /**
   * `--plan`: what reload(config) would write to the kernel now, writing nothing. Each kept
   * real server starts as install() will start it: its old checker states (or its old up/down)
   * weighed with its NEW configured weight, so an edited weight shows as an edit; virtual
   * servers keep their quorum.
   */
  async planReload(config: CheckerConfig): Promise<IpvsPlan> {
    const old = this.scheduler;
    const previous = old ? realServersByKey(old) : new Map<string, RealServer>();
    const health = new Map<string, RealServerHealth>();
    for (const vs of config.virtualServers) {
      for (const rs of vs.realServers) {
        const key = healthKey(vs, rs);
        const oldRs = previous.get(key);
        const before = oldRs && old!.health(oldRs);
        if (!before) continue;
        health.set(key, viewHealth(realServerHealth(rs.weight, carriedStates(old!.checkerStates(oldRs), oldRs, rs, before.up)))!);
      }
    }
    const actual = ownedOnly(await this.opts.ipvs.table(), this.owned);
    return planIpvsReload(config, { health, quorumUp: this.quorum }, actual);
  }

  /** Stop checking; remove our services unless told to leave them; end every script still running. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.fifos?.endReaders();
    try {
      await this.release();
    } finally {
      this.fifos?.close();
      this.fifos = null;
      await this.scriptHost.stop();
    }
  }

  private async release(): Promise<void> {
    this.stopChecks();
    this.clock.clearTimer(this.rereadTimer);
    this.rereadTimer = null;
    this.clock.clearTimer(this.retryTimer);
    this.retryTimer = null;
    await this.loop?.catch(() => {});
    this.unwatchAddresses?.();
    this.omegaNotifications();
    await this.sync.stopAll();
    await this.sender?.settled();
    this.sender?.close();
    const ipvs = this.opts.ipvs;
    // -I wins over lvs_flush_on_stop, as in keepalived: the operator asked to keep the table.
    if (this.opts.dontReleaseIpvs) {
      this.opts.log.info({ services: this.owned.size }, 'leaving the IPVS table in place (--dont-release-ipvs)');
      return;
    }
    const flushOnStop = this.config?.globalDefs.lvsFlushOnStop ?? 'off';
    if (flushOnStop === 'full') {
      await ipvs.flush();
      this.owned.clear();
      this.saveOwned();
      this.opts.log.info({}, 'lvs_flush_on_stop: IPVS table flushed');
      return;
    }
    const mine = ownedOnly(await ipvs.table(), this.owned);
    // 'off' and 'vs' end alike: one delete per owned service, the kernel drops its
    // destinations with it (keepalived's 'off' deletes each real server first: same table)
    await this.applyOps(diff([], mine));
    this.owned.clear();
    this.saveOwned();
    this.opts.log.info({ services: mine.length }, 'released the IPVS services this checker owned');
  }

  /**
   * What bgp_announce needs of a virtual server: its quorum, whether its services are in the
   * kernel, and whether every real server has a verdict (a check done, no retry pending).
   */
  announceReadiness(vs: VirtualServer): VirtualServerReadiness {
    const settled = vs.realServers.every((rs) => this.checkerStates(rs).every((c) => c.hasRun && c.retryIt === 0));
    return {
      quorum: this.quorum.get(virtualServerId(vs)) ?? false,
      installed: this.installed && !this.stopped,
      settled,
      written: this.writtenHealth === this.healthChanges,
    };
  }

  /** Health of every real server, by healthKey(): for tests and status dumps. */
  healthSnapshot(): Map<string, RealServerHealth> {
    const s = this.scheduler;
    if (!s) return new Map();
    return new Map([...s.healthEntries()].map(([rs, h]) => [healthKey(s.tag(rs) as VirtualServer, rs), viewHealth(h)!]));
  }

  /** The live retry state of each checker of `rs` (an installed config's object), for dumps. */
  checkerStates(rs: RealServer): CheckerState[] {
    return this.scheduler?.checkerStates(this.checked(rs)) ?? [];
  }

  /** The object the scheduler checks `rs` under: its first listing's. */
  private checked(rs: RealServer): RealServer {
    return this.duplicates.size ? (this.duplicates.get(rs) ?? rs) : rs;
  }

  /** Resolves when every change seen so far has reached the kernel. */
  async settled(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** Ask for a re-read of the kernel now (also done every rereadIntervalMs). */
  requestReread(): void {
    this.rereadWanted = true;
    this.kick();
  }

  // ---- configuration -------------------------------------------------------------------

  /** A reload's install: the new checks (carrying the kept servers' states), then the table state. */
  private async install(config: CheckerConfig): Promise<void> {
    this.prepareInstall(config);
    const oldQuorum = this.quorum;
    await this.installChecks(config);
    this.installTable(config, oldQuorum);
  }

  /** Scripts vetted (a disabled MISC_CHECK leaves its real servers first) and the notify FIFOs. */
  private prepareInstall(config: CheckerConfig): void {
    this.scriptHost.load(config.globalDefs, checkerScriptUses(config));
    dropDisabledMiscChecks(config, this.scriptHost);
    const plan = fifoPlan(config.globalDefs, 'lvs');
    // keepalived reopens its FIFOs at a reload; an unchanged set stays open here (its reader keeps reading)
    if (this.fifos?.key !== JSON.stringify(plan.fifos)) {
      this.fifos?.close();
      this.fifos = plan.fifos.length > 0 || plan.notes.length > 0 ? new NotifyFifos(plan, 'lvs', this.scriptHost, this.opts.log) : null;
    }
  }

  /**
   * Registers every real server with a new scheduler. Thousands of them hold the thread for
   * seconds on a slow machine: the loop lets the event loop run between slices, so the
   * watchdog's heartbeats go out meanwhile (the new scheduler is not live until the end).
   */
  private async installChecks(config: CheckerConfig): Promise<void> {
    const old = this.scheduler;
    const scheduler: Checks = new CheckScheduler<RealServer>(
      {
        onCheckerChange: (e) => this.onCheckerChange(scheduler, e),
        onRealServerChange: (e) => this.onRealServerChange(scheduler, e),
        ...(this.opts.onAttemptDone ? { onAttemptDone: this.opts.onAttemptDone } : {}),
      },
      {
        run: this.opts.runCheck,
        rng: this.random,
        clock: this.clock,
        ctx: {
          scripts: this.scriptHost,
          trackFiles: config.trackFiles ?? [],
          virtualhost: null,
          ssl: config.ssl ?? null,
        },
        paused: config.virtualServers.some((vs) => vs.haSuspend) ? (_key, vs) => this.suspendedVs.has(vs as VirtualServer) : undefined,
      },
    );
    let servers = 0;
    let checkers = 0;
    for (const vs of config.virtualServers) {
      servers += vs.realServers.length;
      for (const rs of vs.realServers) checkers += rs.checkers.length;
    }
    scheduler.reserve(servers, checkers);
    // Identity across configs is healthKey(vs, rs): keys built for this install only (the
    // scheduler keeps each real server under its object), to carry states and find duplicates.
    const previous = old ? realServersByKey(old) : new Map<string, RealServer>();
    const firsts = new Map<string, RealServer>();
    const duplicates = new Map<RealServer, RealServer>();
    const slice = new TimeSlice();
    for (const vs of config.virtualServers) {
      if (slice.due()) await slice.yield();
      const vsId = virtualServerId(vs); // one string per virtual server, not per real server
      for (const rs of vs.realServers) {
        const key = `${vsId}/${realServerId(rs)}`; // = healthKey(vs, rs)
        const first = firsts.get(key);
        if (first) {
          duplicates.set(rs, first);
          continue;
        } // a real server listed twice is checked once
        firsts.set(key, rs);
        const oldRs = previous.get(key);
        const before = oldRs && old!.health(oldRs);
        scheduler.add(rs, rs, {
          ctx: vs.virtualhost === null && !rs.virtualhost ? undefined : { virtualhost: vs.virtualhost, realServerVirtualhost: rs.virtualhost ?? null },
          initial: before ? carriedStates(old!.checkerStates(oldRs), oldRs, rs, before.up) : undefined,
          tag: vs,
        });
      }
    }
    this.duplicates = duplicates;
    this.scheduler = scheduler;
    this.installHaSuspend(config);
    this.sender?.close();
    const g = config.globalDefs;
    const sender = g.smtpServer && g.notificationEmail?.length ? (this.opts.alertSender ?? createSmtpAlertSender)(g) : null;
    this.sender = sender ? new AlertOutbox(sender, this.opts.log) : null;
  }

  /** Each virtual server's quorum (kept from `oldQuorum` where it had one) and the services to own. */
  private installTable(config: CheckerConfig, oldQuorum: ReadonlyMap<string, boolean>): void {
    this.quorum = new Map();
    const state = { health: this.health, quorumUp: this.quorum };
    for (const vs of config.virtualServers) {
      const id = virtualServerId(vs);
      this.quorum.set(id, oldQuorum.get(id) ?? initialQuorum(vs, state));
    }
    this.config = config;
    // own the new services before they exist, so a crash right after adding them cannot orphan them
    for (const id of configuredServiceIds(config)) this.owned.add(id);
    this.saveOwned();
    this.actual = null;
    this.dirty = true;
  }

  /**
   * ha_suspend: a virtual server whose address is not on this host is not checked (its
   * health stays as it was). keepalived refuses it on fwmark services, which have no
   * address; a group is present while any of its member addresses is.
   */
  private installHaSuspend(config: CheckerConfig): void {
    this.haSuspend = new Map();
    for (const vs of config.virtualServers) {
      if (!vs.haSuspend) continue;
      const addresses = vsAddresses(vs, config);
      if (addresses.length === 0) {
        this.opts.log.warn({ vs: virtualServerId(vs) }, 'ha_suspend needs a virtual server address (not a fwmark); ignored');
        continue;
      }
      this.haSuspend.set(vs, addresses);
    }
    this.suspendedVs = new Set([...this.haSuspend].filter(([, a]) => !this.present(a)).map(([vs]) => vs));
    for (const vs of this.suspendedVs) this.opts.log.info({ vs: virtualServerId(vs) }, 'ha_suspend: address not on this host; health checks suspended');
  }

  private present(addresses: readonly string[]): boolean {
    const book = this.opts.addresses;
    return !book || addresses.some((a) => book.has(a));
  }

  private onAddressChange(): void {
    if (this.stopped) return;
    for (const [vs, addresses] of this.haSuspend) {
      const suspend = !this.present(addresses);
      if (suspend === this.suspendedVs.has(vs)) continue;
      if (suspend) this.suspendedVs.add(vs);
      else this.suspendedVs.delete(vs);
      this.opts.log.info(
        { vs: virtualServerId(vs) },
        suspend ? 'ha_suspend: address gone; suspending health checks' : 'ha_suspend: address here; activating health checks',
      );
    }
    if (this.config?.globalDefs.lvsSyncDaemon?.instance) void this.applySyncDaemons();
  }

  /** lvs_sync_daemon: master and backup, or the one the named instance's state asks for. */
  private applySyncDaemons(): Promise<void> {
    const lsd = this.config?.globalDefs.lvsSyncDaemon ?? null;
    const inst = lsd?.instance ? this.config?.vrrpInstances?.find((i) => i.name === lsd.instance) : undefined;
    const master = instanceIsMaster(inst, (a) => this.opts.addresses?.has(a) ?? false);
    return this.sync.apply(lsd, wantedSyncDaemons(lsd, master));
  }

  /** The sync daemons this engine runs now (for tests and status). */
  syncDaemons(): string[] {
    return this.sync.states();
  }

  private alert(msg: AlertMessage | null): void {
    if (msg) this.sender?.send(msg);
  }

  /** Resolves when every alert sent so far has been delivered or has failed. */
  async alertsSettled(): Promise<void> {
    await this.sender?.settled();
  }

  // ---- checks --------------------------------------------------------------------------

  private startChecks(): void {
    this.scheduler?.start();
    const interval =
      this.opts.rereadIntervalMs ?? clamp(Math.min(...(this.config?.virtualServers.map((v) => v.delayLoopMs) ?? [60_000]), 60_000), 1000, 60_000);
    this.clock.clearTimer(this.rereadTimer);
    const every = () => {
      this.rereadTimer = this.clock.setTimer(every, interval);
      this.requestReread();
    };
    this.rereadTimer = this.clock.setTimer(every, interval);
  }

  /** Cancels every timer and in-flight check: results still on their way are dropped. */
  private live(): Checks | null {
    return this.scheduler === this.counted ? null : this.scheduler;
  }

  private stopChecks(): void {
    if (!this.scheduler || this.scheduler === this.counted) return;
    this.counted = this.scheduler;
    this.scheduler.stop();
    this.checksBefore += this.scheduler.attempts;
    this.checkMsBefore += this.scheduler.checkMs;
  }

  private onCheckerChange(from: Checks, e: CheckerEvent<RealServer>): void {
    if (from !== this.scheduler || this.stopped) return;
    const m = { vs: from.tag(e.realServer) as VirtualServer, rs: from.server(e.realServer)! };
    const up = e.transition === 'up';
    const line = checkerLine({ checker: e.checker, up, realServer: realServerTrio(m.vs, m.rs), virtualServer: formatVirtualServer(m.vs) });
    if (line)
      this.opts.log.info({ event: { vs: virtualServerId(m.vs), rs: `${m.rs.address}:${m.rs.port}`, checker: e.checker.type, up, reason: e.reason } }, line);
    if (!this.sender) return;
    this.alert(
      checkerAlert(this.config!.globalDefs, m.vs, m.rs, {
        checker: e.checker,
        up: e.transition === 'up',
        wasAlive: e.previous.up,
        alive: e.health.up,
      }),
    );
  }

  private onRealServerChange(from: Checks, e: RealServerEvent<RealServer>): void {
    if (from !== this.scheduler || this.stopped) return;
    const m = { vs: from.tag(e.realServer) as VirtualServer, rs: from.server(e.realServer)! };
    const up = e.health.up;
    if (up !== e.previous.up) {
      const reason = from.checkerStates(e.realServer).find((c) => !c.up)?.lastReason ?? 'all checks pass';
      this.opts.log.info(
        { event: { vs: virtualServerId(m.vs), rs: `${m.rs.address}:${m.rs.port}`, up, reason } },
        realServerLine(up, m.rs.inhibitOnFailure, realServerTrio(m.vs, m.rs), formatVirtualServer(m.vs)),
      );
      const script = up ? m.rs.notifyUp : m.rs.notifyDown;
      if (script) this.runScript(script, up ? 'notify_up' : 'notify_down');
      this.fifos?.write(realServerFifoLine(realServerTrio(m.vs, m.rs), formatVirtualServer(m.vs), up));
    }
    this.healthChanges++;
    this.updateQuorum(m.vs); // a weight change moves the quorum sum too
    this.dirty = true;
    this.kick();
  }

  private updateQuorum(vs: VirtualServer): void {
    const id = virtualServerId(vs);
    const was = this.quorum.get(id) ?? true;
    const now = nextQuorum(vs, { health: this.health, quorumUp: this.quorum }, was);
    if (now === was) return;
    this.quorum.set(id, now);
    this.opts.log.info({ vs: id }, now ? 'gained quorum' : 'lost quorum');
    this.opts.onReadinessChange?.();
    const script = now ? vs.quorumUp : vs.quorumDown;
    if (script) this.runScript(script, now ? 'quorum_up' : 'quorum_down');
    this.fifos?.write(virtualServerFifoLine(formatVirtualServer(vs), now));
    if (this.sender) this.alert(quorumChangeAlert(this.config!.globalDefs, vs, now, liveWeight(vs, { health: this.health, quorumUp: this.quorum })));
  }

  /** omega: on shutdown, run notify_down for live servers and quorum_down where quorum is up. */
  private omegaNotifications(): void {
    for (const vs of this.config?.virtualServers ?? []) {
      if (!vs.omega) continue;
      const g = this.config!.globalDefs;
      for (const rs of vs.realServers) {
        if (!this.health.of(vs, rs)?.up) continue;
        if (rs.notifyDown) this.runScript(rs.notifyDown, 'notify_down (omega)');
        this.alert(shutdownRealServerAlert(g, vs, rs));
      }
      if (!this.quorum.get(virtualServerId(vs))) continue;
      if (vs.quorumDown) this.runScript(vs.quorumDown, 'quorum_down (omega)');
      this.alert(shutdownQuorumAlert(g, vs));
    }
  }

  // ---- reconcile -----------------------------------------------------------------------

  private kick(): void {
    if (this.loop || this.stopped) return;
    this.loop = this.reconcileLoop().finally(() => {
      this.loop = null;
    });
  }

  private async reconcileNow(reread: boolean): Promise<void> {
    await this.settled();
    this.dirty = true;
    if (reread) this.actual = null;
    this.loop = this.reconcileLoop().finally(() => {
      this.loop = null;
    });
    await this.loop;
  }

  /** Coalesces bursts: changes that arrive while a reconcile runs are folded into the next pass. */
  private async reconcileLoop(): Promise<void> {
    while ((this.dirty || this.rereadWanted) && this.config) {
      const reread = this.rereadWanted || this.actual === null;
      this.dirty = false;
      this.rereadWanted = false;
      const health = this.healthChanges;
      try {
        await this.reconcileOnce(reread);
        this.writtenHealth = health;
        this.installed = true;
        this.opts.onReadinessChange?.();
      } catch (e) {
        // the kernel refused something (or someone raced us): read it again next time
        this.actual = null;
        this.installed = false;
        this.opts.onReadinessChange?.();
        this.opts.log.error({ err: (e as Error).message }, 'IPVS update failed; will re-read the kernel table and retry in 1 s');
        if (this.stopped) return;
        // retry from a timer, not in this loop: start() and settled() must not wait on a kernel that keeps refusing
        if (!this.retryTimer) {
          this.retryTimer = this.clock.setTimer(() => {
            this.retryTimer = null;
            this.dirty = true;
            this.kick();
          }, 1000);
        }
        return;
      }
    }
  }

  private async reconcileOnce(reread: boolean): Promise<void> {
    const config = this.config!;
    // a table of thousands of destinations takes seconds to compute on a slow machine: the
    // event loop (the heartbeats) runs between the steps that take longest
    const slice = new TimeSlice();
    const { entries: desired, conflicts } = desiredTable(config, { health: this.health, quorumUp: this.quorum });
    if (conflicts.length) this.opts.log.warn({ services: conflicts }, 'services defined twice; the first definition is used');
    const known = this.actual;
    let actual: ServiceEntry[];
    if (reread || known === null) {
      actual = ownedOnly(await this.opts.ipvs.table(), this.owned);
      this.stats.rereads++;
    } else {
      actual = known.entries();
    }
    if (slice.due()) await slice.yield();
    const ops = diff(desired, actual);
    if (ops.length && reread && known !== null && diff(known.entries(), actual).length) {
      this.stats.repairs++;
      this.opts.log.warn({ ops: ops.length }, 'the kernel IPVS table was changed behind our back; repairing');
    }
    if (ops.length) await this.applyOps(ops);
    if (slice.due()) await slice.yield();
    this.actual = PackedTable.of(desired);
    // what the config no longer defines is gone from the kernel now: stop owning it
    const configured = new Set(configuredServiceIds(config));
    if ([...this.owned].some((id) => !configured.has(id))) {
      this.owned = configured;
      this.saveOwned();
    }
  }

  private async applyOps(ops: IpvsOp[]): Promise<void> {
    if (!ops.length) return;
    const before = this.opts.ipvs.writes;
    try {
      await this.opts.ipvs.apply(ops);
    } finally {
      this.stats.applyWrites += this.opts.ipvs.writes - before;
    }
    this.stats.opsApplied += ops.length;
    // a first reconcile writes every destination: no list of 10,000 strings for a level that is off
    if (this.opts.log.isLevelEnabled('debug')) this.opts.log.debug({ ops: ops.map(describeOp) }, 'IPVS updated');
  }
}

/**
 * The checker states a real server kept by a reload starts from: its old checkers' when the
 * checker list is unchanged, else every checker at the server's old up/down, so a reload
 * neither flaps a live server nor lets a failed one in before it passes a check (keepalived
 * ignores alpha for a new checker of a live server for the same reason).
 */
export function carriedStates(old: readonly CheckerState[] | undefined, oldRs: RealServer | undefined, rs: RealServer, wasUp: boolean): CheckerState[] {
  if (old && oldRs && old.length === rs.checkers.length && oldRs.checkers.every((c, i) => c.type === rs.checkers[i]!.type)) return [...old];
  return rs.checkers.map(() => ({ ...initialState(!wasUp), hasRun: true }));
}

/** A real server's health before its first check, as CheckScheduler.add() starts it. */
function startingHealth(rs: RealServer): { up: boolean; weight: number } {
  return realServerHealth(
    rs.weight,
    rs.checkers.map((c) => initialState(c.alpha ?? rs.alpha)),
  );
}

/** A scheduler's real servers by healthKey(): a reload's identity across configs. */
function realServersByKey(s: Checks): Map<string, RealServer> {
  const byKey = new Map<string, RealServer>();
  for (const [rs] of s.healthEntries()) byKey.set(healthKey(s.tag(rs) as VirtualServer, rs), rs);
  return byKey;
}

/** The scheduler's health as the desired table reads it (its weight is absolute). */
function viewHealth(h: { up: boolean; weight: number } | undefined): RealServerHealth | undefined {
  return h && { up: h.up, dynamicWeight: h.weight };
}

/** The addresses a virtual server answers on (none for fwmark services). */
function vsAddresses(vs: VirtualServer, config: CheckerConfig): string[] {
  const k = vs.key;
  if (k.kind === 'ip') return [k.address];
  if (k.kind === 'fwmark') return [];
  const g = config.virtualServerGroups.find((x) => x.name === k.group);
  return (g?.members ?? []).flatMap((m) => (m.kind === 'ip' ? [m.address] : m.kind === 'range' ? expandRange(m.address, m.rangeEnd, m.family) : []));
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export function describeOp(op: IpvsOp): string {
  const svc = 'fwmark' in op.service ? `fwmark ${op.service.fwmark}` : `${op.service.address}:${op.service.port}`;
  return 'destination' in op ? `${op.op} ${op.destination.address}:${op.destination.port} (w ${op.destination.weight}) of ${svc}` : `${op.op} ${svc}`;
}

/**
 * A MISC_CHECK its ScriptHost disabled at this load (insecure, not found, unknown user) is
 * removed from its real servers, in place, as keepalived frees it: the real server is then
 * checked by its other checkers alone. Shared checker lists stay shared.
 */
function dropDisabledMiscChecks(config: CheckerConfig, scripts: ScriptHost): void {
  const filtered = new Map<readonly HealthCheck[], HealthCheck[]>();
  const usable = (c: HealthCheck) => c.type !== 'MISC_CHECK' || scripts.verdict(c.miscPath.argv[0] ?? '', ownerOf(c.user, c.group)).ok;
  for (const vs of config.virtualServers) {
    for (const rs of vs.realServers) {
      if (rs.checkers.every(usable)) continue;
      let kept = filtered.get(rs.checkers);
      if (!kept) filtered.set(rs.checkers, (kept = rs.checkers.filter(usable)));
      rs.checkers = kept;
    }
  }
}
