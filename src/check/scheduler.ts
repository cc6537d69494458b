// Runs every checker of every real server forever: first attempt after a warmup offset,
// then after delay_loop or delay_before_retry as the retry machine says. Offsets are
// stratified: checker i of N starts in the i-th slice of its warmup window (at a random
// point inside it), so N checks spread over the window instead of firing together.
// Clock, randomness and the check runner are injectable so tests run on virtual time.
import { setMaxListeners } from 'node:events';
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Checker, RealServer } from '../config/model.js';
import { afterAttempt, initialState, type CheckerState } from './checker-state.js';
import type { CheckContext, CheckOutcome, CheckTarget } from './outcome.js';
import { realServerHealth, type RealServerHealth } from './real-server-health.js';
import { runCheck } from './run-check.js';

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
  run?: CheckRunner;
  ctx?: CheckContext;
  /**
   * ha_suspend: while this says a real server is paused its attempts are skipped (its
   * checkers keep their state and are looked at again a delay_loop later), as keepalived
   * keeps a disabled checker's timer running without checking.
   */
  paused?: (key: string) => boolean;
}

export interface AddOptions {
  /** Context fields for this real server only (the virtual server's `virtualhost`). */
  ctx?: Pick<CheckContext, 'virtualhost'>;
  /** Checker states to start from instead of alpha's (a reload keeping a server's health). */
  initial?: readonly CheckerState[];
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
}

interface Slot {
  checker: Checker;
  state: CheckerState;
  timer: unknown;
  running: boolean;
  /** A change arrived while an attempt ran: run again right after it. */
  rerun: boolean;
  unwatch: (() => void) | null;
}

interface Entry {
  key: string;
  rs: RealServer;
  target: CheckTarget;
  slots: Slot[];
  ctx: CheckContext;
  health: RealServerHealth;
}

export function realServerKey(rs: Pick<RealServer, 'address' | 'port' | 'family'>): string {
  return rs.family === 6 ? `[${rs.address}]:${rs.port}` : `${rs.address}:${rs.port}`;
}

/** Stratified start offset for item `index` of `count` within a `windowMs` warmup. */
export function startOffset(index: number, count: number, windowMs: number, rng: () => number): number {
  if (windowMs <= 0 || count <= 0) return 0;
  return Math.floor(((index + rng()) / count) * windowMs);
}

export class CheckScheduler {
  private readonly clock: Clock;
  private readonly rng: () => number;
  private readonly run: CheckRunner;
  private readonly watchFile: FileWatcher;
  private readonly abort = new AbortController();
  private readonly ctx: CheckContext;
  private readonly entries = new Map<string, Entry>();
  private readonly paused: ((key: string) => boolean) | null;
  private started = false;
  /** Attempts completed (results applied), for throughput figures. */
  attempts = 0;

  constructor(private readonly listener: SchedulerListener = {}, opts: SchedulerOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.rng = opts.rng ?? Math.random;
    this.run = opts.run ?? runCheck;
    this.watchFile = opts.watchFile ?? watchFileByDirectory;
    const outer = opts.ctx?.signal;
    const signal = outer ? AbortSignal.any([outer, this.abort.signal]) : this.abort.signal;
    // Every in-flight check listens on this one signal: thousands of listeners are expected.
    setMaxListeners(0, signal, this.abort.signal);
    this.ctx = { ...opts.ctx, signal };
    this.paused = opts.paused ?? null;
  }

  /**
   * Registers a real server; its initial health follows alpha (real server's, per checker
   * overridable) unless `opts.initial` carries states over.
   */
  add(rs: RealServer, key = realServerKey(rs), opts: AddOptions = {}): void {
    if (this.entries.has(key)) throw new Error(`real server ${key} added twice`);
    const slots = rs.checkers.map((checker, i) => ({
      checker, state: opts.initial?.[i] ?? initialState(checker.alpha ?? rs.alpha), timer: undefined, running: false, rerun: false, unwatch: null,
    }));
    const entry: Entry = {
      key, rs, target: { address: rs.address, port: rs.port, family: rs.family }, slots,
      ctx: opts.ctx ? { ...this.ctx, ...opts.ctx } : this.ctx,
      health: realServerHealth(rs.weight, slots.map((s) => s.state)),
    };
    this.entries.set(key, entry);
    if (this.started) this.startSlots([entry]);
  }

  /** Stops checking a real server (reload dropped it); an attempt in flight is discarded. */
  remove(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    for (const s of e.slots) {
      this.clock.clearTimer(s.timer);
      s.unwatch?.();
      s.unwatch = null;
    }
    this.entries.delete(key);
    return true;
  }

  health(key: string): RealServerHealth | undefined {
    return this.entries.get(key)?.health;
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
    for (const e of this.entries.values()) {
      for (const s of e.slots) {
        this.clock.clearTimer(s.timer);
        s.unwatch?.();
        s.unwatch = null;
      }
    }
  }

  private startSlots(entries: Entry[]): void {
    const all = entries.flatMap((e) => e.slots.map((slot, i) => ({ e, slot, i })));
    all.forEach(({ e, slot, i }, n) => {
      this.schedule(e, slot, i, startOffset(n, all.length, slot.checker.warmupMs, this.rng));
      if (slot.checker.type === 'FILE_CHECK') this.watchTracked(e, slot, i);
    });
  }

  private watchTracked(e: Entry, slot: Slot, index: number): void {
    const name = (slot.checker as Extract<Checker, { type: 'FILE_CHECK' }>).trackFile;
    const tf = this.ctx.trackFiles?.find((t) => t.name === name);
    if (!tf) return;
    slot.unwatch = this.watchFile(tf.file, () => {
      if (!this.started) return;
      if (slot.running) { slot.rerun = true; return; }
      this.clock.clearTimer(slot.timer);
      this.schedule(e, slot, index, 0);
    });
  }

  private schedule(e: Entry, slot: Slot, index: number, delayMs: number): void {
    slot.timer = this.clock.setTimer(() => void this.attempt(e, slot, index), delayMs);
  }

  private async attempt(e: Entry, slot: Slot, index: number): Promise<void> {
    if (!this.started || slot.running) return;
    if (this.paused?.(e.key)) {
      this.schedule(e, slot, index, slot.checker.delayLoopMs);
      return;
    }
    slot.running = true;
    let outcome: CheckOutcome;
    try {
      outcome = await this.run(slot.checker, e.target, e.ctx);
    } catch (err) {
      outcome = { up: false, reason: `checker crashed: ${(err as Error).message}` };
    }
    slot.running = false;
    if (!this.started || this.entries.get(e.key) !== e) return;
    this.attempts++;
    this.listener.onAttempt?.({ realServer: e.key, checkerIndex: index, outcome, at: this.clock.now() });
    const step = afterAttempt(slot.state, outcome, slot.checker);
    slot.state = step.state;
    const previous = e.health;
    e.health = realServerHealth(e.rs.weight, e.slots.map((s) => s.state));
    if (step.transition) {
      this.listener.onCheckerChange?.({
        realServer: e.key, checkerIndex: index, checker: slot.checker, transition: step.transition, reason: outcome.reason,
        health: e.health, previous,
      });
    }
    if (previous.up !== e.health.up || previous.weight !== e.health.weight) {
      this.listener.onRealServerChange?.({ realServer: e.key, health: e.health, previous });
    }
    this.schedule(e, slot, index, slot.rerun ? 0 : step.nextDelayMs);
    slot.rerun = false;
  }
}
