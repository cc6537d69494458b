// The watchdog parent's process manager: forks the VRRP and checker children, watches
// their heartbeats, and restarts them per the respawn policy. It owns no config and no
// sockets; the daemon layer tells it what to run and what to do on reload and signals.
import type { ChildProcess } from 'node:child_process';
import { decideRespawn, initialRespawnState, nextStartupAllowance, type RespawnState } from './respawn-policy.js';
import { isChildMessage, type ChildRole, type ChildToParent, type ParentToChild } from './ipc.js';
import { EXIT_OK } from './exit-codes.js';
import { type Clock, systemClock } from '../clock/index.js';
import { chargeableSilence, heardNow, openLedger, recordTick, type Heard, type StallLedger } from './stall-ledger.js';
import type { Logger } from '../log/logger.js';
import { childStartLine } from '../log/keepalived-lines.js';
import { forkChild, type ChildSpec, type EarlyChild } from './fork-child.js';

export type { ChildSpec } from './fork-child.js';

export interface SupervisorOptions {
  children: ChildSpec[];
  log: Logger;
  /** A child silent this long after its first heartbeat is stuck: killed and respawned. */
  heartbeatTimeoutMs?: number;
  /**
   * Allowance for start-up (config parse, module load) before the first heartbeat. A child
   * killed for missing it gets twice the allowance next time (up to MAX_STARTUP_MS): a slow
   * machine or a huge config must not be killed at the same point forever.
   */
  startupTimeoutMs?: number;
  /** Grace between TERM and KILL when stopping. */
  stopTimeoutMs?: number;
  dontRespawn?: boolean;
  /** Heartbeat deadlines, respawn delays, request and stop timeouts; default: systemClock. */
  clock?: Clock;
  onChildStart?: (role: ChildRole, pid: number) => void;
  /**
   * A child exited. `respawnInMs`: when its successor will be forked, or null when none will
   * be (stopping, or the daemon stops with it). The respawn waits for a returned promise.
   */
  onChildExit?: (role: ChildRole, code: number | null, signal: string | null, pid: number, respawnInMs: number | null) => void | Promise<void>;
  onChildMessage?: (role: ChildRole, m: ChildToParent) => void;
  /** The daemon must stop (a child exited fatally, or died with respawn off). */
  onDaemonStop?: (reason: string, exitCode: number) => void;
}

interface Slot {
  spec: ChildSpec;
  proc: ChildProcess | null;
  started: Heard;
  /** The last heartbeat; null until the child has started. */
  lastBeat: Heard | null;
  /** How long the last start took, fork to first heartbeat; null until one finished. */
  startupMs: number | null;
  respawn: RespawnState;
  restartTimer: unknown;
  exited: Promise<void> | null;
  restarts: number;
  /** This child's current start-up allowance (grows after each start-up timeout). */
  startupLimitMs: number;
}

export class Supervisor {
  private readonly slots = new Map<ChildRole, Slot>();
  private stopping = false;
  private watchTimer: unknown = null;
  private ledger: StallLedger;
  private readonly clock: Clock;
  private readonly heartbeatTimeoutMs: number;
  private readonly startupTimeoutMs: number;

  constructor(private readonly opts: SupervisorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 5_000;
    this.startupTimeoutMs = opts.startupTimeoutMs ?? 30_000;
    this.ledger = openLedger(this.clock.now());
    for (const spec of opts.children) {
      this.slots.set(spec.role, {
        spec,
        proc: null,
        started: heardNow(this.ledger, 0),
        lastBeat: null,
        startupMs: null,
        respawn: initialRespawnState,
        restartTimer: null,
        exited: null,
        restarts: 0,
        startupLimitMs: this.startupTimeoutMs,
      });
    }
  }

  /** Starts the children: those forked early (`early`, fork-child.ts) are adopted when they run what their spec asks. */
  start(early: ReadonlyMap<ChildRole, EarlyChild> = new Map()): void {
    for (const slot of this.slots.values()) this.spawn(slot, early.get(slot.spec.role));
    const tick = Math.max(50, Math.floor(this.heartbeatTimeoutMs / 5));
    this.ledger = openLedger(this.clock.now());
    const watch = () => {
      this.watchTimer = this.clock.setTimer(watch, tick);
      this.ledger = recordTick(this.ledger, this.clock.now(), tick);
      this.checkHeartbeats();
    };
    this.watchTimer = this.clock.setTimer(watch, tick);
  }

  pid(role: ChildRole): number | null {
    return this.slots.get(role)?.proc?.pid ?? null;
  }

  restarts(role: ChildRole): number {
    return this.slots.get(role)?.restarts ?? 0;
  }

  /** How long the role's last start took, fork to first heartbeat (null: none finished). */
  startupMs(role: ChildRole): number | null {
    return this.slots.get(role)?.startupMs ?? null;
  }

  send(role: ChildRole, m: ParentToChild): boolean {
    const proc = this.slots.get(role)?.proc;
    if (!proc || !proc.connected) return false;
    proc.send(m);
    return true;
  }

  /** Roles with a live, connected child. */
  running(): ChildRole[] {
    return [...this.slots.values()].filter((s) => s.proc?.connected).map((s) => s.spec.role);
  }

  /**
   * Sends `m` and resolves with the first reply `match` accepts, or null when the child is
   * not running or does not answer within `timeoutMs` (a scrape must never hang).
   */
  request<T extends ChildToParent>(role: ChildRole, m: ParentToChild, match: (r: ChildToParent) => r is T, timeoutMs = 2000): Promise<T | null> {
    const proc = this.slots.get(role)?.proc;
    if (!proc || !proc.connected) return Promise.resolve(null);
    return new Promise((resolve) => {
      const onMessage = (r: unknown) => {
        if (isChildMessage(r) && match(r)) finish(r);
      };
      const timer = this.clock.setTimer(() => finish(null), timeoutMs);
      const finish = (r: T | null) => {
        this.clock.clearTimer(timer);
        proc.off('message', onMessage);
        resolve(r);
      };
      proc.on('message', onMessage);
      proc.send(m);
    });
  }

  /** Forward a signal (USR1/USR2 dumps) to every running child. */
  /**
   * Signals the running children (of `roles`). A child that has not sent its first
   * heartbeat is still loading and has no handlers yet: a dump signal would kill it
   * (USR2, PWR) or open Node's inspector in it (USR1), so it is left alone.
   */
  signalChildren(signal: NodeJS.Signals, roles?: readonly ChildRole[]): void {
    for (const [role, slot] of this.slots) {
      if ((!roles || roles.includes(role)) && slot.lastBeat !== null) slot.proc?.kill(signal);
    }
  }

  /** Stop every child (TERM, then KILL after the grace period) and stop watching. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.stopping = true;
    this.clock.clearTimer(this.watchTimer);
    this.watchTimer = null;
    const waits: Promise<void>[] = [];
    for (const slot of this.slots.values()) {
      this.clock.clearTimer(slot.restartTimer);
      slot.restartTimer = null;
      const proc = slot.proc;
      if (!proc || !slot.exited) continue;
      proc.kill(signal);
      const kill = this.clock.setTimer(() => proc.kill('SIGKILL'), this.opts.stopTimeoutMs ?? 5_000);
      waits.push(slot.exited.finally(() => this.clock.clearTimer(kill)));
    }
    await Promise.all(waits);
  }

  private spawn(slot: Slot, early?: EarlyChild): void {
    const { spec } = slot;
    const adopted = early?.adopt(spec) ?? null;
    const proc = adopted?.proc ?? forkChild(spec);
    slot.proc = proc;
    slot.started = heardNow(this.ledger, this.clock.now());
    slot.lastBeat = null;
    slot.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.onExit(slot, proc, code, signal);
        resolve();
      });
    });
    const onMessage = (m: unknown) => {
      if (!isChildMessage(m)) return;
      if (m.t === 'heartbeat' && slot.proc === proc) {
        const now = this.clock.now();
        if (slot.lastBeat === null) slot.startupMs = now - slot.started.at;
        slot.lastBeat = heardNow(this.ledger, now);
      }
      this.opts.onChildMessage?.(spec.role, m);
    };
    proc.on('message', onMessage);
    // what an adopted child said before: after the start line below, as if it came now
    if (adopted?.backlog.length) queueMicrotask(() => adopted.backlog.forEach(onMessage));
    // An IPC error (child gone mid-send) must not take the parent down.
    proc.on('error', (err) => this.opts.log.warn({ role: spec.role, err: err.message }, 'child process error'));
    if (proc.pid !== undefined) {
      this.opts.log.info({ event: { role: spec.role, pid: proc.pid } }, childStartLine(spec.role, proc.pid));
      this.opts.onChildStart?.(spec.role, proc.pid);
    }
  }

  private onExit(slot: Slot, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.proc === proc) slot.proc = null;
    const role = slot.spec.role;
    if (this.stopping) {
      void this.opts.onChildExit?.(role, code, signal, proc.pid ?? -1, null);
      return;
    }
    const decision = decideRespawn(slot.respawn, {
      startedAt: slot.started.at,
      diedAt: this.clock.now(),
      code,
      signal,
      dontRespawn: this.opts.dontRespawn ?? false,
    });
    slot.respawn = decision.state;
    const respawnInMs = decision.action === 'restart' ? decision.delayMs : null;
    // the successor is forked once the exit is handled (the parent may be clearing what the
    // dead child left on the host, which the successor must not find half-removed)
    const handled = Promise.resolve(this.opts.onChildExit?.(role, code, signal, proc.pid ?? -1, respawnInMs)).catch((err: Error) =>
      this.opts.log.error({ role, err: err.message }, 'child exit handling failed'),
    );
    if (decision.action === 'stop-daemon') {
      this.opts.log.error({ role, code, signal }, `${role} child stopped the daemon: ${decision.reason}`);
      this.opts.onDaemonStop?.(`${role} ${decision.reason}`, code ?? EXIT_OK);
      return;
    }
    this.opts.log.warn({ role, code, signal, delayMs: decision.delayMs }, `${role} child died; restarting`);
    slot.restartTimer = this.clock.setTimer(() => {
      void handled.then(() => {
        slot.restartTimer = null;
        if (this.stopping) return;
        slot.restarts++;
        this.spawn(slot);
      });
    }, decision.delayMs);
  }

  private checkHeartbeats(): void {
    const now = this.clock.now();
    for (const slot of this.slots.values()) {
      const proc = slot.proc;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) continue;
      // the parent's own stalls are not the child's silence (stall-ledger.ts)
      const silentFor = chargeableSilence(this.ledger, now, slot.lastBeat ?? slot.started);
      const starting = slot.lastBeat === null;
      const limit = starting ? slot.startupLimitMs : this.heartbeatTimeoutMs;
      if (silentFor > limit) {
        if (starting) {
          slot.startupLimitMs = nextStartupAllowance(slot.startupLimitMs);
          this.opts.log.error(
            { role: slot.spec.role, pid: proc.pid, silentMs: silentFor, nextAllowanceMs: slot.startupLimitMs },
            `${slot.spec.role} child did not finish starting in ${limit} ms: killing it; its next start gets ${slot.startupLimitMs} ms`,
          );
        } else {
          this.opts.log.error(
            { role: slot.spec.role, pid: proc.pid, silentMs: silentFor },
            `${slot.spec.role} child stopped answering (event loop stuck?): killing it`,
          );
        }
        // Record the kill as the heartbeat so we do not kill the same process twice.
        slot.lastBeat = heardNow(this.ledger, now);
        proc.kill('SIGKILL');
      }
    }
  }
}
