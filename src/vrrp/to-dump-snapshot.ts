// Converter: the engine's view of one instance -> the dump snapshot (src/dump/vrrp-snapshot.ts)
// that the keepalived.data / .stats / .json formatters print. Pure apart from resolving a
// track script's command path, which keepalived prints resolved (/bin/true -> /usr/bin/true).
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { KeepalivedConfig, ScriptSpec, VirtualIp, VrrpInstance } from '../config/model.js';
import type { InterfaceSnapshot, VrrpInstanceSnapshot, VrrpScriptSnapshot, VrrpStats } from '../dump/vrrp-snapshot.js';
import { scriptCommand, scriptUidGid, type ScriptResolver } from '../dump/global-section.js';
import type { InterfaceAddress, Link } from '../netlink/index.js';
import type { InstanceMachine } from './fsm.js';
import { multicastGroup } from './engine-plan.js';
import { notifyPriorityChangesOf } from './instance-spec.js';
import { masterDownMs } from './timers.js';
import { vipDevice } from './vips.js';

/** What the engine knows about an instance at dump time. */
export interface InstanceView {
  cfg: VrrpInstance;
  machine: InstanceMachine;
  /** Advert source address. */
  source: string;
  stats: VrrpStats;
  /** Seconds since the epoch of the last state change. */
  lastTransition: number;
  /** Priority in the last advert accepted from the current master (0 = none). */
  masterPriority: number;
  /** The VIPs are on the host (MASTER, or adopted after a restart). */
  vipsSet: boolean;
}

const secs = (ms: number) => ms / 1000;

/** Wall-clock seconds with microseconds, as keepalived's last_transition. */
export const wallSeconds = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000) / 1e6;

/** keepalived's format_ipaddress: `ADDR/LEN [brd B] dev IF scope S [label L] ... [set]`. */
export function formatVip(inst: VrrpInstance, vip: VirtualIp, set: boolean): string {
  // ipaddresstos leaves out a host prefix (/32, /128)
  const words = [vip.prefix === (vip.family === 4 ? 32 : 128) ? vip.address : `${vip.address}/${vip.prefix}`];
  const brd = vip.family === 4 ? broadcastOf(vip) : null;
  if (brd) words.push('brd', brd);
  words.push('dev', vipDevice(inst, vip));
  if (vip.useVmac) words.push('use_vmac');
  words.push('scope', vip.scope ?? 'global');
  if (vip.label) words.push('label', vip.label);
  if (vip.noDad) words.push('-nodad');
  if (vip.noTrack) words.push('no_track');
  // keepalived gives IPv6 VIPs its old defaults: a /128 deprecated, others preferred forever
  if (vip.family === 6) words.push(...(vip.prefix === 128 ? ['deprecated'] : ['preferred_lft', 'forever']));
  if (set) words.push('set');
  return words.join(' ');
}

/** `brd +` / `brd -` computed from the prefix, as keepalived does (prefix <= 30 only). */
function broadcastOf(vip: VirtualIp): string | null {
  const b = vip.broadcast;
  if (b === null) return null;
  if (b !== '+' && b !== '-') return b;
  if (vip.prefix > 30) return null;
  const n = vip.address.split('.').reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
  const host = vip.prefix === 0 ? 0xffffffff : (0xffffffff >>> vip.prefix) >>> 0;
  const v = b === '+' ? (n | host) >>> 0 : (n & ~host) >>> 0;
  return [24, 16, 8, 0].map((s) => (v >>> s) & 0xff).join('.');
}

/** The first word searched in PATH when it has no slash, then symlinks resolved. */
export function resolveCommand(argv0: string, path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): string {
  let found = argv0;
  if (!argv0.includes('/')) {
    for (const dir of path.split(delimiter)) {
      try {
        accessSync(join(dir, argv0), constants.X_OK);
        found = join(dir, argv0);
        break;
      } catch {
        /* not in this directory */
      }
    }
  }
  try {
    return realpathSync(found);
  } catch {
    return found;
  }
}

/** keepalived's cmd_str: every word in single quotes. */
export function commandText(s: ScriptSpec, resolve: (argv0: string) => string = resolveCommand): string {
  const [first, ...rest] = s.argv;
  if (first === undefined) return '';
  return [resolve(first), ...rest].map((w) => `'${w}'`).join(' ');
}

export function instanceSnapshot(v: InstanceView, config: KeepalivedConfig, resolve: (argv0: string) => string = resolveCommand): VrrpInstanceSnapshot {
  const { cfg, machine: m } = v;
  const g = config.globalDefs;
  const garp = m.spec.garp;
  const state = m.state;
  const scripts = m.spec.tracking.scripts.map((t) => {
    const def = config.vrrpScripts.find((s) => s.name === t.name);
    return { name: t.name, command: def ? commandText(def.script, resolve) : '', weight: t.weight };
  });
  return {
    name: cfg.name,
    interface: cfg.interface,
    vrid: cfg.virtualRouterId,
    version: cfg.version,
    family: cfg.family,
    state,
    // keepalived's wantstate: MASTER while a sync group holds a member back
    wantState: m.wantMaster ? 'MASTER' : state,
    basePriority: m.basePriority,
    effectivePriority: m.effective.priority,
    masterPriority: v.masterPriority,
    masterAddress: state === 'BACKUP' ? m.masterAddress : null,
    masterDownUs: Math.floor(masterDownMs(cfg.version, m.effective.priority, m.masterAdvertIntMs) * 1000),
    trackFaults: m.effective.faultBy.length,
    scriptsInit: m.spec.tracking.scripts.filter((t) => (m.observations.scripts[t.name] ?? 'init') === 'init').length,
    advertIntMs: cfg.advertIntMs,
    masterAdvertIntMs: m.masterAdvertIntMs,
    lastTransition: v.lastTransition,
    garpDelayS: secs(garp.masterDelayMs),
    garpRepeat: garp.masterRepeat,
    garpRefreshS: secs(garp.refreshMs),
    garpRefreshRepeat: garp.refreshRepeat,
    garpLowerPrioDelayS: secs(garp.lowerPrioDelayMs),
    garpLowerPrioRepeat: garp.lowerPrioRepeat,
    lowerPrioNoAdvert: m.spec.lowerPrioNoAdvert,
    higherPrioSendAdvert: m.spec.higherPrioSendAdvert,
    dontTrackPrimary: cfg.dontTrackPrimary,
    skipCheckAdvAddr: g.vrrpSkipCheckAdvAddr,
    strictMode: cfg.strictMode,
    accept: cfg.accept,
    nopreempt: cfg.nopreempt,
    preemptDelayS: secs(cfg.preemptDelayMs),
    smtpAlert: cfg.smtpAlert ?? g.smtpAlert,
    notifyPriorityChanges: notifyPriorityChangesOf(cfg, config),
    notifyDeleted: Boolean(cfg.notifyDeleted),
    srcIp: v.source,
    srcIpFromConfig: (cfg.unicastSrcIp ?? cfg.mcastSrcIp) !== null,
    mcastGroup: multicastGroup(cfg, config),
    unicastPeers: cfg.unicastPeers.map((p) => ({ address: p.address, minTtl: p.minTtl ?? 0, maxTtl: p.maxTtl ?? 255 })),
    checkUnicastSrc: g.vrrpCheckUnicastSrc,
    auth: cfg.version === 2 && cfg.authentication ? { ...cfg.authentication } : null,
    vips: cfg.virtualIpaddresses.map((vip) => formatVip(cfg, vip, v.vipsSet)),
    trackScripts: scripts,
    stats: { ...v.stats },
  };
}

/** The vrrp_scripts some instance tracks, with their runners' state, for keepalived.data. */
export function scriptSnapshots(
  views: readonly InstanceView[],
  config: KeepalivedConfig,
  states: ReadonlyMap<string, { counter: number; status: string; running: boolean }>,
  resolver: ScriptResolver,
): VrrpScriptSnapshot[] {
  return config.vrrpScripts.flatMap((s) => {
    const tracking = views.flatMap((v) =>
      v.machine.spec.tracking.scripts.filter((t) => t.name === s.name).map((t) => ({ instance: v.cfg.name, weight: t.weight })),
    );
    if (!tracking.length) return [];
    const state = states.get(s.name);
    return [
      {
        name: s.name,
        command: scriptCommand(resolver, s.script),
        intervalS: Math.floor(s.intervalMs / 1000),
        // keepalived keeps an unwritten timeout at 0 (meaning: the interval); the model resolved it
        timeoutS: s.timeoutMs === s.intervalMs ? 0 : Math.floor(s.timeoutMs / 1000),
        weight: s.weight,
        weightReverse: s.weightReverse,
        rise: s.rise,
        fall: s.fall,
        result: state?.counter ?? 0,
        init: (state?.status ?? 'init') === 'init',
        uidGid: scriptUidGid(resolver, { user: s.user ?? s.script.user, group: s.user ? s.group : s.script.group }, config.globalDefs),
        tracking,
        running: state?.running ?? false,
      },
    ];
  });
}

/** The host's interfaces as keepalived.data lists them, from rtnetlink's links and addresses. */
export function interfaceSnapshots(links: readonly Link[], addresses: readonly InterfaceAddress[], views: readonly InstanceView[]): InterfaceSnapshot[] {
  const vips = new Set(views.flatMap((v) => v.cfg.virtualIpaddresses.map((a) => a.address)));
  return links.map((l) => {
    const own = addresses.filter((a) => a.ifindex === l.index);
    const tracking = views.flatMap((v) => [
      ...(v.cfg.interface === l.name ? [{ instance: v.cfg.name, weight: 0 }] : []),
      ...v.cfg.trackInterfaces.filter((t) => t.name === l.name).map((t) => ({ instance: v.cfg.name, weight: t.weight ?? 0 })),
    ]);
    return {
      name: l.name,
      index: l.index,
      ipv4: own.find((a) => a.family === 4 && !vips.has(a.address))?.address ?? null,
      ipv6: own.find((a) => a.family === 6 && a.address.startsWith('fe80:'))?.address ?? null,
      mac: l.mac,
      broadcastMac: l.broadcastMac,
      up: l.adminUp,
      running: l.running,
      loopback: l.hardwareType === 772,
      mtu: l.mtu,
      hardwareType: l.hardwareType,
      tracking,
    };
  });
}
