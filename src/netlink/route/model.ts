/**
 * rtnetlink's domain types: links, addresses and their events as the VRRP and tracking code
 * sees them, with no wire layout in sight. codec.ts converts between these and the kernel's
 * messages.
 */

/** IP version. */
export type Family = 4 | 6;

export type AddressScope = 'global' | 'site' | 'link' | 'host' | 'nowhere';

export interface AddressFlags {
  secondary: boolean;
  /** IPv6: no duplicate address detection (keepalived sets it on IPv6 VIPs). */
  noDad: boolean;
  optimistic: boolean;
  dadFailed: boolean;
  deprecated: boolean;
  tentative: boolean;
  permanent: boolean;
  noPrefixRoute: boolean;
}

/** An address as the kernel reports it. */
export interface InterfaceAddress {
  ifindex: number;
  family: Family;
  /** The local address (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6), canonical text. */
  address: string;
  prefix: number;
  /** Point-to-point peer, when the kernel's IFA_ADDRESS differs from the local address. */
  peer: string | null;
  broadcast: string | null;
  /** IPv4 only (e.g. `eth0:vip`); IPv6 addresses carry no label. */
  label: string | null;
  /** A named scope, or the raw number for scopes ip(8) has no name for. */
  scope: AddressScope | number;
  flags: AddressFlags;
}

/** What to add or delete. Omitted fields take the kernel's defaults. */
export interface AddressSpec {
  ifindex: number;
  family: Family;
  address: string;
  prefix: number;
  /** An address, `+` for the directed broadcast of address/prefix, or null/undefined for none. */
  broadcast?: string | null;
  scope?: AddressScope | number | null;
  label?: string | null;
  noDad?: boolean;
  noPrefixRoute?: boolean;
  peer?: string | null;
}

export type AddOutcome = 'added' | 'already-present';
export type DeleteOutcome = 'deleted' | 'already-absent';

/** IF_OPER_* of RFC 2863, as the kernel reports in IFLA_OPERSTATE. */
export type OperState = 'unknown' | 'notpresent' | 'down' | 'lowerlayerdown' | 'testing' | 'dormant' | 'up';

export interface Link {
  index: number;
  name: string;
  /** Hardware address; null for links without one (e.g. some tunnels). */
  mac: string | null;
  broadcastMac: string | null;
  mtu: number;
  /** IFF_UP: configured up by the administrator. */
  adminUp: boolean;
  /** IFF_RUNNING: the kernel considers the link operational. */
  running: boolean;
  /** IFF_LOWER_UP: carrier present. */
  lowerUp: boolean;
  operState: OperState;
  /** ARPHRD_* hardware type: 1 Ethernet, 772 loopback. */
  hardwareType: number;
  /** IFLA_INFO_KIND (veth, bridge, macvlan, ...) or null for physical/unknown. */
  kind: string | null;
  /** IFLA_LINK: the parent link of a macvlan/vlan, when there is one. */
  parentIndex: number | null;
  masterIndex: number | null;
  /** macvlan mode (MACVLAN_MODE_*) or ipvlan mode (IPVLAN_MODE_*) from IFLA_INFO_DATA; null for other kinds. */
  vlanMode: number | null;
  /** ipvlan's IPVLAN_F_* flags; null for other kinds. */
  ipvlanFlags: number | null;
  /** Raw IFF_* flags, for anything the named fields do not cover. */
  flags: number;
}

/** Events from the kernel, as delivered by a subscription. */
export type NetlinkEvent =
  /** New, or updated (the kernel re-announces an address when e.g. DAD ends: flags differ). */
  | { kind: 'address-added'; address: InterfaceAddress }
  | { kind: 'address-removed'; address: InterfaceAddress }
  /** The link became usable (admin up and running); also the first report of a usable link. */
  | { kind: 'link-up'; link: Link }
  /** The link stopped being usable; also the first report of an unusable link. */
  | { kind: 'link-down'; link: Link }
  /** Anything else changed (name, MAC, MTU, flags) without changing usability. */
  | { kind: 'link-changed'; link: Link; previous: Link }
  | { kind: 'link-removed'; link: Link }
  /** Only with `routes` subscribed: a route the kernel removed (by anyone). */
  | { kind: 'route-removed'; route: RouteNotice }
  /** Only with `rules` subscribed: a policy rule the kernel removed (by anyone). */
  | { kind: 'rule-removed'; rule: RuleSpec }
  /** The kernel dropped notifications (ENOBUFS): state must be re-read with a fresh list. */
  | { kind: 'overrun' };

/** A route to `destination/length` through the device `ifindex` (bgp_announce's kernel routes). */
export interface RouteSpec {
  /** RTN_UNICAST or RTN_LOCAL. */
  type: number;
  family: Family;
  /** Network address (host bits clear). */
  destination: string;
  length: number;
  ifindex: number;
  table: number;
  protocol: number;
  metric: number;
}

/** A route named by a notification: the keys keepalived compares to recognise one of its own. */
export interface RouteNotice {
  family: Family;
  /** Network address (0.0.0.0 / :: for a default route). */
  destination: string;
  length: number;
  tos: number;
  table: number;
  /** RTPROT_* */
  protocol: number;
  /** RTA_OIF; null when the route has none (multipath, blackhole). */
  oif: number | null;
  /** RTA_PRIORITY (the metric); 0 when absent. */
  priority: number;
}

/** A route as the kernel lists it (the fields RouteSpec has, type any RTN_*; others are not read). */
export type KernelRoute = RouteSpec;

export type RouteAddOutcome = 'added' | 'already-present';
export type RouteDeleteOutcome = 'deleted' | 'already-absent';

// ---- routes and rules from the config (virtual_routes, static_routes, *_rules) ----------

/** An address of either family where the kernel needs to know which (RTA_VIA, nexthops). */
export interface FamilyAddress {
  family: Family;
  address: string;
}

/** One path of a multipath route (struct rtnexthop and its attributes). */
export interface NextHopSpec {
  gateway: FamilyAddress | null;
  /** 0: no device. */
  ifindex: number;
  /** rtnh_hops: weight - 1. */
  hops: number;
  /** RTNH_F_* (onlink 4). */
  flags: number;
  realms: number | null;
}

/**
 * A route as one RTM_NEWROUTE / RTM_DELROUTE: the rtmsg header and the attributes it carries.
 * Everything the config can say about a route (ip-route(8)); nulls are not sent.
 */
export interface FullRouteSpec {
  family: Family;
  /** RTN_* */
  type: number;
  table: number;
  protocol: number;
  /** RT_SCOPE_*; null: universe on add, nowhere (any) on delete, as keepalived sends. */
  scope: number | null;
  tos: number;
  /** RTNH_F_* for the route (onlink). */
  flags: number;
  destination: string;
  destinationLength: number;
  source: { address: string; length: number } | null;
  preferredSource: string | null;
  /** A gateway of the route's family goes as RTA_GATEWAY, another as RTA_VIA. */
  gateway: FamilyAddress | null;
  oif: number | null;
  priority: number | null;
  realms: number | null;
  expires: number | null;
  pref: number | null;
  ttlPropagate: number | null;
  /** RTAX_* -> value. */
  metrics: ReadonlyMap<number, number>;
  /** Bit mask of RTAX_* locked. */
  lock: number;
  congctl: string | null;
  nexthops: NextHopSpec[];
}

/** How RTM_NEWROUTE treats an existing route to the same destination (ip route add/prepend/append). */
export type RouteAddMode = 'prepend' | 'add' | 'append';

/** A policy routing rule as one RTM_NEWRULE / RTM_DELRULE (struct fib_rule_hdr and FRA_*). */
export interface RuleSpec {
  family: Family;
  /** FR_ACT_* */
  action: number;
  table: number;
  tos: number;
  /** FIB_RULE_INVERT */
  invert: boolean;
  source: { address: string; length: number } | null;
  destination: { address: string; length: number } | null;
  priority: number | null;
  fwmark: number | null;
  fwmask: number | null;
  realms: number | null;
  suppressPrefixLength: number | null;
  suppressIfgroup: number | null;
  iifName: string | null;
  oifName: string | null;
  tunnelId: bigint | null;
  l3mdev: boolean;
  uidRange: readonly [number, number] | null;
  protocol: number | null;
  ipProto: number | null;
  sport: readonly [number, number] | null;
  dport: readonly [number, number] | null;
  goto: number | null;
}
