// The one place where the config model (src/config/model.ts) becomes the VRRP domain types.
// The state machine and the packet checks depend only on what this produces, never on
// parsing; a change in the config contract shows up here as a type error.

import type { GlobalDefs, KeepalivedConfig, ScriptSpec, TrackFile, TrackProcess, TrackRef, VrrpInstance, VrrpScript, VrrpSyncGroup } from '../config/model.js';
import { canonicalAddress } from './addr.js';
import type { InstanceSpec, NotifyScript } from './fsm.js';
import { VRRP_MCAST_V4, VRRP_MCAST_V6, type EncodeParams, type InstanceExpectations } from './packet.js';
import type { RiseFall } from './script-status.js';
import type { TrackedItem, TrackingSpec } from './tracking.js';

function notifyScript(s: ScriptSpec | null): NotifyScript | null {
  return s ? { argv: [...s.argv], user: s.user, group: s.group } : null;
}

function vipList(inst: VrrpInstance): string[] {
  return inst.virtualIpaddresses.filter((v) => v.family === inst.family).map((v) => canonicalAddress(v.address, v.family) ?? v.address);
}

/** track_interface entries: weight null means 0 (a failure is FAULT). */
function interfaceItems(refs: readonly TrackRef[]): TrackedItem[] {
  return refs.map((r) => ({ name: r.name, weight: r.weight ?? 0, reverse: r.reverse }));
}

/**
 * track_script (and track_process) entries: without an own weight, the vrrp_script's (the
 * vrrp_track_process's) weight and reverse apply. An entry whose definition is not in
 * `scripts` (a script disabled at load) is not tracked, as keepalived drops it from the instance.
 */
function scriptItems(refs: readonly TrackRef[], scripts: readonly Pick<VrrpScript, 'name' | 'weight' | 'weightReverse'>[]): TrackedItem[] {
  return refs.flatMap((r) => {
    const def = scripts.find((s) => s.name === r.name);
    if (!def) return [];
    if (r.weight !== null) return [{ name: r.name, weight: r.weight, reverse: r.reverse }];
    return [{ name: r.name, weight: def.weight, reverse: def.weightReverse }];
  });
}

/** track_file entries: without an own weight, the track_file block's weight and reverse apply. */
function fileItems(refs: readonly TrackRef[], files: readonly TrackFile[]): TrackedItem[] {
  return refs.map((r) => {
    const def = files.find((f) => f.name === r.name);
    if (r.weight !== null) return { name: r.name, weight: r.weight, reverse: r.reverse };
    return { name: r.name, weight: def?.weight ?? 1, reverse: def?.weightReverse ?? r.reverse };
  });
}

type StaticEntries = Pick<KeepalivedConfig, 'staticTrackGroups' | 'staticAddresses' | 'staticRoutes' | 'staticRules'>;

/**
 * track_group (keepalived vrrp_static_track.c): an instance of the group tracks the
 * interface of each static address, route (its dev) and rule (its iif) naming the group;
 * an entry with no_track is left out.
 */
export function staticTrackedInterfaces(instance: string, cfg: Partial<StaticEntries>): string[] {
  const groups = new Set((cfg.staticTrackGroups ?? []).filter((g) => g.instances.includes(instance)).map((g) => g.name));
  if (!groups.size) return [];
  const ours = (e: { trackGroup: string | null }) => e.trackGroup !== null && groups.has(e.trackGroup);
  const names = [
    ...(cfg.staticAddresses ?? []).filter((a) => ours(a) && !a.noTrack).map((a) => a.dev),
    ...(cfg.staticRoutes ?? []).filter((r) => ours(r) && r.track).map((r) => r.dev),
    ...(cfg.staticRules ?? []).filter((r) => ours(r) && r.track).map((r) => r.iif),
  ];
  return [...new Set(names.filter((n): n is string => n !== null))];
}

/**
 * keepalived (vrrp_complete_instance) makes an instance track, unweighted, every other
 * interface its VIPs, eVIPs and virtual routes (dev) and rules (iif, oif) name, unless the
 * entry says no_track: a VIP on a down interface is of no use, so the instance goes FAULT.
 * The instance's own interface is tracked as its primary already.
 */
export function entryTrackedInterfaces(
  inst: Pick<VrrpInstance, 'interface' | 'virtualIpaddresses' | 'virtualIpaddressesExcluded' | 'virtualRoutes' | 'virtualRules'>,
): string[] {
  const names = [
    ...[...inst.virtualIpaddresses, ...inst.virtualIpaddressesExcluded].filter((v) => !v.noTrack).map((v) => v.dev),
    ...inst.virtualRoutes.filter((r) => r.track).map((r) => r.dev),
    ...inst.virtualRules.filter((r) => r.track).flatMap((r) => [r.iif, r.oif]),
  ];
  return [...new Set(names.filter((n): n is string => n !== null && n !== inst.interface))];
}

export function trackingSpecFor(
  inst: VrrpInstance,
  scripts: readonly VrrpScript[],
  files: readonly TrackFile[],
  group: VrrpSyncGroup | null,
  processes: readonly TrackProcess[] = [],
  unweightedInterfaces: readonly string[] = [],
): TrackingSpec {
  const interfaces = interfaceItems(inst.trackInterfaces);
  // keepalived tracks the instance's own interface (weight 0) unless dont_track_primary
  if (!inst.dontTrackPrimary && !interfaces.some((i) => i.name === inst.interface)) {
    interfaces.unshift({ name: inst.interface, weight: 0, reverse: false });
  }
  const spec: TrackingSpec = {
    interfaces,
    scripts: scriptItems(inst.trackScripts, scripts),
    files: fileItems(inst.trackFiles, files),
    processes: scriptItems(inst.trackProcesses, processes),
  };
  if (group) {
    // a sync group's tracking applies to every member
    spec.interfaces.push(...interfaceItems(group.trackInterfaces));
    spec.scripts.push(...scriptItems(group.trackScripts, scripts));
    spec.files.push(...fileItems(group.trackFiles, files));
    spec.processes.push(...scriptItems(group.trackProcesses, processes));
  }
  // unweighted: an interface tracked with a weight loses it (keepalived add_vrrp_to_interface)
  for (const name of new Set(unweightedInterfaces)) {
    const tracked = spec.interfaces.filter((i) => i.name === name);
    for (const i of tracked) i.weight = 0;
    if (!tracked.length) spec.interfaces.push({ name, weight: 0, reverse: false });
  }
  return spec;
}

export interface RuntimeFacts {
  /** The address our adverts leave from (unicast_src_ip / mcast_src_ip / interface primary). */
  localAddress: string;
}

/** notify_priority_changes: the instance's own, else its sync group's, else vrrp_notify_priority_changes (keepalived). */
export function notifyPriorityChangesOf(inst: VrrpInstance, cfg: Pick<KeepalivedConfig, 'globalDefs' | 'vrrpSyncGroups'>): boolean {
  const group = inst.syncGroup ? cfg.vrrpSyncGroups.find((sg) => sg.name === inst.syncGroup) : undefined;
  return inst.notifyPriorityChanges ?? group?.notifyPriorityChanges ?? cfg.globalDefs.vrrpNotifyPriorityChanges;
}

export function instanceSpecFromConfig(
  inst: VrrpInstance,
  cfg: Pick<KeepalivedConfig, 'globalDefs' | 'vrrpScripts' | 'trackFiles' | 'vrrpSyncGroups'> &
    Partial<Pick<KeepalivedConfig, 'trackProcesses'> & StaticEntries>,
  facts: RuntimeFacts,
): InstanceSpec {
  const group = inst.syncGroup ? (cfg.vrrpSyncGroups.find((sg) => sg.name === inst.syncGroup) ?? null) : null;
  return {
    name: inst.name,
    version: inst.version,
    family: inst.family,
    vrid: inst.virtualRouterId,
    basePriority: inst.priority,
    advertIntMs: inst.advertIntMs,
    initialState: inst.state,
    nopreempt: inst.nopreempt,
    preemptDelayMs: inst.preemptDelayMs,
    interface: inst.interface,
    localAddress: canonicalAddress(facts.localAddress, inst.family) ?? facts.localAddress,
    vips: vipList(inst),
    garp: {
      masterDelayMs: inst.garpMasterDelayMs,
      masterRepeat: inst.garpMasterRepeat,
      refreshMs: inst.garpMasterRefreshMs,
      refreshRepeat: inst.garpMasterRefreshRepeat,
      lowerPrioDelayMs: inst.garpLowerPrioDelayMs ?? inst.garpMasterDelayMs,
      lowerPrioRepeat: inst.garpLowerPrioRepeat ?? inst.garpMasterRepeat,
      intervalMs: inst.family === 6 ? inst.gnaIntervalMs : inst.garpIntervalMs,
    },
    lowerPrioNoAdvert: inst.lowerPrioNoAdvert,
    higherPrioSendAdvert: inst.higherPrioSendAdvert,
    tracking: trackingSpecFor(inst, cfg.vrrpScripts, cfg.trackFiles, group, cfg.trackProcesses ?? [], [
      ...entryTrackedInterfaces(inst),
      ...staticTrackedInterfaces(inst.name, cfg),
    ]),
    notify: {
      master: notifyScript(inst.notifyMaster),
      backup: notifyScript(inst.notifyBackup),
      fault: notifyScript(inst.notifyFault),
      stop: notifyScript(inst.notifyStop),
      generic: notifyScript(inst.notify),
      deleted: notifyScript(inst.notifyDeleted?.script ?? null),
    },
    notifyDeleted: Boolean(inst.notifyDeleted),
  };
}

/** Receive rules for packet.ts's checkAdvertForInstance (set `currentMaster` per advert from
 * the machine's masterAddress for vrrp_skip_check_adv_addr to apply). */
export function expectationsFromConfig(inst: VrrpInstance, g: GlobalDefs): InstanceExpectations {
  return {
    version: inst.version,
    vrid: inst.virtualRouterId,
    advertIntMs: inst.advertIntMs,
    // authentication exists in v2 only (RFC 5798 dropped it); keepalived ignores it for v3
    auth: inst.version === 2 && inst.authentication ? { type: inst.authentication.type, pass: inst.authentication.pass } : null,
    addresses: vipList(inst),
    skipAddressCheck: g.vrrpSkipCheckAdvAddr,
    unicastPeers: inst.unicastPeers.map((p) => ({ address: p.address, minTtl: p.minTtl, maxTtl: p.maxTtl })),
    checkUnicastSource: g.vrrpCheckUnicastSrc,
  };
}

/** Where adverts go: the unicast peers, else the family's VRRP group (or the configured one). */
export function advertDestinations(inst: VrrpInstance, g: GlobalDefs): string[] {
  if (inst.unicastPeers.length > 0) return inst.unicastPeers.map((p) => p.address);
  return [inst.family === 6 ? g.vrrpMcastGroup6 || VRRP_MCAST_V6 : g.vrrpMcastGroup4 || VRRP_MCAST_V4];
}

export function riseFallFor(script: VrrpScript): RiseFall {
  return { rise: script.rise, fall: script.fall, initFail: script.initFail };
}

/** What packet.ts's encodeAdvert needs for this instance, except the priority of each advert. */
export function encodeParamsFromConfig(inst: VrrpInstance, facts: RuntimeFacts, dst: string): Omit<EncodeParams, 'priority'> {
  return {
    version: inst.version,
    family: inst.family,
    vrid: inst.virtualRouterId,
    advertIntMs: inst.advertIntMs,
    addresses: vipList(inst),
    auth: inst.version === 2 && inst.authentication ? { type: inst.authentication.type, pass: inst.authentication.pass } : null,
    src: facts.localAddress,
    dst,
    checksumAsV2: inst.v3ChecksumAsV2,
  };
}
