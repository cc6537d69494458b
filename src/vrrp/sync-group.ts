// vrrp_sync_group as a pure layer over instance machines. Members move together:
//  - a member whose Master_Down expires goes MASTER only if every other member wants to
//    as well (their own Master_Down expired too); otherwise it stays BACKUP, is marked as
//    wanting MASTER and waits another Master_Down (keepalived's vrrp_sync_can_goto_master);
//  - a member becoming MASTER pulls the other BACKUP members to MASTER;
//  - a member falling from MASTER to BACKUP pushes the other masters to BACKUP;
//  - a member entering FAULT through its own tracking holds every other member in FAULT
//    (sync-fault) until no member has a fault of its own; then they all come back up;
//  - at start, members wait in INIT until every member's tracked scripts have reported.
// Events are delivered to one member (adverts, timers) or to all (start, shutdown, shared
// tracking); the consequences are fed back as 'sync' events until nothing changes.

import type { ScriptSpec, VrrpSyncGroup } from '../config/model.js';
import { step, type InstanceMachine, type NotifyScript, type VrrpAction, type VrrpEvent, type VrrpStateName } from './fsm.js';

export interface SyncGroupSpec {
  name: string;
  /** Member instance names, config order. */
  members: string[];
  notify: {
    master: NotifyScript | null;
    backup: NotifyScript | null;
    fault: NotifyScript | null;
    stop: NotifyScript | null;
    generic: NotifyScript | null;
  };
}

export function syncGroupSpecFromConfig(g: VrrpSyncGroup): SyncGroupSpec {
  const ns = (s: ScriptSpec | null): NotifyScript | null => (s ? { argv: [...s.argv], user: s.user, group: s.group } : null);
  return {
    name: g.name,
    members: [...g.group],
    notify: { master: ns(g.notifyMaster), backup: ns(g.notifyBackup), fault: ns(g.notifyFault), stop: ns(g.notifyStop), generic: ns(g.notify) },
  };
}

export interface GroupMachine {
  spec: SyncGroupSpec;
  state: VrrpStateName;
  members: Record<string, InstanceMachine>;
}

/** An action of one member (instance = its name) or of the group itself (instance = null). */
export interface GroupAction {
  instance: string | null;
  action: VrrpAction;
}

export interface GroupStepResult {
  machine: GroupMachine;
  actions: GroupAction[];
}

export function createGroup(spec: SyncGroupSpec, members: readonly InstanceMachine[]): GroupMachine {
  const byName: Record<string, InstanceMachine> = {};
  for (const m of members) byName[m.spec.name] = m;
  for (const name of spec.members) if (!byName[name]) throw new Error(`sync group ${spec.name}: no instance ${name}`);
  return { spec, state: 'INIT', members: byName };
}

/** Delivers `event` to `target` (a member name, or '*' for every member in order). */
export function stepGroup(g: GroupMachine, target: string, event: VrrpEvent, now: number): GroupStepResult {
  const members = { ...g.members };
  const others = (name: string) => g.spec.members.filter((x) => x !== name);
  let state = g.state;
  const actions: GroupAction[] = [];
  const queue: { name: string; event: VrrpEvent }[] = target === '*' ? g.spec.members.map((name) => ({ name, event })) : [{ name: target, event }];
  // keepalived only takes a group to MASTER when every member wants it: a member whose
  // Master_Down expires while another still hears its master stays BACKUP and waits again
  // (observed on 2.2.7: B never took over while A's master was alive, then both together)
  for (const q of queue) {
    if (q.event.type !== 'timer' || q.event.name !== 'master-down') continue;
    const m = members[q.name]!;
    const deferred = m.preemptAt !== null && now < m.preemptAt;
    const blocked = others(q.name).some((o) => !members[o]!.wantMaster && members[o]!.state !== 'MASTER');
    if (m.state === 'BACKUP' && state !== 'MASTER' && !deferred && blocked) q.event = { type: 'sync-blocked' };
  }

  const setGroupState = (to: VrrpStateName, reason: string) => {
    if (state === to) return;
    actions.push({ instance: null, action: { type: 'state-changed', from: state, to, reason } });
    state = to;
    if (to === 'INIT') return;
    const n = g.spec.notify;
    const specific = { MASTER: n.master, BACKUP: n.backup, FAULT: n.fault, STOP: n.stop }[to as 'MASTER'];
    if (specific) actions.push({ instance: null, action: { type: 'notify', argv: [...specific.argv], user: specific.user, group: specific.group } });
    if (n.generic) {
      actions.push({
        instance: null,
        // keepalived passes a priority of 0 for groups (observed: `GROUP GF MASTER 0`)
        action: { type: 'notify', argv: [...n.generic.argv, 'GROUP', g.spec.name, to, '0'], user: n.generic.user, group: n.generic.group },
      });
    }
  };
  const waitingForScripts = () => g.spec.members.some((x) => members[x]!.state === 'INIT' && members[x]!.effective.pending);
  // keepalived starts a group only when every member's tracked scripts have reported:
  // hold the others in INIT while one still waits
  if (event.type === 'start' && waitingForScripts()) {
    for (const x of g.spec.members) members[x] = { ...members[x]!, syncHold: true };
  }

  let guard = 0;
  while (queue.length > 0) {
    if (++guard > 1000) throw new Error(`sync group ${g.spec.name}: no fixed point`); // a bug, not input
    const { name, event: ev } = queue.shift()!;
    const r = step(members[name]!, ev, now);
    members[name] = r.machine;
    for (const a of r.actions) {
      actions.push({ instance: name, action: a });
      if (a.type !== 'state-changed') continue;
      const m = r.machine;
      if (a.to === 'FAULT' && m.effective.fault && state !== 'FAULT') {
        setGroupState('FAULT', `${name}: ${a.reason}`);
        // the originator too: its own recovery must not bring it up while another member
        // still has a fault; the group releases everyone at once below
        for (const o of g.spec.members) queue.push({ name: o, event: { type: 'sync-fault', fault: true } });
      } else if (a.to === 'MASTER' && state !== 'MASTER' && state !== 'FAULT') {
        setGroupState('MASTER', `${name} became MASTER`);
        for (const o of others(name)) queue.push({ name: o, event: { type: 'sync', goto: 'MASTER' } });
      } else if (a.to === 'BACKUP' && a.from === 'MASTER' && state === 'MASTER') {
        setGroupState('BACKUP', `${name} left MASTER`);
        // a VIP, route or rule deleted behind our back: every member leaves MASTER the same
        // way, back after its skew time (keepalived_netlink.c set_vrrp_backup)
        const follow: VrrpEvent =
          ev.type === 'deleted-behind-back'
            ? { type: 'deleted-behind-back', what: `${ev.what} (of sync group member ${name})` }
            : { type: 'sync', goto: 'BACKUP' };
        for (const o of others(name)) queue.push({ name: o, event: follow });
      } else if (a.to === 'BACKUP' && state !== 'MASTER' && state !== 'FAULT') {
        setGroupState('BACKUP', `${name} is BACKUP`);
      } else if (a.to === 'STOP' && g.spec.members.every((x) => members[x]!.state === 'STOP')) {
        setGroupState('STOP', 'all members stopped');
      }
    }
    if (queue.length === 0 && !waitingForScripts()) {
      for (const x of g.spec.members) {
        if (members[x]!.syncHold) queue.push({ name: x, event: { type: 'sync-hold', hold: false } });
      }
    }
    // the group leaves FAULT once no member has a fault of its own
    if (queue.length === 0 && state === 'FAULT' && g.spec.members.every((x) => !members[x]!.effective.fault)) {
      // keepalived: "Syncing instances to BACKUP state" as the fault clears
      setGroupState('BACKUP', 'no member in FAULT');
      for (const x of g.spec.members) {
        if (members[x]!.syncFault) queue.push({ name: x, event: { type: 'sync-fault', fault: false } });
      }
    }
  }
  return { machine: { spec: g.spec, state, members }, actions };
}
