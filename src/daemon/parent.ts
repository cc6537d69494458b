// The watchdog parent: what `keepalived-ts` runs as a daemon. It validates the config,
// forks the VRRP and checker children through the Supervisor, owns the pid file, and turns
// signals into actions: HUP reloads (validated here first: a broken file changes nothing),
// TERM/INT stop, USR1/USR2 are passed to the children that write the dump files.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig, formatDiagnostic, type Diagnostic, type KeepalivedConfig } from '../config/index.js';
import { DRAIN_MAX_EXTRA_MS } from '../announce/drain.js';
import { keepLargeBlocksApart, releaseFreedMemory } from '../native/index.js';
import { createLogger, processLogger, type Logger } from '../log/logger.js';
import { Supervisor, type ChildSpec } from '../watchdog/supervisor.js';
import type { ChildRole, ChildToParent } from '../watchdog/ipc.js';
import { EXIT_CONFIG, EXIT_OK } from '../watchdog/exit-codes.js';
import type { DaemonOptions } from './options.js';
import { claimPidFile, releasePidFile } from './pidfile.js';
import { SIGJSON, SIGSTATS_CLEAR, catchKeepalivedSignals } from '../native/rt-signals.js';
import { ServiceNotifications, systemdNotifier, type Notifier } from './sd-notify.js';
import { CHILD_NODE_FLAGS, PARENT_NODE_FLAGS } from './node-flags.js';
import type { ChildSnapshot } from '../metrics/status-server.js';
import { ReloadCounters, parentMetrics } from '../metrics/parent-metrics.js';
import type { Server } from 'node:http';
import { startPlanServer } from './plan-server.js';

const CHILD_MODULES: Record<ChildRole, string> = {
  vrrp: fileURLToPath(new URL('../vrrp/main.js', import.meta.url)),
  checker: fileURLToPath(new URL('../checker/main.js', import.meta.url)),
};

/**
 * Which child writes what: USR1 = /tmp/keepalived.data (VRRP) and keepalived_check.data
 * (checker), USR2 = /tmp/keepalived.stats, PWR = /tmp/keepalived.json (keepalived's JSON signal,
 * see SIGNUMS), URG = clear the VRRP statistics (STATS_CLEAR).
 */
export const DUMP_SIGNAL_ROLES: Record<'SIGUSR1' | 'SIGUSR2' | 'SIGPWR' | 'SIGURG', readonly ChildRole[]> = {
  SIGUSR1: ['vrrp', 'checker'], SIGUSR2: ['vrrp'], SIGPWR: ['vrrp'], SIGURG: ['vrrp'],
};

/** Which children this config needs (keepalived starts none for an empty subsystem). */
export function childrenFor(config: KeepalivedConfig, opts: Pick<DaemonOptions, 'vrrpOnly' | 'checkOnly' | 'allConfig'>): ChildRole[] {
  const wantVrrp = !opts.checkOnly && (opts.allConfig || config.vrrpInstances.length > 0);
  const wantChecker = !opts.vrrpOnly && (opts.allConfig || config.virtualServers.length > 0);
  return [...(wantVrrp ? ['vrrp' as const] : []), ...(wantChecker ? ['checker' as const] : [])];
}

/**
 * The command line a child gets: the config path and the options it acts on. `metrics`: the
 * status endpoint is on, so the children keep prom-client metrics from their start (they skip
 * them otherwise; loading prom-client later would stall a running child's event loop).
 */
export function childArgs(role: ChildRole, opts: DaemonOptions, { metrics = false } = {}): string[] {
  const args = ['--config', opts.useFile];
  if (opts.configId) args.push('--config-id', opts.configId);
  if (role === 'vrrp' && opts.dontReleaseVrrp) args.push('--dont-release-vrrp');
  if (role === 'checker' && opts.dontReleaseIpvs) args.push('--dont-release-ipvs');
  if (opts.logConsole) args.push('--log-console');
  if (opts.logDetail) args.push('--log-detail');
  if (opts.logJson) args.push('--log-json');
  if (opts.noSyslog) args.push('--no-syslog');
  if (opts.logFacility !== null) args.push('--log-facility', opts.logFacility);
  if (opts.namespace) args.push('--namespace', opts.namespace);
  if (opts.dumpConf) args.push('--dump-conf');
  if (metrics) args.push('--metrics');
  return args;
}

function logDiagnostics(log: Logger, diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) {
    const line = formatDiagnostic(d);
    if (d.ignored) log.error({ code: d.code }, `${line} (statement ignored, as keepalived does; -t fails on it)`);
    else if (d.severity === 'error') log.error({ code: d.code }, line);
    else log.warn({ code: d.code }, line);
  }
}

/** keepalived's umask when -u is not given. */
export const KEEPALIVED_UMASK = 0o177;

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
  /** systemd's notification socket (default: $NOTIFY_SOCKET's). */
  notifier?: Notifier;
}

export function runDaemon(opts: DaemonOptions, argv: string[], deps: DaemonDeps = {}): DaemonHandle | number {
  // keepalived's default umask, which its children, scripts and files inherit
  process.umask(opts.umask ?? KEEPALIVED_UMASK);
  const childModules = deps.childModules ?? CHILD_MODULES;
  const log = deps.logWrite ? createLogger({ proc: 'parent', detail: opts.logDetail, write: deps.logWrite }) : processLogger('parent', opts);
  for (const w of opts.warnings) log.warn({}, w);

  const configId = opts.configId ?? undefined;
  keepLargeBlocksApart(); // before the load: its large freed blocks must not raise malloc's mmap threshold
  const first = loadConfig(opts.useFile, { configId, tolerant: true });
  releaseFreedMemory(); // the load's burst: what malloc freed stays resident otherwise
  logDiagnostics(log, first.diagnostics);
  if (!first.config) {
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

  // Only the roles are kept: the children load the config themselves, and holding the model
  // here would cost the parent as much memory as the checker (~10 MB at 10,000 real servers).
  const roles = childrenFor(first.config, opts);
  const pidFiles: Record<ChildRole, string> = { vrrp: opts.vrrpPidFile, checker: opts.checkersPidFile };
  const children: ChildSpec[] = roles.map((role) => ({
    role, modulePath: childModules[role], args: childArgs(role, opts, { metrics: Boolean(deps.statusListen) }), execArgv: [...CHILD_NODE_FLAGS[role]],
  }));
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping = false;
  const reloads = new ReloadCounters();
  const notifier = deps.notifier ?? systemdNotifier(process.env, (why) => log.warn(why));
  const systemd = new ServiceNotifications(notifier, roles);

  const supervisor = new Supervisor({
    children,
    log,
    dontRespawn: opts.dontRespawn,
    // a child stopping withdraws its bgp_announce routes, then drains: TERM to KILL allows for it
    stopTimeoutMs: 5_000 + (first.config.bgpAnnounce ? first.config.bgpAnnounce.drainMs + DRAIN_MAX_EXTRA_MS : 0),
    onChildStart: (role, pid) => {
      try {
        claimPidFile(pidFiles[role], pid);
      } catch (err) {
        log.warn({ role }, (err as Error).message);
      }
    },
    onChildExit: (role, _code, _signal, pid) => releasePidFile(pidFiles[role], pid),
    onChildMessage: (role, m) => {
      if (m.t === 'ready') systemd.childReady(role);
      if (m.t === 'reloaded') {
        reloads.record(role, m.ok ? 'applied' : 'failed', m.ok ? null : m.message ?? null);
        systemd.childReloaded(role, m.ok, m.message);
        if (m.ok) log.info({ role }, 'reload applied');
        else log.error({ role }, `reload refused: ${m.message ?? 'no reason given'}`);
      } else if (m.t === 'fatal') {
        log.error({ role, code: m.code }, m.message);
      }
    },
    onDaemonStop: (reason, code) => shutdown(`stopping: ${reason}`, code),
  });

  const reload = () => {
    if (stopping) return;
    log.info({ file: opts.useFile }, 'Reloading');
    systemd.reloadStarted();
    // Strict, unlike the start: a reload replaces a config that works, so it must pass -t. A
    // typo the start-up tolerated is reported again here until it is fixed.
    const next = loadConfig(opts.useFile, { configId });
    releaseFreedMemory();
    logDiagnostics(log, next.diagnostics);
    if (!next.config) {
      const n = next.diagnostics.filter((d) => d.severity === 'error').length;
      log.error({ errors: n }, `new configuration rejected (${n} error${n === 1 ? '' : 's'}): keeping the running one`);
      reloads.record('parent', 'refused', `${n} error${n === 1 ? '' : 's'}`);
      systemd.reloadRefused(`${n} error${n === 1 ? '' : 's'} in ${opts.useFile}`);
      return;
    }
    for (const role of roles) supervisor.send(role, { t: 'reload', configPath: opts.useFile, ...(configId ? { configId } : {}) });
    const missing = childrenFor(next.config, opts).filter((r) => !roles.includes(r));
    if (missing.length) log.warn({ missing }, 'the new configuration needs a subsystem that was not started: restart keepalived-ts to start it');
  };

  const shutdown = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    systemd.stopping();
    log.info({}, why);
    statusServer?.close();
    planServer.close();
    void supervisor.stop().then(() => {
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
  supervisor.start();
  systemd.started();
  const planServer = startPlanServer({ pidFile: opts.pidFile, configId, supervisor, log, wanted: (c) => childrenFor(c, opts) });

  let statusServer: Server | null = null;
  let collectId = 0;
  const collect = async (): Promise<ChildSnapshot[]> => {
    const replies = await Promise.all(supervisor.running().map(async (role): Promise<ChildSnapshot | null> => {
      const id = ++collectId;
      const r = await supervisor.request(role, { t: 'collect', id },
        (m): m is Extract<ChildToParent, { t: 'snapshot' }> => m.t === 'snapshot' && m.id === id);
      return r ? { role, metrics: r.metrics as ChildSnapshot['metrics'], status: r.status } : null;
    }));
    return replies.filter((r): r is ChildSnapshot => r !== null);
  };
  const listen = deps.statusListen;
  if (listen) {
    // imported only here: prom-client and the HTTP server cost the parent ~4 MB
    import('../metrics/status-server.js').then(({ startStatusServer }) => startStatusServer({
      listen,
      collect,
      parentStatus: () => ({
        pid: process.pid, config: opts.useFile, reloads: reloads.summary(),
        children: Object.fromEntries(roles.map((r) => [r, { pid: supervisor.pid(r), running: supervisor.running().includes(r), restarts: supervisor.restarts(r) }])),
      }),
      parentMetrics: () => parentMetrics(reloads, roles.map((r) => ({ role: r, running: supervisor.running().includes(r), restarts: supervisor.restarts(r) }))),
    })).then((server) => {
      if (stopping) return void server.close(); // stopped while it was starting
      statusServer = server;
      log.info({ listen: deps.statusListen }, 'status endpoint listening (/metrics, /status)');
      deps.onStatusServer?.(server);
    }, (err: Error) => log.error({ listen: deps.statusListen }, `status endpoint not started: ${err.message}`));
  }
  return { done, reload, stop: () => shutdown('stopping on request', EXIT_OK) };
}
