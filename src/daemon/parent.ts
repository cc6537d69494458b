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
// and sends that recording to each child that starts and to each running child on reload
// (with the VRRP part of the model to the VRRP child on reload and at its first start). A
// respawned child gets the last accepted config, whatever refused edit is on the disk.
// The children the config file names are forked by the command before this module loads
// (src/daemon/children.ts, forkEarlyChildren); the Supervisor adopts them.
// The recording travels over the IPC channel rather than a file under /run: nothing on the
// disk to protect, to clean after a crash or to share between two daemons, and what the
// parent sends is what it validated. The parent holds the accepted bytes (the config's size),
// never its model (the VRRP part of it only until it is sent, at start and on reload).
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { formatDiagnostic } from '../config/ast.js';
import { diskTextSize, LOAD_HERE_BELOW_BYTES, loadInThisThread, loadInWorker, type LoadReport, type ModelPart } from '../config/load-worker.js';
import { DRAIN_MAX_EXTRA_MS } from '../announce/drain.js';
import { keepLargeBlocksApart, releaseFreedMemory, releaseFreedMemoryOnceStarted } from '../native/index.js';
import { createLogger, processLogger, type Logger } from '../log/logger.js';
import { Supervisor, type ChildSpec } from '../watchdog/supervisor.js';
import type { AcceptedConfig, ChildRole, ChildToParent } from '../watchdog/ipc.js';
import { HeldVips } from '../watchdog/vip-release.js';
import { LatestOnly } from '../watchdog/latest-only.js';
import { EXIT_CONFIG, EXIT_OK } from '../watchdog/exit-codes.js';
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

/**
 * Loads the file (in a worker or here, as `load` does), recording what it read; logs what it
 * found. `part`: the model the caller hands on (none at start: each child builds its own).
 */
async function loadFile(load: typeof loadInWorker, log: Logger, file: string, configId: string | null, part: ModelPart = 'none'): Promise<LoadReport> {
  const r = await load({ source: { kind: 'disk', path: file, configId }, tolerant: true, part, maxDiagnostics: LOGGED_DIAGNOSTICS });
  releaseFreedMemory(); // the worker's arena: what its load freed stays resident otherwise
  logDiagnostics(log, file, r);
  return r;
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
  const first = await loadFile(loadInThisThread, log, opts.useFile, configId, 'vrrp');
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

  // The model is not kept: the checker builds its own from the accepted bytes, and holding
  // it here would cost the parent as much memory as the checker's copy. The VRRP part goes
  // to the VRRP child's first start, which then has nothing to parse before its instances
  // start; its later starts (respawns) parse the accepted bytes themselves.
  const roles = childrenFor(first.subsystems, opts);
  let accepted: AcceptedConfig = { generation: 1, snapshot: first.snapshot };
  let startModel = roles.includes('vrrp') ? first.config : null;
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

  /** `vrrpModel`: the VRRP part of `accepted`, built here on reload (see reloadOnce). */
  const sendConfig = (role: ChildRole, t: 'config' | 'reload', vrrpModel?: KeepalivedConfig) => {
    const built = t === 'reload' ? vrrpModel : (startModel ?? undefined);
    const model = role === 'vrrp' && built ? { vrrpModel: built } : {};
    if (supervisor.send(role, { t, ...accepted, ...model })) given.set(role, accepted.generation);
    if (role === 'vrrp' && t === 'config') startModel = null;
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
          sendConfig(role, 'config');
          return;
        case 'heartbeat':
          if (linked.has(role)) return;
          linked.add(role);
          // a config accepted while it was starting
          if (given.get(role) !== accepted.generation) sendConfig(role, 'reload');
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
   * One reload: load (in the worker when big); if accepted, the children get it. The VRRP
   * child gets its part of the model built here with it: the parse stays off the thread that
   * sends its adverts, and out of its process (whose CPU it would share).
   */
  const reloadOnce = async () => {
    log.info({ file: opts.useFile }, 'Reloading');
    systemd.reloadStarted();
    // The same reading as at start, so a file the daemon runs can be reloaded: statements the
    // start skips are skipped and logged again; what would stop a start keeps the running config.
    const size = diskTextSize(accepted.snapshot, sizeOnDisk);
    const part: ModelPart = roles.includes('vrrp') ? 'vrrp' : 'none';
    const next = await loadFile(size < LOAD_HERE_BELOW_BYTES ? loadInThisThread : inWorker, log, opts.useFile, configId, part);
    if (stopping) return;
    if (!next.snapshot) {
      const n = next.fatalErrors;
      log.error({ errors: n }, `new configuration rejected (${n} error${n === 1 ? '' : 's'}): keeping the running one`);
      reloads.record('parent', 'refused', `${n} error${n === 1 ? '' : 's'}`);
      systemd.reloadRefused(`${n} error${n === 1 ? '' : 's'} in ${opts.useFile}`);
      return;
    }
    accepted = { generation: accepted.generation + 1, snapshot: next.snapshot };
    startModel = null;
    log.info({ generation: accepted.generation }, 'new configuration accepted');
    for (const role of linked) sendConfig(role, 'reload', next.config ?? undefined);
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
