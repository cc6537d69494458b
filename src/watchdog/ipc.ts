// Messages between the watchdog parent and its children, over the fork() IPC channel
// (`serialization: 'advanced'`: a config's bytes travel as bytes). Kept explicit: the
// channel is also the children's lifeline (when it closes, the parent is gone and the child
// shuts down as on TERM).
import type { KeepalivedConfig } from '../config/model.js';
import type { ConfigSnapshot } from '../config/snapshot.js';
import type { AddressSpec } from '../netlink/index.js';

import type { ChildPlan } from './plan.js';

export type ChildRole = 'vrrp' | 'checker';

/** A config the parent accepted, numbered in the order it accepted them. */
export interface AcceptedConfig {
  generation: number;
  snapshot: ConfigSnapshot;
}

/**
 * What the VRRP child has (or may have) on the host for its instances that are MASTER,
 * resuming with VIPs found at start, or handing over: the parent removes these when the
 * child is dead and will not be back before a backup takes over.
 */
export interface HeldByVrrp {
  /** Each address as it was installed (its device by index). */
  addresses: AddressSpec[];
  /**
   * The soonest a backup takes over once the adverts stop: the smallest Master_Down interval
   * of the MASTER instances (a backup, of lower priority, waits at least that long); null
   * when none is MASTER.
   */
  masterDownMs: number | null;
}

export type ChildToParent =
  /** Sent from a timer: proves the child's event loop still turns. */
  | { t: 'heartbeat' }
  /** The child starts and asks for the config to run (the last one the parent accepted). */
  | { t: 'config-wanted' }
  /** The child finished start-up (sockets open, config applied). */
  | { t: 'ready' }
  /** The child is about to exit for a reason a respawn cannot fix (config, permission). */
  | { t: 'fatal'; code: number; message: string }
  /** Answer to a reload: applied, or refused with the reason (the old config stays). */
  | { t: 'reloaded'; ok: boolean; generation: number; message?: string }
  /** The VRRP child's holdings changed (sent at each change, and once at start). */
  | ({ t: 'vips-held' } & HeldByVrrp)
  /** Answer to `collect`: prom-client JSON metrics and a JSON status object. */
  | { t: 'snapshot'; id: number; metrics: unknown[]; status: unknown }
  /** Answer to `plan`: this child's part of what a reload with that file would change. */
  | { t: 'plan'; id: number; plan: ChildPlan };

/**
 * An accepted config as the parent sends it to a child: with `model`, the child's part of the
 * model the parent built from those bytes (config/load-worker.ts vrrpPart, checkerPart), so
 * the child has nothing to parse. Absent only when the parent could not build it: the child
 * then loads `snapshot` itself.
 */
export type ConfigForChild = AcceptedConfig & { model?: KeepalivedConfig };

export type ParentToChild =
  /** Answer to `config-wanted`: the config to start with (the last one the parent accepted). */
  | ({ t: 'config' } & ConfigForChild)
  /** A newer accepted config: apply it, keeping what it does not change. */
  | ({ t: 'reload' } & ConfigForChild)
  /** Asks for a metrics + status snapshot (the status endpoint's scrape). */
  | { t: 'collect'; id: number }
  /** What would a reload with this file change? Changes nothing (`keepalived-ts --plan`). */
  | { t: 'plan'; id: number; configPath: string; configId?: string }
  | { t: 'shutdown' };

export function isChildMessage(m: unknown): m is ChildToParent {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

export function isParentMessage(m: unknown): m is ParentToChild {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}
