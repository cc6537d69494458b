// keepalived's dump files, byte-compatible where scripts and exporters read them:
// /tmp/keepalived.stats (USR2), /tmp/keepalived.json (the JSON signal) and
// /tmp/keepalived.data (USR1, and the log with -d). Pure functions of the engine's snapshot.
import type { InterfaceSnapshot, VrrpInstanceSnapshot, VrrpScriptSnapshot } from './vrrp-snapshot.js';
import { STATE_NUMBERS } from './vrrp-snapshot.js';
import { formatGlobalSection, type GlobalSectionInput } from './global-section.js';

export const DUMP_FILES = {
  data: '/tmp/keepalived.data',
  stats: '/tmp/keepalived.stats',
  json: '/tmp/keepalived.json',
  checkData: '/tmp/keepalived_check.data',
} as const;

export function formatStats(instances: readonly VrrpInstanceSnapshot[]): string {
  return instances
    .map((i) => {
      const s = i.stats;
      return [
        `VRRP Instance: ${i.name}`,
        '  Advertisements:',
        `    Received: ${s.advertRcvd}`,
        `    Sent: ${s.advertSent}`,
        `  Became master: ${s.becomeMaster}`,
        `  Released master: ${s.releaseMaster}`,
        '  Packet Errors:',
        `    Length: ${s.packetLenErr}`,
        `    TTL: ${s.ipTtlErr}`,
        `    Invalid Type: ${s.invalidTypeRcvd}`,
        `    Advertisement Interval: ${s.advertIntervalErr}`,
        `    Address List: ${s.addrListErr}`,
        '  Authentication Errors:',
        `    Invalid Type: ${s.invalidAuthtype}`,
        `    Type Mismatch: ${s.authtypeMismatch}`,
        `    Failure: ${s.authFailure}`,
        '  Priority Zero:',
        `    Received: ${s.priZeroRcvd}`,
        `    Sent: ${s.priZeroSent}`,
        '',
      ].join('\n');
    })
    .join('');
}

/** keepalived's C printer writes `\/` for `/` in JSON strings: exporters accept both, we match it. */
const jsonText = (v: unknown) => JSON.stringify(v).replace(/\//g, '\\/');

export function formatJson(instances: readonly VrrpInstanceSnapshot[]): string {
  const rows = instances.map((i) => ({
    data: {
      iname: i.name,
      dont_track_primary: i.dontTrackPrimary ? 1 : 0,
      skip_check_adv_addr: i.skipCheckAdvAddr ? 1 : 0,
      strict_mode: i.strictMode ? 1 : 0,
      vmac_ifname: '',
      ifp_ifname: i.interface,
      master_priority: i.masterPriority,
      last_transition: i.lastTransition,
      garp_delay: i.garpDelayS,
      garp_refresh: i.garpRefreshS,
      garp_rep: i.garpRepeat,
      garp_refresh_rep: i.garpRefreshRepeat,
      garp_lower_prio_delay: i.garpLowerPrioDelayS,
      garp_lower_prio_rep: i.garpLowerPrioRepeat,
      lower_prio_no_advert: i.lowerPrioNoAdvert ? 1 : 0,
      higher_prio_send_advert: i.higherPrioSendAdvert ? 1 : 0,
      vrid: i.vrid,
      base_priority: i.basePriority,
      effective_priority: i.effectivePriority,
      vipset: i.state === 'MASTER' && i.vips.length > 0,
      promote_secondaries: false,
      adver_int: i.advertIntMs / 1000,
      master_adver_int: i.masterAdvertIntMs / 1000,
      accept: i.accept ? 1 : 0,
      nopreempt: i.nopreempt,
      preempt_delay: i.preemptDelayS,
      state: STATE_NUMBERS[i.state],
      wantstate: STATE_NUMBERS[i.wantState],
      version: i.version,
      smtp_alert: i.smtpAlert,
      notify_deleted: false,
      vips: i.vips,
      // keepalived writes the key only when the instance tracks a script
      ...(i.trackScripts.length ? { track_script: i.trackScripts.map((t) => t.command) } : {}),
      ...(i.auth ? { auth_type: i.auth.type === 'PASS' ? 1 : 2, auth_data: i.auth.pass } : { auth_type: 0 }),
    },
    stats: {
      advert_rcvd: i.stats.advertRcvd,
      advert_sent: i.stats.advertSent,
      become_master: i.stats.becomeMaster,
      release_master: i.stats.releaseMaster,
      packet_len_err: i.stats.packetLenErr,
      advert_interval_err: i.stats.advertIntervalErr,
      ip_ttl_err: i.stats.ipTtlErr,
      invalid_type_rcvd: i.stats.invalidTypeRcvd,
      addr_list_err: i.stats.addrListErr,
      invalid_authtype: i.stats.invalidAuthtype,
      authtype_mismatch: i.stats.authtypeMismatch,
      auth_failure: i.stats.authFailure,
      pri_zero_rcvd: i.stats.priZeroRcvd,
      pri_zero_sent: i.stats.priZeroSent,
    },
  }));
  return `[${rows.map((r) => jsonText(r)).join(',')}]\n`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2, c = '0') => String(n).padStart(w, c);

/** Local time as keepalived prints it: `Sun Nov 22 04:44:50.247636 2026` (%a %b %e %T.usec %Y). */
export function ctimeUs(epochSeconds: number): string {
  const d = new Date(Math.floor(epochSeconds) * 1000);
  const us = Math.round((epochSeconds - Math.floor(epochSeconds)) * 1e6) % 1e6;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(us, 6)}`;
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${pad(d.getDate(), 2, ' ')} ${time} ${d.getFullYear()}`;
}

const onOff = (b: boolean, on = 'enabled', off = 'disabled') => (b ? on : off);

/** keepalived writes v2 intervals in whole seconds and v3 ones in milliseconds. */
const advertInterval = (i: VrrpInstanceSnapshot) => (i.version === 2 ? `${i.advertIntMs / 1000} sec` : `${i.advertIntMs} milli-sec`);

/**
 * The `VRRP Topology` section of keepalived.data, line for line as keepalived 2.2.7 writes
 * it, except `Read timeout` and `fd_in`/`fd_out` (its timer queue and socket numbers, which
 * have no counterpart here).
 */
export function formatDataTopology(instances: readonly VrrpInstanceSnapshot[]): string {
  const out = ['------< VRRP Topology >------'];
  for (const i of instances) {
    const unicast = i.mcastGroup === null;
    out.push(
      ` VRRP Instance = ${i.name}`,
      `   VRRP Version = ${i.version}`,
      `   State = ${i.state}`,
      ...(i.state === 'BACKUP' && i.masterAddress ? [`   Master router = ${i.masterAddress}`, `   Master priority = ${i.masterPriority}`] : []),
      ...(unicast ? ['   Flags:', '     Using unicast'] : ['   Flags: none']),
      `   Wantstate = ${i.wantState}`,
      '   Number of config faults = 0',
      `   Number of interface and track script faults = ${i.trackFaults}`,
      `   Number of track scripts init = ${i.scriptsInit}`,
      `   Last transition = ${i.lastTransition.toFixed(6)} (${ctimeUs(i.lastTransition)})`,
      `   Master down timer = ${i.masterDownUs} usecs`,
      `   Interface = ${i.interface}`,
      ...(i.strictMode ? ['   Enforcing strict VRRP compliance'] : []),
      `   Using src_ip = ${i.srcIp}${i.srcIpFromConfig ? ' (from configuration)' : ''}`,
      ...(i.mcastGroup ? [`   Multicast address ${i.mcastGroup}`] : []),
      `   Gratuitous ARP delay = ${i.garpDelayS}`,
      `   Gratuitous ARP repeat = ${i.garpRepeat}`,
      `   Gratuitous ARP refresh = ${i.garpRefreshS}`,
      `   Gratuitous ARP refresh repeat = ${i.garpRefreshRepeat}`,
      `   Gratuitous ARP lower priority delay = ${i.garpLowerPrioDelayS}`,
      `   Gratuitous ARP lower priority repeat = ${i.garpLowerPrioRepeat}`,
      '   Down timer adverts = 3',
      `   Send advert after receive lower priority advert = ${!i.lowerPrioNoAdvert}`,
      `   Send advert after receive higher priority advert = ${i.higherPrioSendAdvert}`,
      `   Virtual Router ID = ${i.vrid}`,
      `   Priority = ${i.basePriority}`,
      `   Effective priority = ${i.effectivePriority}`,
      `   Total priority = ${i.effectivePriority}`,
      `   Advert interval = ${advertInterval(i)}`,
      `   Accept = ${onOff(i.accept)}`,
      `   Preempt = ${onOff(!i.nopreempt)}`,
      ...(i.preemptDelayS ? [`   Preempt delay = ${i.preemptDelayS} secs`] : []),
      '   Promote_secondaries = disabled',
      ...(i.auth?.type === 'PASS' ? ['   Authentication type = SIMPLE_PASSWORD', `   Password = ${i.auth.pass}`] : []),
      ...(i.auth?.type === 'AH' ? ['   Authentication type = IPSEC_AH'] : []),
      ...(!i.auth && i.version === 2 ? ['   Authentication type = none'] : []),
      `   Virtual IP (${i.vips.length}):`,
      ...i.vips.map((v) => `     ${v}`),
      ...(unicast
        ? [
            '   Unicast TTL = 255',
            `   Check unicast src : ${i.checkUnicastSrc ? 'yes' : 'no'}`,
            '   Unicast Peer :',
            ...i.unicastPeers.map((p) => `     ${p.address} min_ttl ${p.minTtl} max_ttl ${p.maxTtl}`),
            '   Unicast checksum compatibility = no',
          ]
        : []),
      ...(i.trackScripts.length ? ['   Tracked scripts :', ...i.trackScripts.map((t) => `     ${t.name} weight ${t.weight}`)] : []),
      `   Using smtp notification = ${i.smtpAlert ? 'yes' : 'no'}`,
      '   Notify deleted = Fault',
      '   Notify priority changes = false',
    );
  }
  return out.join('\n') + '\n';
}

/** keepalived's sockpool: one socket per interface, family and unicast or multicast group. */
function sockpoolSection(instances: readonly VrrpInstanceSnapshot[]): string[] {
  const pools = new Map<string, { i: VrrpInstanceSnapshot; members: VrrpInstanceSnapshot[] }>();
  for (const i of instances) {
    const key = `${i.interface}/${i.family}/${i.auth?.type === 'AH' ? 'AH' : 'VRRP'}/${i.mcastGroup ?? 'unicast'}`;
    const pool = pools.get(key) ?? { i, members: [] };
    pool.members.push(i);
    pools.set(key, pool);
  }
  const out = ['------< VRRP Sockpool >------'];
  // keepalived heads each block with its two socket numbers (` fd_in 13 fd_out = 14`): ours
  // are libuv's and mean nothing to a reader, so the block starts at its interface
  for (const { i, members } of pools.values()) {
    out.push(
      `   Interface = ${i.interface}`,
      `   Family = IPv${i.family}`,
      `   Protocol = ${i.auth?.type === 'AH' ? 'AH' : 'VRRP'}`,
      `   Type = ${i.mcastGroup ? 'Multicast' : 'Unicast'}`,
      '   Rx buf size = 0',
      '   VRRP instances',
      ...members.map((m) => `     ${m.name} vrid ${m.vrid}`),
    );
  }
  return out;
}

function scriptsSection(scripts: readonly VrrpScriptSnapshot[]): string[] {
  if (!scripts.length) return [];
  const out = ['------< VRRP Scripts >------'];
  for (const s of scripts) {
    out.push(
      ` VRRP Script = ${s.name}`,
      `   Command = ${s.command}`,
      `   Interval = ${s.intervalS} sec`,
      `   Timeout = ${s.timeoutS} sec`,
      `   Weight = ${s.weight}${s.weightReverse ? ' reverse' : ''}`,
      `   Rise = ${s.rise}`,
      `   Fall = ${s.fall}`,
      `   Result = ${s.result}`,
      '   Insecure = no',
      `   Init state = ${s.init ? 'INIT' : 'unknown'}`,
      `   Status = ${s.result >= s.rise ? 'GOOD' : 'BAD'}`,
      `   Script uid:gid = ${s.uidGid}`,
      '   VRRP instances :',
      ...(s.tracking.length ? ['   Tracking instances :', ...s.tracking.map((t) => `     ${t.instance}, weight ${t.weight}`)] : []),
      `   State = ${s.running ? 'running' : 'idle'}`,
    );
  }
  return out;
}

function interfacesSection(interfaces: readonly InterfaceSnapshot[]): string[] {
  const out = ['------< Interfaces >------'];
  for (const f of [...interfaces].sort((a, b) => a.index - b.index)) {
    const flags = [f.loopback ? ', no broadcast, loopback, no multicast' : ''].join('');
    out.push(
      ` Name = ${f.name}`,
      `   index = ${f.index}`,
      `   IPv4 address = ${f.ipv4 ?? '(none)'}`,
      `   IPv6 address = ${f.ipv6 ?? '(none)'}`,
      ...(f.mac && !f.loopback ? [`   MAC = ${f.mac}`, `   MAC broadcast = ${f.broadcastMac ?? 'ff:ff:ff:ff:ff:ff'}`] : []),
      `   State = ${f.up ? '' : 'not '}UP, ${f.running ? '' : 'not '}RUNNING${flags}`,
      `   Seen up = ${f.up && f.running ? 1 : 0}`,
      '   Delayed state change running = false',
      '   Up debounce timer = 0us',
      '   Down debounce timer = 0us',
      `   MTU = ${f.mtu}`,
      `   HW Type = ${f.hardwareType === 772 ? 'LOOPBACK' : f.hardwareType === 1 ? 'ETHERNET' : 'UNKNOWN'}`,
      '   NIC netlink status update',
      '   Reset ARP config counter 0',
      '   Original arp_ignore 0',
      '   Original arp_filter 0',
      '   Original promote_secondaries 0',
      '   Reset promote_secondaries counter 0',
      ...(f.tracking.length ? ['   Tracking VRRP instances :', ...f.tracking.map((t) => `     ${t.instance}, weight ${t.weight}`)] : []),
    );
  }
  return out;
}

export interface VrrpDataInput extends Omit<GlobalSectionInput, 'process'> {
  instances: readonly VrrpInstanceSnapshot[];
  scripts: readonly VrrpScriptSnapshot[];
  interfaces: readonly InterfaceSnapshot[];
}

/**
 * The whole of keepalived.data as keepalived 2.2.7's VRRP process writes it: global
 * definitions, the VRRP topology, the socket pool, the scripts and the host's interfaces.
 */
export function formatData(input: VrrpDataInput): string {
  const topology = formatDataTopology(input.instances).trimEnd().split('\n');
  return (
    [
      ...formatGlobalSection({ ...input, process: 'vrrp' }),
      ...topology,
      ...sockpoolSection(input.instances),
      ...scriptsSection(input.scripts),
      ...interfacesSection(input.interfaces),
    ].join('\n') + '\n'
  );
}
