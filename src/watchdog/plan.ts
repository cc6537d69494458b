// What `keepalived-ts --plan` reports: the changes a HUP with a given file would make, as each
// child computes them for its part (VRRP instances and VIPs; IPVS services and destinations).
// Plain data: it crosses the parent<->child channel and the plan socket as JSON.

export interface VrrpInstancePlan {
  name: string;
  interface: string;
  vrid: number;
  family: 4 | 6;
  change: 'added' | 'removed' | 'altered';
  /** State now ('-' for an added instance). */
  state: string;
  /** Config fields whose value changes (an altered instance). */
  fields: string[];
  /** VIPs entering / leaving the instance's config. */
  vipsAdded: string[];
  vipsRemoved: string[];
  /** Whether the host's addresses change now (the instance is MASTER, or a removed MASTER releases its VIPs). */
  vipsOnHost: boolean;
  /** A state change the reload would cause, in words; null when none is expected. */
  stateChange: string | null;
}

export interface IpvsPlan {
  /** One line per netlink write, in the order the checker would issue them. */
  writes: string[];
  servicesAdded: string[];
  servicesRemoved: string[];
  servicesEdited: string[];
  destinationsAdded: string[];
  destinationsRemoved: string[];
  destinationsEdited: string[];
}

/** One child's answer: its part of the plan, or why it cannot give one. */
export type ChildPlan =
  | { role: 'vrrp'; ok: true; instances: VrrpInstancePlan[] }
  | { role: 'checker'; ok: true; ipvs: IpvsPlan }
  | { role: 'vrrp' | 'checker'; ok: false; message: string };

/** The parent's answer on the plan socket. */
export type ReloadPlan =
  /** The file would be refused: its located diagnostics, as `-t` prints them. */
  { ok: false; file: string; errors: string[] } | { ok: true; file: string; warnings: string[]; children: ChildPlan[]; notes: string[] };

export function planChanges(p: ReloadPlan): boolean {
  if (!p.ok) return false;
  return p.children.some((c) => c.ok && (c.role === 'vrrp' ? c.instances.length > 0 : c.ipvs.writes.length > 0)) || p.notes.length > 0;
}
