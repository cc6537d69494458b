// The watchdog parent: what `keepalived-ts` runs as a daemon. It validates the config,
// forks the VRRP and checker children through the Supervisor, owns the pid file, and turns
// signals into actions: HUP reloads (validated here first: a file the start would refuse
// changes nothing), TERM/INT stop, USR1/USR2 are passed to the children that write the dump
// files.
//
// The children run the config the parent accepted, never the file as it is on the disk
// later: the parent loads the file (a big one on reload in a worker thread, so its event loop
// keeps watching the children however long that takes), recording every file the load read
// (config/snapshot.ts),
// and sends that recording to each child that starts and to each running child on reload,
// with the child's part of the model built from it (load-worker.ts vrrpPart, checkerPart):
// the parent is the only process that parses the config; a child parses only for --plan, or
// when a part could not be built here. A respawned child gets the last accepted config,
// whatever refused edit is on the disk.
// The children the config file names are forked by the command before this module loads
// (src/daemon/children.ts, forkEarlyChildren); the Supervisor adopts them.
// The recording travels over the IPC channel rather than a file under /run: nothing on the
// disk to protect, to clean after a crash or to share between two daemons, and what the
// parent sends is what it validated. The parent holds the accepted bytes (the config's size),
// never its model: a part is held only until its child has it, and a respawned child's part
// is loaded again from the accepted bytes (in a worker when they are big).
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { formatDiagnostic } from '../config/ast.js';
import {
  diskTextSize,
  LOAD_HERE_BELOW_BYTES,
  loadInThisThread,
  loadInWorker,
  snapshotTextSize,
  type LoadReport,
  type ModelPart,
} from '../config/load-worker.js';
import { DRAIN_MAX_EXTRA_MS } from '../announce/drain.js';
import { keepLargeBlocksApart, releaseFreedMemory, releaseFreedMemoryOnceStarted } from '../native/index.js';
import { createLogger, processLogger, type Logger } from '../log/logger.js';
import { Supervisor, type ChildSpec } from '../watchdog/supervisor.js';
import type { AcceptedConfig, ChildRole, ChildToParent } from '../watchdog/ipc.js';
import { HeldVips } from '../watchdog/vip-release.js';
import { LatestOnly } from '../watchdog/latest-only.js';
import { EXIT_CONFIG, EXIT_OK } from '../watchdog/exit-codes.js';
import { growHeapFreelyDuringBurst } from '../process/heap-burst.js';
import type { DaemonOptions } from './options.js';
import type { KeepalivedConfig } from '../config/model.js';
import { claimPidFile, releasePidFile } from './pidfile.js';
import { SIGJSON, SIGSTATS_CLEAR, catchKeepalivedSignals } from '../native/rt-signals.js';
import { ServiceNotifications, systemdNotifier, type Notifier } from './sd-notify.js';
import { PARENT_NODE_FLAGS } from './node-flags.js';
import { applyUmask, CHILD_MODULES, childrenFor, childSpec } from './children.js';
import type { EarlyChild } from '../watchdog/fork-child.js';
import type { ChildSnapshot } from '../metrics/status-server.js';
import { ReloadCounters, parentMetrics } from '../metrics/parent-metrics.js';
import type { Server } from 'node:http';
import { startPlanServer } from './plan-server.js';

/**
 * Which child writes what: USR1 = /tmp/keepalived.data (VRRP) and keepalived_check.data
 * (checker), USR2 = /tmp/keepalived.stats, PWR = /tmp/keepalived.json (keepalived's JSON signal,
 * see SIGNUMS), URG = clear the VRRP statistics (STATS_CLEAR).
 */
export const DUMP_SIGNAL_ROLES: Record<'SIGUSR1' | 'SIGUSR2' | 'SIGPWR' | 'SIGURG', readonly ChildRole[]> = {
  SIGUSR1: ['vrrp', 'checker'],
  SIGUSR2: ['vrrp'],
  SIGPWR: ['vrrp'],
  SIGURG: ['vrrp'],
};

/**
 * How long a child has from TERM to KILL: a child stopping withdraws its bgp_announce routes,
 * then drains (`drainMs`, the accepted config's; null without bgp_announce) and may wait
 * DRAIN_MAX_EXTRA_MS more for traffic that still arrives.
 */
export function childStopTimeoutMs(drainMs: number | null): number {
  return 5_000 + (drainMs === null ? 0 : drainMs + DRAIN_MAX_EXTRA_MS);
}

/** Diagnostics the parent logs of one load; the rest are counted in one line. */
export const LOGGED_DIAGNOSTICS = 50;

function logDiagnostics(log: Logger, file: string, r: LoadReport): void {
  for (const d of r.diagnostics) {
    const line = formatDiagnostic(d);
    if (d.ignored) log.error({ code: d.code }, `${line} (statement ignored, as keepalived does; -t fails on it)`);
    else if (d.severity === 'error') log.error({ code: d.code }, line);
    else log.warn({ code: d.code }, line);
  }
  const { errors, warnings } = r.omitted;
  if (errors + warnings > 0) {
    const more = [errors ? `${errors} error${errors === 1 ? '' : 's'}` : '', warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '']
      .filter(Boolean)
      .join(', ');
    log.error({ errors, warnings }, `... and ${errors + warnings} more (${more}): \`keepalived-ts -t -f ${file}\` lists them all`);
  }
}

/** The parts of the model the parent hands on: each child's (the parts share their common objects). */
const CHILD_PARTS: readonly ModelPart[] = ['vrrp', 'checker'];

/** Loads the file (in a worker or here, as `load` does), recording what it read; logs what it found. */
async function loadFile(load: typeof loadInWorker, log: Logger, file: string, configId: string | null): Promise<LoadReport> {
  const r = await load({ source: { kind: 'disk', path: file, configId }, tolerant: true, parts: CHILD_PARTS, maxDiagnostics: LOGGED_DIAGNOSTICS });
  releaseFreedMemory(); // the worker's arena: what its load freed stays resident otherwise
  logDiagnostics(log, file, r);
  return r;
}

/** The parts of a load's model for the children that run (the others' are dropped now). */
function partsFor(roles: readonly ChildRole[], models: LoadReport['models']): Map<ChildRole, KeepalivedConfig> {
  return new Map(roles.flatMap((r) => (models[r] ? [[r, models[r]] as const] : [])));
}

const sizeOnDisk = (path: string): number | null => {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
};

export interface DaemonHandle {
  /** Resolves with the exit code once the daemon has stopped. */
  done: Promise<number>;
  reload(): void;
  stop(): void;
}

/** Re-executes ourselves detached with -n, as keepalived forks into the background. */
function daemonize(argv: string[]): number {
  const script = process.argv[1]!;
  const child = spawn(process.execPath, [...PARENT_NODE_FLAGS, script, ...argv, '--dont-fork'], { detached: true, stdio: 'ignore' });
  child.unref();
  return EXIT_OK;
}

export interface DaemonDeps {
  /** Child entry modules (tests substitute stand-ins). */
  childModules?: Record<ChildRole, string>;
  /** Where log lines go (default stdout). */
  logWrite?: (line: string) => void;
  /** HOST:PORT of the read-only /metrics + /status endpoint; off when absent. */
  statusListen?: string | null;
  /** Called once the status endpoint listens (tests read the bound port). */
  onStatusServer?: (server: Server) => void;
  /** The reload's worker loader (tests running from sources give the built one: a worker runs JavaScript). */
  loadInWorker?: typeof loadInWorker;
  /** systemd's notification socket (default: $NOTIFY_SOCKET's). */
  notifier?: Notifier;
  /**
   * Children the command forked before loading the daemon (children.ts, forkEarlyChildren):
   * adopted when the accepted config needs them as forked; the caller discards the rest.
   */
  earlyChildren?: ReadonlyMap<ChildRole, EarlyChild>;
}

export async function runDaemon(opts: DaemonOptions, argv: string[], deps: DaemonDeps = {}): Promise<DaemonHandle | number> {
  applyUmask(opts);
  const childModules = deps.childModules ?? CHILD_MODULES;
  const log = deps.logWrite ? createLogger({ proc: 'parent', detail: opts.logDetail, write: deps.logWrite }) : processLogger('parent', opts);
  for (const w of opts.warnings) log.warn({}, w);

  const configId = opts.configId ?? null;
  keepLargeBlocksApart(); // before the load: its large freed blocks must not raise malloc's mmap threshold
  releaseFreedMemoryOnceStarted();
  const inWorker = deps.loadInWorker ?? loadInWorker;
  // At start on this thread: nothing runs yet that the load could hold up, and a worker
  // would load the front end's modules a second time. On reload, in a worker when the files
  // are big, so the parent keeps answering signals and watching its children.
  // the daemon's one parse of the config: its heap grows in V8's ordinary steps meanwhile
  // (process/heap-burst.ts), as the checker's does through its start
  const burstDone = growHeapFreelyDuringBurst();
  const first = await loadFile(loadInThisThread, log, opts.useFile, configId);
  burstDone();
  if (!first.snapshot) {
    log.error({ file: opts.useFile }, 'configuration has errors: not starting (run with -t to list them)');
    log.close();
    return EXIT_CONFIG;
  }
  // Validated before going to the background, so `keepalived-ts` on a broken file fails in
  // the operator's terminal rather than silently in a detached process.
  if (!opts.dontFork) {
    log.close();
    return daemonize(argv);
  }

  try {
    claimPidFile(opts.pidFile);
  } catch (err) {
    log.error({}, (err as Error).message);
    log.close();
    return EXIT_CONFIG;
  }

  const roles = childrenFor(first.subsystems, opts);
  let accepted: AcceptedConfig = { generation: 1, snapshot: first.snapshot };
  /**
   * The parts of `accepted`'s model built with it and not sent yet, by role. The model is not
   * kept: holding it would cost the parent as much memory as the checker's copy. A part
   * leaves this map when its child has it; a later start of that child (a respawn) gets it
   * loaded again from the accepted bytes (partOf).
   */
  let unsent = partsFor(roles, first.models);
  /**
   * The generation each child was last sent. Children that heartbeat are `linked`: their
   * link to the parent is up, and they take reloads (the checker even before it runs, while
   * it waits for IPVS).
   */
  const given = new Map<ChildRole, number>();
  const linked = new Set<ChildRole>();
  const held = new HeldVips(log);
  const pidFiles: Record<ChildRole, string> = { vrrp: opts.vrrpPidFile, checker: opts.checkersPidFile };
  const children: ChildSpec[] = roles.map((role) => childSpec(role, opts, childModules, { metrics: Boolean(deps.statusListen) }));
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping = false;
  const reloads = new ReloadCounters();
  const notifier = deps.notifier ?? systemdNotifier(process.env, (why) => log.warn(why));
  const systemd = new ServiceNotifications(notifier, roles);

  /**
   * `role`'s part of the accepted config `of`: the one built with it when not sent yet, else
   * loaded again from its bytes (here when small, in the worker when big, as a reload); null
   * when that fails, and the child then loads the bytes itself.
   */
  const partOf = async (of: AcceptedConfig, role: ChildRole): Promise<KeepalivedConfig | null> => {
    const built = of === accepted ? unsent.get(role) : undefined;
    if (built) return built;
    const load = snapshotTextSize(of.snapshot) < LOAD_HERE_BELOW_BYTES ? loadInThisThread : inWorker;
    const r = await load({ source: { kind: 'snapshot', snapshot: of.snapshot }, tolerant: true, parts: [role], maxDiagnostics: 0 }).catch((err: Error) => {
      log.warn({ role, err: err.message }, 'could not build the child its part of the model: it loads the configuration itself');
      return null;
    });
    releaseFreedMemory();
    return r?.models[role] ?? null;
  };
  /**
   * Sends `role` the accepted config with its part of the model. A config request is answered
   * with the newest accepted config, whatever was accepted while its part was being loaded;
   * a reload superseded meanwhile is left to the newer one's.
   */
  const sendConfig = async (role: ChildRole, t: 'config' | 'reload'): Promise<void> => {
    for (;;) {
      const sending = accepted;
      const model = await partOf(sending, role);
      if (stopping) return;
      if (sending !== accepted) {
        if (t === 'config') continue;
        return;
      }
      if (unsent.get(role) === model) unsent.delete(role);
      if (supervisor.send(role, { t, ...sending, ...(model ? { model } : {}) })) given.set(role, sending.generation);
      return;
    }
  };
  const supervisor: Supervisor = new Supervisor({
    children,
    log,
    dontRespawn: opts.dontRespawn,
    ...(opts.childStartTimeoutMs ? { startupTimeoutMs: opts.childStartTimeoutMs } : {}),
    // a child stopping withdraws its bgp_announce routes, then drains: TERM to KILL allows for it
    stopTimeoutMs: childStopTimeoutMs(first.drainMs),
    onChildStart: (role, pid) => {
      try {
        claimPidFile(pidFiles[role], pid);
      } catch (err) {
        log.warn({ role }, (err as Error).message);
      }
    },
    onChildExit: (role, code, _signal, pid, respawnInMs): Promise<void> | void => {
      releasePidFile(pidFiles[role], pid);
      linked.delete(role);
      given.delete(role);
      // its successor asks for the accepted config: a reload systemd waits on is done for it
      systemd.childReloaded(role, true);
      if (role !== 'vrrp') return;
      // exit 0: it stopped as on TERM and released what it held itself (or kept it for -V)
      if (code === 0) return held.forget();
      return held.childDied(respawnInMs, supervisor.startupMs('vrrp'), opts.dontReleaseVrrp);
    },
    onChildMessage: (role, m) => {
      if (role === 'vrrp') held.heard();
      switch (m.t) {
        case 'config-wanted':
          void sendConfig(role, 'config');
          return;
        case 'heartbeat':
          if (linked.has(role)) return;
          linked.add(role);
          // a config accepted while it was starting
          if (given.get(role) !== accepted.generation) void sendConfig(role, 'reload');
          return;
        case 'ready':
          systemd.childReady(role);
          return;
        case 'vips-held':
          if (role === 'vrrp') held.reported({ addresses: m.addresses, masterDownMs: m.masterDownMs });
          return;
        case 'reloaded':
          reloads.record(role, m.ok ? 'applied' : 'failed', m.ok ? null : (m.message ?? null));
          // systemd waits for the answers to the config this reload accepted, not an older one's
          if (m.generation === accepted.generation && !reloadRunner.busy) systemd.childReloaded(role, m.ok, m.message);
          if (m.ok) log.info({ role, generation: m.generation }, 'reload applied');
          else log.error({ role, generation: m.generation }, `reload refused: ${m.message ?? 'no reason given'}`);
          return;
        case 'fatal':
          log.error({ role, code: m.code }, m.message);
          return;
        default:
          return;
      }
    },
    onDaemonStop: (reason, code) => shutdown(`stopping: ${reason}`, code),
  });

  /**
   * One reload: load (in the worker when big); if accepted, the children get it, each with
   * its part of the model built here with it: the parse stays off the thread that sends the
   * adverts, and out of the children's processes (whose CPU it would share).
   */
  const reloadOnce = async () => {
    log.info({ file: opts.useFile }, 'Reloading');
    systemd.reloadStarted();
    // The same reading as at start, so a file the daemon runs can be reloaded: statements the
    // start skips are skipped and logged again; what would stop a start keeps the running config.
    const size = diskTextSize(accepted.snapshot, sizeOnDisk);
    const next = await loadFile(size < LOAD_HERE_BELOW_BYTES ? loadInThisThread : inWorker, log, opts.useFile, configId);
    if (stopping) return;
    if (!next.snapshot) {
      const n = next.fatalErrors;
      log.error({ errors: n }, `new configuration rejected (${n} error${n === 1 ? '' : 's'}): keeping the running one`);
      reloads.record('parent', 'refused', `${n} error${n === 1 ? '' : 's'}`);
      systemd.reloadRefused(`${n} error${n === 1 ? '' : 's'} in ${opts.useFile}`);
      return;
    }
    accepted = { generation: accepted.generation + 1, snapshot: next.snapshot };
    unsent = partsFor(roles, next.models);
    log.info({ generation: accepted.generation }, 'new configuration accepted');
    // a child not linked yet gets it when it is (its first heartbeat, or its config request)
    for (const role of linked) void sendConfig(role, 'reload');
    const missing = childrenFor(next.subsystems, opts).filter((r) => !roles.includes(r));
    if (missing.length) log.warn({ missing }, 'the new configuration needs a subsystem that was not started: restart keepalived-ts to start it');
  };
  // HUPs during a load are one more load after it (the file as it is then): a storm of
  // them costs one load at a time, and each accepted config reaches the children in order
  const reloadRunner = new LatestOnly<void>({
    run: () => (stopping ? Promise.resolve() : reloadOnce().catch((err: Error) => log.error({}, `reload failed: ${err.message}`))),
  });
  const reload = () => {
    if (!stopping) reloadRunner.offer();
  };

  const shutdown = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    systemd.stopping();
    log.info({}, why);
    statusServer?.close();
    planServer.close();
    void supervisor.stop().then(async () => {
      // a VRRP child dead in its respawn backoff left its VIPs: none will come back for them
      await held.childDied(null, null, opts.dontReleaseVrrp).catch((err: Error) => log.error({}, `could not remove the VIPs: ${err.message}`));
      reloadRunner.clear();
      await reloadRunner.idle();
      releasePidFile(opts.pidFile);
      process.off('SIGHUP', reload);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onTerm);
      process.off('SIGUSR1', onUsr1);
      process.off('SIGUSR2', onUsr2);
      process.off('SIGPWR', onJson);
      process.off('SIGURG', onStatsClear);
      stopRealtime();
      notifier.close();
      log.close();
      resolveDone(code);
    });
  };
  const onTerm = () => shutdown('stopping on signal', EXIT_OK);
  // Dump signals go only to the children that write those files: the default action of
  // USR1/USR2/PWR is to terminate, so a child without a handler would die of a dump request.
  const onUsr1 = () => supervisor.signalChildren('SIGUSR1', DUMP_SIGNAL_ROLES.SIGUSR1);
  const onUsr2 = () => supervisor.signalChildren('SIGUSR2', DUMP_SIGNAL_ROLES.SIGUSR2);
  const onJson = () => supervisor.signalChildren('SIGPWR', DUMP_SIGNAL_ROLES.SIGPWR);
  const onStatsClear = () => supervisor.signalChildren('SIGURG', DUMP_SIGNAL_ROLES.SIGURG);
  process.on('SIGHUP', reload);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  process.on('SIGUSR1', onUsr1);
  process.on('SIGUSR2', onUsr2);
  process.on('SIGPWR', onJson);
  process.on('SIGURG', onStatsClear);
  const stopRealtime = catchKeepalivedSignals({ [SIGJSON]: onJson, [SIGSTATS_CLEAR]: onStatsClear }, log);

  log.info({ config: opts.useFile, children: roles }, 'starting keepalived-ts');
  supervisor.start(deps.earlyChildren);
  systemd.started();
  const planServer = startPlanServer({
    pidFile: opts.pidFile,
    configId: opts.configId ?? undefined,
    supervisor,
    log,
    wanted: (c) => childrenFor({ vrrpInstances: c.vrrpInstances.length, virtualServers: c.virtualServers.length }, opts),
  });

  let statusServer: Server | null = null;
  let collectId = 0;
  const collect = async (): Promise<ChildSnapshot[]> => {
    const replies = await Promise.all(
      supervisor.running().map(async (role): Promise<ChildSnapshot | null> => {
        const id = ++collectId;
        const r = await supervisor.request(
          role,
          { t: 'collect', id },
          (m): m is Extract<ChildToParent, { t: 'snapshot' }> => m.t === 'snapshot' && m.id === id,
        );
        return r ? { role, metrics: r.metrics as ChildSnapshot['metrics'], status: r.status } : null;
      }),
    );
    return replies.filter((r): r is ChildSnapshot => r !== null);
  };
  const listen = deps.statusListen;
  if (listen) {
    // imported only here: prom-client and the HTTP server are megabytes of the parent's memory
    import('../metrics/status-server.js')
      .then(({ startStatusServer }) =>
        startStatusServer({
          listen,
          collect,
          parentStatus: () => ({
            pid: process.pid,
            config: opts.useFile,
            reloads: reloads.summary(),
            children: Object.fromEntries(
              roles.map((r) => [r, { pid: supervisor.pid(r), running: supervisor.running().includes(r), restarts: supervisor.restarts(r) }]),
            ),
          }),
          parentMetrics: () =>
            parentMetrics(
              reloads,
              roles.map((r) => ({ role: r, running: supervisor.running().includes(r), restarts: supervisor.restarts(r) })),
            ),
        }),
      )
      .then(
        (server) => {
          if (stopping) return void server.close(); // stopped while it was starting
          statusServer = server;
          log.info({ listen: deps.statusListen }, 'status endpoint listening (/metrics, /status)');
          deps.onStatusServer?.(server);
        },
        (err: Error) => log.error({ listen: deps.statusListen }, `status endpoint not started: ${err.message}`),
      );
  }
  return { done, reload, stop: () => shutdown('stopping on request', EXIT_OK) };
}
