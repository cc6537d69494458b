// The `Global definitions` section that opens both of keepalived's data dumps
// (keepalived.data from the VRRP process, keepalived_check.data from the checker), line for
// line as keepalived 2.2.7's dump_global_data writes it. Pure.
import type { GlobalDefs, ScriptSpec } from '../config/model.js';
import { canonicalAddress } from '../ipvs/model.js';

/** How a dump prints scripts: program paths resolved, users as uid:gid. */
export interface ScriptResolver {
  /** A script's program as keepalived prints it (its directory resolved: /bin/true -> /usr/bin/true). */
  scriptPath(program: string): string;
  /** uid:gid of a script user; null when unknown. */
  userIds(user: string, group: string | null): { uid: number; gid: number } | null;
}

export interface GlobalSectionInput extends ScriptResolver {
  config: { globalDefs: GlobalDefs };
  umask: number;
  /** -s NAME: the network namespace the daemon runs in (null: the default one). */
  namespace: string | null;
  /** keepalived's VRRP process adds its default interface. */
  process: 'vrrp' | 'checker';
}

/** keepalived's cmd_str: each word single-quoted, the program's path resolved. */
export function scriptCommand(r: ScriptResolver, s: ScriptSpec): string {
  return s.argv.map((a, i) => `'${i === 0 ? r.scriptPath(a) : a}'`).join(' ');
}

/** The uid:gid a script runs as: its own user, else script_user, else root. */
export function scriptUidGid(r: ScriptResolver, s: { user: string | null; group: string | null }, g: GlobalDefs): string {
  const who = s.user ? { user: s.user, group: s.group } : g.scriptUser;
  const ids = who ? r.userIds(who.user, who.group) : { uid: 0, gid: 0 };
  return `${ids?.uid ?? 0}:${ids?.gid ?? 0}`;
}

const f6 = (ms: number): string => (ms / 1000).toFixed(6);
const enDis = (b: boolean): string => (b ? 'enabled' : 'disabled');
/** keepalived's PARAMETER_UNSET, printed as an unsigned number. */
const UNSET = 4294967295;
/** keepalived's DFLT_INT. */
const DEFAULT_INTERFACE = 'eth0';

export function formatGlobalSection(input: GlobalSectionInput): string[] {
  const g = input.config.globalDefs;
  const out = [
    '------< Global definitions >------',
    ` Network namespace = ${input.namespace ?? '(default)'}`,
    ' Network namespace ipvs = (main namespace)',
    ` Router ID = ${g.routerId}`,
  ];
  if (g.smtpServer) {
    out.push(
      ` Smtp server = ${canonicalAddress(g.smtpServer.host)}`,
      ` Smtp server port = ${g.smtpServer.port}`,
      ` Smtp server connection timeout = ${Math.floor(g.smtpConnectTimeoutMs / 1000)}`,
    );
  }
  if (g.smtpServer || g.notificationEmail.length) {
    out.push(` Email notification from = ${g.notificationEmailFrom}`, ' Email notification to:', ...g.notificationEmail.map((e) => `   ${e}`));
  }
  const alertChecker = g.smtpAlertChecker;
  out.push(
    ` Default smtp_alert = ${g.smtpAlert ? 'on' : 'unset'}`,
    ` Default smtp_alert_vrrp = ${g.smtpAlertVrrp === null ? 'unset' : g.smtpAlertVrrp ? 'on' : 'off'}`,
    ` Default smtp_alert_checker = ${alertChecker === null ? 'unset' : alertChecker ? 'on' : 'off'}`,
    ' Checkers log all failures = false',
    ' No test config before reload',
    ` Dynamic interfaces = ${g.dynamicInterfaces}`,
  );
  const t = g.lvsTimeouts;
  // keepalived labels the UDP timeout "LVS TCP timeout" too; scripts reading it see the same
  if (t?.tcpS) out.push(` LVS TCP timeout = ${t.tcpS}`);
  if (t?.tcpfinS) out.push(` LVS TCP FIN timeout = ${t.tcpfinS}`);
  if (t?.udpS) out.push(` LVS TCP timeout = ${t.udpS}`);
  if (input.process === 'vrrp') out.push(` Default interface = ${g.defaultInterface ?? DEFAULT_INTERFACE}`);
  out.push(
    ' Disable local IGMP = no',
    ` LVS flush = ${g.lvsFlush}`,
    ` LVS flush on stop = ${g.lvsFlushOnStop === 'full' ? 'full' : g.lvsFlushOnStop === 'vs' ? 'VS' : 'disabled'}`,
  );
  const fifo = (label: string, f: GlobalDefs['notifyFifo']) => {
    if (!f) return;
    out.push(` ${label} = ${f.path}, uid:gid ${scriptUidGid(input, { user: f.owner?.user ?? null, group: f.owner?.group ?? null }, g)}`);
    if (f.script) out.push(` ${label} script = ${scriptCommand(input, f.script)}, uid:gid ${scriptUidGid(input, f.script, g)}`);
  };
  fifo('Global notify fifo', g.notifyFifo);
  fifo('VRRP notify fifo', g.vrrpNotifyFifo);
  fifo('LVS notify fifo', g.lvsNotifyFifo);
  // keepalived's VRRP process resolves the unset lower-priority GARP settings to the master
  // ones when it reads the config; its checker process leaves them unset
  const vrrp = input.process === 'vrrp';
  const lowerDelayMs = g.vrrpGarpLowerPrioDelayMs ?? (vrrp ? g.vrrpGarpMasterDelayMs : null);
  const lowerRepeat = g.vrrpGarpLowerPrioRepeat ?? (vrrp ? g.vrrpGarpMasterRepeat : UNSET);
  const lowerDelay = lowerDelayMs === null ? UNSET : Math.floor(lowerDelayMs / 1000);
  out.push(
    ' FIFO write vrrp states on reload = false',
    ` VRRP notify priority changes = ${g.vrrpNotifyPriorityChanges}`,
    ` VRRP IPv4 mcast group = ${g.vrrpMcastGroup4}`,
    ` VRRP IPv6 mcast group = ${g.vrrpMcastGroup6}`,
    ` Gratuitous ARP delay = ${Math.floor(g.vrrpGarpMasterDelayMs / 1000)}`,
    ` Gratuitous ARP repeat = ${g.vrrpGarpMasterRepeat}`,
    ` Gratuitous ARP refresh timer = ${Math.floor(g.vrrpGarpMasterRefreshMs / 1000)}`,
    ` Gratuitous ARP refresh repeat = ${g.vrrpGarpMasterRefreshRepeat}`,
    ` Gratuitous ARP lower priority delay = ${lowerDelay}`,
    ` Gratuitous ARP lower priority repeat = ${lowerRepeat}`,
    ' Num adverts before down = 3',
    ' Gratuitous ARP for each secondary VMAC = 0s',
    ` Send advert after receive lower priority advert = ${!g.vrrpLowerPrioNoAdvert}`,
    ` Send advert after receive higher priority advert = ${g.vrrpHigherPrioSendAdvert}`,
    ` Gratuitous ARP interval = ${f6(g.vrrpGarpIntervalMs)}`,
    ` Gratuitous NA interval = ${f6(g.vrrpGnaIntervalMs)}`,
    ` VRRP default protocol version = ${g.vrrpVersion}`,
    ' nftables without counters',
    ' libnftnl version 1.2.3',
    ` VRRP check unicast_src = ${g.vrrpCheckUnicastSrc}`,
    ` VRRP skip check advert addresses = ${g.vrrpSkipCheckAdvAddr}`,
    ` VRRP strict mode = ${g.vrrpStrict}`,
    ' Max auto priority = 0',
    ' Min auto priority delay = 1000000 usecs',
  );
  for (const who of ['VRRP', 'Checker', 'BFD']) {
    out.push(` ${who} process priority = 0`, ` ${who} don't swap = false`, ` ${who} realtime priority = 0`, ` ${who} realtime limit = 10000`);
  }
  out.push(
    ' SNMP vrrp disabled',
    ' SNMP checker disabled',
    ' SNMP RFCv2 disabled',
    ' SNMP RFCv3 disabled',
    ' SNMP traps disabled',
    ' SNMP socket = default (unix:/var/agentx/master)',
    ' DBus disabled',
    ' DBus service name = ',
    ` Script security ${enDis(g.enableScriptSecurity)}`,
  );
  // keepalived prints the default script user once it has one: root without script security,
  // script_user (or keepalived_script, when that user exists) with it
  const scriptUser = g.scriptUser ? input.userIds(g.scriptUser.user, g.scriptUser.group) : g.enableScriptSecurity ? null : { uid: 0, gid: 0 };
  if (scriptUser) out.push(` Default script uid:gid ${scriptUser.uid}:${scriptUser.gid}`);
  for (const n of [
    'vrrp_netlink_cmd_rcv_bufs',
    'vrrp_netlink_monitor_rcv_bufs',
    'process_monitor_rcv_bufs',
    'lvs_netlink_cmd_rcv_bufs',
    'lvs_netlink_monitor_rcv_bufs',
  ]) {
    out.push(` ${n} = 0`, ` ${n}_force = 0`);
  }
  const noEmails = g.noCheckerEmails ? 1 : 0;
  out.push(' rs_init_notifies = 0', ` no_checker_emails = ${noEmails}`, ' rx_bufs_multiples = 3', ` umask = 0${input.umask.toString(8)}`);
  return out;
}
