// The typed configuration model: what every other component (VRRP, checker, watchdog)
// consumes. The parser fills every default keepalived documents, so no consumer re-derives
// one. Durations are integers in milliseconds (suffix `Ms`) except where the kernel itself
// speaks seconds (IPVS persistence and timeouts: suffix `S`). Arrays keep file order.
//
// Contract rules: add fields freely; renaming or removing one means updating every consumer.

/** Where something was written: survives includes and macro expansion. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export type Family = 4 | 6;

/** A script to run: notify_*, misc_path, vrrp_script's script, quorum_up/down. */
export interface ScriptSpec {
  /** The command as written in the config (one string, possibly quoted there). */
  command: string;
  /** `command` split into argv the way keepalived splits it (quotes honoured). */
  argv: string[];
  /** Optional `username [groupname]` written after the command. */
  user: string | null;
  group: string | null;
  /** Where the command was written (its statement); absent on specs built outside the config. */
  pos?: SourcePos;
}

export interface LvsSyncDaemon {
  interface: string;
  /** VRRP instance whose state decides master/backup. */
  instance: string;
  syncId: number | null;
  maxlen: number | null;
  port: number | null;
  ttl: number | null;
  group: string | null;
}

/** notify_fifo / vrrp_notify_fifo / lvs_notify_fifo: `FILE [username [groupname]]`. */
export interface NotifyFifo {
  path: string;
  script: ScriptSpec | null;
  /** Who owns the FIFO when the daemon creates it; null: the default script user. */
  owner: { user: string; group: string | null } | null;
}

export interface GlobalDefs {
  notificationEmail: string[];
  notificationEmailFrom: string | null;
  smtpServer: { host: string; port: number } | null;
  smtpHeloName: string;
  smtpConnectTimeoutMs: number;
  /** Global default for smtp_alert of instances, sync groups and virtual servers. */
  smtpAlert: boolean;
  /**
   * The checker's smtp_alert default: smtp_alert_checker, else global smtp_alert when that
   * is written; null when neither is (real servers then alert, virtual servers do not, as
   * keepalived defaults them).
   */
  smtpAlertChecker: boolean | null;
  /** smtp_alert_vrrp: the VRRP default before global smtp_alert; null when not written. */
  smtpAlertVrrp: boolean | null;
  /** vrrp_notify_priority_changes: default of instances and sync groups. */
  vrrpNotifyPriorityChanges: boolean;
  /** no_checker_emails: a real server alerts only when its own state changes, not per checker. */
  noCheckerEmails: boolean;
  routerId: string;
  vrrpMcastGroup4: string;
  /** Name prefix of use_vmac / use_ipvlan interfaces written without a name (keepalived: vrrp). */
  vmacPrefix: string | null;
  vmacAddrPrefix: string | null;
  /** disable_local_igmp: IPv4 VMACs get no IGMP steering in the firewall (keepalived vrrp_vmac.c). */
  disableLocalIgmp: boolean;
  vrrpMcastGroup6: string;
  defaultInterface: string | null;
  lvsSyncDaemon: LvsSyncDaemon | null;
  /** IPVS timeouts in seconds; null = leave the kernel's. */
  lvsTimeouts: { tcpS: number | null; tcpfinS: number | null; udpS: number | null } | null;
  lvsFlush: boolean;
  /**
   * lvs_flush_on_stop: 'full' flushes the whole table at stop, foreign services included;
   * 'off' and 'vs' delete only the services this checker owns (the kernel drops their real
   * servers). -I (--dont-release-ipvs) overrides all three.
   */
  lvsFlushOnStop: 'off' | 'full' | 'vs';
  vrrpGarpMasterDelayMs: number;
  vrrpGarpMasterRepeat: number;
  vrrpGarpMasterRefreshMs: number;
  vrrpGarpMasterRefreshRepeat: number;
  vrrpGarpLowerPrioDelayMs: number | null;
  vrrpGarpLowerPrioRepeat: number | null;
  vrrpGarpIntervalMs: number;
  vrrpGnaIntervalMs: number;
  vrrpLowerPrioNoAdvert: boolean;
  vrrpHigherPrioSendAdvert: boolean;
  vrrpVersion: 2 | 3;
  vrrpStrict: boolean;
  vrrpCheckUnicastSrc: boolean;
  vrrpSkipCheckAdvAddr: boolean;
  vrrpIptables: string[] | null;
  /**
   * The VRRP firewall (keepalived's nftables one): `nftables [TABLE]`, `vrrp_iptables` (taken
   * as nftables), or keepalived's default table when an instance runs without accept mode;
   * null: none. It drops traffic to and from the VIPs of a MASTER without accept mode.
   */
  vrrpFirewall: VrrpFirewallSettings | null;
  scriptUser: { user: string; group: string | null } | null;
  enableScriptSecurity: boolean;
  dynamicInterfaces: boolean;
  vrrpNotifyFifo: NotifyFifo | null;
  lvsNotifyFifo: NotifyFifo | null;
  notifyFifo: NotifyFifo | null;
  /** vrrp_rt_priority, vrrp_priority, vrrp_no_swap, ... and their checker_ twins. */
  processSettings: { vrrp: ProcessSettings; checker: ProcessSettings };
  /**
   * max_auto_priority: a child whose timers run later than minAutoPriorityDelayUs switches
   * itself to real-time scheduling and raises it one step at a time up to this priority;
   * 0 (the default) or -1: never.
   */
  maxAutoPriority: number;
  minAutoPriorityDelayUs: number;
  /** Keywords keepalived accepts that we parse but do not act on yet (for the warning list). */
  unimplemented: string[];
}

export interface VrrpFirewallSettings {
  table: string;
  /** The base chains' hook priority (nftables_priority; keepalived's default -1). */
  priority: number;
  /** nftables_counters: a counter on each rule. */
  counters: boolean;
  /** nftables_ifindex: dont_track_primary link-local VIPs matched by interface index. */
  ifindex: boolean;
}

/** How one child process runs, as written in global_defs (ROLE_rt_priority, ...). */
export interface ProcessSettings {
  /** SCHED_RR priority 1-99; null: the normal scheduler. */
  rtPriority: number | null;
  /** Nice value -20..19, applied only without rtPriority; 0: left as inherited. */
  nice: number;
  /** Lock the process's memory so it is never swapped out. */
  noSwap: boolean;
  /** CPUs the process may run on; empty: left as inherited. */
  cpuAffinity: number[];
  /** ROLE_rlimit_rttime, µs: the RLIMIT_RTTIME while at real-time priority; null: not written. */
  rlimitRttimeUs: number | null;
}

export interface VrrpScript {
  name: string;
  script: ScriptSpec;
  intervalMs: number;
  timeoutMs: number;
  /** Priority change while the script succeeds (weight > 0) or fails (weight < 0). */
  weight: number;
  weightReverse: boolean;
  rise: number;
  fall: number;
  user: string | null;
  group: string | null;
  initFail: boolean;
  pos: SourcePos;
}

export interface TrackFile {
  name: string;
  file: string;
  weight: number;
  weightReverse: boolean;
  initFile: { value: number; overwrite: boolean } | null;
  pos: SourcePos;
}

/**
 * vrrp_track_process: how many running processes match, against a quorum. A process
 * matches by its comm (15 characters) or, with fullCommand, by argv[0]; its parameters
 * (argv[1..]) are compared when paramMatch is not 'none'.
 */
export interface TrackProcess {
  name: string;
  process: string;
  /** argv[1..] to compare; empty with paramMatch 'exact' means "no parameters". */
  params: string[];
  paramMatch: 'none' | 'exact' | 'initial' | 'partial';
  fullCommand: boolean;
  /** 0: the instance is in FAULT without quorum (reverse: with it). */
  weight: number;
  weightReverse: boolean;
  quorum: number;
  /** Up while quorum <= count <= quorumMax (UINT32_MAX: no upper bound). */
  quorumMax: number;
  /** Quorum gained by a fork is believed this much later (0: at once). */
  forkDelayMs: number;
  /** Quorum lost by an exit is believed this much later (0: at once). */
  terminateDelayMs: number;
  pos: SourcePos;
}

/** A tracked thing with an optional weight override (track_interface, track_script, ...). */
export interface TrackRef {
  name: string;
  /** null = use the tracked object's own weight (scripts) or 0 = FAULT on failure. */
  weight: number | null;
  reverse: boolean;
  pos: SourcePos;
}

export interface NotifyHooks {
  notifyMaster: ScriptSpec | null;
  notifyBackup: ScriptSpec | null;
  notifyFault: ScriptSpec | null;
  notifyStop: ScriptSpec | null;
  notify: ScriptSpec | null;
  smtpAlert: boolean | null;
  /** notify_priority_changes; null: the sync group's, else the global default. */
  notifyPriorityChanges: boolean | null;
}

export interface VrrpSyncGroup extends NotifyHooks {
  name: string;
  /** Member vrrp_instance names, in config order. */
  group: string[];
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  /**
   * sync_group_tracking_weight (or its deprecated form global_tracking): members keep the
   * weights of what they track. Without it keepalived zeroes a member's interface weights and
   * drops its weighted scripts (see validate.ts).
   */
  trackingWeight: boolean;
  pos: SourcePos;
}

export interface VirtualIp {
  address: string;
  prefix: number;
  family: Family;
  broadcast: string | null;
  dev: string | null;
  scope: string | null;
  label: string | null;
  noDad: boolean;
  /** `no_track`: its deletion behind our back is ignored (a static one is not put back). */
  noTrack: boolean;
  /** Per-VIP `use_vmac` (virtual_ipaddress only): the VIP goes on a VMAC of its own interface. */
  useVmac: boolean;
  pos: SourcePos;
}

// ---- virtual_routes / static_routes, virtual_rules / static_rules (iproute.ts reads them)

/** An address with its prefix length (`default` is the family's zero address, length 0). */
export interface RoutePrefix {
  family: Family;
  address: string;
  prefix: number;
}

export interface RouteGateway {
  family: Family;
  address: string;
}

/** One `nexthop` of a multipath route. */
export interface RouteNextHop {
  via: RouteGateway | null;
  dev: string | null;
  /** 1-256 as written (the kernel stores weight - 1). */
  weight: number | null;
  onlink: boolean;
  realms: number | null;
}

/** The route metrics (RTA_METRICS) keepalived takes, by their ip-route(8) name. */
export type RouteMetricName =
  | 'mtu'
  | 'window'
  | 'rtt'
  | 'rttvar'
  | 'ssthresh'
  | 'cwnd'
  | 'advmss'
  | 'reordering'
  | 'hoplimit'
  | 'initcwnd'
  | 'features'
  | 'rto_min'
  | 'initrwnd'
  | 'quickack'
  | 'fastopen_no_cookie';

/** A route of `virtual_routes` or `static_routes`, as keepalived reads it (vrrp_iproute.c). */
export interface VirtualRoute {
  family: Family;
  /** RTN_* (unicast 1, blackhole 6, unreachable 7, prohibit 8, throw 9, ...). */
  type: number;
  destination: RoutePrefix;
  /** `from`: a source prefix (IPv6 only). */
  from: RoutePrefix | null;
  /** `src`: the preferred source address. */
  src: string | null;
  via: RouteGateway | null;
  dev: string | null;
  table: number;
  /** RTPROT_*; keepalived's own (18) unless `no_track` lets the config choose. */
  protocol: number;
  /** RT_SCOPE_*; null: universe when added. */
  scope: number | null;
  metric: number | null;
  tos: number | null;
  onlink: boolean;
  realms: number | null;
  metrics: Partial<Record<RouteMetricName, number>>;
  /** Metrics written with `lock`. */
  locked: RouteMetricName[];
  congctl: string | null;
  /** IPv6 router preference (RTA_PREF). */
  pref: number | null;
  /** IPv6 expiry in seconds (RTA_EXPIRES). */
  expires: number | null;
  ttlPropagate: number | null;
  nexthops: RouteNextHop[];
  /** How the route is added: `prepend` (keepalived's default: NLM_F_CREATE), `add` (EXCL), `append`. */
  mode: 'prepend' | 'add' | 'append';
  /** `no_track` clears it (keepalived then keeps the protocol written). */
  track: boolean;
  trackGroup: string | null;
  /** The line as written, for logs. */
  text: string;
  pos: SourcePos;
}

/** A rule of `virtual_rules` or `static_rules`, as keepalived reads it (vrrp_iprule.c). */
export interface VirtualRule {
  family: Family;
  /** FR_ACT_*: to table 1, goto 2, nop 3, blackhole 6, unreachable 7, prohibit 8. */
  action: number;
  /** `table`/`lookup` (0 with l3mdev). */
  table: number;
  l3mdev: boolean;
  goto: number | null;
  from: RoutePrefix | null;
  to: RoutePrefix | null;
  /** `not` */
  invert: boolean;
  /** Written, or keepalived's own countdown from 16384 when it is not. */
  priority: number;
  tos: number;
  fwmark: number | null;
  fwmask: number | null;
  realms: number | null;
  suppressPrefixLength: number | null;
  suppressIfgroup: number | null;
  iif: string | null;
  oif: string | null;
  /** Decimal text (a u64). */
  tunnelId: string | null;
  uidRange: [number, number] | null;
  protocol: number | null;
  ipProto: number | null;
  sport: [number, number] | null;
  dport: [number, number] | null;
  track: boolean;
  trackGroup: string | null;
  text: string;
  pos: SourcePos;
}

/** `static_ipaddress`: an address applied at start and kept (it needs its `dev`). */
/** A static_ipaddress line: always on an interface, and may name a track_group. */
export type StaticAddress = VirtualIp & { dev: string; trackGroup: string | null };

/** `track_group NAME { group { INSTANCE... } }`: the instances that track static entries naming it. */
export interface StaticTrackGroup {
  name: string;
  instances: string[];
  pos: SourcePos;
}

export interface UnicastPeer {
  address: string;
  minTtl: number | null;
  maxTtl: number | null;
}

export type VrrpState = 'MASTER' | 'BACKUP';

export interface VrrpInstance extends NotifyHooks {
  name: string;
  /** notify_deleted: a removed instance is announced DELETED (running this script, if any) rather than FAULT. */
  notifyDeleted: { script: ScriptSpec | null } | null;
  /** notify_master_rx_lower_pri: run when a MASTER hears a lower-priority advert. */
  notifyMasterRxLowerPri: ScriptSpec | null;
  /** Requested initial state (keepalived starts BACKUP anyway below priority 255). */
  state: VrrpState;
  interface: string;
  virtualRouterId: number;
  priority: number;
  advertIntMs: number;
  version: 2 | 3;
  /** Address family of the instance: of its VIPs (IPv6 VIPs => 6). */
  family: Family;
  nopreempt: boolean;
  preemptDelayMs: number;
  mcastSrcIp: string | null;
  unicastSrcIp: string | null;
  unicastPeers: UnicastPeer[];
  authentication: { type: 'PASS' | 'AH'; pass: string } | null;
  virtualIpaddresses: VirtualIp[];
  virtualIpaddressesExcluded: VirtualIp[];
  virtualRoutes: VirtualRoute[];
  virtualRules: VirtualRule[];
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  dontTrackPrimary: boolean;
  garpMasterDelayMs: number;
  garpMasterRepeat: number;
  garpMasterRefreshMs: number;
  garpMasterRefreshRepeat: number;
  garpLowerPrioDelayMs: number | null;
  garpLowerPrioRepeat: number | null;
  garpIntervalMs: number;
  gnaIntervalMs: number;
  lvsSyncDaemonInterface: string | null;
  /** Accept mode: a non-owner MASTER answers traffic to its VIPs (else the firewall drops it). */
  accept: boolean;
  strictMode: boolean;
  /** use_vmac / use_ipvlan: the interface that carries the VIPs (and adverts) on top of `interface`. */
  vmac: VirtualLinkConfig | null;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  vmacXmitBase: boolean;
  useVmacAddr: boolean;
  v3ChecksumAsV2: boolean;
  /** Name of the vrrp_sync_group this instance belongs to, if any (filled by validation). */
  syncGroup: string | null;
  pos: SourcePos;
}

export type IpvlanMode = 'bridge' | 'private' | 'vepa';

/** use_vmac [NAME] [MAC] / use_ipvlan [NAME] [ADDRESS] [MODE] of a vrrp_instance. */
export interface VirtualLinkConfig {
  kind: 'macvlan' | 'ipvlan';
  /** As written; null: keepalived's default name, chosen at start (vrrp/vmac.ts). */
  name: string | null;
  /** use_vmac's MAC; null: the RFC 5798 virtual router MAC of the VRID and family. */
  mac: string | null;
  ipvlanMode: IpvlanMode;
  /** use_ipvlan's address: put on the ipvlan, and the advert source unless one is configured. */
  ipvlanAddress: { address: string; prefix: number } | null;
  pos: SourcePos;
}

export type IpvsScheduler = 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'lblcr' | 'dh' | 'sh' | 'sed' | 'nq' | 'fo' | 'ovf' | 'mh';
export type LbKind = 'NAT' | 'DR' | 'TUN';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface StatusRange {
  from: number;
  to: number;
}

export interface HttpUrl {
  path: string;
  /** Lower-case hex MD5 of the body, as genhash prints it. */
  digest: string | null;
  /** Accepted status codes; keepalived's default is 200-299. */
  statusCodes: StatusRange[];
  virtualhost: string | null;
  regex: HttpRegex | null;
  pos: SourcePos;
}

/** A url's `regex` with its modifiers: a PCRE2 pattern the body must (or must not) match. */
export interface HttpRegex {
  pattern: string;
  /** regex_options words keepalived knows, as written (src/config/pcre.ts maps them). */
  options: string[];
  /** regex_no_match: a match fails the check. */
  noMatch: boolean;
  /** regex_min_offset: first byte of the body a match is looked for at. */
  minOffset: number;
  /** regex_max_offset: last byte of the body a match may start at; null: anywhere. */
  maxOffset: number | null;
  pos: SourcePos;
}

/** Keywords every checker shares. */
export interface HealthCheckCommon {
  connectIp: string | null;
  connectPort: number | null;
  bindto: string | null;
  bindPort: number | null;
  bindIf: string | null;
  connectTimeoutMs: number;
  /** Further attempts after a failure before declaring the server down. */
  retry: number;
  delayBeforeRetryMs: number;
  /** Upper bound of the random delay before the first check; spreads start-up. */
  warmupMs: number;
  delayLoopMs: number;
  /** Start down until the first success (real server's alpha applies per checker). */
  alpha: boolean | null;
  pos: SourcePos;
}

export interface TcpCheck extends HealthCheckCommon {
  type: 'TCP_CHECK';
}

export type HttpProtocol = '1.0' | '1.0C' | '1.1';

export interface HttpCheck extends HealthCheckCommon {
  type: 'HTTP_GET' | 'SSL_GET';
  urls: HttpUrl[];
  virtualhost: string | null;
  enableSni: boolean;
  /** keepalived's http_protocol: 1.0 (default), 1.0C (adds Connection: close), 1.1 (with it). */
  httpProtocol: HttpProtocol;
  fastRecovery: boolean;
}

export interface MiscCheck extends HealthCheckCommon {
  type: 'MISC_CHECK';
  miscPath: ScriptSpec;
  miscTimeoutMs: number;
  miscDynamic: boolean;
  user: string | null;
  group: string | null;
}

export interface SmtpHost {
  connectIp: string | null;
  connectPort: number | null;
  bindto: string | null;
  bindPort: number | null;
  connectTimeoutMs: number | null;
  pos: SourcePos;
}

export interface SmtpCheck extends HealthCheckCommon {
  type: 'SMTP_CHECK';
  heloName: string;
  hosts: SmtpHost[];
}

export interface DnsCheck extends HealthCheckCommon {
  type: 'DNS_CHECK';
  /** Record type queried (A, AAAA, NS, MX, ...). */
  queryType: string;
  name: string;
}

export interface UdpCheck extends HealthCheckCommon {
  type: 'UDP_CHECK';
  /** Bytes sent (from hex `payload`); empty = a zero-length datagram. */
  payloadHex: string | null;
  /** Bytes the reply must start with (hex), if any. */
  requireReplyHex: string | null;
  minReplyLength: number;
  maxReplyLength: number | null;
}

export interface PingCheck extends HealthCheckCommon {
  type: 'PING_CHECK';
}

export interface FileCheck extends HealthCheckCommon {
  type: 'FILE_CHECK';
  trackFile: string;
  weight: number | null;
  reverse: boolean;
}

/**
 * A checker is a value: the checker child shares one object (and one `checkers` array) among
 * real servers whose blocks are written alike (share-checkers.ts), so key nothing by a
 * checker object and mutate none.
 */
export type HealthCheck = TcpCheck | HttpCheck | MiscCheck | SmtpCheck | DnsCheck | UdpCheck | PingCheck | FileCheck;

export interface RealServer {
  address: string;
  /** Defaults to the virtual server's port (0 for fwmark services written without one). */
  port: number;
  family: Family;
  weight: number;
  uthreshold: number;
  lthreshold: number;
  /** Forwarding method override; null = the virtual server's lb_kind. */
  lbKind: LbKind | null;
  /** Resolved: the real server's own setting or the virtual server's. */
  inhibitOnFailure: boolean;
  notifyUp: ScriptSpec | null;
  notifyDown: ScriptSpec | null;
  alpha: boolean;
  /** Per real server delay_loop override (ms), else the virtual server's. */
  delayLoopMs: number;
  smtpAlert: boolean | null;
  /** Host header of its HTTP checks when neither url nor checker names one (not their SNI). */
  virtualhost: string | null;
  checkers: HealthCheck[];
  pos: SourcePos;
}

export interface SorryServer {
  address: string;
  port: number;
  family: Family;
  lbKind: LbKind | null;
}

export type VirtualServerKey =
  { kind: 'ip'; address: string; port: number; family: Family } | { kind: 'fwmark'; fwmark: number; family: Family } | { kind: 'group'; group: string };

export interface VirtualServer {
  key: VirtualServerKey;
  protocol: Protocol;
  delayLoopMs: number;
  lbAlgo: IpvsScheduler;
  lbKind: LbKind;
  /** Seconds; null = not persistent. */
  persistenceTimeoutS: number | null;
  /** Netmask (IPv4 dotted) or prefix length (IPv6) for persistence. */
  persistenceGranularity: string | null;
  persistenceEngine: string | null;
  /** sh-port, sh-fallback, mh-port, mh-fallback, flag-1..3, one-packet (ops). */
  schedulerFlags: string[];
  ops: boolean;
  virtualhost: string | null;
  sorryServer: SorryServer | null;
  sorryServerInhibit: boolean;
  quorum: number;
  hysteresis: number;
  quorumUp: ScriptSpec | null;
  quorumDown: ScriptSpec | null;
  alpha: boolean;
  omega: boolean;
  inhibitOnFailure: boolean;
  /** Pause checks while the VRRP instance owning this address is not MASTER. */
  haSuspend: boolean;
  smtpAlert: boolean | null;
  realServers: RealServer[];
  pos: SourcePos;
}

export type VirtualServerGroupMember =
  | { kind: 'ip'; address: string; port: number; family: Family; pos: SourcePos }
  /** `10.0.0.1-10 80`: the last octet/hextet runs from address to `rangeEnd`. */
  | { kind: 'range'; address: string; rangeEnd: number; port: number; family: Family; pos: SourcePos }
  | { kind: 'fwmark'; fwmark: number; pos: SourcePos };

export interface VirtualServerGroup {
  name: string;
  members: VirtualServerGroupMember[];
  pos: SourcePos;
}

/**
 * `bgp_announce` (keepalived-ts only): routes FRR or BIRD export to BGP. Each announcing
 * process (the checker for `follow quorum`, the VRRP child for `follow vrrp`) owns a device
 * that dies with it, and routes its prefixes through it in `table` with `routeProtocol`; a
 * `local` route through the same device makes the director answer for the prefix.
 */
export interface BgpAnnounce {
  table: number;
  routeProtocol: number;
  /** At a graceful stop: withdrawal first, then this long before VIPs and IPVS go. */
  drainMs: number;
  anycastDevice: string;
  vrrpDevice: string;
  prefixes: AnnouncedPrefix[];
  pos: SourcePos;
}

export type AnnounceFollow = { kind: 'quorum' } | { kind: 'vrrp'; instance: string };

export interface AnnouncedPrefix {
  /** The network address as written (host bits allowed, as `ip route` takes them). */
  address: string;
  prefix: number;
  family: Family;
  follow: AnnounceFollow;
  /** The route's metric (exported as the MED); `follow vrrp` adds 255 - priority to it. */
  med: number;
  pos: SourcePos;
}

export interface KeepalivedConfig {
  /** Every file read, the main config first (includes after, in read order). */
  files: string[];
  globalDefs: GlobalDefs;
  vrrpScripts: VrrpScript[];
  trackFiles: TrackFile[];
  trackProcesses: TrackProcess[];
  vrrpSyncGroups: VrrpSyncGroup[];
  vrrpInstances: VrrpInstance[];
  virtualServerGroups: VirtualServerGroup[];
  virtualServers: VirtualServer[];
  /** keepalived-ts's `bgp_announce` block, or null when there is none. */
  bgpAnnounce: BgpAnnounce | null;
  /** Top-level static_ipaddress, static_routes, static_rules: applied at start, kept while running. */
  staticAddresses: StaticAddress[];
  staticRoutes: VirtualRoute[];
  staticRules: VirtualRule[];
  staticTrackGroups: StaticTrackGroup[];
  /** The top-level `SSL` block: SSL_GET's client certificate and CA files, or null. */
  ssl: SslClient | null;
}

/** keepalived's `SSL { password ca certificate key }`: files read once for every SSL_GET. */
export interface SslClient {
  password: string | null;
  ca: string | null;
  certificate: string | null;
  key: string | null;
  pos: SourcePos;
}
