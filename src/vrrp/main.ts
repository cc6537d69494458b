// The VRRP child process:
//   node dist/bundle/vrrp.cjs --config PATH [--config-id ID] [--config-from-parent]
//                          [--dont-release-vrrp] [--log-console] ... [--metrics]
// (the options both children take are in src/watchdog/child-args.ts)
// Loads the config, runs the engine, follows the watchdog parent when forked by it (and
// runs standalone otherwise). TERM/INT or the parent's shutdown = graceful stop; a reload
// message (or HUP when standalone) applies a new config keeping matched instances' state.
// Under the parent (--config-from-parent) the config is the one the parent accepted, sent
// as it read it; the file on the disk is never read here (it may hold a refused edit). The
// parent sends its VRRP part of the model built with it, at every start and reload: this
// process parses a config only for --plan, run standalone, or when no part came.
import { preloadSmtpAlerts } from '../notify/smtp-alert.js';
import { pathToFileURL } from 'node:url';
import { formatDiagnostic } from '../config/ast.js';
import { LOAD_HERE_BELOW_BYTES, loadInThisThread, loadInWorker, snapshotTextSize, type LoadSource } from '../config/load-worker.js';
import type { KeepalivedConfig } from '../config/model.js';
import { keepLargeBlocksApart, releaseFreedMemory, releaseFreedMemoryOnceStarted } from '../native/index.js';
import { processLogger, type Logger } from '../log/logger.js';
import { parseChildArgs, type ChildArgs } from '../watchdog/child-args.js';
import { CHILD_HUP_IGNORED, connectToParent, startingConfig, type ChildLink } from '../watchdog/child-link.js';
import type { HeldByVrrp, ParentToChild } from '../watchdog/ipc.js';
import { LatestOnly } from '../watchdog/latest-only.js';
import { EXIT_CONFIG, EXIT_FATAL, EXIT_MISSING_PERMISSION, EXIT_OK } from '../watchdog/exit-codes.js';
import { createVrrpMetrics } from '../metrics/vrrp-metrics.js';
import { snapshotMessage } from '../metrics/snapshot.js';
import { DUMP_FILES, formatData, formatJson, formatStats } from '../dump/vrrp-dumps.js';
import { writeDumpFile } from '../dump/write-dump.js';
import { VrrpEngine } from './engine.js';
import { LocalIgmpReports } from './local-igmp.js';
import { procSysctls } from './vmac.js';
import { kernelHost } from './engine-ports.js';
import { instanceSnapshot, interfaceSnapshots, resolveCommand, scriptSnapshots } from './to-dump-snapshot.js';
import { lookupIds } from '../script/index.js';
import { RouteNetlink } from '../netlink/index.js';
import { SIGJSON, SIGSTATS_CLEAR, catchKeepalivedSignals } from '../native/rt-signals.js';
import { ProcessKnobs } from '../process/knobs.js';
import { planVrrpReload } from './reload-plan.js';
import { mailsVrrpAlerts } from './alerts.js';
import type { ChildPlan } from '../watchdog/plan.js';

const DUMP_SIGNALS = ['SIGUSR1', 'SIGUSR2', 'SIGPWR', 'SIGURG'] as const;

type ReloadMessage = Extract<ParentToChild, { t: 'reload' }>;

/** Diagnostics a child logs of a load (the parent logs those of the configs it sends). */
const CHILD_DIAGNOSTICS = 20;

/**
 * The config, or the error text when it has errors (warnings are logged and tolerated).
 * At start a small config from the parent loads on this thread: no advert or heartbeat is
 * due yet, and a worker would boot an isolate and load the front end's modules before the
 * first advert. A big one loads in a worker, whose isolate takes the parse's garbage away
 * with it (this process would keep the heap it grew to), and so do later loads (--plan, a
 * reload that came without the parent's model), so however big the file the adverts keep
 * their interval.
 */
async function load(source: LoadSource, log: Logger, during: 'start' | 'later'): Promise<KeepalivedConfig | string> {
  // Tolerant as keepalived's daemon: a statement it would skip (a typo'd keyword) is left out
  // and the rest runs. A config from the parent was accepted there with the same tolerance.
  const req = { source, tolerant: true, parts: ['vrrp'], maxDiagnostics: CHILD_DIAGNOSTICS } as const;
  const here = during === 'start' && source.kind === 'snapshot' && snapshotTextSize(source.snapshot) < LOAD_HERE_BELOW_BYTES;
  const r = here ? await loadInThisThread(req) : await loadInWorker(req);
  releaseFreedMemory(); // what the load freed stays resident in the malloc arena otherwise
  if (source.kind === 'disk') for (const d of r.diagnostics) if (d.severity === 'warning' || d.ignored) log.warn(formatDiagnostic(d));
  const config = r.models.vrrp;
  if (!config)
    return (
      r.diagnostics
        .filter((d) => d.severity === 'error' && !d.ignored)
        .map(formatDiagnostic)
        .join('\n') || 'configuration not loaded'
    );
  return config;
}

const fromDisk = (args: ChildArgs): LoadSource => ({ kind: 'disk', path: args.config, configId: args.configId ?? null });

/** The watchdog must learn why we exit before we do (process.send is asynchronous). */
function tellParentFatal(code: number, message: string): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send({ t: 'fatal', code, message }, undefined, {}, () => resolve());
  });
}

export async function runVrrpChild(argv: readonly string[]): Promise<number> {
  let args: ChildArgs;
  try {
    args = parseChildArgs('vrrp', argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return EXIT_CONFIG;
  }
  keepLargeBlocksApart(); // before the load: its large freed blocks must not raise malloc's mmap threshold
  const log = processLogger('vrrp', args);
  // a dump signal forwarded during start-up must not kill us (their default action)
  let onDumpSignal: (sig: (typeof DUMP_SIGNALS)[number]) => void = () => undefined;
  for (const sig of DUMP_SIGNALS) process.on(sig, () => onDumpSignal(sig));
  // keepalived's own numbers, sent to this process directly (its pid file): same answers
  catchKeepalivedSignals({ [SIGJSON]: () => onDumpSignal('SIGPWR'), [SIGSTATS_CLEAR]: () => onDumpSignal('SIGURG') }, log);
  let parent: ChildLink | null = null;
  let cfg: KeepalivedConfig | string;
  let generation = 0;
  try {
    const start = await startingConfig(args.configFromParent, fromDisk(args));
    generation = start.generation;
    cfg = start.model ?? (await load(start.source, log, 'start'));
  } catch (err) {
    cfg = `cannot load ${args.config}: ${(err as Error).message}`;
  }
  if (typeof cfg === 'string') {
    log.fatal({ config: args.config }, `configuration errors:\n${cfg}`);
    await tellParentFatal(EXIT_CONFIG, cfg);
    return EXIT_CONFIG;
  }

  // nodemailer loads synchronously and slowly: before the heartbeats start, not at the first
  // alert; and only when some block can mail (it holds megabytes for the process's life)
  if (mailsVrrpAlerts(cfg)) await preloadSmtpAlerts(cfg.globalDefs);
  const metrics = args.metrics ? createVrrpMetrics() : undefined;
  // what the instances hold, for the parent (sent once the link is up, then at each change)
  let held: HeldByVrrp | null = null;
  const onHeldChange = (h: HeldByVrrp) => {
    held = h;
    parent?.send({ t: 'vips-held', ...h });
  };
  const engine = new VrrpEngine({ log, dontReleaseVrrp: args.dontRelease, metrics, onHeldChange, host: kernelHost(log) });
  // vrrp_rt_priority, vrrp_no_swap, ...: once started; dropped while a reload is applied, as keepalived does
  const knobs = new ProcessKnobs('vrrp', log);
  const localIgmp = new LocalIgmpReports(procSysctls, log);
  // the config running now (after the reloads applied), for what the stop puts back
  let running = cfg;
  let finished!: (code: number) => void;
  const done = new Promise<number>((r) => (finished = r));
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    reloads.clear();
    log.info({ why }, 'VRRP child stopping');
    // a TERM during start-up waits for the start to finish, so nothing it opens is left behind
    starting
      .catch(() => undefined)
      .then(() => (knobs.suspend(), engine.stop()))
      .then(() => localIgmp.restore(running.globalDefs.disableLocalIgmp))
      .then(
        () => finished(EXIT_OK),
        (err: Error) => {
          log.error(`stop failed: ${err.message}`);
          finished(EXIT_FATAL);
        },
      );
  };
  /**
   * Applies the disk's config (standalone HUP) or one the parent accepted: the model the
   * parent built with it when it came with one, so this thread never parses while it runs
   * adverts (a load of ours is the fallback, in a worker).
   */
  const applyReload = async (accepted: ReloadMessage | null) => {
    if (stopping) return;
    const source: LoadSource = accepted ? { kind: 'snapshot', snapshot: accepted.snapshot } : fromDisk(args);
    const next = accepted?.model ?? (await load(source, log, 'later').catch((err: Error) => `cannot load ${args.config}: ${err.message}`));
    const gen = accepted?.generation ?? generation;
    if (typeof next === 'string') {
      log.error(`reload refused, keeping the running config:\n${next}`);
      parent?.send({ t: 'reloaded', ok: false, generation: gen, message: next });
      return;
    }
    // real-time priority and locked memory are dropped while the engine applies it, as
    // keepalived does (a load of ours ran in a worker, which starts without them)
    knobs.suspend();
    try {
      if (mailsVrrpAlerts(next)) await preloadSmtpAlerts(next.globalDefs);
      await engine.reload(next);
      running = next;
      generation = gen;
      knobs.apply(next.globalDefs);
      log.info({ config: args.config, generation }, 'configuration reloaded');
      parent?.send({ t: 'reloaded', ok: true, generation });
    } catch (err) {
      knobs.resume();
      log.error(`reload failed: ${(err as Error).message}`);
      parent?.send({ t: 'reloaded', ok: false, generation: gen, message: (err as Error).message });
    }
  };
  // one reload at a time; of those sent meanwhile only the newest is applied, after it
  const reloads = new LatestOnly<ReloadMessage | null>({
    run: applyReload,
    superseded: (dropped, by) => log.info({ generation: dropped?.generation, by: by?.generation }, 'reload superseded by a newer configuration'),
  });
  const reload = (accepted: ReloadMessage | null) => reloads.offer(accepted);

  // --plan: what reload(configPath) would change, loaded the same way, applying nothing
  const planFor = async (configPath: string, configId: string | undefined): Promise<ChildPlan> => {
    const next = await load({ kind: 'disk', path: configPath, configId: configId ?? args.configId ?? null }, log, 'later').catch(
      (err: Error) => `cannot load ${configPath}: ${err.message}`,
    );
    if (typeof next === 'string') return { role: 'vrrp', ok: false, message: next };
    const running = engine
      .views()
      .instances.map((i) => ({ cfg: i.cfg, state: i.machine.state, priority: i.machine.effective.priority, masterPriority: i.masterPriority }));
    return { role: 'vrrp', ok: true, instances: planVrrpReload(running, next.vrrpInstances) };
  };

  let starting: Promise<void> = new Promise(() => undefined);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    // under the parent a reload is the parent's: it validates the file and sends it here
    if (args.configFromParent) log.info({}, CHILD_HUP_IGNORED);
    else reload(null);
  });
  // The parent forwards the dump signals (see DUMP_SIGNAL_ROLES); without a handler each
  // would kill us. USR1 = keepalived.data, USR2 = .stats, PWR = .json (keepalived's JSON
  // signal), URG = STATS_CLEAR: write the stats, then zero them, as keepalived does.
  const snapshots = () => {
    const v = engine.views();
    return v.instances.map((i) => instanceSnapshot(i, v.config));
  };
  // keepalived.data: the instances, the scripts' runners and the host's interfaces as now
  const dataText = async (): Promise<string> => {
    const v = engine.views();
    const rtnl = RouteNetlink.open();
    // one dump at a time: a netlink socket answers a second dump request in flight with EBUSY
    const host = await rtnl
      .listLinks()
      .then(async (links) => ({ links, addresses: await rtnl.listAddresses() }))
      .finally(() => rtnl.close());
    const { links, addresses } = host;
    const resolver = { scriptPath: resolveCommand, userIds: (user: string, group: string | null) => lookupIds({ user, group }) };
    return formatData({
      config: v.config,
      umask: process.umask(),
      namespace: args.namespace,
      ...resolver,
      instances: v.instances.map((i) => instanceSnapshot(i, v.config)),
      scripts: scriptSnapshots(v.instances, v.config, engine.scriptStates(), resolver),
      interfaces: interfaceSnapshots(links, addresses, v.instances),
    });
  };
  const dump = (path: string, text: () => string | Promise<string>) => {
    // the text is taken now (STATS_CLEAR clears right after asking for it); only keepalived.data waits for netlink
    let taken: string | Promise<string>;
    try {
      taken = text();
    } catch (err) {
      taken = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    void Promise.resolve(taken)
      .then((t) => {
        writeDumpFile(path, t);
        log.info({ path }, 'dump written');
      })
      .catch((err: Error) => log.error({ path }, `dump failed: ${err.message}`));
  };
  onDumpSignal = (sig) => {
    if (sig === 'SIGUSR1') dump(DUMP_FILES.data, dataText);
    else if (sig === 'SIGUSR2') dump(DUMP_FILES.stats, () => formatStats(snapshots()));
    else if (sig === 'SIGPWR') dump(DUMP_FILES.json, () => formatJson(snapshots()));
    else {
      dump(DUMP_FILES.stats, () => formatStats(snapshots()));
      engine.clearStats();
    }
  };

  // before the instances start, as keepalived; a reload never changes it
  if (cfg.globalDefs.disableLocalIgmp) localIgmp.disable();
  starting = engine.start(cfg);
  try {
    await starting;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const perm = e.code === 'EPERM' || e.code === 'EACCES' || /EPERM|Operation not permitted/.test(e.message);
    log.fatal(`VRRP start failed: ${e.message}`);
    const code = perm ? EXIT_MISSING_PERMISSION : EXIT_FATAL;
    await tellParentFatal(code, e.message);
    return code;
  }
  knobs.apply(cfg.globalDefs);
  parent = connectToParent({
    onShutdown: (why) => stop(why),
    onMessage: (m) => {
      if (m.t === 'reload') reload(m);
      else if (m.t === 'plan') {
        void planFor(m.configPath, m.configId).then((plan) => parent?.send({ t: 'plan', id: m.id, plan }));
      } else if (m.t === 'collect') {
        void snapshotMessage(m.id, metrics?.registry ?? null, { instances: engine.status(), rejected: engine.rejects.counts }).then((msg) => parent?.send(msg));
      }
    },
  });
  const heldAtStart = held as HeldByVrrp | null;
  if (heldAtStart) parent?.send({ t: 'vips-held', ...heldAtStart });
  parent?.send({ t: 'ready' });
  releaseFreedMemoryOnceStarted();
  log.info({ instances: cfg.vrrpInstances.length }, 'VRRP child running');
  // -d: keepalived logs its configuration data once started, one log line per dump line
  if (args.dumpConf) {
    void dataText().then(
      (t) => {
        for (const line of t.trimEnd().split('\n')) log.info(line);
      },
      (err: Error) => log.error(`configuration dump failed: ${err.message}`),
    );
  }
  const code = await done;
  parent?.close();
  return code;
}

/** The process: runs the child and exits with its code (the bundle's launcher calls it, tools/bundle.mjs). */
export function main(argv: string[]): void {
  runVrrpChild(argv).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exit(EXIT_FATAL);
    },
  );
}

// run when executed directly (dist/src; not when imported by tests)
if (typeof KEEPALIVED_TS_BUNDLE === 'undefined' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
