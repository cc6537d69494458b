// Messages between the watchdog parent and its children, over the fork() IPC channel.
// Kept tiny and explicit: the channel is also the children's lifeline (when it closes,
// the parent is gone and the child shuts down as on TERM).

import type { ChildPlan } from './plan.js';

export type ChildRole = 'vrrp' | 'checker';

export type ChildToParent =
  /** Sent from a timer: proves the child's event loop still turns. */
  | { t: 'heartbeat' }
  /** The child finished start-up (sockets open, config applied). */
  | { t: 'ready' }
  /** The child is about to exit for a reason a respawn cannot fix (config, permission). */
  | { t: 'fatal'; code: number; message: string }
  /** Answer to a reload: applied, or refused with the reason (the old config stays). */
  | { t: 'reloaded'; ok: boolean; message?: string }
  /** Answer to `collect`: prom-client JSON metrics and a JSON status object. */
  | { t: 'snapshot'; id: number; metrics: unknown[]; status: unknown }
  /** Answer to `plan`: this child's part of what a reload with that file would change. */
  | { t: 'plan'; id: number; plan: ChildPlan };

export type ParentToChild =
  | { t: 'reload'; configPath: string; configId?: string }
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
