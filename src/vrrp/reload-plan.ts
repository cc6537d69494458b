// What a reload would do to the VRRP side, decided from the same matching and VIP diff the
// engine's reload() applies, without applying anything (`keepalived-ts --plan`).
import type { VrrpInstance } from '../config/model.js';
import type { VrrpInstancePlan } from '../watchdog/plan.js';
import { matchInstances } from './engine-plan.js';
import { installedVips, vipChanges } from './vips.js';

/** A running instance as the plan needs it. */
export interface RunningInstance {
  cfg: VrrpInstance;
  state: string;
  /** Effective priority now (base priority plus tracking). */
  priority: number;
  /** Priority of the master we hear while BACKUP (0 = none heard). */
  masterPriority: number;
}

const VRRP_PRIO_OWNER = 255;

const vipText = (v: { address: string; prefix: number }) => `${v.address}/${v.prefix}`;

/** Fields of a config value, source positions left out (moving a block is no change). */
function comparable(v: unknown): string {
  return JSON.stringify(v, (k, val: unknown) => (k === 'pos' ? undefined : val));
}

export function changedFields(before: VrrpInstance, after: VrrpInstance): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete('pos');
  return [...keys].filter((k) => comparable(before[k as keyof VrrpInstance]) !== comparable(after[k as keyof VrrpInstance])).sort();
}

/** The state change a new base priority causes, when one is certain or likely enough to say. */
function priorityStateChange(run: RunningInstance, next: VrrpInstance): string | null {
  if (next.priority === run.cfg.priority) return null;
  const effective = run.priority + (next.priority - run.cfg.priority);
  if (run.state === 'MASTER') {
    return effective < run.priority
      ? `priority ${run.cfg.priority} -> ${next.priority}: stays MASTER unless a backup with a higher priority preempts it`
      : null;
  }
  if (run.state !== 'BACKUP') return null;
  if (next.priority === VRRP_PRIO_OWNER) return 'BACKUP -> MASTER (priority 255: address owner)';
  if (!next.nopreempt && run.masterPriority > 0 && effective > run.masterPriority) {
    return `BACKUP -> MASTER (priority ${effective} preempts the master's ${run.masterPriority})`;
  }
  return null;
}

export function planVrrpReload(running: readonly RunningInstance[], next: readonly VrrpInstance[]): VrrpInstancePlan[] {
  const m = matchInstances(running, next);
  const base = (cfg: VrrpInstance) => ({ name: cfg.name, interface: cfg.interface, vrid: cfg.virtualRouterId, family: cfg.family });
  const plans: VrrpInstancePlan[] = [];
  for (const r of m.removed) {
    const master = r.state === 'MASTER';
    plans.push({
      ...base(r.cfg),
      change: 'removed',
      state: r.state,
      fields: [],
      vipsAdded: [],
      vipsRemoved: installedVips(r.cfg).map(vipText),
      vipsOnHost: master,
      stateChange: master ? 'MASTER -> removed: sends priority 0 (a backup takes over) and releases its VIPs' : `${r.state} -> removed`,
    });
  }
  for (const { old, next: cfg } of m.kept) {
    const fields = changedFields(old.cfg, cfg);
    if (fields.length === 0) continue;
    const ch = vipChanges(old.cfg, cfg);
    plans.push({
      ...base(cfg),
      change: 'altered',
      state: old.state,
      fields,
      vipsAdded: ch.add.map(vipText),
      vipsRemoved: ch.remove.map(vipText),
      // a reload edits the host's addresses only on a MASTER (engine.reload)
      vipsOnHost: old.state === 'MASTER' && ch.add.length + ch.remove.length > 0,
      stateChange: priorityStateChange(old, cfg),
    });
  }
  for (const cfg of m.added) {
    plans.push({
      ...base(cfg),
      change: 'added',
      state: '-',
      fields: [],
      vipsAdded: installedVips(cfg).map(vipText),
      vipsRemoved: [],
      vipsOnHost: cfg.priority === VRRP_PRIO_OWNER,
      // keepalived starts an instance BACKUP below priority 255, whatever its `state` says
      stateChange: cfg.priority === VRRP_PRIO_OWNER ? 'starts as MASTER (priority 255)' : 'starts in BACKUP; MASTER if no higher-priority master is heard',
    });
  }
  return plans;
}
