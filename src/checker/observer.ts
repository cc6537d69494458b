/**
 * What the checker child reports about itself: the /metrics + /status snapshot the parent
 * collects, and the per-checker state keepalived_check.data prints. The engine keeps health
 * per real server; this hears every check attempt from the scheduler (`attempted`, wired to
 * the engine's onAttemptDone) for what is per checker: latency, failures, when it last ran,
 * and the checker's retry state, which is the scheduler's own (src/check/checker-state.ts).
 * `wrap()` observes a bare check runner instead, stepping that machine itself.
 */
import { afterAttempt, type CheckerState, initialState } from '../check/checker-state.js';
import type { CheckOutcome } from '../check/outcome.js';
import type { Checker, KeepalivedConfig, RealServer, VirtualServer } from '../config/model.js';
import { type CheckerView, formatRs, formatVs, notRunView } from '../dump/check-dump.js';
import { type ServiceEntry, destinationId, serviceId } from '../ipvs/model.js';
import type { CheckerMetrics } from '../metrics/checker-metrics.js';
import { type RealServerHealth, destinationsOf, flatString, healthKey, initialQuorum, serviceKeysOf } from './desired.js';
import type { CheckRunner } from './engine.js';

export type ObservedConfig = Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups'>;

/**
 * One checker of the installed config, found by its Checker object (what the scheduler
 * reports attempts with). Nothing here is derived eagerly: the reload key is computed only
 * while installing, and the metric labels only at a scrape (or, for the failure counter, once
 * the checker has failed), so a real server costs one object, one map entry and its
 * duration histogram's counts (SlotHistogram, by `slot`).
 */
interface Observed {
  /** This checker's series in the duration histogram. */
  slot: number;
  vs: VirtualServer;
  rs: RealServer;
  index: number;
  type: Checker['type'];
  lastRan: number | null;
  lastStatus: number | null;
  lastDurationMs: number | null;
  failedUrl: string | null;
  /** Kept once the checker has failed: the failure counter's series. */
  labels: Labels | null;
}

type Labels = { virtual_server: string; real_server: string; checker: string };

/** initialState() for checkers that have not run: shared, since a state is replaced, never mutated, here. */
const NOT_RUN = [initialState(false), initialState(true)].map((s) => Object.freeze(s));

/** A checker's retry state as its scheduler keeps it (by the installed config's objects). */
export type StateSource = (vs: VirtualServer, rs: RealServer, index: number) => CheckerState | undefined;

/** healthKey + checker index: what a reload carries a checker's state by. */
const carryKey = (vs: VirtualServer, rs: RealServer, index: number): string => `${healthKey(vs, rs)}#${index}`;

function labelsOf(o: Observed): Labels {
  return { virtual_server: flatString(formatVs(o.vs)), real_server: flatString(formatRs(o.vs, o.rs)), checker: checkerLabel(o.rs, o.index) };
}

/** The label set as one string (a series' identity), without building the kept label objects. */
const seriesOf = (o: Observed): string => `${formatVs(o.vs)}\n${formatRs(o.vs, o.rs)}\n${checkerLabel(o.rs, o.index)}`;

export interface Clock {
  /** Epoch milliseconds (printed). */
  wall(): number;
  /** Monotonic milliseconds (durations). */
  mono(): number;
}

const systemClock: Clock = { wall: () => Date.now(), mono: () => performance.now() };

/** Checker label: its type, numbered when a real server has several of that type. */
function checkerLabel(rs: RealServer, index: number): string {
  const type = rs.checkers[index]!.type;
  const same = rs.checkers.filter((c) => c.type === type).length;
  return same > 1 ? `${type}#${rs.checkers.slice(0, index + 1).filter((c) => c.type === type).length}` : type;
}

export class CheckerObserver {
  private where = new Map<Checker, Observed>();
  /** Records by slot (null: free). */
  private slots: (Observed | null)[] = [];
  private freeSlots: number[] = [];
  /** Attached at the first scrape: a child nobody scrapes never loads prom-client. */
  private metrics: CheckerMetrics | null = null;
  /**
   * Where the retry states are read, when a dump asks: the engine's scheduler keeps them
   * (not a copy per checker here). Checkers observed through `wrap()` step their own.
   */
  private stateSource: StateSource | null = null;
  private wrapped = new Map<Observed, CheckerState>();

  constructor(private readonly clock: Clock = systemClock) {}

  readStatesFrom(source: StateSource): void {
    this.stateSource = source;
  }

  attachMetrics(metrics: CheckerMetrics): void {
    this.metrics = metrics;
    metrics.checkDuration.reserve(this.slots.length);
    metrics.checkDuration.labelsOf = (slot) => {
      const o = this.slots[slot];
      return o ? o.labels ?? labelsOf(o) : null;
    };
  }

  /**
   * Follow a new config's checkers. Call before handing the config to the engine, so no
   * attempt of the new checkers is missed; attempts of the replaced ones are then ignored.
   * A checker that survives a reload (same real server, same position and type) keeps its
   * state, as the engine carries it.
   */
  install(config: ObservedConfig): void {
    const oldRecords = new Set(this.where.values());
    const old = new Map<string, Observed>();
    for (const o of oldRecords) old.set(carryKey(o.vs, o.rs, o.index), o);
    const where = new Map<Checker, Observed>();
    const byKey = new Map<string, Observed>();
    const wrapped = new Map<Observed, CheckerState>();
    for (const vs of config.virtualServers) {
      for (const rs of vs.realServers) {
        rs.checkers.forEach((checker, index) => {
          const key = carryKey(vs, rs, index);
          const seen = byKey.get(key);
          // a real server listed twice is checked once: both lists' checkers show that one
          if (seen) { where.set(checker, seen); return; }
          const was = old.get(key);
          const carried = was && was.type === checker.type;
          const o: Observed = carried
            ? { ...was, slot: -1, vs, rs, index, labels: null }
            : {
              slot: -1, vs, rs, index, type: checker.type,
              lastRan: null, lastStatus: null, lastDurationMs: null, failedUrl: null, labels: null,
            };
          const stepped = carried ? this.wrapped.get(was) : undefined;
          if (stepped) wrapped.set(o, stepped);
          byKey.set(key, o);
          where.set(checker, o);
        });
      }
    }
    // A series is its label set, as in prom-client: a checker whose labels an old checker had
    // continues that series; series of label sets the config no longer has must not linger.
    const m = this.metrics;
    const series = (o: Observed): string => (m ? seriesOf(o) : carryKey(o.vs, o.rs, o.index));
    const oldSlots = new Map<string, number>();
    for (const o of oldRecords) oldSlots.set(series(o), o.slot);
    const newSlots = new Map<string, number>();
    const kept = new Set<number>();
    for (const o of byKey.values()) {
      const k = series(o);
      let slot = newSlots.get(k);
      if (slot === undefined) {
        const prev = oldSlots.get(k);
        slot = prev !== undefined && !kept.has(prev) ? prev : this.freeSlots.pop() ?? this.slots.length;
        newSlots.set(k, slot);
      }
      kept.add(slot);
      o.slot = slot;
      this.slots[slot] = o;
    }
    for (const o of oldRecords) {
      if (m && o.labels && !newSlots.has(seriesOf(o))) m.checkFailures.remove(o.labels);
      if (kept.has(o.slot) || this.slots[o.slot] === null) continue;
      m?.checkDuration.remove(o.slot);
      this.slots[o.slot] = null;
      this.freeSlots.push(o.slot);
    }
    this.where = where;
    m?.checkDuration.reserve(this.slots.length);
    this.wrapped = wrapped;
  }

  /**
   * One attempt as the scheduler applied it (engine option onAttemptDone; the scheduler
   * keeps the retry state, see readStatesFrom). Allocation-free on the common path.
   */
  attempted(checker: Checker, outcome: CheckOutcome, durationMs: number): void {
    this.record(checker, outcome, this.clock.wall() - durationMs, durationMs, false);
  }

  /** A check runner without a scheduler around it, observed (the retry state stepped here). */
  wrap(inner: CheckRunner): CheckRunner {
    return async (checker, target, ctx) => {
      const startedWall = this.clock.wall();
      const started = this.clock.mono();
      let outcome: CheckOutcome;
      try {
        outcome = await inner(checker, target, ctx);
      } catch (e) {
        this.record(checker, { up: false, reason: `checker crashed: ${(e as Error).message}` }, startedWall, this.clock.mono() - started, true);
        throw e;
      }
      this.record(checker, outcome, startedWall, this.clock.mono() - started, true);
      return outcome;
    };
  }

  private record(checker: Checker, outcome: CheckOutcome, startedWall: number, durationMs: number, step: boolean): void {
    const o = this.where.get(checker);
    if (!o) return; // a checker a reload replaced, finishing late
    if (step) this.wrapped.set(o, afterAttempt(this.stateOf(o), outcome, checker).state);
    o.lastRan = startedWall / 1000;
    o.lastDurationMs = durationMs;
    if (checker.type === 'MISC_CHECK') {
      const exit = /^exit (\d+)$/.exec(outcome.reason);
      o.lastStatus = exit ? Number(exit[1]) : null;
    }
    if (checker.type === 'HTTP_GET' || checker.type === 'SSL_GET') {
      // a failed url is reported as "PATH: why"
      o.failedUrl = outcome.up ? null : /^(\/\S*): /.exec(outcome.reason)?.[1] ?? null;
    }
    const m = this.metrics;
    if (!m) return;
    m.checkDuration.observe(o.slot, durationMs / 1000);
    if (!outcome.up) m.checkFailures.inc(o.labels ??= labelsOf(o));
  }

  /** Checker `index` of `rs` under `vs` (objects of the installed config), for the dump. */
  view(vs: VirtualServer, rs: RealServer, index: number, enabled = true): CheckerView {
    const o = this.observedAt(vs, rs, index);
    if (!o) return { ...notRunView(), enabled };
    const st = this.stateOf(o);
    return {
      enabled, up: st.up, hasRun: st.hasRun, retryIt: st.retryIt,
      weight: st.weight, lastRan: o.lastRan, lastStatus: o.lastStatus,
      failedUrl: st.up ? null : o.failedUrl,
    };
  }

  /** The /status view of one checker. */
  checkerStatus(vs: VirtualServer, rs: RealServer, index: number): Record<string, unknown> {
    const o = this.observedAt(vs, rs, index);
    const st = o ? this.stateOf(o) : undefined;
    return {
      type: rs.checkers[index]!.type, up: st?.up ?? true, hasRun: st?.hasRun ?? false,
      lastReason: st?.lastReason ?? null, lastDurationMs: o?.lastDurationMs === null || !o ? null : Math.round(o.lastDurationMs * 1000) / 1000,
    };
  }

  /** The checker's retry state: stepped here (wrap), else its scheduler's, else not run yet. */
  private stateOf(o: Observed): CheckerState {
    return this.wrapped.get(o) ?? this.stateSource?.(o.vs, o.rs, o.index)
      ?? NOT_RUN[(o.rs.checkers[o.index]!.alpha ?? o.rs.alpha) ? 1 : 0]!;
  }

  private observedAt(vs: VirtualServer, rs: RealServer, index: number): Observed | undefined {
    const checker = rs.checkers[index];
    return checker && this.where.get(checker);
  }
}

export interface EngineView {
  health: ReadonlyMap<string, RealServerHealth>;
  stats: { applyWrites: number; opsApplied: number; rereads: number; repairs: number; checksRun: number };
}

/**
 * Brings the gauges up to date (real server up/down, kernel counters) and returns the
 * /status object. `table` is the kernel's IPVS table (null when it could not be read).
 */
export class SnapshotBuilder {
  private writesReported = 0;
  get registry() { return this.metrics.registry; }

  constructor(private readonly metrics: CheckerMetrics, private readonly observer: CheckerObserver) {
    observer.attachMetrics(metrics);
  }

  build(config: ObservedConfig | null, engine: EngineView | null, table: readonly ServiceEntry[] | null): Record<string, unknown> {
    const m = this.metrics;
    m.realServerUp.reset();
    m.ipvsConnections.reset();
    m.ipvsBytes.reset();
    if (!config || !engine) return { running: false };
    if (engine.stats.applyWrites > this.writesReported) {
      m.netlinkWrites.inc(engine.stats.applyWrites - this.writesReported);
      this.writesReported = engine.stats.applyWrites;
    }
    const byService = new Map((table ?? []).map((e) => [serviceId(e.service), e]));
    const state = { health: engine.health, quorumUp: new Map<string, boolean>() };
    const virtualServers = config.virtualServers.map((vs) => {
      const vsLabel = formatVs(vs);
      const services = serviceKeysOf(vs, config.virtualServerGroups).map((k) => byService.get(serviceId(k))).filter((e): e is ServiceEntry => !!e);
      const inTable = new Set(destinationsOf(vs, state).map((d) => destinationId(d)));
      const realServers = vs.realServers.map((rs) => {
        const h = engine.health.get(healthKey(vs, rs)) ?? { up: true, dynamicWeight: null };
        const labels = { virtual_server: vsLabel, real_server: formatRs(vs, rs) };
        m.realServerUp.set(labels, h.up ? 1 : 0);
        let conns = 0n;
        let inBytes = 0n;
        let outBytes = 0n;
        for (const svc of services) {
          const d = svc.destinations.find((x) => destinationId(x) === destinationId(rs));
          if (!d?.stats) continue;
          conns += d.stats.conns;
          inBytes += d.stats.inBytes;
          outBytes += d.stats.outBytes;
        }
        if (table) {
          m.ipvsConnections.set(labels, Number(conns));
          m.ipvsBytes.set({ ...labels, direction: 'in' }, Number(inBytes));
          m.ipvsBytes.set({ ...labels, direction: 'out' }, Number(outBytes));
        }
        return {
          realServer: labels.real_server, up: h.up, weight: h.dynamicWeight ?? rs.weight, inTable: inTable.has(destinationId(rs)),
          ...(table ? { connections: Number(conns) } : {}),
          checkers: rs.checkers.map((_, i) => this.observer.checkerStatus(vs, rs, i)),
        };
      });
      return { virtualServer: vsLabel, quorumUp: initialQuorum(vs, state), realServers };
    });
    const s = engine.stats;
    return {
      running: true,
      ipvs: { writes: s.applyWrites, opsApplied: s.opsApplied, rereads: s.rereads, repairs: s.repairs, tableRead: table !== null },
      checksRun: s.checksRun,
      virtualServers,
    };
  }
}
