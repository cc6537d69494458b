// Effective priority from tracked objects (track_interface, track_script, track_file,
// track_process), as
// keepalived computes it. Pure: a tracking spec plus the current observations in, priority
// and fault out.
//
// Weight rules (keepalived.conf(5)):
//  - weight 0: the object failing puts the instance in FAULT (reverse: the object being up does).
//  - weight > 0: added while the object is up/good; weight < 0: added (it is negative) while
//    it is down/bad. reverse flips the sign of the adjustment.
//  - track_file: value x weight is added; with weight 0 a non-zero value is a failure; a
//    result below -253 is a failure.
//  - The result is clamped to [1, 254]; an address owner (255) never changes priority.

import { PRIORITY_OWNER } from './timers.js';
import type { ScriptStatus } from './script-status.js';

export interface TrackedItem {
  name: string;
  weight: number;
  reverse: boolean;
}

export interface TrackingSpec {
  interfaces: TrackedItem[];
  scripts: TrackedItem[];
  files: TrackedItem[];
  processes: TrackedItem[];
}

export interface TrackingObservations {
  /** Interface name -> up. Missing = unknown, treated as up (the I/O layer reports downs). */
  interfaces: Record<string, boolean>;
  /** Script name -> status after rise/fall. 'init' (no result yet) neither adds nor faults. */
  scripts: Record<string, ScriptStatus>;
  /** Track file name -> last value read (missing = 0). */
  files: Record<string, number>;
  /** vrrp_track_process name -> quorum. Missing = not reported, treated as up (the I/O layer seeds losses). */
  processes: Record<string, boolean>;
}

export function emptyObservations(): TrackingObservations {
  return { interfaces: {}, scripts: {}, files: {}, processes: {} };
}

export interface EffectivePriority {
  priority: number;
  fault: boolean;
  /** Which tracked objects are causing FAULT (for logs). */
  faultBy: string[];
  /**
   * Some tracked script has not reported yet. keepalived holds such an instance back (quietly,
   * no FAULT notify) until every script's first result is in; the machine stays in INIT.
   */
  pending: boolean;
}

/** Adjustment of one up/down object: [delta, faults]. */
function binaryContribution(item: TrackedItem, up: boolean): [number, boolean] {
  if (item.weight === 0) return [0, item.reverse ? up : !up];
  const sign = item.reverse ? -1 : 1;
  if (item.weight > 0) return [up ? item.weight * sign : 0, false];
  return [up ? 0 : item.weight * sign, false];
}

export function computeEffectivePriority(basePriority: number, spec: TrackingSpec, obs: TrackingObservations): EffectivePriority {
  let total = basePriority;
  const faultBy: string[] = [];
  let pending = false;
  for (const i of spec.interfaces) {
    const [d, f] = binaryContribution(i, obs.interfaces[i.name] ?? true);
    total += d;
    if (f) faultBy.push(`interface ${i.name}`);
  }
  for (const s of spec.scripts) {
    const st = obs.scripts[s.name] ?? 'init';
    if (st === 'init') {
      pending = true;
      continue;
    }
    const [d, f] = binaryContribution(s, st === 'good');
    total += d;
    if (f) faultBy.push(`script ${s.name}`);
  }
  // recorded event logs (testdata/) predate track_process: absent reads as none
  for (const p of spec.processes ?? []) {
    const [d, f] = binaryContribution(p, obs.processes?.[p.name] ?? true);
    total += d;
    if (f) faultBy.push(`process ${p.name}`);
  }
  for (const t of spec.files) {
    const value = obs.files[t.name] ?? 0;
    if (t.weight === 0) {
      if ((value !== 0) !== t.reverse) faultBy.push(`file ${t.name}`);
      continue;
    }
    const d = value * t.weight * (t.reverse ? -1 : 1);
    if (d < -253) faultBy.push(`file ${t.name}`);
    else total += d;
  }
  const priority = basePriority === PRIORITY_OWNER ? PRIORITY_OWNER : Math.min(254, Math.max(1, total));
  return { priority, fault: faultBy.length > 0, faultBy, pending };
}
