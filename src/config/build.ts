// Model builder: walks the statement tree, checks each statement against the keyword schema
// (grammar/keywords.ts) and fills the typed model with keepalived's defaults. Cross-object
// checks (references, duplicates, interfaces) live in validate.ts.
import { BLOCKS, CHECKER_NAMES, ROOT, UINT32_MAX, keywordIndex, type BlockSpec, type FoundKeyword, type KeywordSpec } from '../../grammar/keywords.js';
import type { Statement, Word } from './ast.js';
import type {
  HealthCheck,
  HealthCheckCommon,
  GlobalDefs,
  HttpRegex,
  HttpUrl,
  KeepalivedConfig,
  LbKind,
  NotifyFifo,
  RealServer,
  SmtpHost,
  ProcessSettings,
  SourcePos,
  TrackFile,
  TrackProcess,
  TrackRef,
  VirtualIp,
  VirtualServer,
  VirtualServerGroup,
  VirtualServerGroupMember,
  VirtualServerKey,
  VrrpInstance,
  VrrpScript,
  VrrpSyncGroup,
  StaticTrackGroup,
  IpvsScheduler,
  Protocol,
  UnicastPeer,
  ScriptSpec,
  SslClient,
} from './model.js';
import { useIpvlanConfig, useVmacConfig } from './build-vmac.js';
import { PCRE2_OPTIONS, translatePcre, unescapeRegexWord } from './pcre.js';
import { familyOf, hexString, lbKind, ms, plainVirtualIp, script, statusCodes, trackRefs } from './build-values.js';
import { buildBgpAnnounce } from './build-announce.js';
import { RulePriorities, parseRoute as parseRouteLine, parseRule, systemRtNames, type IpLineContext, type RtNames } from './iproute.js';
import { completeStrictMode, needsDefaultFirewall } from './strict.js';
import { Diagnostics, checkStatement, reportUnknown, type ArgValue } from './schema-check.js';

/** An interface name the config relies on, for the host check in validate.ts. */
export interface InterfaceRef {
  name: string;
  pos: SourcePos;
  /** What names it: `vrrp_instance VI_1 interface`, `track_interface`, ... */
  what: string;
}

/** Facts the builder saw that the model does not keep but validation needs. */
export interface BuildFacts {
  interfaceRefs: InterfaceRef[];
  /** Positions of keywords by object, for precise cross-check messages. */
  vridPos: Map<VrrpInstance, SourcePos>;
  /** virtual_router_id was written, even if its value was rejected (tolerant build: only when taken). */
  vridWritten: Set<VrrpInstance>;
  advertPos: Map<VrrpInstance, SourcePos>;
  statePos: Map<VrrpInstance, SourcePos>;
  nopreemptPos: Map<VrrpInstance, SourcePos>;
  /**
   * track_script / track_file entries read before their vrrp_script / track_file block:
   * keepalived looks the name up as it reads the entry, so one defined further down is not found.
   */
  readBeforeDefinition: Set<TrackRef>;
  /** Instances with no `interface` line (they fall back to default_interface). */
  noInterface: Set<VrrpInstance>;
  lvsSyncDaemonPos: SourcePos | null;
  /** Keywords keepalived would fix up silently but we reject: collected while building. */
  vsGroupPos: Map<VirtualServer, SourcePos>;
}

export interface BuildOptions {
  files: string[];
  hostname: string;
  /**
   * Build as keepalived starts: a statement whose keyword is unknown or whose words are
   * refused is left out (reported, and marked skippable in `diags`) and the rest stands.
   * A keyword that is required counts as missing then, so its object is still refused.
   */
  tolerant?: boolean;
  /** Names of routing tables, protocols, ... (default: the host's /etc/iproute2, read on first use). */
  rtNames?: RtNames;
}

/** Top-level blocks built in finish() with the vrrp_instances (see add()). */
const DEFERRED_STATICS = new Set(['static_ipaddress', 'static_routes', 'static_rules']);

type Handler = (spec: KeywordSpec, v: ArgValue[], stmt: Statement) => void;

/** How many of each tracked object were defined above a vrrp_instance (keepalived looks them up as it reads it). */
interface TrackedAbove {
  scripts: number;
  files: number;
  processes: number;
}

/** A block's schema and keyword index, by block name (looked up per block walked). */
const SCHEMA = new Map<string, { block: BlockSpec; index: ReadonlyMap<string, FoundKeyword> }>();

function schemaOf(blockName: string): { block: BlockSpec; index: ReadonlyMap<string, FoundKeyword> } {
  let s = SCHEMA.get(blockName);
  if (s === undefined) {
    const block = BLOCKS.get(blockName);
    if (!block) throw new Error(`schema has no block ${blockName}`);
    s = { block, index: keywordIndex(block) };
    SCHEMA.set(blockName, s);
  }
  return s;
}

const str = (v: ArgValue): string => String(v);
const num = (v: ArgValue): number => Number(v);
/** A flag: written alone = on; with a <BOOL> = that. */
const on = (v: ArgValue): boolean => (v === undefined ? true : Boolean(v));
/** `FILE [username [groupname]]`: keepalived creates the FIFO owned by them. */
const notifyFifo = (v: ArgValue[]): NotifyFifo => ({
  path: str(v[0]),
  script: null,
  owner: v[1] === undefined ? null : { user: str(v[1]), group: v[2] === undefined ? null : str(v[2]) },
});

/** SCHED_RR's priority range on Linux (keepalived reads sched_get_priority_min/max). */
const RT_PRIORITY_MIN = 1;
const RT_PRIORITY_MAX = 99;

function defaultProcessSettings(): ProcessSettings {
  return { rtPriority: null, nice: 0, noSwap: false, cpuAffinity: [], rlimitRttimeUs: null };
}

export function defaultGlobalDefs(hostname: string): GlobalDefs {
  return {
    notificationEmail: [],
    notificationEmailFrom: `keepalived@${hostname}`,
    smtpServer: null,
    smtpHeloName: hostname,
    smtpConnectTimeoutMs: 30_000,
    routerId: hostname,
    vrrpMcastGroup4: '224.0.0.18',
    vmacPrefix: null,
    vmacAddrPrefix: null,
    disableLocalIgmp: false,
    vrrpMcastGroup6: 'ff02::12',
    defaultInterface: null,
    lvsSyncDaemon: null,
    lvsTimeouts: null,
    lvsFlush: false,
    lvsFlushOnStop: 'off',
    vrrpGarpMasterDelayMs: 5000,
    vrrpGarpMasterRepeat: 5,
    vrrpGarpMasterRefreshMs: 0,
    vrrpGarpMasterRefreshRepeat: 1,
    vrrpGarpLowerPrioDelayMs: null,
    vrrpGarpLowerPrioRepeat: null,
    vrrpGarpIntervalMs: 0,
    vrrpGnaIntervalMs: 0,
    vrrpLowerPrioNoAdvert: false,
    vrrpHigherPrioSendAdvert: false,
    vrrpVersion: 2,
    vrrpStrict: false,
    vrrpCheckUnicastSrc: false,
    vrrpSkipCheckAdvAddr: false,
    vrrpIptables: null,
    vrrpFirewall: null,
    scriptUser: null,
    enableScriptSecurity: false,
    dynamicInterfaces: false,
    vrrpNotifyFifo: null,
    lvsNotifyFifo: null,
    notifyFifo: null,
    smtpAlert: false,
    smtpAlertChecker: null,
    smtpAlertVrrp: null,
    vrrpNotifyPriorityChanges: false,
    noCheckerEmails: false,
    processSettings: { vrrp: defaultProcessSettings(), checker: defaultProcessSettings() },
    maxAutoPriority: 0,
    minAutoPriorityDelayUs: 1_000_000,
    unimplemented: [],
  };
}

/** A virtual_server with keepalived's defaults, before its statements are applied. */
export function virtualServerDefaults(key: VirtualServerKey, pos: SourcePos): VirtualServer {
  return {
    key,
    protocol: 'TCP',
    delayLoopMs: 60_000,
    lbAlgo: 'wlc',
    lbKind: 'NAT',
    persistenceTimeoutS: null,
    persistenceGranularity: null,
    persistenceEngine: null,
    schedulerFlags: [],
    ops: false,
    virtualhost: null,
    sorryServer: null,
    sorryServerInhibit: false,
    quorum: 1,
    hysteresis: 0,
    quorumUp: null,
    quorumDown: null,
    alpha: false,
    omega: false,
    inhibitOnFailure: false,
    haSuspend: false,
    smtpAlert: null,
    realServers: [],
    pos,
  };
}

export class ConfigBuilder {
  readonly diags = new Diagnostics();
  readonly facts: BuildFacts = {
    interfaceRefs: [],
    vridPos: new Map(),
    vridWritten: new Set(),
    advertPos: new Map(),
    statePos: new Map(),
    nopreemptPos: new Map(),
    readBeforeDefinition: new Set(),
    noInterface: new Set(),
    lvsSyncDaemonPos: null,
    vsGroupPos: new Map(),
  };
  readonly config: KeepalivedConfig;
  /** The last `accept` / `no_accept` of each instance (null: neither): strict mode completes it. */
  private readonly acceptWritten = new Map<VrrpInstance, boolean | null>();
  /** nftables / nftables_priority / nftables_counters / nftables_ifindex as read (global_defs). */
  private readonly firewall = { table: null as string | null, priority: -1, counters: false, ifindex: false };
  /** Instance settings that default to globals: applied once global_defs is known. */
  private readonly pendingInstances: { inst: VrrpInstance; set: Set<string>; stmt: Statement }[] = [];
  /** Top-level statements built in finish(), once every global_defs is known. */
  /** vrrp_instance blocks, built in finish(), with how many vrrp_scripts / track_files / vrrp_track_processes preceded each. */
  private readonly deferred: ({ stmt: Statement } & TrackedAbove)[] = [];
  /** While a deferred instance is built: the vrrp_scripts / track_files / vrrp_track_processes written above it. */
  private above: TrackedAbove | null = null;
  /** SMTP_CHECKs without helo_name: they take global_defs' smtp_helo_name in finish(). */
  private readonly smtpDefaultHelo: { heloName: string }[] = [];
  /** realServer's scratch lists of the checker blocks it found. */
  private readonly checkerTypes: string[] = [];
  private readonly checkerStmts: Statement[] = [];
  private readonly checkersBuilt: HealthCheck[] = [];
  /**
   * Statements refused by the schema check (unknown keyword, wrong words). Weak: one only
   * matters while its block is built, and a file of junk lines would otherwise keep them all.
   */
  private readonly rejected = new WeakSet<Statement>();
  /** Lines keepalived reads as the list of a value block that lacks its `{` (not applied as written). */
  private readonly consumed = new WeakSet<Statement>();
  /** track_group names written so far (static routes and rules may name one). */
  private readonly trackGroupNames = new Set<string>();
  /** The track_group a static_ipaddress line names (vips() reads the lines of both kinds). */
  private readonly staticAddressTrackGroup = new WeakMap<VirtualIp, string>();
  /** keepalived's countdown for rules written without a preference. */
  private readonly rulePriorities = new RulePriorities();
  private rtNames: RtNames | null = null;

  constructor(private readonly opts: BuildOptions) {
    this.config = {
      files: opts.files,
      globalDefs: defaultGlobalDefs(opts.hostname),
      vrrpScripts: [],
      trackFiles: [],
      trackProcesses: [],
      vrrpSyncGroups: [],
      vrrpInstances: [],
      virtualServerGroups: [],
      virtualServers: [],
      bgpAnnounce: null,
      staticAddresses: [],
      staticRoutes: [],
      staticRules: [],
      staticTrackGroups: [],
      ssl: null,
    };
  }

  /** Walks one block's statements, checking each against the schema, then calls `handle`. */
  private walk(stmts: Statement[] | null, blockName: string, handle: Handler): void {
    const { block, index } = schemaOf(blockName);
    if (!stmts) return;
    const diags = this.diags;
    for (let i = 0; i < stmts.length; i++) {
      const stmt = stmts[i]!;
      if (this.consumed.has(stmt)) continue;
      const before = diags.mark();
      const found = index.get(stmt.keyword.text);
      const values = found ? checkStatement(stmt, found, diags) : (reportUnknown(stmt, block, diags), null);
      if (values) {
        handle(found!.spec, values, stmt);
        // what the handler refused of the statement's words (a VIP, a forwarding method)
        // keepalived logs and goes on from
        diags.markSkippable(before);
      } else if (diags.markSkippable(before)) this.rejected.add(stmt);
    }
  }

  /**
   * The keyword was written (valid or not): a missing-keyword error would only repeat the
   * error already given. In a tolerant build a refused statement was left out, so it does
   * not count: the object really lacks the keyword.
   */
  private written(block: Statement[] | null, keyword: string): boolean {
    if (!block) return false;
    const tolerant = this.opts.tolerant === true;
    return block.some((s) => s.keyword.text === keyword && !(tolerant && this.rejected.has(s)));
  }

  build(statements: Statement[]): KeepalivedConfig {
    for (const s of statements) this.add(s);
    return this.finish(this.opts.files);
  }

  /**
   * One top-level statement, in file order (the front end can hand them over one by one,
   * see ParseOptions.onStatement). global_defs applies wherever it is written, so what
   * reads it waits for finish(): vrrp_instance blocks are kept and built there (a config
   * has few), and SMTP_CHECK's default helo name is filled in there.
   */
  add(stmt: Statement): void {
    if (stmt.keyword.text === 'global_defs') this.globalDefs(stmt.block);
    if (stmt.keyword.text === 'track_group' && stmt.args[0]) this.trackGroupNames.add(stmt.args[0].text);
    // built in finish(), in file order with the instances: keepalived numbers the rules that
    // name no preference in the order it reads them, and static addresses default to
    // global_defs' default_interface
    if (stmt.keyword.text === 'vrrp_instance' || DEFERRED_STATICS.has(stmt.keyword.text)) {
      this.deferred.push({ stmt, scripts: this.config.vrrpScripts.length, files: this.config.trackFiles.length, processes: this.config.trackProcesses.length });
      return;
    }
    this.topLevel(stmt);
  }

  finish(files: string[]): KeepalivedConfig {
    this.config.files = files;
    for (const d of this.deferred) {
      this.above = d;
      this.topLevel(d.stmt);
    }
    this.above = null;
    this.deferred.length = 0;
    for (const p of this.pendingInstances) this.finishInstance(p.inst, p.set, p.stmt);
    this.finishFirewall();
    const helo = this.config.globalDefs.smtpHeloName;
    for (const c of this.smtpDefaultHelo) c.heloName = helo;
    return this.config;
  }

  private topLevel(stmt: Statement): void {
    this.walk([stmt], ROOT, (spec, v, s) => {
      switch (spec.name) {
        case 'global_defs':
          return;
        case 'vrrp_script':
          return this.vrrpScript(str(v[0]), s);
        case 'track_file':
          return this.trackFile(str(v[0]), s);
        case 'vrrp_track_process':
          return this.trackProcess(str(v[0]), s);
        case 'vrrp_sync_group':
          return this.syncGroup(str(v[0]), s);
        case 'vrrp_instance':
          return this.vrrpInstance(str(v[0]), s);
        case 'virtual_server_group':
          return this.virtualServerGroup(s);
        case 'virtual_server':
          return this.virtualServer(s);
        case 'static_ipaddress':
          this.config.staticAddresses.push(
            ...this.vips(s.block, 'static_ipaddress').map((v) => ({
              ...v,
              dev: v.dev ?? this.config.globalDefs.defaultInterface ?? 'eth0',
              trackGroup: this.staticAddressTrackGroup.get(v) ?? null,
            })),
          );
          return;
        case 'track_group':
          return this.staticTrackGroup(str(v[0]), s);
        case 'static_routes':
          this.config.staticRoutes.push(...this.ipLines(s.block, parseRouteLine, true));
          return;
        case 'static_rules':
          this.config.staticRules.push(...this.ipLines(s.block, this.parseRuleLine, true));
          return;
        case 'bgp_announce': {
          const built = buildBgpAnnounce(s, (block, name, handle) => this.walk(block, name, handle), this.diags, this.config.bgpAnnounce);
          if (built) this.config.bgpAnnounce = built;
          return;
        }
        case 'SSL':
          return this.sslBlock(s);
      }
    });
  }

  // ------------------------------------------------------------------ SSL
  private sslBlock(stmt: Statement): void {
    if (this.config.ssl)
      this.diags.warn(stmt.keyword.pos, 'duplicate', 'a second `SSL` block replaces the first (as keepalived: "SSL context already specified - replacing")');
    const ssl: SslClient = { password: null, ca: null, certificate: null, key: null, pos: stmt.keyword.pos };
    this.walk(stmt.block, 'SSL', (spec, v, s) => {
      const field = spec.name === 'certificate' ? 'certificate' : spec.name === 'key' ? 'key' : spec.name === 'ca' ? 'ca' : 'password';
      if (ssl[field] !== null) this.diags.warn(s.keyword.pos, 'duplicate', `SSL ${spec.name} written twice: the last one counts (as keepalived)`);
      ssl[field] = str(v[0]);
    });
    this.config.ssl = ssl;
  }

  // ------------------------------------------------------------------ global_defs
  private globalDefs(block: Statement[] | null): void {
    const g = this.config.globalDefs;
    let checkerAlertWritten = false;
    const fifoScripts: { vrrp?: ScriptSpec; lvs?: ScriptSpec; global?: ScriptSpec } = {};
    this.walk(block, 'global_defs', (spec, v, stmt) => {
      switch (spec.name) {
        case 'notification_email':
          for (const line of stmt.block ?? []) g.notificationEmail.push(line.keyword.text, ...line.args.map((w) => w.text));
          if (!stmt.block?.length)
            this.diags.lenient(
              stmt.keyword.pos,
              'empty-block',
              '`notification_email` lists no address: keepalived reports it ("empty notification_email block") and sends no mail',
            );
          return;
        case 'notification_email_from':
          g.notificationEmailFrom = str(v[0]);
          return;
        case 'smtp_server':
          g.smtpServer = { host: str(v[0]), port: v[1] === undefined ? 25 : num(v[1]) };
          if (!familyOf(str(v[0]))) {
            this.diags.warn(
              stmt.args[0]!.pos,
              'smtp-name',
              `smtp_server \`${str(v[0])}\` is a name: keepalived resolves it once, when it reads the file, and sends no mail if that fails ("Invalid smtp server"); keepalived-ts resolves it for each alert`,
            );
          }
          return;
        case 'smtp_helo_name':
          g.smtpHeloName = str(v[0]);
          return;
        case 'smtp_connect_timeout':
          g.smtpConnectTimeoutMs = num(v[0]) * 1000;
          return;
        case 'smtp_alert':
          g.smtpAlert = on(v[0]);
          if (!checkerAlertWritten) g.smtpAlertChecker = g.smtpAlert;
          return;
        case 'smtp_alert_checker':
          g.smtpAlertChecker = on(v[0]);
          checkerAlertWritten = true;
          return;
        case 'no_checker_emails':
          g.noCheckerEmails = true;
          return;
        case 'router_id':
          g.routerId = str(v[0]);
          return;
        case 'vrrp_mcast_group4':
          g.vrrpMcastGroup4 = str(v[0]);
          return;
        case 'vmac_prefix':
          g.vmacPrefix ??= str(v[0]);
          return;
        case 'vmac_addr_prefix':
          g.vmacAddrPrefix ??= str(v[0]);
          return;
        case 'disable_local_igmp':
          g.disableLocalIgmp = true;
          return;
        case 'vrrp_mcast_group6':
          g.vrrpMcastGroup6 = str(v[0]);
          return;
        case 'default_interface':
          g.defaultInterface = str(v[0]);
          this.facts.interfaceRefs.push({ name: str(v[0]), pos: stmt.args[0]!.pos, what: 'default_interface' });
          return;
        case 'lvs_sync_daemon':
          return this.lvsSyncDaemon(stmt);
        case 'lvs_timeouts':
          return this.lvsTimeouts(stmt);
        case 'lvs_flush':
          g.lvsFlush = on(v[0]);
          return;
        case 'lvs_flush_on_stop':
          g.lvsFlushOnStop = v[0] === undefined ? 'full' : 'vs';
          return;
        case 'vrrp_garp_master_delay':
          g.vrrpGarpMasterDelayMs = num(v[0]) * 1000;
          return;
        case 'vrrp_garp_master_repeat':
          g.vrrpGarpMasterRepeat = num(v[0]);
          return;
        case 'vrrp_garp_master_refresh':
          g.vrrpGarpMasterRefreshMs = num(v[0]) * 1000;
          return;
        case 'vrrp_garp_master_refresh_repeat':
          g.vrrpGarpMasterRefreshRepeat = num(v[0]);
          return;
        case 'vrrp_garp_lower_prio_delay':
          g.vrrpGarpLowerPrioDelayMs = num(v[0]) * 1000;
          return;
        case 'vrrp_garp_lower_prio_repeat':
          g.vrrpGarpLowerPrioRepeat = num(v[0]);
          return;
        case 'vrrp_garp_interval':
          g.vrrpGarpIntervalMs = ms(v[0]);
          return;
        case 'vrrp_gna_interval':
          g.vrrpGnaIntervalMs = ms(v[0]);
          return;
        case 'vrrp_lower_prio_no_advert':
          g.vrrpLowerPrioNoAdvert = on(v[0]);
          return;
        case 'vrrp_higher_prio_send_advert':
          g.vrrpHigherPrioSendAdvert = on(v[0]);
          return;
        case 'vrrp_version':
          g.vrrpVersion = num(v[0]) as 2 | 3;
          return;
        case 'vrrp_strict':
          g.vrrpStrict = on(v[0]);
          return;
        case 'vrrp_check_unicast_src':
          g.vrrpCheckUnicastSrc = on(v[0]);
          return;
        case 'vrrp_skip_check_adv_addr':
          g.vrrpSkipCheckAdvAddr = on(v[0]);
          return;
        // keepalived 2.2.7 as Debian builds it (nftables, no iptables): vrrp_iptables is nftables
        case 'vrrp_iptables':
          g.vrrpIptables = v.map(str);
          this.diags.lenient(
            stmt.keyword.pos,
            'deprecated',
            'vrrp_iptables: keepalived 2.2.7 (built with nftables, without iptables) does not use iptables and installs its nftables table `keepalived` instead; write `nftables`',
          );
          this.firewall.table = 'keepalived';
          this.firewall.priority = -1;
          return;
        case 'nftables':
          if (this.firewall.table !== null) {
            this.diags.lenient(stmt.keyword.pos, 'duplicate', `nftables is already given (table ${this.firewall.table}): keepalived ignores this one`);
            return;
          }
          this.firewall.table = v[0] === undefined ? 'keepalived' : str(v[0]);
          this.firewall.priority = -1;
          return;
        case 'nftables_priority':
          this.firewall.priority = num(v[0]);
          return;
        case 'nftables_counters':
          this.firewall.counters = true;
          return;
        case 'nftables_ifindex':
          this.firewall.ifindex = true;
          return;
        case 'script_user':
          g.scriptUser = { user: str(v[0]), group: v[1] === undefined ? null : str(v[1]) };
          return;
        case 'enable_script_security':
          g.enableScriptSecurity = on(v[0]);
          return;
        case 'dynamic_interfaces':
          g.dynamicInterfaces = true;
          return;
        // keepalived keeps the first of each, and a script needs its FIFO named too
        case 'vrrp_notify_fifo':
          g.vrrpNotifyFifo ??= notifyFifo(v);
          return;
        case 'lvs_notify_fifo':
          g.lvsNotifyFifo ??= notifyFifo(v);
          return;
        case 'notify_fifo':
          g.notifyFifo ??= notifyFifo(v);
          return;
        case 'vrrp_notify_fifo_script':
          fifoScripts.vrrp ??= script(str(v[0]), v[1], v[2], stmt.keyword.pos);
          return;
        case 'lvs_notify_fifo_script':
          fifoScripts.lvs ??= script(str(v[0]), v[1], v[2], stmt.keyword.pos);
          return;
        case 'notify_fifo_script':
          fifoScripts.global ??= script(str(v[0]), v[1], v[2], stmt.keyword.pos);
          return;
        case 'vrrp_notify_priority_changes':
          g.vrrpNotifyPriorityChanges = on(v[0]);
          return;
        case 'smtp_alert_vrrp':
          g.smtpAlertVrrp = on(v[0]);
          return;
        case 'max_auto_priority':
          g.maxAutoPriority = v[0] === undefined ? RT_PRIORITY_MAX : num(v[0]);
          return;
        case 'min_auto_priority_delay':
          g.minAutoPriorityDelayUs = num(v[0]);
          return;
      }
      const knob = /^(vrrp|checker)_(rt_priority|priority|no_swap|cpu_affinity|rlimit_rttime)$/.exec(spec.name);
      if (knob) this.processSetting(g.processSettings[knob[1] as 'vrrp' | 'checker'], knob[2]!, v, stmt);
    });
    if (g.vrrpNotifyFifo && fifoScripts.vrrp) g.vrrpNotifyFifo.script = fifoScripts.vrrp;
    if (g.lvsNotifyFifo && fifoScripts.lvs) g.lvsNotifyFifo.script = fifoScripts.lvs;
    if (g.notifyFifo && fifoScripts.global) g.notifyFifo.script = fifoScripts.global;
    // Unimplemented global keywords, for consumers that list them.
    for (const s of block ?? []) {
      const k = BLOCKS.get('global_defs')!.keywords.find((x) => x.name === s.keyword.text);
      if (k?.status === 'parsed' && !g.unimplemented.includes(k.name)) g.unimplemented.push(k.name);
    }
  }

  /** One ROLE_* process keyword (grammar/keywords.ts processKeywords). */
  private processSetting(p: ProcessSettings, what: string, v: ArgValue[], stmt: Statement): void {
    switch (what) {
      case 'rt_priority': {
        const asked = num(v[0]);
        // keepalived brings the priority into SCHED_RR's range and says so
        const priority = Math.min(RT_PRIORITY_MAX, Math.max(RT_PRIORITY_MIN, asked));
        if (priority !== asked) {
          this.diags.warn(
            stmt.args[0]!.pos,
            'out-of-range',
            `real-time priority ${asked} is outside ${RT_PRIORITY_MIN}-${RT_PRIORITY_MAX}; using ${priority}, as keepalived does`,
          );
        }
        p.rtPriority = priority;
        return;
      }
      case 'priority':
        p.nice = num(v[0]);
        return;
      case 'no_swap':
        p.noSwap = true;
        return;
      case 'cpu_affinity':
        p.cpuAffinity = [...new Set(v.map(num))].sort((a, b) => a - b);
        return;
      // keepalived raises 1 to 2: half the limit (the warning) must not be 0
      case 'rlimit_rttime':
        p.rlimitRttimeUs = Math.max(2, num(v[0]));
        return;
    }
  }

  private lvsSyncDaemon(stmt: Statement): void {
    const w = stmt.args;
    if (!w[0]) {
      this.diags.error(stmt.keyword.pos, 'missing-argument', '`lvs_sync_daemon` needs an interface');
      return;
    }
    const d = {
      interface: w[0].text,
      instance: '',
      syncId: null as number | null,
      maxlen: null as number | null,
      port: null as number | null,
      ttl: null as number | null,
      group: null as string | null,
    };
    this.facts.interfaceRefs.push({ name: w[0].text, pos: w[0].pos, what: 'lvs_sync_daemon' });
    const numeric: Record<string, [number, number, 'syncId' | 'maxlen' | 'port' | 'ttl']> = {
      id: [0, 255, 'syncId'],
      maxlen: [1, 65507, 'maxlen'],
      port: [1, 65535, 'port'],
      ttl: [1, 255, 'ttl'],
    };
    for (let i = 1; i < w.length; i++) {
      const word = w[i]!;
      const next = w[i + 1];
      const range = numeric[word.text];
      if (range) {
        if (!next || !/^\d+$/.test(next.text) || +next.text < range[0] || +next.text > range[1]) {
          this.diags.error(
            (next ?? word).pos,
            'bad-argument',
            `\`lvs_sync_daemon\` ${word.text} expects an integer ${range[0]}-${range[1]}, got \`${next?.text ?? ''}\``,
          );
          return;
        }
        d[range[2]] = Number(next.text);
        i++;
      } else if (word.text === 'group') {
        if (!next || !familyOf(next.text)) {
          this.diags.error((next ?? word).pos, 'bad-argument', `\`lvs_sync_daemon\` group expects an IP address, got \`${next?.text ?? ''}\``);
          return;
        }
        d.group = next.text;
        i++;
      } else if (word.text === 'inst' && next) {
        d.instance = next.text;
        i++;
      } else if (i === 1) {
        d.instance = word.text;
      } else {
        this.diags.error(word.pos, 'extra-argument', `unexpected \`${word.text}\` in \`lvs_sync_daemon\` (expected inst, id, maxlen, port, ttl or group)`);
        return;
      }
    }
    this.config.globalDefs.lvsSyncDaemon = d;
    this.facts.lvsSyncDaemonPos = stmt.keyword.pos;
  }

  private lvsTimeouts(stmt: Statement): void {
    const t = { tcpS: null as number | null, tcpfinS: null as number | null, udpS: null as number | null };
    const keys: Record<string, 'tcpS' | 'tcpfinS' | 'udpS'> = { tcp: 'tcpS', tcpfin: 'tcpfinS', udp: 'udpS' };
    const w = stmt.args;
    for (let i = 0; i < w.length; i += 2) {
      const key = keys[w[i]!.text];
      const val = w[i + 1];
      if (!key) {
        this.diags.error(w[i]!.pos, 'bad-argument', `\`lvs_timeouts\` expects tcp, tcpfin or udp, got \`${w[i]!.text}\``);
        return;
      }
      if (!val || !/^\d+$/.test(val.text) || +val.text > 2147483) {
        this.diags.error((val ?? w[i]!).pos, 'bad-argument', `\`lvs_timeouts\` ${w[i]!.text} expects seconds 0-2147483, got \`${val?.text ?? ''}\``);
        return;
      }
      t[key] = Number(val.text);
    }
    if (w.length === 0) {
      this.diags.error(stmt.keyword.pos, 'missing-argument', '`lvs_timeouts` needs at least one of tcp, tcpfin, udp');
      return;
    }
    this.config.globalDefs.lvsTimeouts = t;
  }

  // ------------------------------------------------------------------ vrrp_script, track_file
  private vrrpScript(name: string, stmt: Statement): void {
    const s: VrrpScript = {
      name,
      script: script(''),
      intervalMs: 1000,
      timeoutMs: -1,
      weight: 0,
      weightReverse: false,
      rise: 1,
      fall: 1,
      user: null,
      group: null,
      initFail: false,
      pos: stmt.keyword.pos,
    };
    let haveScript = false;
    this.walk(stmt.block, 'vrrp_script', (spec, v, st) => {
      switch (spec.name) {
        case 'script':
          s.script = script(v.map(str).join(' '), null, null, st.keyword.pos);
          haveScript = true;
          return;
        case 'interval':
          s.intervalMs = ms(v[0]);
          return;
        case 'timeout':
          s.timeoutMs = ms(v[0]);
          return;
        case 'weight':
          s.weight = num(v[0]);
          s.weightReverse = v[1] === 'reverse';
          return;
        case 'rise':
          s.rise = num(v[0]);
          return;
        case 'fall':
          s.fall = num(v[0]);
          return;
        case 'user':
          s.user = str(v[0]);
          s.group = v[1] === undefined ? null : str(v[1]);
          return;
        case 'init_fail':
          s.initFail = on(v[0]);
          return;
      }
    });
    if (s.timeoutMs < 0) s.timeoutMs = s.intervalMs;
    if (!haveScript) {
      if (!this.written(stmt.block, 'script')) this.diags.error(stmt.keyword.pos, 'missing-keyword', `vrrp_script ${name} has no \`script\``);
      return;
    }
    this.config.vrrpScripts.push(s);
  }

  private trackFile(name: string, stmt: Statement): void {
    const t: TrackFile = { name, file: '', weight: 1, weightReverse: false, initFile: null, pos: stmt.keyword.pos };
    this.walk(stmt.block, 'track_file', (spec, v) => {
      switch (spec.name) {
        case 'file':
          t.file = str(v[0]);
          return;
        case 'weight':
          t.weight = num(v[0]);
          t.weightReverse = v[1] === 'reverse';
          return;
        case 'init_file':
          t.initFile = { value: v[0] === undefined ? 0 : num(v[0]), overwrite: v[1] === 'overwrite' };
          return;
      }
    });
    if (!t.file) {
      this.diags.error(stmt.keyword.pos, 'missing-keyword', `track_file ${name} has no \`file\``);
      return;
    }
    this.config.trackFiles.push(t);
  }

  /**
   * keepalived's rules: parameters after the name imply full_command and exact matching;
   * quorum and quorum_max must stay ordered (the later one is ignored, with an error),
   * quorum_max 0 means "no such process" (quorum 0). What keepalived ignores with an error
   * (a second process or weight, a misordered quorum, a block without process) it starts with.
   */
  private trackProcess(name: string, stmt: Statement): void {
    const t: TrackProcess = {
      name,
      process: '',
      params: [],
      paramMatch: 'none',
      fullCommand: false,
      weight: 0,
      weightReverse: false,
      quorum: 1,
      quorumMax: UINT32_MAX,
      forkDelayMs: 0,
      terminateDelayMs: 0,
      pos: stmt.keyword.pos,
    };
    this.walk(stmt.block, 'vrrp_track_process', (spec, v, st) => {
      switch (spec.name) {
        case 'process':
          if (t.process) {
            this.diags.lenient(st.keyword.pos, 'duplicate', `vrrp_track_process ${name}: process is already \`${t.process}\`: keepalived ignores this one`);
            return;
          }
          t.process = str(v[0]);
          t.params = v.slice(1).map(str);
          if (t.params.length > 0) {
            if (t.paramMatch === 'none') t.paramMatch = 'exact';
            t.fullCommand = true;
          }
          return;
        case 'param_match':
          t.paramMatch = v[0] === undefined ? 'exact' : (str(v[0]) as 'initial' | 'partial');
          t.fullCommand = true;
          return;
        case 'weight':
          if (t.weight !== 0) {
            this.diags.lenient(st.keyword.pos, 'duplicate', `vrrp_track_process ${name}: weight is already ${t.weight}: keepalived ignores this one`);
            return;
          }
          t.weight = num(v[0]);
          t.weightReverse = v[1] === 'reverse';
          return;
        case 'quorum':
          if (num(v[0]) > t.quorumMax)
            this.diags.lenient(
              st.keyword.pos,
              'bad-argument',
              `vrrp_track_process ${name}: quorum ${num(v[0])} is greater than quorum_max ${t.quorumMax}: keepalived ignores it`,
            );
          else t.quorum = num(v[0]);
          return;
        case 'quorum_max': {
          const max = num(v[0]);
          if ((max !== 0 || t.quorum > 1) && max < t.quorum) {
            this.diags.lenient(
              st.keyword.pos,
              'bad-argument',
              `vrrp_track_process ${name}: quorum_max ${max} is less than quorum ${t.quorum}: keepalived ignores it`,
            );
            return;
          }
          t.quorumMax = max;
          if (max === 0) t.quorum = 0;
          else if (t.quorum === 0) t.quorum = 1;
          return;
        }
        case 'delay':
          t.forkDelayMs = t.terminateDelayMs = ms(v[0]);
          return;
        case 'terminate_delay':
          t.terminateDelayMs = ms(v[0]);
          return;
        case 'fork_delay':
          t.forkDelayMs = ms(v[0]);
          return;
        case 'full_command':
          t.fullCommand = on(v[0]);
          return;
      }
    });
    if (!t.process) {
      this.diags.lenient(stmt.keyword.pos, 'missing-keyword', `vrrp_track_process ${name} has no \`process\`: keepalived ignores this vrrp_track_process`);
      return;
    }
    this.config.trackProcesses.push(t);
  }

  // ------------------------------------------------------------------ sync groups
  /** `track_group NAME { group { INSTANCE... } }` (keepalived vrrp_parser.c static_track_group_handler). */
  private staticTrackGroup(name: string, stmt: Statement): void {
    if (this.config.staticTrackGroups.some((g) => g.name === name)) {
      this.diags.lenient(stmt.keyword.pos, 'duplicate', `track_group ${name} already defined: keepalived skips this one`);
      return;
    }
    const g: StaticTrackGroup = { name, instances: [], pos: stmt.keyword.pos };
    this.walk(stmt.block, 'track_group', (spec, _v, s) => {
      if (spec.name !== 'group') return;
      if (g.instances.length) {
        this.diags.lenient(s.keyword.pos, 'duplicate', `group list already specified for track_group ${name}: keepalived skips this one`);
        return;
      }
      for (const line of s.block ?? []) g.instances.push(...[line.keyword, ...line.args].map((w) => w.text));
    });
    this.config.staticTrackGroups.push(g);
  }

  private syncGroup(name: string, stmt: Statement): void {
    const g: VrrpSyncGroup = {
      name,
      group: [],
      trackInterfaces: [],
      trackScripts: [],
      trackFiles: [],
      trackProcesses: [],
      trackingWeight: false,
      notifyMaster: null,
      notifyBackup: null,
      notifyFault: null,
      notifyStop: null,
      notify: null,
      smtpAlert: null,
      notifyPriorityChanges: null,
      pos: stmt.keyword.pos,
    };
    const memberPos: SourcePos[] = [];
    this.walk(stmt.block, 'vrrp_sync_group', (spec, v, s) => {
      if (this.notifyHook(g, spec.name, v, s)) return;
      switch (spec.name) {
        case 'group':
          for (const line of s.block ?? []) {
            for (const w of [line.keyword, ...line.args]) {
              g.group.push(w.text);
              memberPos.push(w.pos);
            }
          }
          return;
        case 'track_interface':
          g.trackInterfaces = trackRefs(s.block, 'track_interface', this.diags);
          for (const r of g.trackInterfaces) this.facts.interfaceRefs.push({ name: r.name, pos: r.pos, what: 'track_interface' });
          return;
        case 'track_script':
          g.trackScripts = this.definedSoFar(trackRefs(s.block, 'track_script', this.diags), this.config.vrrpScripts.slice(0, this.above?.scripts));
          return;
        case 'track_file':
          g.trackFiles = this.definedSoFar(trackRefs(s.block, 'track_file', this.diags), this.config.trackFiles.slice(0, this.above?.files));
          return;
        case 'track_process':
          g.trackProcesses = this.definedSoFar(trackRefs(s.block, 'track_process', this.diags), this.config.trackProcesses.slice(0, this.above?.processes));
          return;
        case 'global_tracking':
          g.trackingWeight = true;
          this.diags.lenient(
            s.keyword.pos,
            'deprecated',
            '`global_tracking` is deprecated (keepalived reports it and reads it as `sync_group_tracking_weight`); write `sync_group_tracking_weight`, or track_interface/script/file on the sync group',
          );
          return;
        case 'sync_group_tracking_weight':
          g.trackingWeight = true;
          return;
      }
    });
    syncGroupMemberPos.set(g, memberPos);
    this.config.vrrpSyncGroups.push(g);
  }

  private notifyHook(o: VrrpSyncGroup | VrrpInstance, name: string, v: ArgValue[], stmt: Statement): boolean {
    const set = (field: 'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notify') => {
      o[field] = this.firstScript(o[field], name, v, stmt);
    };
    switch (name) {
      case 'notify_master':
        set('notifyMaster');
        return true;
      case 'notify_backup':
        set('notifyBackup');
        return true;
      case 'notify_fault':
        set('notifyFault');
        return true;
      case 'notify_stop':
        set('notifyStop');
        return true;
      case 'notify':
        set('notify');
        return true;
      case 'smtp_alert':
        o.smtpAlert = on(v[0]);
        return true;
      case 'notify_priority_changes':
        o.notifyPriorityChanges = on(v[0]);
        return true;
    }
    return false;
  }

  /** Notes the entries whose object is not defined yet (validate.ts drops them as keepalived does). */
  private definedSoFar(refs: TrackRef[], defined: readonly { name: string }[]): TrackRef[] {
    for (const r of refs) if (!defined.some((d) => d.name === r.name)) this.facts.readBeforeDefinition.add(r);
    return refs;
  }

  /** A notify script: keepalived keeps the first one written and ignores a later one. */
  private firstScript(current: ScriptSpec | null, keyword: string, v: ArgValue[], stmt: Statement): ScriptSpec {
    if (!current) return script(str(v[0]), v[1], v[2], stmt.keyword.pos);
    this.diags.lenient(
      stmt.keyword.pos,
      'duplicate',
      `\`${keyword}\` is already set in this block: keepalived keeps the first one, \`${current.command}\`, and ignores this one`,
    );
    return current;
  }

  // ------------------------------------------------------------------ vrrp_instance
  private vrrpInstance(name: string, stmt: Statement): void {
    const g = this.config.globalDefs;
    const inst: VrrpInstance = {
      name,
      state: 'BACKUP',
      interface: '',
      virtualRouterId: 0,
      priority: 100,
      advertIntMs: 1000,
      version: 2,
      family: 4,
      nopreempt: false,
      preemptDelayMs: 0,
      mcastSrcIp: null,
      unicastSrcIp: null,
      unicastPeers: [],
      authentication: null,
      virtualIpaddresses: [],
      virtualIpaddressesExcluded: [],
      virtualRoutes: [],
      virtualRules: [],
      trackInterfaces: [],
      trackScripts: [],
      trackFiles: [],
      trackProcesses: [],
      dontTrackPrimary: false,
      garpMasterDelayMs: g.vrrpGarpMasterDelayMs,
      garpMasterRepeat: g.vrrpGarpMasterRepeat,
      garpMasterRefreshMs: g.vrrpGarpMasterRefreshMs,
      garpMasterRefreshRepeat: g.vrrpGarpMasterRefreshRepeat,
      garpLowerPrioDelayMs: null,
      garpLowerPrioRepeat: null,
      garpIntervalMs: g.vrrpGarpIntervalMs,
      gnaIntervalMs: g.vrrpGnaIntervalMs,
      lvsSyncDaemonInterface: null,
      accept: false,
      strictMode: g.vrrpStrict,
      vmac: null,
      lowerPrioNoAdvert: g.vrrpLowerPrioNoAdvert,
      higherPrioSendAdvert: g.vrrpHigherPrioSendAdvert,
      vmacXmitBase: false,
      useVmacAddr: false,
      v3ChecksumAsV2: false,
      syncGroup: null,
      notifyMaster: null,
      notifyBackup: null,
      notifyFault: null,
      notifyStop: null,
      notify: null,
      smtpAlert: null,
      notifyPriorityChanges: null,
      notifyDeleted: null,
      notifyMasterRxLowerPri: null,
      pos: stmt.keyword.pos,
    };
    const set = new Set<string>();
    let acceptSet: boolean | null = null;
    const block = stmt.block;
    this.walk(block, 'vrrp_instance', (spec, v, s) => {
      set.add(spec.name);
      if (this.notifyHook(inst, spec.name, v, s)) return;
      switch (spec.name) {
        case 'state':
          inst.state = str(v[0]) as 'MASTER' | 'BACKUP';
          this.facts.statePos.set(inst, s.keyword.pos);
          return;
        case 'interface':
          inst.interface = str(v[0]);
          this.facts.interfaceRefs.push({ name: inst.interface, pos: s.args[0]!.pos, what: `vrrp_instance ${name} interface` });
          return;
        case 'virtual_router_id':
          inst.virtualRouterId = num(v[0]);
          this.facts.vridPos.set(inst, s.args[0]!.pos);
          return;
        case 'priority':
          inst.priority = num(v[0]);
          return;
        case 'advert_int':
          inst.advertIntMs = ms(v[0]);
          this.facts.advertPos.set(inst, s.args[0]!.pos);
          return;
        case 'version':
          inst.version = num(v[0]) as 2 | 3;
          return;
        case 'nopreempt':
          inst.nopreempt = on(v[0]);
          this.facts.nopreemptPos.set(inst, s.keyword.pos);
          return;
        case 'preempt':
          inst.nopreempt = false;
          return;
        case 'preempt_delay':
          inst.preemptDelayMs = ms(v[0]);
          return;
        case 'mcast_src_ip':
          inst.mcastSrcIp = this.withoutPrefix(s.args[0]!, spec.name);
          return;
        case 'unicast_src_ip':
          inst.unicastSrcIp = this.withoutPrefix(s.args[0]!, spec.name);
          return;
        case 'unicast_peer':
          inst.unicastPeers = this.unicastPeers(s.block);
          return;
        case 'authentication':
          inst.authentication = this.authentication(s);
          return;
        case 'virtual_ipaddress':
          inst.virtualIpaddresses = this.vips(s.block, 'virtual_ipaddress');
          return;
        case 'virtual_ipaddress_excluded':
          inst.virtualIpaddressesExcluded = this.vips(s.block, 'virtual_ipaddress_excluded');
          return;
        case 'virtual_routes':
          inst.virtualRoutes = this.ipLines(s.block, parseRouteLine, false);
          return;
        case 'virtual_rules':
          inst.virtualRules = this.ipLines(s.block, this.parseRuleLine, false);
          return;
        case 'track_interface':
          if (!s.block) return this.trackInterfaceWithoutBlock(inst, s, stmt.block!);
          inst.trackInterfaces = trackRefs(s.block, 'track_interface', this.diags);
          for (const r of inst.trackInterfaces) this.facts.interfaceRefs.push({ name: r.name, pos: r.pos, what: 'track_interface' });
          return;
        case 'track_script':
          inst.trackScripts = this.definedSoFar(trackRefs(s.block, 'track_script', this.diags), this.config.vrrpScripts.slice(0, this.above?.scripts));
          return;
        case 'track_file':
          inst.trackFiles = this.definedSoFar(trackRefs(s.block, 'track_file', this.diags), this.config.trackFiles.slice(0, this.above?.files));
          return;
        case 'track_process':
          inst.trackProcesses = this.definedSoFar(trackRefs(s.block, 'track_process', this.diags), this.config.trackProcesses.slice(0, this.above?.processes));
          return;
        case 'notify_deleted':
          if (inst.notifyDeleted) {
            this.diags.lenient(
              s.keyword.pos,
              'duplicate',
              '`notify_deleted` is already set in this block: keepalived keeps the first one and ignores this one',
            );
            return;
          }
          inst.notifyDeleted = { script: v[0] === undefined ? null : script(str(v[0]), v[1], v[2], s.keyword.pos) };
          return;
        case 'notify_master_rx_lower_pri':
          inst.notifyMasterRxLowerPri = this.firstScript(inst.notifyMasterRxLowerPri, 'notify_master_rx_lower_pri', v, s);
          return;
        case 'dont_track_primary':
          inst.dontTrackPrimary = on(v[0]);
          return;
        case 'garp_master_delay':
          inst.garpMasterDelayMs = num(v[0]) * 1000;
          return;
        case 'garp_master_repeat':
          inst.garpMasterRepeat = num(v[0]);
          return;
        case 'garp_master_refresh':
          inst.garpMasterRefreshMs = num(v[0]) * 1000;
          return;
        case 'garp_master_refresh_repeat':
          inst.garpMasterRefreshRepeat = num(v[0]);
          return;
        case 'garp_lower_prio_delay':
          inst.garpLowerPrioDelayMs = num(v[0]) * 1000;
          return;
        case 'garp_lower_prio_repeat':
          inst.garpLowerPrioRepeat = num(v[0]);
          return;
        case 'lvs_sync_daemon_interface':
          inst.lvsSyncDaemonInterface = str(v[0]);
          this.diags.warn(
            s.keyword.pos,
            'deprecated',
            `\`lvs_sync_daemon_interface\` in vrrp_instance is deprecated (keepalived takes it as global_defs \`lvs_sync_daemon ${str(v[0])} ${name}\` unless that is written); write that instead`,
          );
          this.facts.interfaceRefs.push({ name: str(v[0]), pos: s.args[0]!.pos, what: 'lvs_sync_daemon_interface' });
          return;
        case 'accept':
          acceptSet = on(v[0]);
          return;
        case 'no_accept':
          acceptSet = !on(v[0]);
          return;
        case 'strict_mode':
          inst.strictMode = on(v[0]);
          return;
        case 'lower_prio_no_advert':
          inst.lowerPrioNoAdvert = on(v[0]);
          return;
        case 'higher_prio_send_advert':
          inst.higherPrioSendAdvert = on(v[0]);
          return;
        case 'use_vmac':
          inst.vmac = useVmacConfig(s.args, s.keyword.pos, this.vmacWarn);
          return;
        case 'use_ipvlan':
          if (inst.vmac?.kind === 'ipvlan') this.vmacWarn(s.keyword.pos, `(${name}) use_ipvlan already specified: keepalived ignores this one`);
          else inst.vmac = useIpvlanConfig(s.args, s.keyword.pos, this.vmacWarn);
          return;
        case 'vmac_xmit_base':
          inst.vmacXmitBase = on(v[0]);
          return;
        case 'use_vmac_addr':
          inst.useVmacAddr = true;
          return;
      }
    });
    this.acceptWritten.set(inst, acceptSet);
    if (!set.has('interface')) this.facts.noInterface.add(inst);
    if (this.written(stmt.block, 'virtual_router_id')) this.facts.vridWritten.add(inst);
    this.pendingInstances.push({ inst, set, stmt });
    this.config.vrrpInstances.push(inst);
  }

  private readonly vmacWarn = (pos: SourcePos, message: string) => this.diags.warn(pos, 'vmac', message);

  /** keepalived's checks of use_vmac / use_ipvlan once the whole instance is read (vrrp_parser.c, vrrp.c). */
  private finishVmac(inst: VrrpInstance): void {
    const v = inst.vmac;
    if (v?.mac?.endsWith(':*')) v.mac = `${v.mac.slice(0, -1)}${inst.virtualRouterId.toString(16).padStart(2, '0')}`;
    if (v?.name && this.config.vrrpInstances.some((o) => o !== inst && o.vmac?.name === v.name)) {
      this.vmacWarn(v.pos, `(${inst.name}) another vrrp_instance already uses ${v.name}: keepalived ignores the name`);
      v.name = null;
    }
    if (v && inst.unicastPeers.length > 0 && !inst.vmacXmitBase) {
      this.vmacWarn(v.pos, `(${inst.name}) unicast with use_vmac requires vmac_xmit_base: keepalived sets it`);
      inst.vmacXmitBase = true;
    }
    if (inst.vmacXmitBase && v?.kind !== 'macvlan') {
      this.vmacWarn(inst.pos, `(${inst.name}) vmac_xmit_base is only valid with a vmac: keepalived ignores it`);
      inst.vmacXmitBase = false;
    }
    if (v?.ipvlanAddress) {
      const fam = familyOf(v.ipvlanAddress.address);
      if (fam !== inst.family) {
        this.vmacWarn(v.pos, `(${inst.name}) use_ipvlan address ${v.ipvlanAddress.address} must match the instance's family: keepalived skips it`);
        v.ipvlanAddress = null;
      } else if (!inst.unicastSrcIp && !inst.mcastSrcIp) inst.mcastSrcIp = v.ipvlanAddress.address;
    }
    if (v?.kind === 'ipvlan' && inst.family === 4 && !v.ipvlanAddress) {
      this.vmacWarn(v.pos, `(${inst.name}) an IPv4 use_ipvlan needs an address: keepalived runs the instance in FAULT`);
    }
    // a VIP's own use_vmac where something else already decides its VMAC (keepalived vrrp.c)
    for (const vip of [...inst.virtualIpaddresses, ...inst.virtualIpaddressesExcluded]) {
      if (!vip.useVmac) continue;
      const onInstanceIf = vip.dev === null || vip.dev === inst.interface;
      const text = `${vip.address}/${vip.prefix}`;
      if (onInstanceIf && v?.kind === 'macvlan' && vip.family === inst.family) {
        this.vmacWarn(vip.pos, `(${inst.name}) use_vmac specified for VIP ${text} and the vrrp instance: keepalived puts it on the instance's VMAC`);
        vip.useVmac = false;
      } else if ((!onInstanceIf || vip.family !== inst.family) && inst.useVmacAddr) {
        this.vmacWarn(vip.pos, `(${inst.name}) use_vmac_addr and use_vmac specified for VIP ${text}: keepalived puts it on a VMAC by use_vmac_addr`);
        vip.useVmac = false;
      }
    }
  }

  /** The VRRP firewall, once every instance's accept mode is known (strict.ts). */
  private finishFirewall(): void {
    const f = this.firewall;
    if (f.table === null) {
      const needs = needsDefaultFirewall(this.config.vrrpInstances);
      if (!needs) return;
      this.diags.warn(
        needs.pos,
        'firewall',
        `vrrp_instance ${needs.name} runs without accept mode${needs.vmac?.kind === 'macvlan' ? ' or with use_vmac' : ''} and no firewall is configured: as keepalived, the nftables table \`keepalived\` is used (write \`nftables\` in global_defs to say so)`,
      );
      f.table = 'keepalived';
    }
    this.config.globalDefs.vrrpFirewall = { table: f.table, priority: f.priority, counters: f.counters, ifindex: f.ifindex };
  }

  /** Settings that depend on other statements of the instance or on global_defs. */
  private finishInstance(inst: VrrpInstance, set: Set<string>, stmt: Statement): void {
    const g = this.config.globalDefs;
    if (!set.has('interface') && g.defaultInterface) inst.interface = g.defaultInterface;
    // keepalived: without a priority, `state MASTER` makes the instance the address owner; a
    // priority it cannot read counts as written (it then uses 100)
    if (!stmt.block?.some((s) => s.keyword.text === 'priority') && inst.state === 'MASTER') {
      inst.priority = 255;
      this.diags.warn(
        this.facts.statePos.get(inst) ?? stmt.keyword.pos,
        'owner-by-state',
        `vrrp_instance ${inst.name} has \`state MASTER\` and no \`priority\`: keepalived then gives it priority 255 (the address owner, MASTER at once); write a \`priority\``,
      );
    }
    if (inst.lvsSyncDaemonInterface && !g.lvsSyncDaemon) {
      g.lvsSyncDaemon = { interface: inst.lvsSyncDaemonInterface, instance: inst.name, syncId: null, maxlen: null, port: null, ttl: null, group: null };
    }
    if (!set.has('garp_lower_prio_delay')) inst.garpLowerPrioDelayMs = g.vrrpGarpLowerPrioDelayMs ?? inst.garpMasterDelayMs;
    if (!set.has('garp_lower_prio_repeat')) inst.garpLowerPrioRepeat = g.vrrpGarpLowerPrioRepeat ?? inst.garpMasterRepeat;
    const first = inst.virtualIpaddresses[0];
    if (first) inst.family = first.family;
    else if (inst.unicastSrcIp) inst.family = familyOf(inst.unicastSrcIp) ?? 4;
    else if (inst.mcastSrcIp) inst.family = familyOf(inst.mcastSrcIp) ?? 4;
    else if (inst.vmac?.ipvlanAddress) inst.family = familyOf(inst.vmac.ipvlanAddress.address) ?? 4;
    this.finishVmac(inst);
    if (!set.has('version')) inst.version = g.vrrpVersion;
    if (inst.family === 6 && inst.version === 2) {
      if (set.has('version')) {
        const message = `vrrp_instance ${inst.name} is IPv6; VRRPv2 is IPv4 only, so it runs VRRPv3 (as keepalived does)`;
        // keepalived reports it as a configuration error in strict mode
        if (inst.strictMode) this.diags.lenient(stmt.keyword.pos, 'version', message);
        else this.diags.warn(stmt.keyword.pos, 'version', message);
      }
      inst.version = 3;
    }
    if (inst.version === 2 && inst.advertIntMs % 1000 !== 0) {
      const rounded = Math.max(1000, Math.round(inst.advertIntMs / 1000) * 1000);
      this.diags.lenient(
        this.facts.advertPos.get(inst) ?? stmt.keyword.pos,
        'range',
        `vrrp_instance ${inst.name}: VRRPv2 advert_int must be whole seconds, got ${inst.advertIntMs / 1000}: keepalived rounds it to ${rounded / 1000}; use \`version 3\` for sub-second adverts`,
      );
      inst.advertIntMs = rounded;
    }
    completeStrictMode(inst, { stmt, written: set, statePos: this.facts.statePos.get(inst) }, this.acceptWritten.get(inst) ?? null, this.diags);
  }

  /** An address keepalived reads without its `/prefix` (unicast_src_ip, unicast_peer entries). */
  private withoutPrefix(w: Word, what: string): string {
    const slash = w.text.indexOf('/');
    if (slash < 0) return w.text;
    const addr = w.text.slice(0, slash);
    this.diags.warn(
      w.pos,
      'prefix-ignored',
      `${what} \`${w.text}\`: keepalived uses the address ${addr} and ignores \`${w.text.slice(slash)}\`; write the address alone`,
    );
    return familyOf(addr) === 6 ? addr.toLowerCase() : addr;
  }

  /**
   * `track_interface eth1` with no `{`: keepalived ignores the word after the keyword and,
   * still looking for the block's `{`, reads the lines that follow, up to the first `}`, as
   * the names of the interfaces to track (the keywords and values of those lines included).
   * Those lines are not applied as what they say. The names rarely exist, and keepalived then
   * refuses to start: the host check reports each.
   */
  private trackInterfaceWithoutBlock(inst: VrrpInstance, stmt: Statement, siblings: Statement[]): void {
    const names: Word[] = [];
    let closed = false;
    // keepalived takes the first word of each line; a `{` is a line of its own, and the
    // first `}` (of whichever block comes first) ends the list
    const take = (s: Statement): void => {
      if (closed) return;
      this.consumed.add(s);
      names.push(s.keyword);
      if (s.block) {
        names.push({ text: '{', quoted: false, pos: s.blockOpen ?? s.pos });
        for (const inner of s.block) take(inner);
        closed = true;
      }
    };
    for (let i = siblings.indexOf(stmt) + 1; i < siblings.length && !closed; i++) take(siblings[i]!);
    const ignored = stmt.args.map((w) => w.text).join(' ');
    const what = names.length
      ? `the names ${names
          .slice(0, 6)
          .map((w) => `\`${w.text}\``)
          .join(', ')}${names.length > 6 ? ', ...' : ''} from the lines after it, up to the first \`}\``
      : 'nothing (the block ends)';
    this.diags.lenient(
      stmt.keyword.pos,
      'block-without-brace',
      `\`track_interface\` needs \`{ }\`: keepalived ignores \`${ignored}\` and tracks as interfaces ${what}, which it then does not apply as written; write \`track_interface {\` ... \`}\``,
    );
    for (const w of names) {
      inst.trackInterfaces.push({ name: w.text, weight: null, reverse: false, pos: w.pos });
      this.facts.interfaceRefs.push({ name: w.text, pos: w.pos, what: 'track_interface (a line keepalived reads as a tracked interface)' });
    }
  }

  private unicastPeers(block: Statement[] | null): UnicastPeer[] {
    const peers: UnicastPeer[] = [];
    for (const line of block ?? []) {
      const addr = this.withoutPrefix(line.keyword, 'unicast_peer');
      if (!familyOf(addr)) {
        this.diags.error(line.keyword.pos, 'bad-address', `unicast_peer expects an IP address, got \`${addr}\``);
        continue;
      }
      const peer: UnicastPeer = { address: addr, minTtl: null, maxTtl: null };
      let ok = true;
      for (let i = 0; i < line.args.length; i += 2) {
        const k = line.args[i]!;
        const val = line.args[i + 1];
        if ((k.text !== 'min_ttl' && k.text !== 'max_ttl') || !val || !/^\d+$/.test(val.text) || +val.text > 255) {
          this.diags.error(
            k.pos,
            'bad-argument',
            `unicast_peer ${addr}: expected \`min_ttl N\` or \`max_ttl N\` (0-255), got \`${k.text}${val ? ' ' + val.text : ''}\``,
          );
          ok = false;
          break;
        }
        if (k.text === 'min_ttl') peer.minTtl = Number(val.text);
        else peer.maxTtl = Number(val.text);
      }
      if (ok) peers.push(peer);
    }
    return peers;
  }

  private authentication(stmt: Statement): VrrpInstance['authentication'] {
    let type: 'PASS' | 'AH' | null = null;
    let pass = '';
    this.walk(stmt.block, 'authentication', (spec, v, s) => {
      if (spec.name === 'auth_type') type = str(v[0]) as 'PASS' | 'AH';
      else if (spec.name === 'auth_pass') {
        pass = str(v[0]);
        // the VRRP header has 8 bytes for it: keepalived logs the cut and uses the first 8
        if (pass.length > 8)
          this.diags.lenient(
            s.args[0]!.pos,
            'truncated',
            `\`auth_pass\` is longer than 8 characters: keepalived uses the first 8, \`${pass.slice(0, 8)}\` (every peer must too)`,
          );
      }
    });
    if (!type) {
      // keepalived runs the instance without authentication
      if (!this.written(stmt.block, 'auth_type'))
        this.diags.lenient(
          stmt.keyword.pos,
          'missing-keyword',
          '`authentication` needs `auth_type PASS|AH`: keepalived runs the instance without authentication',
        );
      return null;
    }
    if (type === 'PASS' && !pass) {
      this.diags.lenient(
        stmt.keyword.pos,
        'missing-keyword',
        '`authentication` with `auth_type PASS` needs `auth_pass`: keepalived runs the instance without authentication',
      );
      return null;
    }
    return { type, pass: pass.slice(0, 8) };
  }

  /** virtual_ipaddress lines: `ADDR[/LEN] [brd B] [dev IF] [scope S] [label L] ...`. */
  /** The lines of a route or rule block (iproute.ts); lines keepalived drops are left out. */
  private ipLines<T>(block: Statement[] | null, parse: (words: Word[], pos: SourcePos, ctx: IpLineContext) => T | null, isStatic: boolean): T[] {
    const ctx: IpLineContext = {
      diags: this.diags,
      names: this.opts.rtNames ?? (this.rtNames ??= systemRtNames()),
      isStatic,
      trackGroups: this.trackGroupNames,
      onInterface: (name, pos, what) => this.facts.interfaceRefs.push({ name, pos, what }),
    };
    return (block ?? []).flatMap((line) => parse([line.keyword, ...line.args], line.keyword.pos, ctx) ?? []);
  }

  private readonly parseRuleLine = (words: Word[], pos: SourcePos, ctx: IpLineContext) => parseRule(words, pos, ctx, this.rulePriorities);

  private vips(block: Statement[] | null, what: string): VirtualIp[] {
    const out: VirtualIp[] = [];
    // track_group is static_ipaddress's only: an instance's VIP reads it as an unknown word
    const withValue = new Set([
      'brd',
      'broadcast',
      'dev',
      'scope',
      'label',
      'preferred_lft',
      'metric',
      'peer',
      ...(what === 'static_ipaddress' ? ['track_group'] : []),
    ]);
    const alone = new Set(['no_track', 'home', 'nodad', '-nodad', 'noprefixroute', 'autojoin', 'mngtmpaddr']);
    for (const line of block ?? []) {
      const text = line.keyword.text;
      const slash = text.indexOf('/');
      const addr = slash < 0 ? text : text.slice(0, slash);
      const family = familyOf(addr);
      if (!family) {
        this.diags.error(line.keyword.pos, 'bad-address', `${what} expects ADDRESS[/PREFIX], got \`${text}\``);
        continue;
      }
      const max = family === 6 ? 128 : 32;
      const len = slash < 0 ? String(max) : text.slice(slash + 1);
      if (!/^\d+$/.test(len) || +len > max) {
        // keepalived: "Invalid address prefix len ... - using 32" and keeps the address
        this.diags.lenient(line.keyword.pos, 'bad-address', `${what} \`${text}\`: the prefix must be 0-${max}: keepalived uses ${addr}/${max}`);
      }
      const vip = plainVirtualIp(family === 6 ? addr.toLowerCase() : addr, /^\d+$/.test(len) && +len <= max ? Number(len) : max, family, line.keyword.pos);
      let ok = true;
      for (let i = 0; i < line.args.length; i++) {
        const w = line.args[i]!;
        if (alone.has(w.text)) {
          if (w.text.endsWith('nodad')) vip.noDad = true;
          if (w.text === 'no_track') vip.noTrack = true;
          continue;
        }
        // keepalived's parser takes use_vmac on an instance's VIPs only (vrrp_ipaddress.c)
        if (w.text === 'use_vmac' && what !== 'static_ipaddress') {
          vip.useVmac = true;
          continue;
        }
        if (!withValue.has(w.text)) {
          // keepalived reads each word as an option and skips the ones it does not know
          this.diags.lenient(
            w.pos,
            'bad-argument',
            `unknown ${what} option \`${w.text}\` (expected brd, dev, scope, label, no_track, ...): keepalived ignores the word`,
          );
          continue;
        }
        const val = line.args[i + 1];
        if (!val) {
          this.diags.error(w.pos, 'missing-argument', `${what} option \`${w.text}\` needs a value`);
          ok = false;
          break;
        }
        i++;
        if (w.text === 'brd' || w.text === 'broadcast') {
          if (val.text !== '+' && val.text !== '-' && familyOf(val.text) !== family) {
            this.diags.error(val.pos, 'bad-address', `${what} \`brd\` expects an address of the VIP's family, \`+\` or \`-\`, got \`${val.text}\``);
            ok = false;
            break;
          }
          vip.broadcast = val.text;
        } else if (w.text === 'dev') {
          vip.dev = val.text;
          this.facts.interfaceRefs.push({ name: val.text, pos: val.pos, what: `${what} dev` });
        } else if (w.text === 'scope') {
          const scopes = ['site', 'link', 'host', 'nowhere', 'global'];
          if (!scopes.includes(val.text) && !/^\d+$/.test(val.text)) {
            this.diags.lenient(
              val.pos,
              'bad-argument',
              `${what} \`scope\` expects one of ${scopes.join('|')}, got \`${val.text}\`: keepalived ignores the scope`,
            );
            continue;
          }
          vip.scope = val.text;
        } else if (w.text === 'label') {
          vip.label = val.text;
        } else if (w.text === 'track_group') {
          // keepalived: a duplicate stops the line's reading (the address is kept)
          if (this.staticAddressTrackGroup.has(vip)) {
            this.diags.lenient(val.pos, 'bad-argument', `track_group ${val.text} is a duplicate: keepalived ignores the rest of the line`);
            break;
          }
          if (this.trackGroupNames.has(val.text)) this.staticAddressTrackGroup.set(vip, val.text);
          else this.diags.lenient(val.pos, 'bad-argument', `track_group ${val.text} not found: keepalived tracks nothing for this address`);
        }
      }
      if (vip.noTrack && this.staticAddressTrackGroup.has(vip)) {
        this.diags.warn(line.keyword.pos, 'track-group', 'static address has both track_group and no_track: keepalived does not track it');
      }
      if (ok) out.push(vip);
    }
    return out;
  }

  // ------------------------------------------------------------------ LVS
  private virtualServerGroup(stmt: Statement): void {
    const name = stmt.args[0]!.text;
    const g: VirtualServerGroup = { name, members: [], pos: stmt.keyword.pos };
    for (const line of stmt.block ?? []) {
      const m = this.vsgMember(line);
      if (m) g.members.push(m);
    }
    if (g.members.length === 0) {
      this.diags.lenient(stmt.keyword.pos, 'empty-group', `virtual_server_group ${name} has no usable entry: keepalived removes it`);
      return;
    }
    this.config.virtualServerGroups.push(g);
  }

  private vsgMember(line: Statement): VirtualServerGroupMember | null {
    const first = line.keyword;
    const args = line.args;
    // keepalived logs a member it cannot read and skips it; a group left empty is removed
    const skip = (pos: SourcePos, code: string, msg: string) => this.diags.lenient(pos, code, `${msg}: keepalived skips this entry`);
    if (first.text === 'fwmark') {
      const n = args[0];
      if (!n || !/^\d+$/.test(n.text) || +n.text < 1 || +n.text > 4294967295) {
        skip((n ?? first).pos, 'bad-argument', `virtual_server_group fwmark expects an integer 1-4294967295, got \`${n?.text ?? ''}\``);
        return null;
      }
      return { kind: 'fwmark', fwmark: Number(n.text), pos: first.pos };
    }
    const portWord = args[0];
    let port = 0;
    if (portWord) {
      if (!/^\d+$/.test(portWord.text) || +portWord.text < 1 || +portWord.text > 65535) {
        skip(portWord.pos, 'bad-argument', `virtual_server_group member expects a port 1-65535, got \`${portWord.text}\``);
        return null;
      }
      port = Number(portWord.text);
    }
    if (args.length > 1) {
      skip(args[1]!.pos, 'extra-argument', `unexpected \`${args[1]!.text}\` in virtual_server_group member (expected ADDRESS[-END] PORT)`);
      return null;
    }
    const range = /^(.*)-([0-9a-fA-F]+)$/.exec(first.text);
    const base = range ? range[1]! : first.text.split('/')[0]!;
    const family = familyOf(base);
    if (!family) {
      skip(first.pos, 'bad-address', `virtual_server_group member expects ADDRESS[-END] PORT or fwmark N, got \`${first.text}\``);
      return null;
    }
    if (range) {
      const end = family === 4 ? Number(range[2]) : parseInt(range[2]!, 16);
      const lastPart = family === 4 ? Number(base.split('.').pop()) : parseInt(base.split(':').pop() || '0', 16);
      const max = family === 4 ? 255 : 0xffff;
      if ((family === 4 && !/^\d+$/.test(range[2]!)) || end > max || end < lastPart) {
        skip(
          first.pos,
          'bad-address',
          `virtual_server_group range \`${first.text}\`: the end must be between the address's last ${family === 4 ? 'octet' : 'hextet'} and ${max}`,
        );
        return null;
      }
      return { kind: 'range', address: base, rangeEnd: end, port, family, pos: first.pos };
    }
    return { kind: 'ip', address: base, port, family, pos: first.pos };
  }

  private virtualServerKey(stmt: Statement): VirtualServerKey | null {
    const [a, b, c] = stmt.args;
    const usage = 'expected `virtual_server IP PORT`, `virtual_server fwmark N` or `virtual_server group NAME`';
    if (!a) {
      this.diags.error(stmt.keyword.pos, 'missing-argument', `\`virtual_server\` needs an address: ${usage}`);
      return null;
    }
    if (a.text === 'group') {
      if (!b || c) {
        this.diags.error((c ?? a).pos, 'bad-argument', `\`virtual_server group\` takes one group name; ${usage}`);
        return null;
      }
      return { kind: 'group', group: b.text };
    }
    if (a.text === 'fwmark') {
      if (!b || !/^\d+$/.test(b.text) || +b.text < 1 || +b.text > 4294967295) {
        this.diags.error((b ?? a).pos, 'bad-argument', `\`virtual_server fwmark\` expects an integer 1-4294967295, got \`${b?.text ?? ''}\``);
        return null;
      }
      if (c && c.text !== 'inet' && c.text !== 'inet6') {
        this.diags.error(c.pos, 'bad-argument', `\`virtual_server fwmark\` expects inet or inet6 after the mark, got \`${c.text}\``);
        return null;
      }
      return { kind: 'fwmark', fwmark: Number(b.text), family: c?.text === 'inet6' ? 6 : 4 };
    }
    const family = familyOf(a.text);
    if (!family) {
      this.diags.error(a.pos, 'bad-address', `\`virtual_server\` expects an IP address, got \`${a.text}\`; ${usage}`);
      return null;
    }
    let port = 0;
    if (b) {
      if (!/^\d+$/.test(b.text) || +b.text > 65535) {
        this.diags.error(b.pos, 'bad-argument', `\`virtual_server\` expects a port 0-65535 (0: every port, persistent), got \`${b.text}\``);
        return null;
      }
      port = Number(b.text);
    }
    if (c) {
      this.diags.error(c.pos, 'extra-argument', `unexpected \`${c.text}\` after \`virtual_server ${a.text} ${b!.text}\``);
      return null;
    }
    return { kind: 'ip', address: family === 6 ? a.text.toLowerCase() : a.text, port, family };
  }

  private virtualServer(stmt: Statement): void {
    const key = this.virtualServerKey(stmt);
    const vs = virtualServerDefaults(key ?? { kind: 'group', group: '' }, stmt.keyword.pos);
    if (key?.kind === 'group') this.facts.vsGroupPos.set(vs, stmt.args[1]!.pos);
    const inherit: CheckerDefaults = {};
    const realServers: Statement[] = [];
    let sorry: { words: Word[] } | null = null;
    let sorryKind: LbKind | null = null;
    let protocolSet = false;
    this.walk(stmt.block, 'virtual_server', (spec, v, s) => {
      switch (spec.name) {
        case 'delay_loop':
          vs.delayLoopMs = ms(v[0]);
          return;
        case 'lvs_sched':
          vs.lbAlgo = str(v[0]) as IpvsScheduler;
          return;
        case 'lvs_method': {
          const k = lbKind(s.keyword.text, s.args, s.keyword.pos, this.diags);
          if (k) vs.lbKind = k;
          return;
        }
        case 'persistence_timeout':
          vs.persistenceTimeoutS = v[0] === undefined ? 360 : num(v[0]);
          return;
        case 'persistence_granularity':
          vs.persistenceGranularity = str(v[0]);
          return;
        case 'persistence_engine':
          vs.persistenceEngine = str(v[0]);
          return;
        case 'protocol':
          vs.protocol = str(v[0]) as Protocol;
          protocolSet = true;
          return;
        case 'sorry_server':
          sorry = { words: s.args };
          return;
        case 'sorry_server_inhibit':
          vs.sorryServerInhibit = on(v[0]);
          return;
        case 'sorry_server_lvs_method':
          sorryKind = lbKind(s.keyword.text, s.args, s.keyword.pos, this.diags);
          return;
        case 'virtualhost':
          vs.virtualhost = str(v[0]);
          return;
        case 'quorum':
          vs.quorum = num(v[0]);
          return;
        case 'hysteresis':
          vs.hysteresis = num(v[0]);
          return;
        case 'quorum_up':
          vs.quorumUp = this.firstScript(vs.quorumUp, 'quorum_up', v, s);
          return;
        case 'quorum_down':
          vs.quorumDown = this.firstScript(vs.quorumDown, 'quorum_down', v, s);
          return;
        case 'alpha':
          vs.alpha = on(v[0]);
          return;
        case 'omega':
          vs.omega = on(v[0]);
          return;
        case 'inhibit_on_failure':
          vs.inhibitOnFailure = on(v[0]);
          return;
        case 'ha_suspend':
          vs.haSuspend = on(v[0]);
          return;
        case 'ops':
          vs.ops = on(v[0]);
          vs.schedulerFlags.push('one-packet');
          return;
        case 'flag-1':
        case 'flag-2':
        case 'flag-3':
        case 'sh-port':
        case 'sh-fallback':
        case 'mh-port':
        case 'mh-fallback':
          vs.schedulerFlags.push(spec.name);
          return;
        case 'smtp_alert':
          vs.smtpAlert = on(v[0]);
          return;
        case 'connect_timeout':
          inherit.connectTimeoutMs = ms(v[0]);
          return;
        case 'retry':
          inherit.retry = num(v[0]);
          return;
        case 'delay_before_retry':
          inherit.delayBeforeRetryMs = ms(v[0]);
          return;
        case 'warmup':
          inherit.warmupMs = ms(v[0]);
          return;
        case 'ip_family': {
          // the family of a fwmark service (keepalived's vs->af); an address's own family stands
          const family = str(v[0]) === 'inet6' ? 6 : 4;
          if (vs.key.kind === 'fwmark') vs.key.family = family;
          else if (vs.key.kind === 'ip' && vs.key.family !== family) {
            this.diags.lenient(s.args[0]!.pos, 'mixed-family', `\`ip_family ${str(v[0])}\` conflicts with the virtual server's address: keepalived ignores it`);
          }
          return;
        }
        case 'real_server':
          realServers.push(s);
          return;
      }
    });
    if (key && key.kind !== 'fwmark' && !protocolSet) {
      // keepalived 2.2.7 leaves the protocol 0 and then sets UDP, "the kernel's default"
      // (logged as a config error, so its -t fails); a fwmark service has no protocol.
      vs.protocol = 'UDP';
      if (!this.written(stmt.block, 'protocol')) {
        this.diags.warn(
          stmt.keyword.pos,
          'default-protocol',
          `virtual_server has no \`protocol\`: keepalived 2.2.7 then uses UDP (and its -t fails on it); write \`protocol TCP\` or \`protocol UDP\``,
        );
      }
    }
    if (vs.persistenceGranularity && vs.persistenceTimeoutS === null) vs.persistenceTimeoutS = 360;
    if (key?.kind === 'ip' && key.port === 0 && vs.persistenceTimeoutS === null) {
      vs.persistenceTimeoutS = 360;
      this.diags.lenient(
        stmt.args[1]?.pos ?? stmt.args[0]!.pos,
        'zero-port',
        `virtual_server ${key.address} has no port (or port 0), which only a persistent service may have: keepalived makes it persistent (persistence_timeout 360); write a port, or persistence_timeout`,
      );
    }
    const vsPort = vs.key.kind === 'ip' ? vs.key.port : 0;
    if (sorry) {
      const [a, p] = (sorry as { words: Word[] }).words;
      vs.sorryServer = { address: a!.text, port: p && Number(p.text) !== 0 ? Number(p.text) : vsPort, family: familyOf(a!.text) ?? 4, lbKind: sorryKind };
    }
    const built: RealServer[] = [];
    for (const rs of realServers) {
      const r = this.realServer(rs, vs, vsPort, inherit);
      if (r) built.push(r);
    }
    vs.realServers = exactSize(built);
    if (!key) return;
    if (realServers.length === 0) {
      this.diags.lenient(stmt.keyword.pos, 'no-real-server', `virtual_server ${describeKey(key)} has no real_server: keepalived ignores it`);
      return;
    }
    this.config.virtualServers.push(vs);
  }

  private realServer(stmt: Statement, vs: VirtualServer, vsPort: number, vsInherit: CheckerDefaults): RealServer | null {
    const address = stmt.args[0]!.text;
    const rs: RealServer = {
      address,
      port: stmt.args[1] && Number(stmt.args[1].text) !== 0 ? Number(stmt.args[1].text) : vsPort,
      family: familyOf(address) ?? 4,
      weight: 1,
      uthreshold: 0,
      lthreshold: 0,
      lbKind: null,
      inhibitOnFailure: vs.inhibitOnFailure,
      notifyUp: null,
      notifyDown: null,
      alpha: vs.alpha,
      delayLoopMs: vs.delayLoopMs,
      smtpAlert: null,
      virtualhost: null,
      checkers: [],
      pos: stmt.keyword.pos,
    };
    const inherit: CheckerDefaults = {
      connectTimeoutMs: vsInherit.connectTimeoutMs,
      retry: vsInherit.retry,
      delayBeforeRetryMs: vsInherit.delayBeforeRetryMs,
      warmupMs: vsInherit.warmupMs,
    };
    // Scratch lists, reused from one real server to the next (a big config has 100,000s).
    const checkerTypes = this.checkerTypes;
    const checkerStmts = this.checkerStmts;
    let found = 0;
    this.walk(stmt.block, 'real_server', (spec, v, s) => {
      switch (spec.name) {
        case 'weight':
          rs.weight = num(v[0]);
          return;
        case 'uthreshold':
          rs.uthreshold = num(v[0]);
          return;
        case 'lthreshold':
          rs.lthreshold = num(v[0]);
          return;
        case 'lvs_method':
          rs.lbKind = lbKind(s.keyword.text, s.args, s.keyword.pos, this.diags);
          return;
        case 'inhibit_on_failure':
          rs.inhibitOnFailure = on(v[0]);
          return;
        case 'notify_up':
          rs.notifyUp = this.firstScript(rs.notifyUp, 'notify_up', v, s);
          return;
        case 'notify_down':
          rs.notifyDown = this.firstScript(rs.notifyDown, 'notify_down', v, s);
          return;
        case 'alpha':
          rs.alpha = on(v[0]);
          return;
        case 'delay_loop':
          rs.delayLoopMs = ms(v[0]);
          return;
        case 'connect_timeout':
          inherit.connectTimeoutMs = ms(v[0]);
          return;
        case 'retry':
          inherit.retry = num(v[0]);
          return;
        case 'delay_before_retry':
          inherit.delayBeforeRetryMs = ms(v[0]);
          return;
        case 'warmup':
          inherit.warmupMs = ms(v[0]);
          return;
        case 'smtp_alert':
          rs.smtpAlert = on(v[0]);
          return;
        case 'virtualhost':
          rs.virtualhost = str(v[0]);
          return;
        default:
          if (CHECKER_NAMES.includes(spec.name)) {
            checkerTypes[found] = spec.name;
            checkerStmts[found++] = s;
          }
      }
    });
    const built = this.checkersBuilt;
    let n = 0;
    for (let i = 0; i < found; i++) {
      const checker = this.checker(checkerTypes[i]!, checkerStmts[i]!, rs, inherit);
      if (checker) built[n++] = checker;
    }
    // exact size: a list grown by push keeps room for 17, per real server
    rs.checkers = n === 0 ? [] : n === 1 ? [built[0]!] : built.slice(0, n);
    return rs;
  }

  private checker(type: string, stmt: Statement, rs: RealServer, inh: CheckerDefaults): HealthCheck | null {
    // `type` first so TCP/PING checkers are this object as is (no copy per checker).
    const common: HealthCheckCommon & { type: string } = {
      type,
      connectIp: null,
      connectPort: null,
      bindto: null,
      bindPort: null,
      bindIf: null,
      connectTimeoutMs: inh.connectTimeoutMs ?? 5000,
      retry: inh.retry ?? (type === 'DNS_CHECK' ? 3 : type === 'MISC_CHECK' ? 0 : 1),
      delayBeforeRetryMs: -1,
      warmupMs: -1,
      delayLoopMs: rs.delayLoopMs,
      alpha: null,
      pos: stmt.keyword.pos,
    };
    // Made on first use: most checkers are TCP_CHECKs that need none of them.
    let urls = null as HttpUrl[] | null;
    let hosts = null as SmtpHost[] | null;
    let found = null as Record<string, ArgValue | ArgValue[]> | null;
    let payload: string | null = null;
    let reply: string | null = null;
    this.walk(stmt.block, type, (spec, v, s) => {
      switch (spec.name) {
        case 'connect_ip':
          common.connectIp = str(v[0]);
          return;
        case 'connect_port':
          common.connectPort = num(v[0]);
          return;
        case 'bindto':
          common.bindto = str(v[0]);
          return;
        case 'bind_port':
          common.bindPort = num(v[0]);
          return;
        case 'bind_if':
          common.bindIf = str(v[0]);
          this.facts.interfaceRefs.push({ name: str(v[0]), pos: s.args[0]!.pos, what: 'bind_if' });
          return;
        case 'connect_timeout':
          common.connectTimeoutMs = ms(v[0]);
          return;
        case 'retry':
          common.retry = num(v[0]);
          return;
        case 'delay_before_retry':
          common.delayBeforeRetryMs = ms(v[0]);
          return;
        case 'warmup':
          common.warmupMs = ms(v[0]);
          return;
        case 'delay_loop':
          common.delayLoopMs = ms(v[0]);
          return;
        case 'alpha':
          common.alpha = on(v[0]);
          return;
        case 'url': {
          const u = this.url(s);
          if (u) (urls ??= []).push(u);
          return;
        }
        case 'payload':
          payload = this.udpHex(s, false);
          return;
        // written alone: a reply must come, whatever it holds
        case 'require_reply':
          reply = s.args.length === 0 ? '' : (this.udpHex(s, true) ?? '');
          return;
        case 'host':
          (hosts ??= []).push(this.smtpHost(s));
          return;
        default:
          (found ??= {})[spec.name] = v.length > 1 ? v : v[0];
      }
    });
    const defaultRetryDelay = type === 'HTTP_GET' || type === 'SSL_GET' ? 3000 : type === 'DNS_CHECK' ? common.delayLoopMs : 1000;
    if (common.delayBeforeRetryMs < 0) common.delayBeforeRetryMs = inh.delayBeforeRetryMs ?? defaultRetryDelay;
    if (common.warmupMs < 0) common.warmupMs = inh.warmupMs ?? common.delayLoopMs;
    if (type === 'TCP_CHECK' || type === 'PING_CHECK') return common as HealthCheck;
    const extra = found ?? {};
    const s = (k: string): string | null => (extra[k] === undefined ? null : String(extra[k]));
    const flagOn = (k: string): boolean => k in extra && extra[k] !== false;
    switch (type) {
      case 'HTTP_GET':
      case 'SSL_GET':
        if (urls === null) {
          // keepalived: "HTTP/SSL_GET checker has no urls specified - ignoring" (the real server stays)
          this.diags.lenient(stmt.keyword.pos, 'missing-keyword', `${type} needs at least one \`url { path ... }\` block: keepalived ignores this checker`);
          return null;
        }
        return {
          ...common,
          type: type as never,
          urls,
          virtualhost: s('virtualhost'),
          enableSni: flagOn('enable_sni'),
          httpProtocol: s('http_protocol')?.toUpperCase() === '1.0C' ? '1.0C' : s('http_protocol') === '1.1' ? '1.1' : '1.0',
          fastRecovery: flagOn('fast_recovery'),
        };
      case 'MISC_CHECK': {
        const path = s('misc_path');
        if (!path) {
          // keepalived: "No script path has been specified for MISC_CHECKER - skipping"
          this.diags.lenient(stmt.keyword.pos, 'missing-keyword', 'MISC_CHECK needs `misc_path`: keepalived ignores this checker');
          return null;
        }
        const user = extra['user'];
        return {
          ...common,
          type: type as never,
          miscPath: script(path, null, null, stmt.block?.find((x) => x.keyword.text === 'misc_path')?.keyword.pos ?? common.pos),
          miscTimeoutMs: extra['misc_timeout'] === undefined ? common.delayLoopMs : Number(extra['misc_timeout']) * 1000,
          miscDynamic: flagOn('misc_dynamic'),
          user: Array.isArray(user) ? String(user[0]) : user === undefined ? null : String(user),
          group: Array.isArray(user) && user[1] !== undefined ? String(user[1]) : null,
        };
      }
      case 'SMTP_CHECK': {
        const c = { ...common, type: type as never, heloName: s('helo_name') ?? '', hosts: hosts ?? [] };
        if (s('helo_name') === null) this.smtpDefaultHelo.push(c);
        return c;
      }
      case 'DNS_CHECK':
        return { ...common, type: type as never, queryType: s('type') ?? 'SOA', name: s('name') ?? '.' };
      case 'UDP_CHECK': {
        return {
          ...common,
          type: type as never,
          payloadHex: payload,
          requireReplyHex: reply,
          minReplyLength: extra['min_reply_length'] === undefined ? 0 : Number(extra['min_reply_length']),
          maxReplyLength: extra['max_reply_length'] === undefined ? 255 : Number(extra['max_reply_length']),
        };
      }
      case 'FILE_CHECK': {
        const name = s('track_file');
        if (!name) {
          this.diags.error(stmt.keyword.pos, 'missing-keyword', 'FILE_CHECK needs `track_file NAME`');
          return null;
        }
        const w = extra['weight'];
        return {
          ...common,
          type: type as never,
          trackFile: name,
          weight: w === undefined ? null : Number(Array.isArray(w) ? w[0] : w),
          reverse: Array.isArray(w) && w[1] === 'reverse',
        };
      }
    }
    return null;
  }

  /**
   * A UDP_CHECK `payload` / `require_reply` value, or null when it is not hex. keepalived
   * then reports it and keeps the checker: a random payload is sent, and any reply will do.
   */
  private udpHex(stmt: Statement, wildcards: boolean): string | null {
    const r = hexString(stmt.args, wildcards);
    if ('hex' in r) return r.hex;
    const x = wildcards ? ', x for a digit to ignore' : '';
    this.diags.error(
      r.bad.pos,
      'bad-argument',
      `UDP_CHECK \`${stmt.keyword.text}\` expects hex digits, two to a byte (blanks may separate bytes, as in \`0a1b 2c\`${x}), got \`${r.bad.text}\``,
    );
    return null;
  }

  private url(stmt: Statement): HttpUrl | null {
    const u: HttpUrl = { path: '', digest: null, statusCodes: [{ from: 200, to: 299 }], virtualhost: null, regex: null, pos: stmt.keyword.pos };
    const re = {
      pattern: null as string | null,
      options: [] as string[],
      noMatch: false,
      minOffset: 0,
      maxOffset: null as number | null,
      pos: stmt.keyword.pos,
    };
    let regexModifier: Statement | null = null;
    this.walk(stmt.block, 'url', (spec, v, s) => {
      if (spec.name.startsWith('regex')) this.regexStatement(spec.name, v, s, re);
      if (spec.name.startsWith('regex_')) regexModifier ??= s;
      switch (spec.name) {
        case 'path':
          u.path = str(v[0]);
          return;
        case 'digest':
          if (!/^[0-9a-fA-F]{32}$/.test(str(v[0]))) {
            this.diags.error(s.args[0]!.pos, 'bad-argument', `\`digest\` expects a 32-digit hex MD5, got \`${str(v[0])}\``);
            return;
          }
          u.digest = str(v[0]).toLowerCase();
          return;
        case 'status_code': {
          const c = statusCodes(s.args, this.diags);
          if (c) u.statusCodes = c;
          return;
        }
        case 'virtualhost':
          u.virtualhost = str(v[0]);
          return;
      }
    });
    if (!u.path) {
      // keepalived: "HTTP/SSL_GET checker url has no path - ignoring"
      this.diags.lenient(stmt.keyword.pos, 'missing-keyword', '`url` needs a `path`: keepalived ignores this url');
      return null;
    }
    u.regex = this.urlRegex(re, regexModifier);
    return u;
  }

  private regexStatement(name: string, v: ArgValue[], s: Statement, re: Omit<HttpRegex, 'pattern'> & { pattern: string | null }): void {
    switch (name) {
      case 'regex':
        re.pattern = unescapeRegexWord(str(v[0]));
        re.pos = s.keyword.pos;
        return;
      case 'regex_no_match':
        re.noMatch = true;
        return;
      case 'regex_options':
        for (const [i, w] of v.map(str).entries()) {
          if ((PCRE2_OPTIONS as readonly string[]).includes(w)) re.options.push(w);
          else this.diags.warn(s.args[i]!.pos, 'unknown-option', `\`${w}\` is not a regex option keepalived knows: it skips the word, and so do we`);
        }
        return;
      case 'regex_min_offset':
        re.minOffset = num(v[0]);
        return;
      case 'regex_max_offset':
        re.maxOffset = num(v[0]);
        return;
    }
  }

  /** A url's regex as keepalived's url_check() settles it, and whether RegExp can run it. */
  private urlRegex(re: Omit<HttpRegex, 'pattern'> & { pattern: string | null }, modifier: Statement | null): HttpRegex | null {
    if (re.pattern === null) {
      // keepalived: "regex parameters specified without regex" (they are dropped)
      if (modifier)
        this.diags.warn(modifier.keyword.pos, 'ignored', 'regex options, offsets or regex_no_match without a `regex`: keepalived ignores them, and so do we');
      return null;
    }
    if (re.maxOffset !== null && re.minOffset > re.maxOffset) {
      // keepalived: "regex min offset N > regex_max_offset M - ignoring" (both offsets)
      this.diags.warn(
        re.pos,
        'ignored',
        `regex_min_offset ${re.minOffset} is beyond regex_max_offset ${re.maxOffset}: keepalived ignores both offsets, and so do we`,
      );
      re.minOffset = 0;
      re.maxOffset = null;
    }
    const js = translatePcre(re.pattern, re.options);
    if (!js.ok) {
      this.diags.warn(
        re.pos,
        'regex-unsupported',
        `this PCRE2 pattern cannot run as a JavaScript RegExp (${js.reason}): the url is checked without it (status and digest only)`,
      );
    }
    if (js.ok) for (const note of js.unsupportedOptions) this.diags.warn(re.pos, 'regex-option', `regex option ${note}: the pattern runs without it`);
    return { ...re, pattern: re.pattern };
  }

  private smtpHost(stmt: Statement): SmtpHost {
    const h: SmtpHost = { connectIp: null, connectPort: null, bindto: null, bindPort: null, connectTimeoutMs: null, pos: stmt.keyword.pos };
    this.walk(stmt.block, 'host', (spec, v) => {
      switch (spec.name) {
        case 'connect_ip':
          h.connectIp = str(v[0]);
          return;
        case 'connect_port':
          h.connectPort = num(v[0]);
          return;
        case 'bindto':
          h.bindto = str(v[0]);
          return;
        case 'bind_port':
          h.bindPort = num(v[0]);
          return;
        case 'connect_timeout':
          h.connectTimeoutMs = ms(v[0]);
          return;
      }
    });
    return h;
  }
}

function describeKey(k: VirtualServerKey): string {
  return k.kind === 'ip' ? `${k.address} ${k.port}` : k.kind === 'fwmark' ? `fwmark ${k.fwmark}` : `group ${k.group}`;
}

/**
 * A copy without spare capacity. An array grown by push keeps room for 17 elements or
 * more; a config with 100,000 real servers keeps one checker list each.
 */
function exactSize<T>(list: T[]): T[] {
  return list.length === 0 ? [] : list.slice();
}

/** Checker settings a virtual or real server passes down (written there, else per type). */
interface CheckerDefaults {
  connectTimeoutMs?: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
}

/** Positions of sync group member names (for unresolved-member errors). */
export const syncGroupMemberPos = new WeakMap<VrrpSyncGroup, SourcePos[]>();

export interface BuildResult {
  config: KeepalivedConfig;
  facts: BuildFacts;
  diags: Diagnostics;
}

export function buildConfig(statements: Statement[], opts: BuildOptions): BuildResult {
  const b = new ConfigBuilder(opts);
  const config = b.build(statements);
  return { config, facts: b.facts, diags: b.diags };
}
