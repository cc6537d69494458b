// Loads a config in a short-lived worker thread, so the caller's event loop keeps turning
// however long the file takes (the watchdog parent keeps watching its children's heartbeats
// through a reload; a child keeps advertising and checking). The caller gets back only what
// it uses: the parts of the model it runs or hands on (vrrpPart, checkerPart), a bounded
// number of diagnostics with the count of the rest, and, for a load from the disk, the
// recording of the files it read (snapshot.ts). The front end's modules
// and the garbage of parsing stay in the worker's isolate and go away with it.
// (raw-socket must not be used in workers; nothing here touches it.) The worker runs
// load-worker-thread.ts; node:worker_threads is imported when a worker is started, not by
// every process that may start one.
import type { Diagnostic } from './ast.js';
import type { KeepalivedConfig } from './model.js';
import type { ConfigSnapshot } from './snapshot.js';
import { shareIdenticalCheckers } from './share-checkers.js';

/** Where the config comes from: the disk (recorded), or a recording (the disk untouched). */
export type LoadSource = { kind: 'disk'; path: string; configId: string | null } | { kind: 'snapshot'; snapshot: ConfigSnapshot };

/** A part of the model: what the VRRP child runs (vrrpPart), what the checker runs (checkerPart), all of it. */
export type ModelPart = 'vrrp' | 'checker' | 'all';

export interface LoadRequest {
  source: LoadSource;
  /** Start-up reading, as keepalived's daemon (LoadOptions.tolerant). */
  tolerant: boolean;
  /** The parts of the model the caller wants back (none: the parent validating a file). */
  parts: readonly ModelPart[];
  /** At most this many diagnostics come back; the rest are counted. */
  maxDiagnostics: number;
}

export interface LoadReport {
  /** The load gave a config (no error that stops it). */
  accepted: boolean;
  /** The parts asked for (empty when refused); they share the objects they have in common. */
  models: Partial<Record<ModelPart, KeepalivedConfig>>;
  /** What an accepted load from the disk read; null otherwise. */
  snapshot: ConfigSnapshot | null;
  /** The first diagnostics, those that stop the load first (see reportedDiagnostics). */
  diagnostics: Diagnostic[];
  /** Diagnostics not in `diagnostics`, by severity. */
  omitted: { errors: number; warnings: number };
  /** Errors that refuse the config (not skipped statements). */
  fatalErrors: number;
  /** What the config asks the daemon to run. */
  subsystems: { vrrpInstances: number; virtualServers: number };
  /** bgp_announce's drain time (a child stopping withdraws, then drains that long); null without bgp_announce. */
  drainMs: number | null;
}

/**
 * A cap on the worker's JavaScript heap: a file that would need more is refused with an
 * error rather than taking the process's memory. Far above what real configs need (see
 * bench/parse.mjs for the largest generated ones).
 */
export const LOAD_HEAP_LIMIT_MB = 1024;

/** Bytes of config text a snapshot stands for (what a load of it parses). */
export function snapshotTextSize(s: ConfigSnapshot): number {
  return s.files.reduce((n, f) => n + ('size' in f ? f.size : 0), 0);
}

/**
 * Config text below this size is reloaded on the caller's own thread: parsing it takes less
 * than a worker's start (which loads the front end's modules a second time). A bigger one
 * (or one of unknown size) is loaded in a worker so the caller's event loop keeps turning.
 */
export const LOAD_HERE_BELOW_BYTES = 1 << 20;

/**
 * The size a reload from the disk would read, as far as it can be known before reading it:
 * the files the running config was read from (`previous`, the main file among them), at
 * their size on the disk now (`sizeOf`: null when gone). An include added since is not
 * counted.
 */
export function diskTextSize(previous: ConfigSnapshot, sizeOf: (path: string) => number | null): number {
  const paths = new Set([previous.path, ...previous.files.map((f) => f.path)]);
  let total = 0;
  for (const p of paths) total += sizeOf(p) ?? 0;
  return total;
}

/**
 * What the VRRP child runs: the config without what only the checker uses (the virtual
 * servers and their groups, which no instance, script or announcement of its refers to, and
 * SSL_GET's client files).
 */
export function vrrpPart(config: KeepalivedConfig): KeepalivedConfig {
  return { ...config, virtualServers: [], virtualServerGroups: [], ssl: null };
}

/**
 * What the checker runs: the config without what only the VRRP child uses (scripts, sync
 * groups, track_process, the static addresses, routes and rules), and of the VRRP instances
 * only the one lvs_sync_daemon follows (the checker reads its VIPs to know whether it is
 * master). track_file stays: FILE_CHECK reads it too. Identical checkers are shared (in
 * place: the config is a load's own).
 */
export function checkerPart(config: KeepalivedConfig): KeepalivedConfig {
  const syncInstance = config.globalDefs.lvsSyncDaemon?.instance ?? null;
  shareIdenticalCheckers(config);
  return {
    ...config,
    vrrpInstances: syncInstance === null ? [] : config.vrrpInstances.filter((i) => i.name === syncInstance),
    vrrpScripts: [],
    vrrpSyncGroups: [],
    trackProcesses: [],
    staticAddresses: [],
    staticRoutes: [],
    staticRules: [],
    staticTrackGroups: [],
  };
}

const PARTS: Record<ModelPart, (c: KeepalivedConfig) => KeepalivedConfig> = { vrrp: vrrpPart, checker: checkerPart, all: (c) => c };

/** The parts of `config` named in `parts`. */
export function modelParts(config: KeepalivedConfig, parts: readonly ModelPart[]): Partial<Record<ModelPart, KeepalivedConfig>> {
  return Object.fromEntries(parts.map((p) => [p, PARTS[p](config)]));
}

const fatal = (d: Diagnostic) => d.severity === 'error' && !d.ignored;

/**
 * At most `max` diagnostics, those that refuse the config first, then skipped statements,
 * then warnings, each kept in file order: whatever is cut, what stops the load is shown.
 */
export function reportedDiagnostics(list: readonly Diagnostic[], max: number): { shown: Diagnostic[]; omitted: { errors: number; warnings: number } } {
  const rank = (d: Diagnostic) => (fatal(d) ? 0 : d.severity === 'error' ? 1 : 2);
  const picked = list
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i)
    .slice(0, Math.max(0, max));
  const shown = picked.sort((a, b) => a.i - b.i).map((x) => x.d);
  const errors = list.filter((d) => d.severity === 'error').length - shown.filter((d) => d.severity === 'error').length;
  return { shown, omitted: { errors, warnings: list.length - shown.length - errors } };
}

/** The diagnostic of a load the worker could not finish (out of memory, a crash of ours). */
function abortedLoad(req: LoadRequest, why: string): LoadReport {
  const file = req.source.kind === 'disk' ? req.source.path : req.source.snapshot.path;
  return {
    accepted: false,
    models: {},
    snapshot: null,
    fatalErrors: 1,
    omitted: { errors: 0, warnings: 0 },
    subsystems: { vrrpInstances: 0, virtualServers: 0 },
    drainMs: null,
    diagnostics: [{ severity: 'error', code: 'load-aborted', pos: { file, line: 1, column: 1 }, message: `configuration not loaded: ${why}` }],
  };
}

/** The worker's entry: load-worker-thread.js in dist/src, the config-load-worker.cjs launcher in the bundle (tools/bundle.mjs). */
const WORKER_MODULE = new URL(typeof KEEPALIVED_TS_BUNDLE === 'undefined' ? './load-worker-thread.js' : './config-load-worker.cjs', import.meta.url);

/** Runs the load in a worker; resolves once the worker has exited (its memory is freeable). */
export async function loadInWorker(req: LoadRequest): Promise<LoadReport> {
  const { Worker } = await import('node:worker_threads');
  return new Promise((resolve) => {
    const w = new Worker(WORKER_MODULE, {
      workerData: { req },
      resourceLimits: { maxOldGenerationSizeMb: LOAD_HEAP_LIMIT_MB },
    });
    let report: LoadReport | null = null;
    w.once('message', (r: LoadReport) => (report = r));
    w.once('error', (err: Error & { code?: string }) => {
      report ??= abortedLoad(
        req,
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `loading it needed more than ${LOAD_HEAP_LIMIT_MB} MB`
          : 'the loader failed (a bug of keepalived-ts; please report it with the file)',
      );
    });
    w.once('exit', () => resolve(report ?? abortedLoad(req, 'the loader stopped before it finished')));
  });
}

function snapshotBuffers(s: ConfigSnapshot): ArrayBuffer[] {
  return s.files.flatMap((f) => ('deflated' in f ? [f.deflated.buffer as ArrayBuffer] : []));
}

/**
 * The same load on the caller's own thread, for a process that may block while it loads
 * and would rather not pay for a worker's start (a child starting: no heartbeat is due yet,
 * and a worker's isolate must load the front end's modules again). The front end is
 * imported here, on first use.
 */
export async function loadInThisThread(req: LoadRequest): Promise<LoadReport> {
  return (await runLoad(req)).report;
}

/** The load itself, as the worker (load-worker-thread.ts) and loadInThisThread run it; `transfer`: the buffers the report can hand over without a copy. */
export async function runLoad(req: LoadRequest): Promise<{ report: LoadReport; transfer: ArrayBuffer[] }> {
  const { loadRecorded, loadSnapshot } = await import('./snapshot.js');
  const opts = { tolerant: req.tolerant };
  let snapshot: ConfigSnapshot | null = null;
  let result;
  if (req.source.kind === 'disk') {
    ({ result, snapshot } = loadRecorded(req.source.path, req.source.configId, opts));
  } else {
    result = loadSnapshot(req.source.snapshot, opts);
  }
  const { shown, omitted } = reportedDiagnostics(result.diagnostics, req.maxDiagnostics);
  const c = result.config;
  const report: LoadReport = {
    accepted: c !== null,
    models: c ? modelParts(c, req.parts) : {},
    snapshot,
    diagnostics: shown,
    omitted,
    fatalErrors: result.diagnostics.filter(fatal).length,
    subsystems: { vrrpInstances: c?.vrrpInstances.length ?? 0, virtualServers: c?.virtualServers.length ?? 0 },
    drainMs: c?.bgpAnnounce?.drainMs ?? null,
  };
  if (!report.accepted) report.snapshot = null;
  return { report, transfer: report.snapshot ? snapshotBuffers(report.snapshot) : [] };
}
