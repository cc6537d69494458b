// What the VRRP child reports about its instances, for the dump files (USR1/USR2/JSON) and
// the /status endpoint. Plain data, filled by the engine; the formatters are pure.

export type DumpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

/** keepalived's numeric states, as its JSON dump writes them. */
export const STATE_NUMBERS: Record<DumpState, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 97 };

export interface VrrpStats {
  advertRcvd: number;
  advertSent: number;
  becomeMaster: number;
  releaseMaster: number;
  packetLenErr: number;
  advertIntervalErr: number;
  ipTtlErr: number;
  invalidTypeRcvd: number;
  addrListErr: number;
  invalidAuthtype: number;
  authtypeMismatch: number;
  authFailure: number;
  priZeroRcvd: number;
  priZeroSent: number;
}

export const emptyStats = (): VrrpStats => ({
  advertRcvd: 0,
  advertSent: 0,
  becomeMaster: 0,
  releaseMaster: 0,
  packetLenErr: 0,
  advertIntervalErr: 0,
  ipTtlErr: 0,
  invalidTypeRcvd: 0,
  addrListErr: 0,
  invalidAuthtype: 0,
  authtypeMismatch: 0,
  authFailure: 0,
  priZeroRcvd: 0,
  priZeroSent: 0,
});

export interface VrrpInstanceSnapshot {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  family: 4 | 6;
  state: DumpState;
  wantState: DumpState;
  basePriority: number;
  effectivePriority: number;
  /** Priority of the current master as last heard (0 when we are master or none heard). */
  masterPriority: number;
  /** The current master's address while BACKUP (null when unknown or when we are MASTER). */
  masterAddress: string | null;
  /** Master_Down_Interval now (3 x master's advert interval + skew), microseconds. */
  masterDownUs: number;
  /** Tracked interfaces, scripts and files now failing (FAULT causes). */
  trackFaults: number;
  /** Tracked scripts without a first result yet. */
  scriptsInit: number;
  advertIntMs: number;
  masterAdvertIntMs: number;
  /** Seconds since the epoch, with fractions. */
  lastTransition: number;
  garpDelayS: number;
  garpRepeat: number;
  garpRefreshS: number;
  garpRefreshRepeat: number;
  garpLowerPrioDelayS: number;
  garpLowerPrioRepeat: number;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  dontTrackPrimary: boolean;
  skipCheckAdvAddr: boolean;
  strictMode: boolean;
  accept: boolean;
  nopreempt: boolean;
  preemptDelayS: number;
  smtpAlert: boolean;
  /** notify_priority_changes as it applies to the instance (its own, its sync group's, the global one). */
  notifyPriorityChanges: boolean;
  /** notify_deleted: a removed instance is announced DELETED rather than FAULT. */
  notifyDeleted: boolean;
  srcIp: string;
  /** unicast_src_ip / mcast_src_ip given (keepalived says `(from configuration)`). */
  srcIpFromConfig: boolean;
  /** Multicast group, or null when unicast. */
  mcastGroup: string | null;
  unicastPeers: { address: string; minTtl: number; maxTtl: number }[];
  checkUnicastSrc: boolean;
  auth: { type: 'PASS' | 'AH'; pass: string } | null;
  /** As keepalived prints them: `10.0.0.1/24 dev eth0 scope global label eth0:vip set`. */
  vips: string[];
  /** `command` as keepalived's cmd_str prints it: each word in single quotes, the path resolved. */
  trackScripts: { name: string; command: string; weight: number }[];
  stats: VrrpStats;
}

/** One vrrp_script as keepalived.data's `VRRP Scripts` section shows it. */
export interface VrrpScriptSnapshot {
  name: string;
  /** cmd_str: each word single-quoted, the program resolved. */
  command: string;
  intervalS: number;
  timeoutS: number;
  weight: number;
  weightReverse: boolean;
  rise: number;
  fall: number;
  /** keepalived's rise/fall counter (0 .. rise+fall-1; good from `rise`). */
  result: number;
  /** No result yet. */
  init: boolean;
  uidGid: string;
  /** Instances tracking it, with the weight each applies. */
  tracking: { instance: string; weight: number }[];
  running: boolean;
}

/** One host interface as keepalived.data's `Interfaces` section shows it. */
export interface InterfaceSnapshot {
  name: string;
  index: number;
  /** The first IPv4 address that is not a VIP; null: none. */
  ipv4: string | null;
  /** The link-local IPv6 address VRRPv3 adverts come from; null: none. */
  ipv6: string | null;
  mac: string | null;
  broadcastMac: string | null;
  up: boolean;
  running: boolean;
  loopback: boolean;
  mtu: number;
  /** ARPHRD_*: 1 Ethernet, 772 loopback. */
  hardwareType: number;
  /** Instances tracking it (their own interface, and track_interface). */
  tracking: { instance: string; weight: number }[];
}
