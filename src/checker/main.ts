/**
 * The checker child: `node dist/bundle/checker.cjs --config PATH [--config-id ID]
 * [--config-from-parent] [--dont-release-ipvs] [--log-console] ... [--owned-state PATH] [--metrics]`
 * (the options both children take are in src/watchdog/child-args.ts).
 *
 * Loads the config, opens IPVS, runs the engine, answers the watchdog parent (heartbeats,
 * reload, shutdown, metrics collection) and also runs standalone (SIGHUP reloads,
 * SIGTERM/SIGINT stop). SIGUSR1 writes /tmp/keepalived_check.data as keepalived's checker does.
 * Under the parent (--config-from-parent) the config is the one the parent accepted, sent as
 * it read it with the checker's part of the model built from it (at every start and reload):
 * the file on the disk is never read here, and a config is parsed here only for --plan, run
 * standalone, or when no part came (the config front end is imported then, not before).
 */
import { realpathSync, readFileSync, writeFileSync } from 'node:fs';
import { Announcements } from '../announce/announcements.js';
import { ensureTakeoverSysctls, takeoverSysctls } from '../announce/takeover.js';
import { quorumRoutes, virtualServersOf, type AnnouncePhase } from '../announce/decide.js';
import { DrainWatch } from '../announce/drain.js';
import { serviceKeysOf } from './desired.js';
import { serviceId } from '../ipvs/model.js';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { lookupIds } from '../script/index.js';
import { preloadCheckers, runCheck } from '../probe/run-check.js';
import { formatDiagnostic } from '../config/ast.js';
import { LOAD_HERE_BELOW_BYTES, loadInThisThread, loadInWorker, snapshotTextSize, type LoadSource } from '../config/load-worker.js';
import type { KeepalivedConfig, VirtualServer } from '../config/model.js';
import { CHECK_DUMP_PATH, formatCheckDump } from '../dump/check-dump.js';
import { writeDumpFile } from '../dump/write-dump.js';
import { SIGJSON, SIGSTATS_CLEAR, catchKeepalivedSignals } from '../native/rt-signals.js';
import { IpvsClient, IpvsUnavailableError } from '../ipvs/client.js';
import { keepLargeBlocksApart, releaseFreedMemory, releaseFreedMemoryOnceStarted } from '../native/index.js';
import { RouteNetlink } from '../netlink/index.js';
import { processLogger, type Logger } from '../log/logger.js';
import { createCheckerMetrics } from '../metrics/checker-metrics.js';
import { snapshotMessage } from '../metrics/snapshot.js';
import { preloadSmtpAlerts } from '../notify/smtp-alert.js';
import { parseChildArgs, type ChildArgs } from '../watchdog/child-args.js';
import { CHILD_HUP_IGNORED, connectToParent, startingConfig, type ChildLink } from '../watchdog/child-link.js';
import type { ConfigForChild } from '../watchdog/ipc.js';
import { LatestOnly } from '../watchdog/latest-only.js';
import { EXIT_CONFIG, EXIT_OK, EXIT_PROGRAM_ERROR } from '../watchdog/exit-codes.js';
import { dumpTableState } from './dump-state.js';
import { CheckerEngine } from './engine.js';
import { type LocalAddresses, watchLocalAddresses } from './local-addresses.js';
import { CheckerObserver, SnapshotBuilder } from './observer.js';
import { DEFAULT_OWNED_PATH, fileOwnedStore } from './owned.js';
import { ProcessKnobs } from '../process/knobs.js';
import { growHeapFreelyDuringBurst } from '../process/heap-burst.js';
import type { ChildPlan } from '../watchdog/plan.js';

/** Diagnostics a child logs of a load (the parent logs those of the configs it sends). */
const CHILD_DIAGNOSTICS = 20;

/**
 * Where a load runs: at start on this thread (nothing runs yet that it could hold up, and a
 * worker would load the front end's modules a second time); on reload in a worker when the
 * config is big (or of unknown size, from the disk), so it holds up neither the checks nor
 * the heartbeats.
 */
function loadsHere(source: LoadSource, during: 'start' | 'reload'): boolean {
  return during === 'start' || (source.kind === 'snapshot' && snapshotTextSize(source.snapshot) < LOAD_HERE_BELOW_BYTES);
}

async function load(source: LoadSource, log: Logger, during: 'start' | 'reload'): Promise<KeepalivedConfig | null> {
  // Tolerant as keepalived's daemon, at start and on reload alike (see src/vrrp/main.ts): a
  // config from the parent was accepted there with the same tolerance, and the parent has
  // logged its skipped statements and warnings, so only what stops us is logged here.
  const req = { source, tolerant: true, parts: ['checker'], maxDiagnostics: CHILD_DIAGNOSTICS } as const;
  const here = loadsHere(source, during);
  const r = here ? await loadInThisThread(req) : await loadInWorker(req);
  // what a worker's load freed stays in its malloc arena otherwise (a start's load is
  // released with the start's burst, once the engine runs)
  if (!here) releaseFreedMemory();
  for (const d of r.diagnostics) {
    if (d.severity === 'error' && !d.ignored) log.error({}, formatDiagnostic(d));
    else if (source.kind === 'disk') log.warn({}, formatDiagnostic(d));
  }
  return r.models.checker ?? null;
}

/**
 * The host's addresses from rtnetlink events (ha_suspend, lvs_sync_daemon's instance).
 * Without them the checker still runs: ha_suspend then never suspends, and a sync daemon
 * tied to an instance stays backup.
 */
async function openLocalAddresses(log: Logger): Promise<LocalAddresses | null> {
  try {
    return await watchLocalAddresses((err) => log.warn({ err: err.message }, 'address monitor'));
  } catch (e) {
    log.error({ err: (e as Error).message }, 'cannot watch the host addresses; ha_suspend will not suspend');
    return null;
  }
}

/**
 * IPVS missing: keepalived takes the whole daemon down (its checker exits fatally). We log
 * the fix loudly and retry every few seconds instead: VRRP keeps the VIPs moving, and once
 * someone runs `modprobe ip_vs` the checker programs the table without a restart.
 */
async function openIpvs(log: Logger, stopping: () => boolean, onUnavailable: (why: string) => void): Promise<IpvsClient | null> {
  for (let attempt = 1; !stopping(); attempt++) {
    try {
      return await IpvsClient.open();
    } catch (e) {
      const msg = e instanceof IpvsUnavailableError ? e.message : `cannot open IPVS: ${(e as Error).message}`;
      onUnavailable(msg);
      if (attempt === 1 || attempt % 12 === 0) log.error({ attempt }, `${msg} — health checking is paused (modprobe ip_vs); retrying every 5 s`);
      for (let waited = 0; waited < 5000 && !stopping(); waited += 250) await new Promise((r) => setTimeout(r, 250));
    }
  }
  return null;
}

/** A script's program as keepalived prints it: its directory resolved (/bin/true -> /usr/bin/true). */
function scriptPath(program: string): string {
  if (!isAbsolute(program)) return program;
  try {
    return join(realpathSync(dirname(program)), basename(program));
  } catch {
    return program;
  }
}

/** A track_file's value as FILE_CHECK reads it: the number the file starts with. */
function trackFileValue(config: KeepalivedConfig, name: string): number | null {
  const tf = config.trackFiles.find((t) => t.name === name);
  if (!tf) return null;
  try {
    const n = parseInt(readFileSync(tf.file, 'utf8').trim(), 10);
    return Number.isNaN(n) ? 0 : n;
  } catch {
    return null;
  }
}

/** ha_suspend: a virtual server's checkers are disabled while none of its addresses is local. */
function vsAddressPresent(vs: VirtualServer, config: KeepalivedConfig, addresses: LocalAddresses | null): boolean {
  if (!vs.haSuspend || !addresses) return true;
  const k = vs.key;
  if (k.kind === 'ip') return addresses.has(k.address);
  if (k.kind === 'fwmark') return true;
  const g = config.virtualServerGroups.find((x) => x.name === k.group);
  return (g?.members ?? []).some((m) => m.kind !== 'fwmark' && addresses.has(m.address));
}

export async function runChecker(argv: readonly string[]): Promise<number> {
  let args: ChildArgs;
  try {
    args = parseChildArgs('checker', argv);
  } catch (e) {
    process.stderr.write(`keepalived-ts checker: ${(e as Error).message}\n`);
    return EXIT_PROGRAM_ERROR;
  }
  // before the load: its large freed blocks would raise malloc's mmap threshold, and the
  // engine's columns sized for every real server would then pin heap pages
  keepLargeBlocksApart();
  // the start's burst, up to the first reconcile's end
  const burstDone = growHeapFreelyDuringBurst();
  const log = processLogger('checker', args);
  releaseFreedMemoryOnceStarted(); // a checker waiting for IPVS never reaches the first reconcile's trim
  // Node answers an unhandled USR1 by opening its inspector: one the parent forwards while
  // we load the config must do nothing (it is answered once the state exists)
  let dump: (() => void) | null = null;
  process.on('SIGUSR1', () => dump?.());
  // keepalived's checker ignores its JSON and STATS_CLEAR signals (the VRRP process answers them)
  catchKeepalivedSignals({ [SIGJSON]: () => undefined, [SIGSTATS_CLEAR]: () => undefined }, log);
  let link: ChildLink | null = null;
  const fromDisk = (): LoadSource => ({ kind: 'disk', path: args.config, configId: args.configId ?? null });
  let first: KeepalivedConfig | null;
  let generation = 0;
  try {
    const start = await startingConfig(args.configFromParent, fromDisk());
    generation = start.generation;
    first = start.model ?? (await load(start.source, log, 'start'));
  } catch (e) {
    log.error({ file: args.config }, `cannot load the configuration: ${(e as Error).message}`);
    first = null;
  }
  if (!first) {
    log.error({ file: args.config }, 'configuration has errors; the checker cannot start');
    link = connectToParent({ onShutdown: () => {} });
    link?.send({ t: 'fatal', code: EXIT_CONFIG, message: `configuration ${args.config} has errors` });
    link?.close();
    return EXIT_CONFIG;
  }
  let config: KeepalivedConfig = first;
  // checker_rt_priority, checker_no_swap, ...: once started; dropped while a reload runs, as keepalived does
  const knobs = new ProcessKnobs('checker', log);
  // what this config's checks and alerts import on demand, loaded before the heartbeats start
  await Promise.all([preloadCheckers(config), preloadSmtpAlerts(config.globalDefs)]);

  let stopping = false;
  let engine: CheckerEngine | null = null;
  let ipvs: IpvsClient | null = null;
  let addresses: LocalAddresses | null = null;
  // bgp_announce `follow quorum` (active-active): opened once the IPVS table is programmed
  let announcements: Announcements | null = null;
  let announceRtnl: RouteNetlink | null = null;
  let settleTimer: NodeJS.Timeout | null = null;
  const routesFor = (phase: AnnouncePhase) => (a: NonNullable<KeepalivedConfig['bgpAnnounce']>, announced: ReadonlySet<string>) =>
    quorumRoutes(a, config, (vs) => engine!.announceReadiness(vs), phase, announced);
  const announceNow = () => announcements?.sync(routesFor('running'));
  /** Before anything is announced: this director must carry on the flows the others started. */
  const allowTakeover = (c: KeepalivedConfig) =>
    ensureTakeoverSysctls(takeoverSysctls(c), log, { read: (p) => readFileSync(p, 'utf8'), write: (p, v) => writeFileSync(p, v) });
  /** After the withdrawal: until no packet reaches the announced services (DrainWatch). */
  const drained = async (minMs: number): Promise<void> => {
    const cfg = config;
    const ids = new Set(
      (cfg.bgpAnnounce?.prefixes ?? [])
        .filter((p) => p.follow.kind === 'quorum')
        .flatMap((p) => virtualServersOf(p, cfg))
        .flatMap((vs) => serviceKeysOf(vs, cfg.virtualServerGroups))
        .map(serviceId),
    );
    const watch = new DrainWatch(Date.now(), minMs);
    for (;;) {
      const table = await kernelTable();
      const packets = table && table.filter((e) => ids.has(serviceId(e.service))).reduce((n, e) => n + (e.service.stats?.inPkts ?? 0n), 0n);
      const verdict = watch.observe(Date.now(), packets);
      if (verdict === 'gave-up') log.warn({}, 'bgp_announce: packets still arrive after the withdrawal; stopping anyway');
      if (verdict !== 'draining') return;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  let ipvsVersion = '1.2.1';
  const observer = new CheckerObserver();
  observer.install(config);
  // the retry states are the scheduler's: the dump and /status read them there
  observer.readStatesFrom((_vs, rs, i) => engine?.checkerStates(rs)[i]);
  // With the status endpoint on (--metrics) the metrics exist from the start: requiring
  // prom-client is synchronous, and in a running child that stall can trip the watchdog's
  // heartbeat limit on a slow host. Otherwise they are made at a first scrape, or never.
  let snapshots: SnapshotBuilder | null = args.metrics ? new SnapshotBuilder(createCheckerMetrics(), observer) : null;
  // Counters are read on a socket of their own: a scrape's dump must not land in the
  // engine's socket while it applies a diff (its write count would include it).
  let statsIpvs: Promise<IpvsClient | null> | null = null;
  const kernelTable = async () => {
    statsIpvs ??= IpvsClient.open().catch(() => null);
    const c = await statsIpvs;
    if (!c) return null;
    return c.table().catch((e: Error) => {
      log.warn({ err: e.message }, 'could not read the IPVS counters for the status endpoint');
      return null;
    });
  };
  // what /status says of this process: running, or paused and why (IPVS missing)
  let condition: { state: 'starting' | 'running' | 'paused'; reason: string | null; detail: string | null } = { state: 'starting', reason: null, detail: null };
  let done!: (code: number) => void;
  const finished = new Promise<number>((r) => {
    done = r;
  });

  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'checker stopping');
    if (settleTimer) clearInterval(settleTimer);
    // withdraw and drain before the services go
    await announcements?.drain(routesFor('draining'), drained).catch((e: Error) => log.error({ err: e.message }, 'bgp_announce: withdrawal failed'));
    knobs.suspend();
    try {
      await engine?.stop();
    } catch (e) {
      log.error({ err: (e as Error).message }, 'could not release the IPVS table');
    }
    await announcements?.close().catch(() => {});
    announceRtnl?.close();
    ipvs?.close();
    addresses?.close();
    void statsIpvs?.then((c) => c?.close());
    link?.close();
    done(EXIT_OK);
  };

  /** Applies the disk's config (standalone HUP) or one the parent accepted; a bad config keeps the old one running. */
  const applyReload = async (accepted: ConfigForChild | null): Promise<{ ok: boolean; generation: number; message?: string }> => {
    const path = args.config;
    const gen = accepted?.generation ?? generation;
    // the load may run on this thread: under the normal scheduler, as keepalived reloads
    knobs.suspend();
    const source: LoadSource = accepted ? { kind: 'snapshot', snapshot: accepted.snapshot } : fromDisk();
    const next =
      accepted?.model ??
      (await load(source, log, 'reload').catch((e: Error) => {
        log.error({ file: path }, `cannot load the configuration: ${e.message}`);
        return null;
      }));
    if (!next) {
      knobs.resume();
      return { ok: false, generation: gen, message: `configuration ${path} has errors; keeping the running one` };
    }
    const before = { writes: engine?.stats.applyWrites ?? 0, ops: engine?.stats.opsApplied ?? 0 };
    observer.install(next); // before the engine: no attempt of the new checkers goes unseen
    try {
      if (engine) await engine.reload(next);
      config = next;
      allowTakeover(next);
      await announcements?.configure(next);
      announceNow();
      releaseFreedMemory(); // the load's burst, as at start
      generation = gen;
      knobs.apply(next.globalDefs);
      log.info(
        {
          file: path,
          generation,
          writes: (engine?.stats.applyWrites ?? 0) - before.writes,
          ops: (engine?.stats.opsApplied ?? 0) - before.ops,
        },
        'configuration reloaded',
      );
      return { ok: true, generation };
    } catch (e) {
      observer.install(config);
      knobs.resume();
      return { ok: false, generation: gen, message: (e as Error).message };
    }
  };
  // one reload at a time; of those sent meanwhile only the newest is applied, after it
  const reloads = new LatestOnly<ConfigForChild | null>({
    run: async (accepted) => {
      const r = await applyReload(accepted);
      if (accepted) link?.send({ t: 'reloaded', ...r });
      else if (!r.ok) log.error({}, r.message ?? 'reload failed');
    },
    superseded: (dropped, by) => log.info({ generation: dropped?.generation, by: by?.generation }, 'reload superseded by a newer configuration'),
  });

  const collect = async (id: number) => {
    const table = engine ? await kernelTable() : null;
    snapshots ??= new SnapshotBuilder(createCheckerMetrics(), observer);
    const status = { ...condition, ...snapshots.build(config, engine ? { health: engine.healthSnapshot(), stats: engine.stats } : null, table) };
    snapshots.metrics.paused.reset();
    if (condition.state === 'paused') snapshots.metrics.paused.set({ reason: condition.reason ?? 'unknown' }, 1);
    link?.send(await snapshotMessage(id, snapshots.registry, status));
  };
  // --plan: what reload(path) would write to the kernel, loaded the same way, applying nothing
  const planFor = async (path: string, configId?: string): Promise<ChildPlan> => {
    const next = await load({ kind: 'disk', path, configId: configId ?? args.configId ?? null }, log, 'reload');
    if (!next) return { role: 'checker', ok: false, message: `configuration ${path} has errors` };
    if (!engine) return { role: 'checker', ok: false, message: `no IPVS plan: the checker is not running (${condition.reason ?? condition.state})` };
    try {
      return { role: 'checker', ok: true, ipvs: await engine.planReload(next) };
    } catch (e) {
      return { role: 'checker', ok: false, message: (e as Error).message };
    }
  };
  link = connectToParent({
    onShutdown: (why) => {
      void stop(why);
    },
    onMessage: (m) => {
      if (m.t === 'reload') reloads.offer(m);
      else if (m.t === 'plan') void planFor(m.configPath, m.configId).then((plan) => link?.send({ t: 'plan', id: m.id, plan }));
      else if (m.t === 'collect') void collect(m.id).catch((e: Error) => log.warn({ err: e.message }, 'metrics collection failed'));
    },
  });
  // the parent forwards USR1 to us: keepalived's checker writes its state there
  const dumpText = () => {
    const cfg = config;
    return formatCheckDump({
      config: cfg,
      ...dumpTableState(engine?.healthSnapshot() ?? new Map()),
      ipvsVersion,
      umask: process.umask(),
      namespace: args.namespace,
      checker: (vs, rs, i) => observer.view(vs, rs, i, vsAddressPresent(vs, cfg, addresses)),
      trackFileValue: (name) => trackFileValue(cfg, name),
      scriptPath,
      userIds: (user, group) => lookupIds({ user, group }),
    });
  };
  dump = () => {
    try {
      writeDumpFile(CHECK_DUMP_PATH, dumpText());
      log.info({ path: CHECK_DUMP_PATH }, 'dump written');
    } catch (e) {
      log.error({ path: CHECK_DUMP_PATH, err: (e as Error).message }, 'dump failed');
    }
  };
  process.on('SIGTERM', () => {
    void stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    void stop('SIGINT');
  });
  process.on('SIGHUP', () => {
    // under the parent a reload is the parent's: it validates the file and sends it here
    if (args.configFromParent) log.info({}, CHILD_HUP_IGNORED);
    else reloads.offer(null);
  });

  ipvs = await openIpvs(
    log,
    () => stopping,
    (why) => {
      condition = { state: 'paused', reason: 'ipvs-unavailable', detail: why };
      burstDone(); // paused: no burst until IPVS comes
    },
  );
  if (!ipvs) return finished;
  ipvsVersion = await ipvs.info().then(
    (i) => i.version,
    () => ipvsVersion,
  );
  addresses = await openLocalAddresses(log);
  engine = new CheckerEngine({
    ipvs,
    owned: fileOwnedStore(args.ownedState ?? process.env.KEEPALIVED_TS_IPVS_OWNED ?? DEFAULT_OWNED_PATH),
    log,
    dontReleaseIpvs: args.dontRelease,
    // runCheck itself (not a wrapper), so TCP_CHECK runs on the native probe's batched path;
    // the metrics and the dump hear every attempt, with the scheduler's state, from here
    runCheck,
    onAttemptDone: (rs, i, checker, outcome, durationMs) => observer.attempted(rs, i, checker, outcome, durationMs),
    addresses: addresses ?? undefined,
    onReadinessChange: announceNow,
  });
  try {
    await engine.start(config);
  } catch (e) {
    log.error({ err: (e as Error).message }, 'checker could not program IPVS');
    link?.send({ t: 'fatal', code: EXIT_CONFIG, message: (e as Error).message });
    ipvs.close();
    addresses?.close();
    link?.close();
    return EXIT_CONFIG;
  }
  allowTakeover(config);
  announceRtnl = RouteNetlink.open();
  announcements = new Announcements(announceRtnl, log, 'quorum');
  await announcements.configure(config);
  announceNow();
  // first verdicts come from checks, not from table passes: look again until they are in
  settleTimer = setInterval(announceNow, 1000);
  settleTimer.unref();
  // Loading the config and the first reconcile are this process's allocation burst; what
  // malloc freed after it stays resident unless handed back.
  burstDone();
  releaseFreedMemory();
  knobs.apply(config.globalDefs);
  const writes = engine.stats.applyWrites;
  // a restart over a live table (-I) must find it right and leave it alone: zero writes
  log.info(
    { virtualServers: config.virtualServers.length, writes, ops: engine.stats.opsApplied },
    writes === 0 ? 'checker started: adopted the IPVS table as it was (no writes)' : 'checker started',
  );
  condition = { state: 'running', reason: null, detail: null };
  link?.send({ t: 'ready' });
  // -d: keepalived logs its configuration data once started, one log line per dump line
  if (args.dumpConf) for (const line of dumpText().trimEnd().split('\n')) log.info(line);
  return finished;
}

/** The process: runs the checker and exits with its code (the bundle's launcher calls it, tools/bundle.mjs). */
export function main(argv: string[]): void {
  runChecker(argv).then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`keepalived-ts checker: ${e.stack ?? e.message}\n`);
      process.exit(EXIT_PROGRAM_ERROR);
    },
  );
}

// Run when executed directly (dist/src; not when imported by tests).
if (typeof KEEPALIVED_TS_BUNDLE === 'undefined' && process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href)
  main(process.argv.slice(2));
