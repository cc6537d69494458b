// The engine's view of one instance turned into the dump snapshot (src/dump/vrrp-snapshot.ts)
// that the keepalived.data / .stats / .json formatters print. Pure apart from resolving a
// track script's command path, which keepalived prints resolved (/bin/true -> /usr/bin/true).
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { KeepalivedConfig, ScriptSpec, VirtualIp, VrrpInstance } from '../config/model.js';
import type { DumpState, VrrpInstanceSnapshot, VrrpStats } from '../dump/vrrp-snapshot.js';
import type { InstanceMachine } from './fsm.js';
import { multicastGroup } from './engine-plan.js';
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
  words.push('dev', vipDevice(inst, vip), 'scope', vip.scope ?? 'global');
  if (vip.label) words.push('label', vip.label);
  if (vip.noDad) words.push('-nodad');
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

export function instanceSnapshot(
  v: InstanceView,
  config: KeepalivedConfig,
  resolve: (argv0: string) => string = resolveCommand,
): VrrpInstanceSnapshot {
  const { cfg, machine: m } = v;
  const g = config.globalDefs;
  const garp = m.spec.garp;
  const state = m.state as DumpState;
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
