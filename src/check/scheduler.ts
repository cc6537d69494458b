// Runs every checker of every real server forever: first attempt after a warmup offset,
// then after delay_loop or delay_before_retry as the retry machine says. Offsets are
// stratified: checker i of N starts in the i-th slice of its warmup window (at a random
// point inside it), so N checks spread over the window instead of firing together.
// Clock, randomness and the check runner are injectable so tests run on virtual time.
//
// Built for tens of thousands of checks a second: one timer for every checker (an indexed
// heap of due times, due-heap.ts), checker state updated in place, and TCP_CHECK through
// the native connect probe (tcp-probe.ts) whose connect deadline is the checker's heap
// entry, so a TCP check allocates no promise, closure, timer or AbortSignal.
import { setMaxListeners } from 'node:events';
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Checker, RealServer } from '../config/model.js';
import { applyAttempt, initialState, nextDelay, type CheckerState } from './checker-state.js';
import { DueHeap } from './due-heap.js';
import { resolveEndpoint, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';
import { realServerHealth, type RealServerHealth } from './real-server-health.js';
import { runCheck } from './run-check.js';
import { PROBE_IN_FLIGHT, TcpProbes, probeOutcome, probeTimeout, type ProbeSink } from './tcp-probe.js';

export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type CheckRunner = (checker: Checker, target: CheckTarget, ctx: CheckContext) => Promise<CheckOutcome>;

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

export interface SchedulerOptions {
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
  paused?: (key: string, tag: unknown) => boolean;
}

export interface AddOptions {
  /** Context fields for this real server only (the virtual server's `virtualhost`). */
  ctx?: Pick<CheckContext, 'virtualhost'>;
  /** Checker states to start from instead of alpha's (a reload keeping a server's health). */
  initial?: readonly CheckerState[];
  /** The caller's own value for this real server (what it belongs to), kept so the caller needs no map of its own. */
  tag?: unknown;
}

export interface CheckerEvent {
  realServer: string;
  checkerIndex: number;
  checker: Checker;
  transition: 'up' | 'down';
  reason: string;
  /** The real server's health after this change, and before it. */
  health: RealServerHealth;
  previous: RealServerHealth;
}

export interface RealServerEvent {
  realServer: string;
  health: RealServerHealth;
  previous: RealServerHealth;
}

export interface SchedulerListener {
  onCheckerChange?(e: CheckerEvent): void;
  onRealServerChange?(e: RealServerEvent): void;
  onAttempt?(e: { realServer: string; checkerIndex: number; outcome: CheckOutcome; at: number }): void;
  /**
   * Every attempt's result once the retry machine has taken it, with how long it took and
   * the checker's state after it (live: the scheduler updates it in place). Positional and
   * allocation-free, for observers that run at the full check rate (metrics, dumps).
   */
  onAttemptDone?(realServer: string, checkerIndex: number, checker: Checker, outcome: CheckOutcome, durationMs: number, state: CheckerState): void;
}

interface Slot {
  /** Index in the scheduler's slot table and key in its heap. */
  id: number;
  entry: Entry;
  index: number;
  checker: Checker;
  state: CheckerState;
  running: boolean;
  /** A change arrived while an attempt ran: run again right after it. */
  rerun: boolean;
  unwatch: (() => void) | null;
  /** Native probe id (TCP_CHECK's fast path), -1 for the runner. */
  probe: number;
  startedAt: number;
  /** Bumped when a runner's attempt in flight must be forgotten (remove, stop). */
  gen: number;
}

interface Entry {
  key: string;
  rs: RealServer;
  target: CheckTarget;
  slots: Slot[];
  ctx: CheckContext;
  health: RealServerHealth;
  removed: boolean;
  tag: unknown;
}

export function realServerKey(rs: Pick<RealServer, 'address' | 'port' | 'family'>): string {
  return rs.family === 6 ? `[${rs.address}]:${rs.port}` : `${rs.address}:${rs.port}`;
}

/** Stratified start offset for item `index` of `count` within a `windowMs` warmup. */
export function startOffset(index: number, count: number, windowMs: number, rng: () => number): number {
  if (windowMs <= 0 || count <= 0) return 0;
  return Math.floor(((index + rng()) / count) * windowMs);
}

export class CheckScheduler implements ProbeSink {
  private readonly clock: Clock;
  private readonly rng: () => number;
  private readonly run: CheckRunner;
  private readonly watchFile: FileWatcher;
  private readonly abort = new AbortController();
  private readonly ctx: CheckContext;
  private readonly entries = new Map<string, Entry>();
  private readonly paused: ((key: string, tag: unknown) => boolean) | null;
  private readonly probes: TcpProbes | null;
  private readonly slots: (Slot | null)[] = [];
  private readonly freeIds: number[] = [];
  private readonly heap = new DueHeap();
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

  constructor(private readonly listener: SchedulerListener = {}, opts: SchedulerOptions = {}) {
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
   * overridable) unless `opts.initial` carries states over.
   */
  add(rs: RealServer, key = realServerKey(rs), opts: AddOptions = {}): void {
    if (this.entries.has(key)) throw new Error(`real server ${key} added twice`);
    const entry: Entry = {
      key, rs, target: rs, slots: [], // a RealServer is a CheckTarget: no copy per server
      ctx: opts.ctx ? { ...this.ctx, ...opts.ctx } : this.ctx,
      health: { up: true, weight: rs.weight }, removed: false, tag: opts.tag,
    };
    // map, not push: an array grown by push keeps room for 17 slots (~150 bytes for one)
    entry.slots = rs.checkers.map((checker, index) => {
      const from = opts.initial?.[index];
      const slot: Slot = {
        id: this.freeIds.pop() ?? this.slots.length, entry, index, checker,
        state: from ? { ...from } : initialState(checker.alpha ?? rs.alpha),
        running: false, rerun: false, unwatch: null, probe: -1, startedAt: 0, gen: 0,
      };
      if (this.probes && checker.type === 'TCP_CHECK') {
        try {
          slot.probe = this.probes.register(resolveEndpoint(checker, rs), this, slot.id);
        } catch {
          slot.probe = -1; // an address the probe cannot take: the runner handles it
        }
      }
      this.slots[slot.id] = slot;
      return slot;
    });
    entry.health = realServerHealth(rs.weight, entry.slots.map((s) => s.state));
    this.entries.set(key, entry);
    if (this.started) this.startSlots([entry]);
  }

  /** Stops checking a real server (reload dropped it); an attempt in flight is discarded. */
  remove(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    e.removed = true;
    for (const s of e.slots) {
      this.retire(s, true);
      this.slots[s.id] = null;
      this.freeIds.push(s.id);
    }
    this.entries.delete(key);
    return true;
  }

  health(key: string): RealServerHealth | undefined {
    return this.entries.get(key)?.health;
  }

  /** The real server registered under `key`. */
  server(key: string): RealServer | undefined {
    return this.entries.get(key)?.rs;
  }

  /** The tag `add` was given for this real server. */
  tag(key: string): unknown {
    return this.entries.get(key)?.tag;
  }

  /** Every real server's key and health, in the order they were added. */
  *healthEntries(): IterableIterator<[string, RealServerHealth]> {
    for (const [key, e] of this.entries) yield [key, e.health];
  }

  checkerStates(key: string): CheckerState[] {
    return this.entries.get(key)?.slots.map((s) => s.state) ?? [];
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.startSlots([...this.entries.values()]);
  }

  /** Cancels every timer and aborts in-flight checks; no event fires afterwards. */
  stop(): void {
    this.started = false;
    this.abort.abort();
    for (const e of this.entries.values()) for (const s of e.slots) this.retire(s, true);
    this.heap.clear();
    this.disarm();
  }

  /** Called by the native probe set when a connect in flight finished. */
  probeDone(token: number, errno: number): void {
    const slot = this.slots[token];
    if (!slot || !slot.running || slot.probe < 0) return;
    this.complete(slot, probeOutcome(errno));
    this.arm();
  }

  private retire(s: Slot, releaseProbe: boolean): void {
    this.heap.remove(s.id);
    if (s.probe >= 0) {
      if (s.running) this.probes!.cancel(s.probe);
      if (releaseProbe) {
        this.probes!.release(s.probe);
        s.probe = -1;
      }
    }
    s.running = false;
    s.gen++;
    s.unwatch?.();
    s.unwatch = null;
  }

  private startSlots(entries: Entry[]): void {
    const all = entries.flatMap((e) => e.slots);
    const now = this.clock.now();
    all.forEach((slot, n) => {
      this.heap.set(slot.id, now + startOffset(n, all.length, slot.checker.warmupMs, this.rng));
      if (slot.checker.type === 'FILE_CHECK') this.watchTracked(slot);
    });
    this.arm();
  }

  private watchTracked(slot: Slot): void {
    const name = (slot.checker as Extract<Checker, { type: 'FILE_CHECK' }>).trackFile;
    const tf = this.ctx.trackFiles?.find((t) => t.name === name);
    if (!tf) return;
    slot.unwatch = this.watchFile(tf.file, () => {
      if (!this.started || slot.entry.removed) return;
      if (slot.running) { slot.rerun = true; return; }
      this.heap.set(slot.id, this.clock.now());
      this.arm();
    });
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
      const slot = this.slots[this.batch[i]!];
      if (!slot) continue;
      if (slot.running) this.expire(slot);
      else this.attempt(slot);
    }
    this.arm();
  };

  /** A probe's connect deadline passed. */
  private expire(slot: Slot): void {
    this.probes!.cancel(slot.probe);
    this.complete(slot, probeTimeout(slot.checker.connectTimeoutMs));
  }

  private attempt(slot: Slot): void {
    const e = slot.entry;
    const now = this.clock.now();
    if (this.paused?.(e.key, e.tag)) {
      this.heap.set(slot.id, now + slot.checker.delayLoopMs);
      return;
    }
    slot.startedAt = now;
    if (slot.probe >= 0) {
      const r = this.probes!.connect(slot.probe);
      if (r === PROBE_IN_FLIGHT) {
        slot.running = true;
        this.heap.set(slot.id, now + slot.checker.connectTimeoutMs);
      } else {
        this.complete(slot, probeOutcome(r));
      }
      return;
    }
    slot.running = true;
    const gen = slot.gen;
    let pending: Promise<CheckOutcome>;
    try {
      pending = this.run(slot.checker, e.target, e.ctx);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (o) => this.completeRun(slot, gen, o),
      (err: Error) => this.completeRun(slot, gen, { up: false, reason: `checker crashed: ${err?.message ?? err}` }),
    );
  }

  private completeRun(slot: Slot, gen: number, o: CheckOutcome): void {
    if (slot.gen !== gen) return;
    this.complete(slot, o);
    this.arm();
  }

  private complete(slot: Slot, outcome: CheckOutcome): void {
    slot.running = false;
    const e = slot.entry;
    if (!this.started || e.removed) return;
    const now = this.clock.now();
    this.attempts++;
    this.checkMs += now - slot.startedAt;
    if (this.listener.onAttempt) this.listener.onAttempt({ realServer: e.key, checkerIndex: slot.index, outcome, at: now });
    const st = slot.state;
    const weight = st.weight;
    const mode = st.weightMode;
    const transition = applyAttempt(st, outcome, slot.checker);
    this.listener.onAttemptDone?.(e.key, slot.index, slot.checker, outcome, now - slot.startedAt, st);
    if (transition !== null || st.weight !== weight || st.weightMode !== mode) {
      this.changed(e, slot, transition, outcome);
      if (!this.started || e.removed) return; // a listener stopped us or removed the server
    }
    const delay = slot.rerun ? 0 : nextDelay(st, slot.checker);
    slot.rerun = false;
    this.heap.set(slot.id, now + delay);
  }

  private changed(e: Entry, slot: Slot, transition: 'up' | 'down' | null, outcome: CheckOutcome): void {
    const previous = e.health;
    e.health = realServerHealth(e.rs.weight, e.slots.map((s) => s.state));
    if (transition) {
      this.listener.onCheckerChange?.({
        realServer: e.key, checkerIndex: slot.index, checker: slot.checker, transition, reason: outcome.reason,
        health: e.health, previous,
      });
    }
    if (previous.up !== e.health.up || previous.weight !== e.health.weight) {
      this.listener.onRealServerChange?.({ realServer: e.key, health: e.health, previous });
    }
  }
}
