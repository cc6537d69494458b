// The VRRP instance state machine (RFC 5798 section 6.4, RFC 3768 6.4, keepalived 2.2.7's
// choices where they differ), as a pure function:
//
//     step(machine, event, now) -> { machine, actions }
//
// No sockets, no timers, no clock: `now` (ms) comes in, and timers go out as actions with
// absolute deadlines (`arm-timer` replaces any earlier deadline of the same name). The
// I/O shell executes actions in order and feeds back events (timer fired, advert received,
// tracking changes). That makes every behaviour replayable from a recorded event log.

import { compareAddresses } from './addr.js';
import type { VrrpAdvert } from './packet.js';
import type { ScriptStatus } from './script-status.js';
import { masterDownMs, nextPeriodic, PRIORITY_OWNER, PRIORITY_STOP, skewMs } from './timers.js';
import { computeEffectivePriority, emptyObservations, type EffectivePriority, type TrackingObservations, type TrackingSpec } from './tracking.js';

export type VrrpStateName = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export interface NotifyScript {
  argv: string[];
  user: string | null;
  group: string | null;
}

export interface GarpSchedule {
  /** Second burst this long after becoming MASTER (0 = none). */
  masterDelayMs: number;
  masterRepeat: number;
  /** Periodic refresh while MASTER (0 = none). */
  refreshMs: number;
  refreshRepeat: number;
  /** After a lower-priority advert while MASTER: burst now, another after the delay. */
  lowerPrioDelayMs: number;
  lowerPrioRepeat: number;
  /** Spacing between the messages of one burst (ARP for IPv4, NA for IPv6). */
  intervalMs: number;
}

/** Everything the machine needs about an instance, independent of config parsing. */
export interface InstanceSpec {
  name: string;
  version: 2 | 3;
  family: 4 | 6;
  vrid: number;
  basePriority: number;
  advertIntMs: number;
  initialState: 'MASTER' | 'BACKUP';
  nopreempt: boolean;
  preemptDelayMs: number;
  /** The instance's own interface: when it is down we cannot send a priority-0 advert. */
  interface: string;
  /** Our advert source address: the higher primary address wins a priority tie. */
  localAddress: string;
  vips: string[];
  garp: GarpSchedule;
  /** vrrp_lower_prio_no_advert: a MASTER does not answer a lower-priority advert. */
  lowerPrioNoAdvert: boolean;
  /** vrrp_higher_prio_send_advert: a MASTER sends one advert before yielding. */
  higherPrioSendAdvert: boolean;
  tracking: TrackingSpec;
  notify: {
    master: NotifyScript | null;
    backup: NotifyScript | null;
    fault: NotifyScript | null;
    stop: NotifyScript | null;
    generic: NotifyScript | null;
    /** notify_deleted's script. */
    deleted?: NotifyScript | null;
  };
  /**
   * notify_deleted: an instance a reload removes is announced DELETED (scripts, FIFO), where
   * keepalived's default announces FAULT, and nothing for one already in FAULT.
   */
  notifyDeleted?: boolean;
}

export type TimerName = 'master-down' | 'advert' | 'garp-delay' | 'garp-refresh' | 'garp-lower-prio';

export type VrrpEvent =
  /**
   * `resume`: our VIPs are on the host at start, so this instance was MASTER a moment ago
   * and its VRRP child was restarted (kill -9, crash): take MASTER back at once rather than
   * wait Master_Down in BACKUP, which would hand the VIP to a backup and back.
   */
  | { type: 'start'; resume?: boolean }
  | { type: 'advert'; advert: VrrpAdvert; src: string }
  /** `due`: what a periodic timer re-arms from, about when it was due (deadlines.ts); `now` if absent. */
  | { type: 'timer'; name: TimerName; due?: number }
  /** A new base priority (reload, or an operator). */
  | { type: 'priority'; basePriority: number }
  | { type: 'interface'; name: string; up: boolean }
  /** A vrrp_script's status after rise/fall (see script-status.ts). */
  | { type: 'script'; name: string; status: ScriptStatus }
  | { type: 'track-file'; name: string; value: number }
  | { type: 'track-process'; name: string; up: boolean }
  /**
   * One of a MASTER's VIPs, tracked virtual routes or rules was deleted by someone else:
   * keepalived (set_vrrp_backup) drops to BACKUP with a priority 0 advert and takes MASTER
   * back after the skew time (unless a peer does first), which puts everything back.
   */
  | { type: 'deleted-behind-back'; what: string }
  /** From the sync group layer: move with the group. */
  | { type: 'sync'; goto: 'MASTER' | 'BACKUP' }
  | { type: 'sync-fault'; fault: boolean }
  /**
   * From the sync group layer instead of a master-down timer: another member still hears
   * its master, so this one stays BACKUP, marks that it wants MASTER and waits another
   * Master_Down (keepalived's vrrp_sync_can_goto_master).
   */
  | { type: 'sync-blocked' }
  /** From the sync group layer: another member still waits for its scripts, stay in INIT. */
  | { type: 'sync-hold'; hold: boolean }
  | { type: 'shutdown' }
  /** A reload removed the instance. */
  | { type: 'delete' };

export type VrrpAction =
  | { type: 'state-changed'; from: VrrpStateName; to: VrrpStateName; reason: string }
  | { type: 'send-advert'; priority: number }
  | { type: 'add-vips' }
  | { type: 'remove-vips' }
  | { type: 'send-garp'; repeat: number; intervalMs: number }
  | { type: 'arm-timer'; name: TimerName; at: number }
  | { type: 'cancel-timer'; name: TimerName }
  | { type: 'notify'; argv: string[]; user: string | null; group: string | null }
  /** A removed instance announced as keepalived does (its FIFO line and mail); no state change is logged. */
  | { type: 'deleted'; as: 'FAULT' | 'DELETED' };

export interface InstanceMachine {
  spec: InstanceSpec;
  state: VrrpStateName;
  /** 'start' seen (INIT may last while tracked scripts have not reported). */
  started: boolean;
  basePriority: number;
  observations: TrackingObservations;
  effective: EffectivePriority;
  /** The sync group holds this member in FAULT because another member is. */
  syncFault: boolean;
  /** The sync group holds this member in INIT until every member's scripts have reported. */
  syncHold: boolean;
  /** Its Master_Down expired but the sync group held it back (keepalived's wantstate MASTER). */
  wantMaster: boolean;
  /** v3: the interval the current master advertises (v2: ours). */
  masterAdvertIntMs: number;
  masterDownAt: number | null;
  /** preempt_delay: lower-priority masters are tolerated until this time. */
  preemptAt: number | null;
  /** Source of the last accepted advert (BACKUP) or null. */
  masterAddress: string | null;
  /** A 'start' with resume, until the instance leaves INIT (tracked scripts may hold it there). */
  resume: boolean;
}

export interface StepResult {
  machine: InstanceMachine;
  actions: VrrpAction[];
}

export function createMachine(spec: InstanceSpec): InstanceMachine {
  const observations = emptyObservations();
  return {
    spec,
    state: 'INIT',
    started: false,
    basePriority: spec.basePriority,
    observations,
    effective: computeEffectivePriority(spec.basePriority, spec.tracking, observations),
    syncFault: false,
    syncHold: false,
    wantMaster: false,
    masterAdvertIntMs: spec.advertIntMs,
    masterDownAt: null,
    preemptAt: null,
    masterAddress: null,
    resume: false,
  };
}

/**
 * A machine's copy with fields listed rather than spread: a step runs for every advert, and a
 * spread of machines whose objects were built in different places goes through V8's slow
 * generic clone.
 */
function copyMachine(m: InstanceMachine): InstanceMachine {
  return {
    spec: m.spec,
    state: m.state,
    started: m.started,
    basePriority: m.basePriority,
    observations: m.observations, // replaced, never changed (observe)
    effective: m.effective,
    syncFault: m.syncFault,
    syncHold: m.syncHold,
    wantMaster: m.wantMaster,
    masterAdvertIntMs: m.masterAdvertIntMs,
    masterDownAt: m.masterDownAt,
    preemptAt: m.preemptAt,
    masterAddress: m.masterAddress,
    resume: m.resume,
  };
}

/** keepalived ignores nopreempt / preempt_delay when the configured state is MASTER. */
function preemptAllowed(spec: InstanceSpec): boolean {
  return !(spec.nopreempt && spec.initialState === 'BACKUP');
}
function preemptDelay(spec: InstanceSpec): number {
  return preemptAllowed(spec) && spec.initialState === 'BACKUP' ? spec.preemptDelayMs : 0;
}

const NO_ACTIONS: VrrpAction[] = [];

/** Mutable scratch for one step: a copy of the machine and the actions so far. */
class Step {
  readonly m: InstanceMachine;
  actions: VrrpAction[] = NO_ACTIONS;
  constructor(
    m: InstanceMachine,
    readonly now: number,
  ) {
    this.m = copyMachine(m);
  }
  get spec(): InstanceSpec {
    return this.m.spec;
  }
  get prio(): number {
    return this.m.effective.priority;
  }
  emit(a: VrrpAction): void {
    // most steps emit one or two actions (an advert received re-arms Master_Down, one sent
    // its own timer): arrays of that size, not one grown for many
    const n = this.actions.length;
    if (n === 0) this.actions = [a];
    else if (n === 1) this.actions = [this.actions[0]!, a];
    else this.actions.push(a);
  }
  arm(name: TimerName, at: number): void {
    if (name === 'master-down') this.m.masterDownAt = at;
    this.emit({ type: 'arm-timer', name, at });
  }
  cancel(...names: TimerName[]): void {
    for (const name of names) {
      if (name === 'master-down') this.m.masterDownAt = null;
      this.emit({ type: 'cancel-timer', name });
    }
  }
  masterDown(): number {
    return masterDownMs(this.spec.version, this.prio, this.m.masterAdvertIntMs);
  }
  skew(): number {
    return skewMs(this.spec.version, this.prio, this.m.masterAdvertIntMs);
  }
  setState(to: VrrpStateName, reason: string): void {
    const from = this.m.state;
    this.m.state = to;
    this.emit({ type: 'state-changed', from, to, reason });
  }
  notify(state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'): void {
    const n = this.spec.notify;
    const specific = { MASTER: n.master, BACKUP: n.backup, FAULT: n.fault, STOP: n.stop }[state];
    if (specific) this.emit({ type: 'notify', argv: [...specific.argv], user: specific.user, group: specific.group });
    if (n.generic) {
      this.emit({
        type: 'notify',
        argv: [...n.generic.argv, 'INSTANCE', this.spec.name, state, String(this.prio)],
        user: n.generic.user,
        group: n.generic.group,
      });
    }
  }
  garp(repeat: number): void {
    if (repeat > 0) this.emit({ type: 'send-garp', repeat, intervalMs: this.spec.garp.intervalMs });
  }
  result(): StepResult {
    return { machine: this.m, actions: this.actions === NO_ACTIONS ? [] : this.actions };
  }
}

// ---------------------------------------------------------------------------------------
// Transitions

function becomeMaster(s: Step, reason: string): void {
  // The advert goes first, as keepalived's (vrrp.c vrrp_state_master_tx sends it, then logs
  // "Entering MASTER STATE" and adds the VIPs in vrrp_state_become_master): the old master
  // hears it before our GARPs, and nothing (a log line, a FIFO write) delays it.
  s.emit({ type: 'send-advert', priority: s.prio });
  s.setState('MASTER', reason);
  s.m.wantMaster = false;
  s.m.masterAddress = null;
  s.m.preemptAt = null;
  s.cancel('master-down');
  s.emit({ type: 'add-vips' });
  s.garp(s.spec.garp.masterRepeat);
  s.arm('advert', s.now + s.spec.advertIntMs);
  if (s.spec.garp.masterDelayMs > 0) s.arm('garp-delay', s.now + s.spec.garp.masterDelayMs);
  if (s.spec.garp.refreshMs > 0) s.arm('garp-refresh', s.now + s.spec.garp.refreshMs);
  s.notify('MASTER');
}

/** Leave MASTER: stop advertising, drop the VIPs and the GARP timers. */
function leaveMaster(s: Step): void {
  s.cancel('advert', 'garp-delay', 'garp-refresh', 'garp-lower-prio');
  s.emit({ type: 'remove-vips' });
}

function becomeBackup(s: Step, reason: string, masterDownAt: number): void {
  const wasMaster = s.m.state === 'MASTER';
  if (wasMaster) leaveMaster(s);
  s.setState('BACKUP', reason);
  s.arm('master-down', masterDownAt);
  s.notify('BACKUP');
}

function becomeFault(s: Step, reason: string): void {
  if (s.m.state === 'MASTER') {
    // tell the backups at once (priority 0) unless our own link is what failed
    if (s.m.observations.interfaces[s.spec.interface] !== false) s.emit({ type: 'send-advert', priority: PRIORITY_STOP });
    leaveMaster(s);
  }
  if (s.m.masterDownAt !== null) s.cancel('master-down');
  s.m.masterAddress = null;
  s.m.preemptAt = null;
  s.m.wantMaster = false;
  s.setState('FAULT', reason);
  s.notify('FAULT');
}

/** From INIT (start) or FAULT (recovered): RFC 5798 6.4.1 with keepalived's timings. */
function comeUp(s: Step, reason: string): void {
  s.m.masterAdvertIntMs = s.spec.advertIntMs;
  // keepalived 2.2.7 (observed): only an address owner configured `state MASTER` skips the
  // wait, and only at start; priority 255 with `state BACKUP`, or an owner recovering from
  // FAULT, goes BACKUP and waits Master_Down (3 s + 3.9 ms at 1 s) like anyone else
  if (s.m.state === 'INIT' && s.m.basePriority === PRIORITY_OWNER && s.spec.initialState === 'MASTER') {
    becomeMaster(s, `${reason}: address owner (priority 255)`);
    return;
  }
  // keepalived 2.2.7: below 255 even `state MASTER` starts BACKUP and waits Master_Down.
  // preempt_delay does not lengthen this wait (observed: with no master on the link an
  // instance with preempt_delay 2 took over at the same 3.63 s as one without), although
  // keepalived.conf(5) suggests it would; it only defers preempting a lower master.
  becomeBackup(s, reason, s.now + s.masterDown());
}

/** Re-evaluate tracking after an observation or priority change. */
function retrack(s: Step, reason: string): void {
  const before = s.m.effective;
  const after = computeEffectivePriority(s.m.basePriority, s.spec.tracking, s.m.observations);
  s.m.effective = after;
  const fault = after.fault || s.m.syncFault;
  const st = s.m.state;
  if (st === 'STOP') return;
  if (st === 'INIT') {
    if (s.m.started && !after.pending && !s.m.syncHold) startNow(s);
    return;
  }
  if (fault && st !== 'FAULT') {
    becomeFault(s, after.fault ? `${reason}: ${after.faultBy.join(', ')}` : `${reason}: sync group in FAULT`);
    return;
  }
  if (!fault && st === 'FAULT') {
    comeUp(s, `${reason}: recovered`);
    return;
  }
  if (st === 'BACKUP' && after.priority !== before.priority && s.m.masterDownAt !== null) {
    // keepalived moves the running Master_Down deadline by the change in skew (if that is
    // already past, it fires now)
    const oldDown = masterDownMs(s.spec.version, before.priority, s.m.masterAdvertIntMs);
    s.arm('master-down', Math.max(s.now, s.m.masterDownAt + (s.masterDown() - oldDown)));
  }
  // MASTER: the next advert carries the new priority (keepalived sends none early)
}

function startNow(s: Step): void {
  const e = s.m.effective;
  const resume = s.m.resume;
  s.m.resume = false;
  if (e.fault || s.m.syncFault) becomeFault(s, `start: ${e.faultBy.join(', ') || 'sync group in FAULT'}`);
  // Not an RFC path: a restarted child whose VIPs are still up carries on as MASTER. A
  // higher-priority master, if one took over meanwhile, still wins at its next advert.
  // nopreempt is honoured: such an instance waits in BACKUP as on any start.
  else if (resume && preemptAllowed(s.spec)) {
    s.m.masterAdvertIntMs = s.spec.advertIntMs;
    becomeMaster(s, 'start: our VIPs are on the host (restarted VRRP child), resuming as MASTER');
  } else comeUp(s, 'start');
}

/** An advert for our VRID that passed the packet checks (packet.ts). */
/**
 * Who sent an advert, as a MASTER sees it: itself (looped back), a master leaving
 * (priority 0), one that wins (higher priority, or equal from a higher address), or a
 * lower-priority rival it answers.
 */
function masterSees(m: InstanceMachine, adv: VrrpAdvert, src: string): 'self' | 'leaving' | 'higher' | 'lower' {
  const order = compareAddresses(src, m.spec.localAddress, m.spec.family);
  if (order === 0) return 'self';
  if (adv.priority === PRIORITY_STOP) return 'leaving';
  const prio = m.effective.priority;
  return adv.priority > prio || (adv.priority === prio && order > 0) ? 'higher' : 'lower';
}

/**
 * A MASTER hearing a lower-priority rival (the advert it answers with its own). The engine
 * needs to know before the step: keepalived resynchronises its IPsec AH sequence counter
 * on exactly these adverts, ahead of the answer.
 */
export function isLowerPriorityRival(m: InstanceMachine, adv: VrrpAdvert, src: string): boolean {
  return m.state === 'MASTER' && masterSees(m, adv, src) === 'lower';
}

function onAdvert(s: Step, adv: VrrpAdvert, src: string): void {
  const st = s.m.state;
  if (st === 'BACKUP') {
    if (adv.priority === PRIORITY_STOP) {
      // the master is leaving: wait only Skew_Time (RFC 5798 6.4.2)
      s.arm('master-down', s.now + s.skew());
      return;
    }
    const lower = adv.priority < s.prio;
    if (lower && preemptAllowed(s.spec)) {
      const delay = preemptDelay(s.spec);
      if (delay <= 0) return; // discard: Master_Down expires and we preempt
      if (s.m.preemptAt === null) s.m.preemptAt = s.now + delay;
      if (s.now >= s.m.preemptAt) return; // delay over: stop refreshing the timer
    } else if (!lower) {
      s.m.preemptAt = null;
    }
    if (s.spec.version === 3) s.m.masterAdvertIntMs = adv.advertIntMs;
    s.m.masterAddress = src;
    s.m.wantMaster = false; // a live master again
    s.arm('master-down', s.now + s.masterDown());
    return;
  }
  if (st === 'MASTER') {
    const rival = masterSees(s.m, adv, src);
    // our own advert looped back (multicast loop, or a misconfigured peer list): not a rival
    if (rival === 'self') return;
    if (rival === 'leaving') {
      // another master is leaving: assert ourselves at once (RFC 5798 6.4.3)
      s.emit({ type: 'send-advert', priority: s.prio });
      s.arm('advert', s.now + s.spec.advertIntMs);
      return;
    }
    if (rival === 'higher') {
      if (s.spec.higherPrioSendAdvert) s.emit({ type: 'send-advert', priority: s.prio });
      if (s.spec.version === 3) s.m.masterAdvertIntMs = adv.advertIntMs;
      s.m.masterAddress = src;
      becomeBackup(s, `higher priority advert from ${src} (${adv.priority} vs ${s.prio})`, s.now + s.masterDown());
      return;
    }
    // keepalived: a lower-priority master is answered at once ("forcing new election")
    // and the neighbours' ARP caches are refreshed
    if (!s.spec.lowerPrioNoAdvert) {
      s.emit({ type: 'send-advert', priority: s.prio });
      s.arm('advert', s.now + s.spec.advertIntMs);
    }
    s.garp(s.spec.garp.lowerPrioRepeat);
    if (s.spec.garp.lowerPrioRepeat > 0 && s.spec.garp.lowerPrioDelayMs > 0) {
      s.arm('garp-lower-prio', s.now + s.spec.garp.lowerPrioDelayMs);
    }
  }
  // INIT, FAULT, STOP: adverts are ignored
}

function onTimer(s: Step, name: TimerName, due: number): void {
  const st = s.m.state;
  switch (name) {
    case 'master-down':
      if (st !== 'BACKUP') return;
      if (s.m.preemptAt !== null && s.now < s.m.preemptAt) {
        s.arm('master-down', s.m.preemptAt);
        return;
      }
      s.m.masterDownAt = null;
      becomeMaster(s, 'master down timer expired');
      return;
    case 'advert':
      if (st !== 'MASTER') return;
      s.emit({ type: 'send-advert', priority: s.prio });
      s.arm('advert', nextPeriodic(due, s.now, s.spec.advertIntMs));
      return;
    case 'garp-delay':
      if (st === 'MASTER') s.garp(s.spec.garp.masterRepeat);
      return;
    case 'garp-refresh':
      if (st !== 'MASTER') return;
      s.garp(s.spec.garp.refreshRepeat);
      s.arm('garp-refresh', s.now + s.spec.garp.refreshMs);
      return;
    case 'garp-lower-prio':
      if (st === 'MASTER') s.garp(s.spec.garp.lowerPrioRepeat);
      return;
  }
}

/**
 * What shutdown and deletion share: a MASTER sends priority 0 and releases its VIPs, and the
 * Master_Down timer goes. False when the instance has stopped already.
 */
function stopRunning(s: Step): boolean {
  const st = s.m.state;
  if (st === 'STOP') return false;
  if (st === 'MASTER') {
    s.emit({ type: 'send-advert', priority: PRIORITY_STOP });
    leaveMaster(s);
  }
  if (s.m.masterDownAt !== null) s.cancel('master-down');
  return true;
}

function onShutdown(s: Step): void {
  const st = s.m.state;
  if (!stopRunning(s)) return;
  s.setState('STOP', 'shutdown');
  if (st !== 'INIT') s.notify('STOP');
}

/**
 * A reload removed the instance: it stops as on shutdown (priority 0 and its VIPs released if
 * MASTER), but keepalived (vrrp.c clear_diff_vrrp) announces it FAULT, or DELETED with
 * notify_deleted, through the fault (deleted) script, the generic notify script and the FIFO,
 * and says nothing for one already in FAULT without notify_deleted.
 */
function onDelete(s: Step): void {
  const st = s.m.state;
  if (!stopRunning(s)) return;
  s.m.state = 'STOP';
  const deleted = s.spec.notifyDeleted === true;
  if (!deleted && st === 'FAULT') return;
  const n = s.spec.notify;
  const specific = deleted ? n.deleted : n.fault;
  if (specific) s.emit({ type: 'notify', argv: [...specific.argv], user: specific.user, group: specific.group });
  const as = deleted ? 'DELETED' : 'FAULT';
  if (n.generic)
    s.emit({ type: 'notify', argv: [...n.generic.argv, 'INSTANCE', s.spec.name, as, String(s.prio)], user: n.generic.user, group: n.generic.group });
  s.emit({ type: 'deleted', as });
}

/** A new observation: new objects on the way to it, so the machine the step began from keeps its own. */
function observe<K extends keyof TrackingObservations>(s: Step, kind: K, name: string, value: TrackingObservations[K][string]): void {
  const o = s.m.observations;
  s.m.observations = { ...o, [kind]: { ...o[kind], [name]: value } };
}

export function step(m: InstanceMachine, ev: VrrpEvent, now: number): StepResult {
  const s = new Step(m, now);
  switch (ev.type) {
    case 'start':
      if (s.m.state !== 'INIT' || s.m.started) break;
      s.m.started = true;
      s.m.resume = ev.resume === true;
      if (!s.m.effective.pending && !s.m.syncHold) startNow(s);
      break;
    case 'advert':
      onAdvert(s, ev.advert, ev.src);
      break;
    case 'timer':
      onTimer(s, ev.name, ev.due ?? s.now);
      break;
    case 'priority':
      s.m.basePriority = ev.basePriority;
      retrack(s, `priority set to ${ev.basePriority}`);
      break;
    case 'interface':
      observe(s, 'interfaces', ev.name, ev.up);
      retrack(s, `interface ${ev.name} ${ev.up ? 'up' : 'down'}`);
      break;
    case 'script':
      observe(s, 'scripts', ev.name, ev.status);
      retrack(s, `script ${ev.name} ${ev.status}`);
      break;
    case 'track-file':
      observe(s, 'files', ev.name, ev.value);
      retrack(s, `track file ${ev.name} = ${ev.value}`);
      break;
    case 'track-process':
      observe(s, 'processes', ev.name, ev.up);
      retrack(s, `tracked process ${ev.name} quorum ${ev.up ? 'gained' : 'lost'}`);
      break;
    case 'deleted-behind-back':
      if (s.m.state !== 'MASTER') break;
      // with a priority 0 advert, as vrrp_state_leave_master(vrrp, true) sends
      s.emit({ type: 'send-advert', priority: PRIORITY_STOP });
      becomeBackup(s, `${ev.what} deleted`, s.now + s.skew());
      break;
    case 'sync':
      if (ev.goto === 'MASTER' && s.m.state === 'BACKUP') becomeMaster(s, 'sync group member became MASTER');
      else if (ev.goto === 'BACKUP' && s.m.state === 'MASTER') {
        becomeBackup(s, 'sync group member became BACKUP', s.now + s.masterDown());
      }
      break;
    case 'sync-blocked':
      if (s.m.state !== 'BACKUP') break;
      s.m.wantMaster = true;
      s.arm('master-down', s.now + s.masterDown());
      break;
    case 'sync-hold':
      s.m.syncHold = ev.hold;
      retrack(s, ev.hold ? 'sync group waiting' : 'sync group ready');
      break;
    case 'sync-fault':
      s.m.syncFault = ev.fault;
      retrack(s, ev.fault ? 'sync group FAULT' : 'sync group recovered');
      break;
    case 'shutdown':
      onShutdown(s);
      break;
    case 'delete':
      onDelete(s);
      break;
  }
  return s.result();
}

/** Runs events in order; handy for replays and for the sync group layer. */
export function run(m: InstanceMachine, events: readonly { at: number; event: VrrpEvent }[]): StepResult {
  let machine = m;
  const actions: VrrpAction[] = [];
  for (const { at, event } of events) {
    const r = step(machine, event, at);
    machine = r.machine;
    actions.push(...r.actions);
  }
  return { machine, actions };
}
