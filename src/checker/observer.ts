/**
 * What the checker child reports about itself: the /metrics + /status snapshot the parent
 * collects, and the per-checker state keepalived_check.data prints. The engine keeps health
 * per real server; this hears every check attempt from the scheduler (`attempted`, wired to
 * the engine's onAttemptDone) for what is per checker: latency, failures, when it last ran,
 * and the checker's retry state, which is the scheduler's own (src/probe/checker-state.ts).
 * `wrap()` observes a bare check runner instead, stepping that machine itself.
 */
import { afterAttempt, type CheckerState, initialState } from '../probe/checker-state.js';
import type { CheckOutcome } from '../probe/outcome.js';
import type { HealthCheck, KeepalivedConfig, RealServer, VirtualServer } from '../config/model.js';
import { type CheckerView, formatRs, formatVs, notRunView } from '../dump/check-dump.js';
import { type ServiceEntry, destinationId, serviceId } from '../ipvs/model.js';
import type { CheckerMetrics } from '../metrics/checker-metrics.js';
import { type RealServerHealth, destinationsOf, flatString, healthKey, initialQuorum, serviceKeysOf } from './desired.js';
import type { CheckRunner } from './engine.js';

export type ObservedConfig = Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups'>;

/**
 * The checkers of the installed config, each a record id into columns. A record is found by
 * its real server object (what the scheduler reports attempts with) and the checker's index:
 * a real server's checkers are consecutive records (a checker object may be shared, so it
 * cannot be the key). The columns: its virtual and real server, its index,
 * its series in the duration histogram (SlotHistogram, by slot), when it last ran and how
 * long that took. What only some checkers have (MISC_CHECK's exit status, HTTP's failed url,
 * the failure counter's labels once it has failed) is kept apart, by record id. Nothing is
 * derived eagerly: the reload key is computed only while installing, the metric labels only
 * at a scrape. An object per checker would cost about three times as much memory.
 */
class Records {
  readonly vs: VirtualServer[] = [];
  readonly rs: RealServer[] = [];
  readonly index: Int32Array;
  readonly slot: Int32Array;
  /** Epoch seconds; NaN: never ran. */
  readonly lastRan: Float64Array;
  /** NaN: never ran. */
  readonly lastDurationMs: Float64Array;
  readonly lastStatus = new Map<number, number | null>();
  readonly failedUrl = new Map<number, string>();
  /** Kept once the checker has failed: the failure counter's series. */
  readonly labels = new Map<number, Labels>();
  /** Retry states stepped here, for checkers observed through wrap(). */
  readonly wrapped = new Map<number, CheckerState>();

  constructor(readonly length: number) {
    this.index = new Int32Array(length);
    this.slot = new Int32Array(length);
    this.lastRan = new Float64Array(length).fill(NaN);
    this.lastDurationMs = new Float64Array(length).fill(NaN);
  }

  /** Record `r` of `from` continues as record `to` here (a checker a reload kept). */
  carry(from: Records, r: number, to: number): void {
    this.lastRan[to] = from.lastRan[r]!;
    this.lastDurationMs[to] = from.lastDurationMs[r]!;
    if (from.lastStatus.has(r)) this.lastStatus.set(to, from.lastStatus.get(r)!);
    if (from.failedUrl.has(r)) this.failedUrl.set(to, from.failedUrl.get(r)!);
    if (from.wrapped.has(r)) this.wrapped.set(to, from.wrapped.get(r)!);
  }
}

const nullIfNaN = (x: number): number | null => (Number.isNaN(x) ? null : x);

/** The first `n` records of `rec` (duplicate real servers left fewer than counted). */
function trimmed(rec: Records, n: number): Records {
  const out = new Records(n);
  out.vs.push(...rec.vs.slice(0, n));
  out.rs.push(...rec.rs.slice(0, n));
  out.index.set(rec.index.subarray(0, n));
  for (let r = 0; r < n; r++) out.carry(rec, r, r);
  return out;
}

type Labels = { virtual_server: string; real_server: string; checker: string };

/** initialState() for checkers that have not run: shared, since a state is replaced, never mutated, here. */
const NOT_RUN = [initialState(false), initialState(true)].map((s) => Object.freeze(s));

/** A checker's retry state as its scheduler keeps it (by the installed config's objects). */
export type StateSource = (vs: VirtualServer, rs: RealServer, index: number) => CheckerState | undefined;

/** healthKey + checker index: what a reload carries a checker's state by. */
const carryKey = (vs: VirtualServer, rs: RealServer, index: number): string => `${healthKey(vs, rs)}#${index}`;

function labelsOf(rec: Records, r: number): Labels {
  const vs = rec.vs[r]!;
  const rs = rec.rs[r]!;
  return { virtual_server: flatString(formatVs(vs)), real_server: flatString(formatRs(vs, rs)), checker: checkerLabel(rs, rec.index[r]!) };
}

/** The label set as one string (a series' identity), without building the kept label objects. */
const seriesOf = (rec: Records, r: number): string =>
  `${formatVs(rec.vs[r]!)}\n${formatRs(rec.vs[r]!, rec.rs[r]!)}\n${checkerLabel(rec.rs[r]!, rec.index[r]!)}`;

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
  /** A real server's first record; its checker `i` is that + i (see recordOf). */
  private where = new Map<RealServer, number>();
  private records = new Records(0);
  /** Record ids by slot (-1: free). */
  private slots: number[] = [];
  private freeSlots: number[] = [];
  /** Attached at the first scrape: a child nobody scrapes never loads prom-client. */
  private metrics: CheckerMetrics | null = null;
  /**
   * Where the retry states are read, when a dump asks: the engine's scheduler keeps them
   * (not a copy per checker here). Checkers observed through `wrap()` step their own.
   */
  private stateSource: StateSource | null = null;

  constructor(private readonly clock: Clock = systemClock) {}

  readStatesFrom(source: StateSource): void {
    this.stateSource = source;
  }

  attachMetrics(metrics: CheckerMetrics): void {
    this.metrics = metrics;
    metrics.checkDuration.reserve(this.slots.length);
    metrics.checkDuration.labelsOf = (slot) => {
      const r = this.slots[slot] ?? -1;
      return r < 0 ? null : (this.records.labels.get(r) ?? labelsOf(this.records, r));
    };
  }

  /**
   * Follow a new config's checkers. Call before handing the config to the engine, so no
   * attempt of the new checkers is missed; attempts of the replaced ones are then ignored.
   * A checker that survives a reload (same real server, same position and type) keeps its
   * state, as the engine carries it.
   */
  install(config: ObservedConfig): void {
    const prev = this.records;
    const old = new Map<string, number>();
    for (let r = 0; r < prev.length; r++) old.set(carryKey(prev.vs[r]!, prev.rs[r]!, prev.index[r]!), r);
    const where = new Map<RealServer, number>();
    const byKey = new Map<string, number>();
    let total = 0;
    for (const vs of config.virtualServers) for (const rs of vs.realServers) total += rs.checkers.length;
    const rec = new Records(total);
    let n = 0;
    for (const vs of config.virtualServers) {
      for (const rs of vs.realServers) {
        if (!rs.checkers.length) continue;
        // a real server listed twice is checked once: both lists' checkers show that one
        const first = byKey.get(carryKey(vs, rs, 0));
        if (first !== undefined) {
          where.set(rs, first);
          continue;
        }
        where.set(rs, n);
        rs.checkers.forEach((checker, index) => {
          const key = carryKey(vs, rs, index);
          const r = n++;
          rec.vs.push(vs);
          rec.rs.push(rs);
          rec.index[r] = index;
          const was = old.get(key);
          if (was !== undefined && prev.rs[was]!.checkers[prev.index[was]!]!.type === checker.type) rec.carry(prev, was, r);
          byKey.set(key, r);
        });
      }
    }
    const records = n === total ? rec : trimmed(rec, n);
    // A series is its label set, as in prom-client: a checker whose labels an old checker had
    // continues that series; series of label sets the config no longer has must not linger.
    const m = this.metrics;
    const series = (from: Records, r: number): string => (m ? seriesOf(from, r) : carryKey(from.vs[r]!, from.rs[r]!, from.index[r]!));
    const oldSlots = new Map<string, number>();
    for (let r = 0; r < prev.length; r++) oldSlots.set(series(prev, r), prev.slot[r]!);
    const newSlots = new Map<string, number>();
    const kept = new Set<number>();
    const slots: number[] = [];
    for (let r = 0; r < records.length; r++) {
      const k = series(records, r);
      let slot = newSlots.get(k);
      if (slot === undefined) {
        const before = oldSlots.get(k);
        slot = before !== undefined && !kept.has(before) ? before : (this.freeSlots.pop() ?? Math.max(this.slots.length, slots.length));
        newSlots.set(k, slot);
      }
      kept.add(slot);
      records.slot[r] = slot;
      slots[slot] = r;
    }
    for (let r = 0; r < prev.length; r++) {
      const labels = prev.labels.get(r);
      if (m && labels && !newSlots.has(seriesOf(prev, r))) m.checkFailures.remove(labels);
    }
    for (let slot = 0; slot < this.slots.length; slot++) {
      if (this.slots[slot]! < 0 || kept.has(slot)) continue;
      m?.checkDuration.remove(slot);
      this.freeSlots.push(slot);
    }
    // as long as before at least: a freed slot number stays below the table's length
    this.slots = Array.from({ length: Math.max(this.slots.length, slots.length) }, (_, slot) => slots[slot] ?? -1);
    this.where = where;
    this.records = records;
    m?.checkDuration.reserve(this.slots.length);
  }

  /**
   * One attempt as the scheduler applied it (engine option onAttemptDone; the scheduler
   * keeps the retry state, see readStatesFrom). Allocation-free on the common path.
   */
  attempted(rs: RealServer, index: number, checker: HealthCheck, outcome: CheckOutcome, durationMs: number): void {
    this.record(this.recordOf(rs, index), checker, outcome, this.clock.wall() - durationMs, durationMs, false);
  }

  /**
   * A check runner without a scheduler around it, observed (the retry state stepped here).
   * Its target must be the installed config's real server object; the checker is found by
   * position in its list (the first, if one real server lists the same object twice).
   */
  wrap(inner: CheckRunner): CheckRunner {
    return async (checker, target, ctx) => {
      const r = this.recordOf(target as RealServer, (target as RealServer).checkers?.indexOf(checker) ?? -1);
      const startedWall = this.clock.wall();
      const started = this.clock.mono();
      let outcome: CheckOutcome;
      try {
        outcome = await inner(checker, target, ctx);
      } catch (e) {
        this.record(r, checker, { up: false, reason: `checker crashed: ${(e as Error).message}` }, startedWall, this.clock.mono() - started, true);
        throw e;
      }
      this.record(r, checker, outcome, startedWall, this.clock.mono() - started, true);
      return outcome;
    };
  }

  private record(r: number | undefined, checker: HealthCheck, outcome: CheckOutcome, startedWall: number, durationMs: number, step: boolean): void {
    if (r === undefined) return; // a checker a reload replaced, finishing late
    const rec = this.records;
    if (step) rec.wrapped.set(r, afterAttempt(this.stateOf(r), outcome, checker).state);
    rec.lastRan[r] = startedWall / 1000;
    rec.lastDurationMs[r] = durationMs;
    if (checker.type === 'MISC_CHECK') {
      const exit = /^exit (\d+)$/.exec(outcome.reason);
      rec.lastStatus.set(r, exit ? Number(exit[1]) : null);
    }
    if (checker.type === 'HTTP_GET' || checker.type === 'SSL_GET') {
      // a failed url is reported as "PATH: why"
      const url = outcome.up ? undefined : /^(\/\S*): /.exec(outcome.reason)?.[1];
      if (url === undefined) rec.failedUrl.delete(r);
      else rec.failedUrl.set(r, url);
    }
    const m = this.metrics;
    if (!m) return;
    m.checkDuration.observe(rec.slot[r]!, durationMs / 1000);
    if (!outcome.up) {
      let labels = rec.labels.get(r);
      if (!labels) rec.labels.set(r, (labels = labelsOf(rec, r)));
      m.checkFailures.inc(labels);
    }
  }

  /** Checker `index` of `rs` under `vs` (objects of the installed config), for the dump. */
  view(_vs: VirtualServer, rs: RealServer, index: number, enabled = true): CheckerView {
    const r = this.recordOf(rs, index);
    if (r === undefined) return { ...notRunView(), enabled };
    const st = this.stateOf(r);
    const rec = this.records;
    return {
      enabled,
      up: st.up,
      hasRun: st.hasRun,
      retryIt: st.retryIt,
      weight: st.weight,
      lastRan: nullIfNaN(rec.lastRan[r]!),
      lastStatus: rec.lastStatus.get(r) ?? null,
      failedUrl: st.up ? null : (rec.failedUrl.get(r) ?? null),
    };
  }

  /** The /status view of one checker. */
  checkerStatus(_vs: VirtualServer, rs: RealServer, index: number): Record<string, unknown> {
    const r = this.recordOf(rs, index);
    const st = r === undefined ? undefined : this.stateOf(r);
    const ms = r === undefined ? NaN : this.records.lastDurationMs[r]!;
    return {
      type: rs.checkers[index]!.type,
      up: st?.up ?? true,
      hasRun: st?.hasRun ?? false,
      lastReason: st?.lastReason ?? null,
      lastDurationMs: Number.isNaN(ms) ? null : Math.round(ms * 1000) / 1000,
    };
  }

  /** The checker's retry state: stepped here (wrap), else its scheduler's, else not run yet. */
  private stateOf(r: number): CheckerState {
    const rec = this.records;
    const rs = rec.rs[r]!;
    const index = rec.index[r]!;
    return rec.wrapped.get(r) ?? this.stateSource?.(rec.vs[r]!, rs, index) ?? NOT_RUN[(rs.checkers[index]!.alpha ?? rs.alpha) ? 1 : 0]!;
  }

  /**
   * Checker `index` of `rs` (an installed config's object): undefined for an object of
   * another config (a reload replaced it) and for a checker a duplicate listing of a real
   * server adds beyond the checked one's.
   */
  private recordOf(rs: RealServer, index: number): number | undefined {
    const first = this.where.get(rs);
    if (first === undefined || index < 0) return undefined;
    const r = first + index;
    const rec = this.records;
    return r < rec.length && rec.rs[r] === rec.rs[first] && rec.index[r] === index ? r : undefined;
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
  get registry() {
    return this.metrics.registry;
  }

  constructor(
    readonly metrics: CheckerMetrics,
    private readonly observer: CheckerObserver,
  ) {
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
      const services = serviceKeysOf(vs, config.virtualServerGroups)
        .map((k) => byService.get(serviceId(k)))
        .filter((e): e is ServiceEntry => !!e);
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
          realServer: labels.real_server,
          up: h.up,
          weight: h.dynamicWeight ?? rs.weight,
          inTable: inTable.has(destinationId(rs)),
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
