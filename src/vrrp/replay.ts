// Replay of recorded event logs (src/vrrp/testdata/fsm/*.json) through the pure machines,
// holo-vrrp style. A log is a base spec plus steps {at, event} with the state and the exact
// actions expected after each one. Actions are written in a compact text form so a log
// reads like a trace:
//   "state BACKUP->MASTER"  "advert 100"  "add-vips"  "remove-vips"  "garp 5"
//   "arm master-down 3609.375"  "cancel advert"  "notify /bin/notify INSTANCE VI_1 MASTER 100"  "deleted FAULT"
// In sync group logs each action is prefixed by its instance ("VI_1: advert 100") or
// "group: " for the group's own.

import { createMachine, step, type GarpSchedule, type InstanceMachine, type InstanceSpec, type VrrpAction, type VrrpEvent } from './fsm.js';
import type { VrrpAdvert } from './packet.js';
import { createGroup, stepGroup, type GroupMachine, type SyncGroupSpec } from './sync-group.js';

export function actionText(a: VrrpAction): string {
  switch (a.type) {
    case 'state-changed':
      return `state ${a.from}->${a.to}`;
    case 'send-advert':
      return `advert ${a.priority}`;
    case 'add-vips':
    case 'remove-vips':
      return a.type;
    case 'send-garp':
      return `garp ${a.repeat}`;
    case 'arm-timer':
      return `arm ${a.name} ${a.at}`;
    case 'cancel-timer':
      return `cancel ${a.name}`;
    case 'notify':
      return `notify ${a.argv.join(' ')}`;
    case 'deleted':
      return `deleted ${a.as}`;
  }
}

export const DEFAULT_SPEC: InstanceSpec = {
  name: 'VI_1',
  version: 2,
  family: 4,
  vrid: 51,
  basePriority: 100,
  advertIntMs: 1000,
  initialState: 'BACKUP',
  nopreempt: false,
  preemptDelayMs: 0,
  interface: 'eth0',
  localAddress: '10.0.0.1',
  vips: ['10.0.0.100'],
  garp: { masterDelayMs: 5000, masterRepeat: 5, refreshMs: 0, refreshRepeat: 1, lowerPrioDelayMs: 5000, lowerPrioRepeat: 5, intervalMs: 0 },
  lowerPrioNoAdvert: false,
  higherPrioSendAdvert: false,
  tracking: { interfaces: [{ name: 'eth0', weight: 0, reverse: false }], scripts: [], files: [], processes: [] },
  notify: {
    master: { argv: ['/etc/keepalived/master.sh'], user: null, group: null },
    backup: null,
    fault: null,
    stop: null,
    generic: { argv: ['/bin/notify'], user: null, group: null },
  },
};

/** Advert events in logs give only what matters; the rest comes from the receiving spec. */
export interface LoggedAdvertEvent {
  type: 'advert';
  src: string;
  advert: Partial<VrrpAdvert> & { priority: number };
}
export type LoggedEvent = Exclude<VrrpEvent, { type: 'advert' }> | LoggedAdvertEvent;

export interface LoggedStep {
  at: number;
  /** Sync group logs: which member gets the event ('*' = all). */
  to?: string;
  event: LoggedEvent;
  state: string;
  actions: string[];
}

export interface InstanceLog {
  name: string;
  description: string;
  spec?: SpecOverride;
  steps: LoggedStep[];
}

export interface GroupLog {
  name: string;
  description: string;
  group: { name: string; members: { spec: SpecOverride }[]; notifyGeneric?: string[] };
  steps: LoggedStep[];
}

function fullEvent(ev: LoggedEvent, spec: InstanceSpec): VrrpEvent {
  if (ev.type !== 'advert') return ev;
  const advert: VrrpAdvert = {
    version: spec.version,
    family: spec.family,
    vrid: spec.vrid,
    advertIntMs: spec.advertIntMs,
    authType: 0,
    authData: null,
    addresses: spec.vips,
    checksum: 0,
    ...ev.advert,
  };
  return { type: 'advert', src: ev.src, advert };
}

/** A spec override as logs write it: nested garp / notify fields may be partial too. */
export type SpecOverride = Partial<Omit<InstanceSpec, 'garp' | 'notify'>> & {
  garp?: Partial<GarpSchedule>;
  notify?: Partial<InstanceSpec['notify']>;
};

export function specWith(over: SpecOverride = {}): InstanceSpec {
  return { ...DEFAULT_SPEC, ...over, garp: { ...DEFAULT_SPEC.garp, ...(over.garp ?? {}) }, notify: { ...DEFAULT_SPEC.notify, ...(over.notify ?? {}) } };
}

export interface ReplayedStep {
  at: number;
  state: string;
  actions: string[];
}

export function replayInstance(log: InstanceLog): { steps: ReplayedStep[]; machine: InstanceMachine } {
  const spec = specWith(log.spec);
  let m = createMachine(spec);
  const steps: ReplayedStep[] = [];
  for (const s of log.steps) {
    const r = step(m, fullEvent(s.event, spec), s.at);
    m = r.machine;
    steps.push({ at: s.at, state: m.state, actions: r.actions.map(actionText) });
  }
  return { steps, machine: m };
}

export function replayGroup(log: GroupLog): { steps: ReplayedStep[]; machine: GroupMachine } {
  const specs = log.group.members.map((x) => specWith(x.spec));
  const gspec: SyncGroupSpec = {
    name: log.group.name,
    members: specs.map((s) => s.name),
    notify: {
      master: null,
      backup: null,
      fault: null,
      stop: null,
      generic: log.group.notifyGeneric ? { argv: log.group.notifyGeneric, user: null, group: null } : null,
    },
  };
  let g = createGroup(gspec, specs.map(createMachine));
  const steps: ReplayedStep[] = [];
  for (const s of log.steps) {
    const target = s.to ?? '*';
    const spec = target === '*' ? specs[0]! : specs.find((x) => x.name === target)!;
    const r = stepGroup(g, target, fullEvent(s.event, spec), s.at);
    g = r.machine;
    const states = gspec.members.map((n) => `${n}=${g.members[n]!.state}`).join(' ');
    steps.push({
      at: s.at,
      state: `group=${g.state} ${states}`,
      actions: r.actions.map((a) => `${a.instance ?? 'group'}: ${actionText(a.action)}`),
    });
  }
  return { steps, machine: g };
}
