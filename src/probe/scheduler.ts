// Runs every checker of every real server forever: first attempt after a warmup offset,
// then after delay_loop or delay_before_retry as the retry machine says. Offsets are
// stratified: checker i of N starts in the i-th slice of its warmup window (at a random
// point inside it), so N checks spread over the window instead of firing together.
// Clock, randomness and the check runner are injectable so tests run on virtual time.
//
// Built for tens of thousands of checks a second: one timer for every checker (an indexed
// heap of due times, due-heap.ts), checker state updated in place, and TCP_CHECK through
// the native connect probe (tcp-probe.ts) whose connect deadline is the checker's heap
// entry, so a TCP check allocates no promise, closure, timer or AbortSignal. Its state is
// kept in typed columns, not objects (below), because memory per real server is what a big
// director pays for most.
import { setMaxListeners } from 'node:events';
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { type Clock, systemClock } from '../clock/index.js';
import type { HealthCheck, RealServer } from '../config/model.js';
import { applyAttempt, initialState, nextDelay, type CheckerState } from './checker-state.js';
import { DueHeap } from './due-heap.js';
import { resolveEndpoint, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';
import { realServerHealth, type RealServerHealth } from './real-server-health.js';
import { runCheck } from './run-check.js';
import { PROBE_IN_FLIGHT, TcpProbes, probeOutcome, probeTimeout, type ProbeSink } from './tcp-probe.js';

export type CheckRunner = (checker: HealthCheck, target: CheckTarget, ctx: CheckContext) => Promise<CheckOutcome>;

/** Calls onChange when the file may have changed; returns the unsubscribe function. */
export type FileWatcher = (path: string, onChange: () => void) => () => void;

/** Watches the directory (the file may not exist yet, or be replaced by rename). */
export const watchFileByDirectory: FileWatcher = (path, onChange) => {
  try {
    const w = watch(dirname(path), { persistent: false }, (_event, name) => {
      if (name === null || name === basename(path)) onChange();
    });
    w.on('error', () => {});
    return () => w.close();
  } catch {
    return () => {}; // directory missing: the delay_loop poll still applies
  }
};

export interface SchedulerOptions<K = string> {
  clock?: Clock;
  /** FILE_CHECK reacts to file changes at once, as keepalived's inotify does. */
  watchFile?: FileWatcher;
  /** Uniform in [0, 1): the warmup jitter. */
  rng?: () => number;
  /**
   * The check runner. With the default (runCheck), TCP_CHECKs take the native probe's
   * batched path; a custom runner (tests, benches) sees every attempt.
   */
  run?: CheckRunner;
  ctx?: CheckContext;
  /**
   * ha_suspend: while this says a real server is paused its attempts are skipped (its
   * checkers keep their state and are looked at again a delay_loop later), as keepalived
   * keeps a disabled checker's timer running without checking.
   */
  paused?: (key: K, tag: unknown) => boolean;
}

export interface AddOptions {
  /** Context fields for this real server only (the virtual server's `virtualhost`). */
  ctx?: Pick<CheckContext, 'virtualhost' | 'realServerVirtualhost'>;
  /** Checker states to start from instead of alpha's (a reload keeping a server's health). */
  initial?: readonly CheckerState[];
  /** The caller's own value for this real server (what it belongs to), kept so the caller needs no map of its own. */
  tag?: unknown;
}

export interface CheckerEvent<K = string> {
  realServer: K;
  checkerIndex: number;
  checker: HealthCheck;
  transition: 'up' | 'down';
  reason: string;
  /** The real server's health after this change, and before it. */
  health: RealServerHealth;
  previous: RealServerHealth;
}

export interface RealServerEvent<K = string> {
  realServer: K;
  health: RealServerHealth;
  previous: RealServerHealth;
}

export interface SchedulerListener<K = string> {
  onCheckerChange?(e: CheckerEvent<K>): void;
  onRealServerChange?(e: RealServerEvent<K>): void;
  onAttempt?(e: { realServer: K; checkerIndex: number; outcome: CheckOutcome; at: number }): void;
  /**
   * Every attempt's result once the retry machine has taken it, with how long it took and
   * the checker's state after it. Positional and allocation-free, for observers that run at
   * the full check rate (metrics, dumps): `state` is one object the scheduler reuses, valid
   * during the call only (read what you need; checkerStates() gives copies). `realServer`
   * is the installed config's object (a checker object may be shared by real servers).
   */
  onAttemptDone?(realServer: RealServer, checkerIndex: number, checker: HealthCheck, outcome: CheckOutcome, durationMs: number, state: CheckerState): void;
}

export function realServerKey(rs: Pick<RealServer, 'address' | 'port' | 'family'>): string {
  return rs.family === 6 ? `[${rs.address}]:${rs.port}` : `${rs.address}:${rs.port}`;
}

/** Stratified start offset for item `index` of `count` within a `windowMs` warmup. */
export function startOffset(index: number, count: number, windowMs: number, rng: () => number): number {
  if (windowMs <= 0 || count <= 0) return 0;
  return Math.floor(((index + rng()) / count) * windowMs);
}

// Per-server and per-checker state lives in columns (typed arrays indexed by small integer
// ids) rather than in an object per server and per checker: the objects (entry, slot, retry
// state, health, the slot list) cost several times the columns' memory per real server, and
// a big director has tens of thousands (bench/README.md, "Memory-tuned structures"). A real server is an entry id; its checkers are the slot ids
// first .. first + count - 1, so a checker's config is rs.checkers[slot - first].

const UP = 1;
const HAS_RUN = 2;
const RUNNING = 4;
/** A change arrived while an attempt ran: run again right after it. */
const RERUN = 8;

const WEIGHT_MODES = [null, 'set', 'add'] as const;
const weightModeCode = (m: CheckerState['weightMode']): number => (m === null ? 0 : m === 'set' ? 1 : 2);

/** A typed array at least `n` long (exactly, when `exact`), keeping `a`'s contents. */
function grown<T extends Int32Array | Uint8Array | Float64Array>(a: T, n: number, exact = false): T {
  if (n <= a.length) return a;
  let len = exact ? n : Math.max(a.length, 64);
  while (len < n) len *= 2;
  const b = new (a.constructor as new (n: number) => T)(len);
  b.set(a);
  return b;
}

/**
 * K: what a real server is registered and reported under. A string by default (tests, the
 * realServerKey text); the engine registers each real server under its own config object,
 * so no key string per real server is kept or built per lookup.
 */
export class CheckScheduler<K = string> implements ProbeSink {
  private readonly clock: Clock;
  private readonly rng: () => number;
  private readonly run: CheckRunner;
  private readonly watchFile: FileWatcher;
  private readonly abort = new AbortController();
  private readonly ctx: CheckContext;
  private readonly paused: ((key: K, tag: unknown) => boolean) | null;
  private readonly probes: TcpProbes | null;
  private readonly heap = new DueHeap();

  // ---- entries (real servers), by entry id ----
  private readonly byKey = new Map<K, number>();
  private eKey: K[] = [];
  private eRs: RealServer[] = [];
  private eTag: unknown[] = [];
  /** Only real servers with a context of their own (a virtual server's virtualhost). */
  private readonly eCtx = new Map<number, CheckContext>();
  private eFirst = new Int32Array(0);
  private eCount = new Int32Array(0);
  private eUp = new Uint8Array(0);
  private eWeight = new Int32Array(0);
  /** 1 while registered: an attempt finishing after its server was removed is dropped. */
  private eLive = new Uint8Array(0);
  private readonly freeEntries: number[] = [];

  // ---- slots (checkers), by slot id ----
  private sEntry = new Int32Array(0);
  private sFlags = new Uint8Array(0);
  private sRetryIt = new Int32Array(0);
  /** Dynamic weight (misc_dynamic, FILE_CHECK); NaN: none. */
  private sWeight = new Float64Array(0);
  private sWeightMode = new Uint8Array(0);
  private sReason: string[] = [];
  /** Native probe id (TCP_CHECK's fast path), -1 for the runner. */
  private sProbe = new Int32Array(0);
  private sStartedAt = new Float64Array(0);
  /** Bumped when a runner's attempt in flight must be forgotten (remove, stop). */
  private sGen = new Int32Array(0);
  private readonly sUnwatch = new Map<number, () => void>();
  private slotCount = 0;
  /** Freed runs of slot ids, by length. */
  private readonly freeSlots = new Map<number, number[]>();

  /** One retry state the retry machine works on in place (loaded from and stored to the columns). */
  private readonly scratch: CheckerState = { up: true, hasRun: false, retryIt: 0, weight: null, weightMode: null, lastReason: '' };
  /** Ids due in the current timer run (reused: no allocation per run). */
  private batch = new Int32Array(256);
  private timer: unknown = undefined;
  private armedAt = Infinity;
  /** The system clock's timers fire up to a millisecond before performance.now() says. */
  private readonly slackMs: number;
  private started = false;
  /** Attempts completed (results applied), for throughput figures. */
  attempts = 0;
  /** Milliseconds the completed attempts took, in total (mean check duration). */
  checkMs = 0;

  constructor(
    private readonly listener: SchedulerListener<K> = {},
    opts: SchedulerOptions<K> = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.slackMs = this.clock === systemClock ? 1 : 0;
    this.rng = opts.rng ?? Math.random;
    this.run = opts.run ?? runCheck;
    this.watchFile = opts.watchFile ?? watchFileByDirectory;
    const outer = opts.ctx?.signal;
    const signal = outer ? AbortSignal.any([outer, this.abort.signal]) : this.abort.signal;
    // Every in-flight check listens on this one signal: thousands of listeners are expected.
    setMaxListeners(0, signal, this.abort.signal);
    this.ctx = { ...opts.ctx, signal };
    this.paused = opts.paused ?? null;
    this.probes = this.run === runCheck ? TcpProbes.shared() : null;
  }

  /**
   * Registers a real server; its initial health follows alpha (real server's, per checker
   * overridable) unless `opts.initial` carries states over. The default key is for the
   * default K (string): realServerKey's text.
   */
  add(rs: RealServer, key: K = realServerKey(rs) as K, opts: AddOptions = {}): void {
    if (this.byKey.has(key)) throw new Error(`real server ${realServerKey(rs)} added twice`);
    const e = this.newEntry();
    const count = rs.checkers.length;
    const first = this.newSlots(count);
    this.eKey[e] = key;
    this.eRs[e] = rs;
    this.eTag[e] = opts.tag;
    if (opts.ctx) this.eCtx.set(e, { ...this.ctx, ...opts.ctx });
    this.eFirst[e] = first;
    this.eCount[e] = count;
    this.eLive[e] = 1;
    for (let i = 0; i < count; i++) {
      const s = first + i;
      const checker = rs.checkers[i]!;
      this.sEntry[s] = e;
      this.sFlags[s] = 0; // not running: a reused id keeps nothing of its last server
      this.store(s, opts.initial?.[i] ?? initialState(checker.alpha ?? rs.alpha));
      this.sStartedAt[s] = 0;
      this.sProbe[s] = -1;
      if (this.probes && checker.type === 'TCP_CHECK') {
        try {
          this.sProbe[s] = this.probes.register(resolveEndpoint(checker, rs), this, s);
        } catch {
          // an address the probe cannot take: the runner handles it
        }
      }
    }
    const h = realServerHealth(rs.weight, this.statesOf(e));
    this.eUp[e] = h.up ? 1 : 0;
    this.eWeight[e] = h.weight;
    this.byKey.set(key, e);
    if (this.started) this.startEntries([e]);
  }

  /** Stops checking a real server (reload dropped it); an attempt in flight is discarded. */
  remove(key: K): boolean {
    const e = this.byKey.get(key);
    if (e === undefined) return false;
    this.eLive[e] = 0;
    const first = this.eFirst[e]!;
    const count = this.eCount[e]!;
    for (let s = first; s < first + count; s++) this.retire(s, true);
    this.byKey.delete(key);
    this.eKey[e] = undefined as K;
    this.eRs[e] = undefined as unknown as RealServer;
    this.eTag[e] = undefined;
    this.eCtx.delete(e);
    this.freeEntries.push(e);
    if (count > 0) {
      const free = this.freeSlots.get(count) ?? [];
      free.push(first);
      this.freeSlots.set(count, free);
    }
    return true;
  }

  health(key: K): RealServerHealth | undefined {
    const e = this.byKey.get(key);
    return e === undefined ? undefined : this.healthOf(e);
  }

  /** The real server registered under `key`. */
  server(key: K): RealServer | undefined {
    const e = this.byKey.get(key);
    return e === undefined ? undefined : this.eRs[e];
  }

  /** The tag `add` was given for this real server. */
  tag(key: K): unknown {
    const e = this.byKey.get(key);
    return e === undefined ? undefined : this.eTag[e];
  }

  /** Every real server's key and health, in the order they were added. */
  *healthEntries(): IterableIterator<[K, RealServerHealth]> {
    for (const [key, e] of this.byKey) yield [key, this.healthOf(e)];
  }

  /** A copy of each checker's retry state (the live state is kept in columns). */
  checkerStates(key: K): CheckerState[] {
    const e = this.byKey.get(key);
    return e === undefined ? [] : this.statesOf(e);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.startEntries([...this.byKey.values()]);
  }

  /** Cancels every timer and aborts in-flight checks; no event fires afterwards. */
  stop(): void {
    this.started = false;
    this.abort.abort();
    for (const e of this.byKey.values()) {
      const first = this.eFirst[e]!;
      for (let s = first; s < first + this.eCount[e]!; s++) this.retire(s, true);
    }
    this.heap.clear();
    this.disarm();
  }

  /** Called by the native probe set when a connect in flight finished. */
  probeDone(token: number, errno: number): void {
    if (token >= this.slotCount || !(this.sFlags[token]! & RUNNING) || this.sProbe[token]! < 0) return;
    if (this.eLive[this.sEntry[token]!] !== 1) return;
    this.complete(token, probeOutcome(errno));
    this.arm();
  }

  /**
   * Room for `servers` more real servers with `checkers` checkers in all, sized exactly: a
   * config's servers are added one by one, and doubling would leave up to half of every
   * column unused.
   */
  reserve(servers: number, checkers: number): void {
    this.sizeEntries(this.eKey.length + servers, true);
    this.sizeSlots(this.slotCount + checkers, true);
    this.heap.reserve(this.slotCount + checkers);
  }

  // ---- ids and columns -----------------------------------------------------------------

  private newEntry(): number {
    const e = this.freeEntries.pop();
    if (e !== undefined) return e;
    const n = this.eKey.length;
    this.eKey.push(undefined as K);
    this.eRs.push(undefined as unknown as RealServer);
    this.eTag.push(undefined);
    this.sizeEntries(n + 1, false);
    return n;
  }

  /** Entry columns with room for `n` entries (doubling unless `exact`). */
  private sizeEntries(n: number, exact: boolean): void {
    this.eFirst = grown(this.eFirst, n, exact);
    this.eCount = grown(this.eCount, n, exact);
    this.eUp = grown(this.eUp, n, exact);
    this.eWeight = grown(this.eWeight, n, exact);
    this.eLive = grown(this.eLive, n, exact);
  }

  /** Slot columns with room for `n` slots (doubling unless `exact`). */
  private sizeSlots(n: number, exact: boolean): void {
    this.sEntry = grown(this.sEntry, n, exact);
    this.sFlags = grown(this.sFlags, n, exact);
    this.sRetryIt = grown(this.sRetryIt, n, exact);
    this.sWeight = grown(this.sWeight, n, exact);
    this.sWeightMode = grown(this.sWeightMode, n, exact);
    this.sProbe = grown(this.sProbe, n, exact);
    this.sStartedAt = grown(this.sStartedAt, n, exact);
    this.sGen = grown(this.sGen, n, exact);
  }

  /** `count` consecutive slot ids: a freed run of that length, or new ones. */
  private newSlots(count: number): number {
    const reused = this.freeSlots.get(count)?.pop();
    if (reused !== undefined) return reused;
    const first = this.slotCount;
    const n = first + count;
    this.slotCount = n;
    this.sizeSlots(n, false);
    for (let s = first; s < n; s++) this.sReason.push('');
    return first;
  }

  private healthOf(e: number): RealServerHealth {
    return { up: this.eUp[e] === 1, weight: this.eWeight[e]! };
  }

  private checkerOf(s: number): HealthCheck {
    const e = this.sEntry[s]!;
    return this.eRs[e]!.checkers[s - this.eFirst[e]!]!;
  }

  /** Slot `s`'s retry state, into `into` (the scratch state unless given). */
  private load(s: number, into: CheckerState = this.scratch): CheckerState {
    const f = this.sFlags[s]!;
    const w = this.sWeight[s]!;
    into.up = (f & UP) !== 0;
    into.hasRun = (f & HAS_RUN) !== 0;
    into.retryIt = this.sRetryIt[s]!;
    into.weight = Number.isNaN(w) ? null : w;
    into.weightMode = WEIGHT_MODES[this.sWeightMode[s]!]!;
    into.lastReason = this.sReason[s]!;
    return into;
  }

  private store(s: number, st: CheckerState): void {
    this.sFlags[s] = (this.sFlags[s]! & (RUNNING | RERUN)) | (st.up ? UP : 0) | (st.hasRun ? HAS_RUN : 0);
    this.sRetryIt[s] = st.retryIt;
    this.sWeight[s] = st.weight ?? NaN;
    this.sWeightMode[s] = weightModeCode(st.weightMode);
    this.sReason[s] = st.lastReason;
  }

  private statesOf(e: number): CheckerState[] {
    const first = this.eFirst[e]!;
    const out: CheckerState[] = [];
    for (let s = first; s < first + this.eCount[e]!; s++) {
      out.push(this.load(s, { up: true, hasRun: false, retryIt: 0, weight: null, weightMode: null, lastReason: '' }));
    }
    return out;
  }

  private retire(s: number, releaseProbe: boolean): void {
    this.heap.remove(s);
    const probe = this.sProbe[s]!;
    if (probe >= 0) {
      if (this.sFlags[s]! & RUNNING) this.probes!.cancel(probe);
      if (releaseProbe) {
        this.probes!.release(probe);
        this.sProbe[s] = -1;
      }
    }
    this.sFlags[s]! &= ~(RUNNING | RERUN);
    this.sGen[s]!++;
    const unwatch = this.sUnwatch.get(s);
    if (unwatch) {
      unwatch();
      this.sUnwatch.delete(s);
    }
  }

  // ---- running -------------------------------------------------------------------------

  private startEntries(entries: number[]): void {
    let total = 0;
    for (const e of entries) total += this.eCount[e]!;
    const now = this.clock.now();
    let n = 0;
    for (const e of entries) {
      const first = this.eFirst[e]!;
      for (let s = first; s < first + this.eCount[e]!; s++) {
        const checker = this.checkerOf(s);
        this.heap.set(s, now + startOffset(n++, total, checker.warmupMs, this.rng));
        if (checker.type === 'FILE_CHECK') this.watchTracked(s, checker);
      }
    }
    this.arm();
  }

  private watchTracked(s: number, checker: Extract<HealthCheck, { type: 'FILE_CHECK' }>): void {
    const tf = this.ctx.trackFiles?.find((t) => t.name === checker.trackFile);
    if (!tf) return;
    const e = this.sEntry[s]!;
    const gen = this.sGen[s]!;
    this.sUnwatch.set(
      s,
      this.watchFile(tf.file, () => {
        if (!this.started || this.eLive[e] !== 1 || this.sGen[s] !== gen) return;
        if (this.sFlags[s]! & RUNNING) {
          this.sFlags[s]! |= RERUN;
          return;
        }
        this.heap.set(s, this.clock.now());
        this.arm();
      }),
    );
  }

  /** One timer, for the earliest due checker. */
  private arm(): void {
    const due = this.heap.topDue();
    if (due >= this.armedAt) return;
    this.disarm();
    if (due === Infinity || !this.started) return;
    this.armedAt = due;
    this.timer = this.clock.setTimer(this.fire, Math.max(0, due - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedAt = Infinity;
    // connects that finished since the last I/O poll report first, so no deadline below
    // times out a check whose answer is already here
    this.probes?.drain();
    const limit = this.clock.now() + this.slackMs;
    // take every due id first: an attempt rescheduled at once waits for the next run
    let n = 0;
    for (let id = this.heap.popDue(limit); id >= 0; id = this.heap.popDue(limit)) {
      if (n === this.batch.length) {
        const b = new Int32Array(n * 2);
        b.set(this.batch);
        this.batch = b;
      }
      this.batch[n++] = id;
    }
    for (let i = 0; i < n && this.started; i++) {
      const s = this.batch[i]!;
      if (this.eLive[this.sEntry[s]!] !== 1) continue;
      if (this.sFlags[s]! & RUNNING) this.expire(s);
      else this.attempt(s);
    }
    this.arm();
  };

  /** A probe's connect deadline passed. */
  private expire(s: number): void {
    this.probes!.cancel(this.sProbe[s]!);
    this.complete(s, probeTimeout(this.checkerOf(s).connectTimeoutMs));
  }

  private attempt(s: number): void {
    const e = this.sEntry[s]!;
    const checker = this.checkerOf(s);
    const now = this.clock.now();
    if (this.paused?.(this.eKey[e]!, this.eTag[e])) {
      this.heap.set(s, now + checker.delayLoopMs);
      return;
    }
    this.sStartedAt[s] = now;
    const probe = this.sProbe[s]!;
    if (probe >= 0) {
      const r = this.probes!.connect(probe);
      if (r === PROBE_IN_FLIGHT) {
        this.sFlags[s]! |= RUNNING;
        this.heap.set(s, now + checker.connectTimeoutMs);
      } else {
        this.complete(s, probeOutcome(r));
      }
      return;
    }
    this.sFlags[s]! |= RUNNING;
    const gen = this.sGen[s]!;
    let pending: Promise<CheckOutcome>;
    try {
      pending = this.run(checker, this.eRs[e]!, this.eCtx.get(e) ?? this.ctx); // a RealServer is a CheckTarget
    } catch (err) {
      pending = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    pending.then(
      (o) => this.completeRun(s, gen, o),
      (err: Error) => this.completeRun(s, gen, { up: false, reason: `checker crashed: ${err?.message ?? err}` }),
    );
  }

  private completeRun(s: number, gen: number, o: CheckOutcome): void {
    if (this.sGen[s] !== gen) return;
    this.complete(s, o);
    this.arm();
  }

  private complete(s: number, outcome: CheckOutcome): void {
    this.sFlags[s]! &= ~RUNNING;
    const e = this.sEntry[s]!;
    if (!this.started || this.eLive[e] !== 1) return;
    const now = this.clock.now();
    const startedAt = this.sStartedAt[s]!;
    const index = s - this.eFirst[e]!;
    const checker = this.eRs[e]!.checkers[index]!;
    this.attempts++;
    this.checkMs += now - startedAt;
    if (this.listener.onAttempt) this.listener.onAttempt({ realServer: this.eKey[e]!, checkerIndex: index, outcome, at: now });
    const st = this.load(s);
    const weight = st.weight;
    const mode = st.weightMode;
    const transition = applyAttempt(st, outcome, checker);
    this.store(s, st);
    this.listener.onAttemptDone?.(this.eRs[e]!, index, checker, outcome, now - startedAt, st);
    if (transition !== null || st.weight !== weight || st.weightMode !== mode) {
      this.changed(e, index, checker, transition, outcome);
      if (!this.started || this.eLive[e] !== 1) return; // a listener stopped us or removed the server
    }
    const rerun = (this.sFlags[s]! & RERUN) !== 0;
    this.sFlags[s]! &= ~RERUN;
    this.heap.set(s, now + (rerun ? 0 : nextDelay(st, checker))); // st: still this slot's state
  }

  private changed(e: number, index: number, checker: HealthCheck, transition: 'up' | 'down' | null, outcome: CheckOutcome): void {
    const previous = this.healthOf(e);
    const health = realServerHealth(this.eRs[e]!.weight, this.statesOf(e));
    this.eUp[e] = health.up ? 1 : 0;
    this.eWeight[e] = health.weight;
    const key = this.eKey[e]!;
    if (transition) {
      this.listener.onCheckerChange?.({ realServer: key, checkerIndex: index, checker, transition, reason: outcome.reason, health, previous });
    }
    if (previous.up !== health.up || previous.weight !== health.weight) {
      this.listener.onRealServerChange?.({ realServer: key, health, previous });
    }
  }
}
