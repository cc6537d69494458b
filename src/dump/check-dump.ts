// /tmp/keepalived_check.data, what keepalived 2.2.7's checker writes on SIGUSR1: its global
// definitions, the LVS topology with each virtual and real server's live state, every health
// checker and the track files. Pure: the checker child gathers the state (CheckDumpInput)
// and writes the file. Laid out line for line as keepalived's, checked against two captures
// (test/fixtures/keepalived-dumps/keepalived_check*.data), so scripts that grep it keep working.
//
// Where our model resolves a default keepalived keeps "unset" (misc_timeout, smtp_helo_name,
// lvs_flush_on_stop VS), the line follows the resolved value; see check-dump.test.ts.
import type { HealthCheck, HttpRegex, KeepalivedConfig, LbKind, RealServer, VirtualServer, VirtualServerGroup } from '../config/model.js';
import { PCRE2_OPTIONS } from '../config/pcre.js';
import { canonicalAddress } from '../ipvs/model.js';
import { formatGlobalSection, scriptCommand, scriptUidGid, type ScriptResolver } from './global-section.js';

export const CHECK_DUMP_PATH = '/tmp/keepalived_check.data';

/** One health checker's live state, as keepalived keeps it per checker. */
export interface CheckerView {
  enabled: boolean;
  up: boolean;
  hasRun: boolean;
  /** Failures already retried in the current run of failures. */
  retryIt: number;
  /** Weight the checker contributes (FILE_CHECK), or null. */
  weight: number | null;
  /** Epoch seconds of the last attempt's start (MISC_CHECK prints it). */
  lastRan: number | null;
  /** Exit status of the last MISC_CHECK run. */
  lastStatus: number | null;
  /** HTTP/SSL_GET: the url whose check failed last, while failing. */
  failedUrl: string | null;
}

/** A real server's health as the checker holds it. */
export interface RealServerView {
  up: boolean;
  /** Weight set by a checker (misc_dynamic, FILE_CHECK weight); null = configured. */
  dynamicWeight: number | null;
}

/** A virtual server's place in the IPVS table, as the checker decides it. */
export interface VirtualServerView {
  /** keepalived's quorum_state_up. */
  quorumUp: boolean;
  /** Whether `rs` is in the virtual server's table now (keepalived's "RS set"). */
  inTable(rs: RealServer): boolean;
}

export interface CheckDumpInput extends ScriptResolver {
  config: Pick<KeepalivedConfig, 'globalDefs' | 'virtualServers' | 'virtualServerGroups' | 'trackFiles'>;
  /** `rs`'s health under `vs`; undefined before its first check. */
  health(vs: VirtualServer, rs: RealServer): RealServerView | undefined;
  virtualServer(vs: VirtualServer): VirtualServerView;
  /** The checker `index` of `rs` under `vs`. */
  checker(vs: VirtualServer, rs: RealServer, index: number): CheckerView;
  /** Current value of a track_file's file (null: unreadable). */
  trackFileValue(name: string): number | null;
  /** Kernel IPVS version, "1.2.1". */
  ipvsVersion: string;
  umask: number;
  /** -s NAME: the network namespace the daemon runs in (null: the default one). */
  namespace: string | null;
}

export const notRunView = (up = true): CheckerView => ({
  enabled: true,
  up,
  hasRun: false,
  retryIt: 0,
  weight: null,
  lastRan: null,
  lastStatus: null,
  failedUrl: null,
});

const f6 = (ms: number): string => (ms / 1000).toFixed(6);
const us = (ms: number): string => `${Math.round(ms * 1000)} us`;
const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const onOff = (b: boolean): string => (b ? 'ON' : 'OFF');
const enDis = (b: boolean): string => (b ? 'enabled' : 'disabled');

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** `1795332750.451151 (Sun Nov 22 07:32:30 2026.451151)`: keepalived's "Last ran" stamp, local time. */
export function lastRanText(epochSeconds: number): string {
  const whole = Math.floor(epochSeconds);
  const usec = String(Math.round((epochSeconds - whole) * 1e6) % 1e6).padStart(6, '0');
  const d = new Date(whole * 1000);
  const date = `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')}`;
  return `${whole}.${usec} (${date} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}.${usec})`;
}

const addr = (a: string): string => canonicalAddress(a);
const protoName = (vs: VirtualServer): string => (vs.key.kind === 'fwmark' ? 'none' : vs.protocol.toLowerCase());

/**
 * The port keepalived keeps for a real server: none for fwmark services, and the virtual
 * server's own port for DR and TUN (it resets a different one, logging "ports don't match").
 */
function rsPort(vs: VirtualServer, rs: { port: number; lbKind: LbKind | null }): number {
  if (vs.key.kind === 'fwmark') return 0;
  if (vs.key.kind === 'ip' && (rs.lbKind ?? vs.lbKind) !== 'NAT' && vs.key.port !== 0) return vs.key.port;
  return rs.port;
}

/** keepalived's FMT_VS: `[10.0.0.1]:tcp:80`, `FWM 5`, `[GROUP]:0`. */
export function formatVs(vs: VirtualServer): string {
  const k = vs.key;
  if (k.kind === 'group') return `[${k.group}]:0`;
  if (k.kind === 'fwmark') return `FWM ${k.fwmark}`;
  return `[${addr(k.address)}]:${protoName(vs)}:${k.port}`;
}

/** keepalived's FMT_RS: `[10.0.0.2]:tcp:8080`. */
export function formatRs(vs: VirtualServer, rs: { address: string; port: number; lbKind: LbKind | null }): string {
  return `[${addr(rs.address)}]:${protoName(vs)}:${rsPort(vs, rs)}`;
}

function forwarding(kind: LbKind): string {
  return kind === 'TUN' ? 'TUN, type = IPIP' : kind;
}

function groupFamilies(g: VirtualServerGroup): { v4: boolean; v6: boolean } {
  const fams = g.members.filter((m) => m.kind !== 'fwmark').map((m) => (m as { family: 4 | 6 }).family);
  return { v4: fams.includes(4), v6: fams.includes(6) };
}

function vsFamily(vs: VirtualServer, groups: readonly VirtualServerGroup[]): string {
  const k = vs.key;
  if (k.kind !== 'group') return k.family === 4 ? 'inet' : 'inet6';
  const g = groups.find((x) => x.name === k.group);
  const f = g ? groupFamilies(g) : { v4: false, v6: false };
  if (f.v4 && f.v6) return 'IPv4 & IPv6';
  if (f.v4) return 'inet';
  if (f.v6) return 'inet6';
  const rs = vs.realServers[0];
  return rs ? (rs.family === 4 ? 'inet' : 'inet6') : 'unknown';
}

function groupSection(input: CheckDumpInput, g: VirtualServerGroup): string[] {
  const users = input.config.virtualServers.filter((vs) => vs.key.kind === 'group' && vs.key.group === g.name);
  const count = (p: string) => users.filter((vs) => vs.protocol === p).length;
  const { v4, v6 } = groupFamilies(g);
  const out = [' ------< Virtual server group >------', ` Virtual Server Group = ${g.name}, IPv4 = ${yesNo(v4)}, IPv6 = ${yesNo(v6)}`];
  // keepalived keeps address entries and fwmark entries in two lists, addresses first
  for (const m of g.members) {
    if (m.kind === 'fwmark') continue;
    if (m.kind === 'ip') out.push(`   VIP = ${addr(m.address)}, VPORT = ${m.port}`);
    else {
      const end = m.family === 4 ? `${m.address.split('.').slice(0, 3).join('.')}.${m.rangeEnd}` : rangeEnd6(m.address, m.rangeEnd);
      out.push(`   VIP Range = ${addr(m.address)}-${addr(end)}, VPORT = ${m.port}`);
    }
    out.push(`     Alive: ${count('TCP')} tcp, ${count('UDP')} udp, ${count('SCTP')} sctp`, '     reloaded = False');
  }
  for (const m of g.members) {
    if (m.kind !== 'fwmark') continue;
    const fam = (f: string) => users.filter((vs) => vsFamily(vs, input.config.virtualServerGroups) === f).length;
    out.push(`   FWMARK = ${m.fwmark}`, `     Alive: ${fam('inet')} IPv4, ${fam('inet6')} IPv6`, '     reloaded = False');
  }
  return out;
}

function rangeEnd6(start: string, end: number): string {
  const groups = canonicalAddress(start).split(':');
  groups[groups.length - 1] = end.toString(16);
  return groups.join(':');
}

function schedulerFlagLines(vs: VirtualServer): string[] {
  const has = (f: string) => vs.schedulerFlags.includes(f);
  if (vs.lbAlgo === 'sh' || vs.lbAlgo === 'mh') {
    return [`   ${vs.lbAlgo}-port = ${enDis(has(`${vs.lbAlgo}-port`))}`, `   ${vs.lbAlgo}-fallback = ${enDis(has(`${vs.lbAlgo}-fallback`))}`];
  }
  return [1, 2, 3].map((n) => `   flag-${n} = ${enDis(has(`flag-${n}`))}`);
}

function vsSection(input: CheckDumpInput, vs: VirtualServer): string[] {
  const g = input.config.globalDefs;
  const k = vs.key;
  const out = [' ------< Virtual server >------'];
  if (k.kind === 'group') out.push(` VS GROUP = ${formatVs(vs)}`);
  else if (k.kind === 'fwmark') out.push(` VS FWMARK = ${k.fwmark}`);
  else out.push(` VS VIP = ${addr(k.address)}, VPORT = ${k.port}`);
  if (vs.virtualhost) out.push(`   VirtualHost = ${vs.virtualhost}`);
  const ops = vs.ops || vs.schedulerFlags.includes('one-packet');
  out.push(
    `   Address family = ${vsFamily(vs, input.config.virtualServerGroups)}`,
    '   connection timeout = 5.000000',
    `   delay_loop = ${f6(vs.delayLoopMs)}`,
    `   lvs_sched = ${vs.lbAlgo}`,
    '   Hashed = disabled',
    ...schedulerFlagLines(vs),
    `   One packet scheduling = ${enDis(ops)}${ops && vs.protocol !== 'UDP' ? ' (inactive due to not UDP)' : ''}`,
  );
  if (vs.persistenceTimeoutS) out.push(`   persistence timeout = ${vs.persistenceTimeoutS}`);
  if (vs.persistenceGranularity) out.push(`   persistence granularity = ${vs.persistenceGranularity}`);
  out.push(
    `   protocol = ${k.kind === 'fwmark' ? 'none' : vs.protocol}`,
    `   alpha is ${onOff(vs.alpha)}`,
    `   omega is ${onOff(vs.omega)}`,
    `   Inhibit on failure is ${onOff(vs.inhibitOnFailure)}`,
    `   quorum = ${vs.quorum}, hysteresis = ${vs.hysteresis}`,
  );
  if (vs.quorumUp) out.push(`   Quorum up notify script = ${scriptCommand(input, vs.quorumUp)}, uid:gid ${scriptUidGid(input, vs.quorumUp, g)}`);
  if (vs.quorumDown) out.push(`   Quorum down notify script = ${scriptCommand(input, vs.quorumDown)}, uid:gid ${scriptUidGid(input, vs.quorumDown, g)}`);
  if (vs.haSuspend) out.push('   Using HA suspend');
  const alertChecker = g.smtpAlertChecker;
  out.push(`   Using smtp notification = ${yesNo(vs.smtpAlert ?? alertChecker ?? g.smtpAlert)}`, `   default forwarding method = ${forwarding(vs.lbKind)}`);
  const s = vs.sorryServer;
  if (s) {
    const dup = vs.realServers.some((rs) => rs.port === s.port && addr(rs.address) === addr(s.address));
    out.push(
      `   sorry server ${dup ? '(duplicates rs) ' : ''}= ${formatRs(vs, s)}`,
      `     forwarding method = ${forwarding(s.lbKind ?? vs.lbKind)}`,
      `     Inhibit on failure is ${onOff(vs.sorryServerInhibit)}`,
    );
  }
  const table = input.virtualServer(vs);
  out.push('   alive = 1', `   quorum_state_up = ${table.quorumUp ? 1 : 0}`, '   reloaded = 0');
  for (const rs of vs.realServers) out.push(...rsSection(input, vs, rs, table.inTable(rs)));
  return out;
}

function rsSection(input: CheckDumpInput, vs: VirtualServer, rs: RealServer, set: boolean): string[] {
  const g = input.config.globalDefs;
  const h = input.health(vs, rs);
  const eff = h?.dynamicWeight ?? rs.weight;
  const views = rs.checkers.map((_, i) => input.checker(vs, rs, i));
  const out = [
    '   ------< Real server >------',
    `   RIP = ${addr(rs.address)}, RPORT = ${rsPort(vs, rs)}, WEIGHT = ${Math.max(0, eff)} EFF WEIGHT = ${eff}`,
    `   forwarding method = ${forwarding(rs.lbKind ?? vs.lbKind)}`,
    `   Alpha is ${onOff(rs.alpha)}`,
    '   connection timeout = 5.000000',
    `   connection limit range = ${rs.lthreshold} -> ${rs.uthreshold}`,
    `   Delay loop = ${f6(rs.delayLoopMs)}`,
    `   Inhibit on failure is ${onOff(rs.inhibitOnFailure)}`,
  ];
  if (rs.notifyUp) out.push(`     RS up notify script = ${scriptCommand(input, rs.notifyUp)}, uid:gid ${scriptUidGid(input, rs.notifyUp, g)}`);
  if (rs.notifyDown) out.push(`     RS down notify script = ${scriptCommand(input, rs.notifyDown)}, uid:gid ${scriptUidGid(input, rs.notifyDown, g)}`);
  if (rs.virtualhost) out.push(`    VirtualHost = '${rs.virtualhost}'`);
  out.push(
    // keepalived leaves a real server's smtp_alert at -1 when unset, and prints -1 as "yes"
    `   Using smtp notification = ${yesNo(rs.smtpAlert !== false)}`,
    `   initial weight = ${rs.weight}`,
    `   effective weight = ${eff}`,
    '   previous effective_weight = 0',
    `   alive = ${(h ?? { up: views.every((v) => v.up) }).up ? 1 : 0}`,
    `   num failed checkers = ${views.filter((v) => !v.up).length}`,
    `   RS set = ${set ? 1 : 0}`,
    '   reloaded = 0',
  );
  const files = rs.checkers.filter((c): c is Extract<HealthCheck, { type: 'FILE_CHECK' }> => c.type === 'FILE_CHECK');
  if (files.length) {
    out.push('   Tracked Files');
    for (const c of files) out.push(`     ${c.trackFile}, ${fileWeight(input, c)}`);
  }
  return out;
}

/** keepalived's dump_url regex lines; it shares one compiled regex per pattern and options. */
function regexLines(input: CheckDumpInput, r: HttpRegex): string[] {
  const key = (x: HttpRegex) => `${[...new Set(x.options)].sort().join(' ')}\n${x.pattern}`;
  let refs = 0;
  for (const vs of input.config.virtualServers)
    for (const rs of vs.realServers)
      for (const c of rs.checkers) if (c.type === 'HTTP_GET' || c.type === 'SSL_GET') for (const u of c.urls) if (u.regex && key(u.regex) === key(r)) refs++;
  const out = [`     Regex = "${r.pattern}"`];
  if (r.noMatch) out.push('     Regex no match');
  if (r.maxOffset !== null) out.push(`     Regex min offset = ${r.minOffset}, max_offset = ${r.maxOffset}`);
  else if (r.minOffset) out.push(`     Regex min offset = ${r.minOffset}`);
  // keepalived 2.2.7 prints every option it knows as soon as any is set (its loop tests the
  // table's bits, not the regex's)
  out.push(`     Regex options:${r.options.length ? PCRE2_OPTIONS.map((o) => ` ${o}`).join('') : ''}`, `     Regex ref count = ${refs}`);
  return out;
}

function fileWeight(input: CheckDumpInput, c: Extract<HealthCheck, { type: 'FILE_CHECK' }>): string {
  const tf = (input.config.trackFiles ?? []).find((t) => t.name === c.trackFile);
  const reverse = c.weight === null ? (tf?.weightReverse ?? false) : c.reverse;
  return `weight ${c.weight ?? tf?.weight ?? 1}${reverse ? ' reverse' : ''}`;
}

/** keepalived's default delay_before_retry by checker type (the one it falls back to). */
function defaultRetryDelayMs(c: HealthCheck): number {
  if (c.type === 'HTTP_GET' || c.type === 'SSL_GET') return 3000;
  if (c.type === 'DNS_CHECK') return 0;
  return 1000;
}

interface Conn {
  ip: string;
  port: number;
  bindto: string | null;
  bindPort: number | null;
  bindIf: string | null;
  timeoutMs: number;
}

function checkerEntries(input: CheckDumpInput, vs: VirtualServer, rs: RealServer, c: HealthCheck, view: CheckerView): string[][] {
  const g = input.config.globalDefs;
  // the destination is taken before keepalived resets a DR/TUN real server's port: the configured one
  const own: Conn = {
    ip: c.connectIp ?? rs.address,
    port: c.connectPort ?? rs.port,
    bindto: c.bindto,
    bindPort: c.bindPort,
    bindIf: c.bindIf,
    timeoutMs: c.connectTimeoutMs,
  };
  const head = (conn: Conn | null): string[] => {
    const out = [
      ` ${formatVs(vs)} -> ${formatRs(vs, rs)}`,
      `   Enabled = ${yesNo(view.enabled)}`,
      `   Up = ${yesNo(view.up)}`,
      `   Has run = ${yesNo(view.hasRun)}`,
      `   Current weight = ${c.type === 'FILE_CHECK' ? (view.weight ?? 0) : 0}`,
    ];
    if (c.type !== 'FILE_CHECK') {
      out.push(`   Alpha = ${yesNo(c.alpha ?? rs.alpha)}`, `   Delay loop = ${us(c.delayLoopMs)}`, `   Warmup = ${us(c.warmupMs)}`, `   Retries = ${c.retry}`);
      if (c.retry) out.push(`   Delay before retry = ${us(c.delayBeforeRetryMs)}`, `   Retries iterations = ${view.retryIt}`);
      out.push(`   Default delay before retry = ${us(defaultRetryDelayMs(c))}`);
    }
    out.push('   Log all failures = no');
    if (conn) {
      out.push('   Connection', `     Dest = [${addr(conn.ip)}]:${conn.port}`);
      if (conn.bindto) out.push(`     Bind to = [${addr(conn.bindto)}]:${conn.bindPort ?? 0}`);
      if (conn.bindIf) out.push(`     Bind i/f = ${conn.bindIf}`);
      out.push(`     Timeout = ${f6(conn.timeoutMs)}`);
    }
    return out;
  };
  switch (c.type) {
    case 'TCP_CHECK':
    case 'PING_CHECK':
      return [[...head(own), `   Keepalive method = ${c.type}`]];
    case 'HTTP_GET':
    case 'SSL_GET': {
      const out = [
        ...head(own),
        `   Keepalive method = ${c.type}, http protocol ${c.httpProtocol === '1.1' || c.httpProtocol === '1.0C' ? c.httpProtocol : '1.0'}`,
      ];
      if (c.virtualhost) out.push(`   Virtualhost = ${c.virtualhost}`);
      out.push(`   Enable SNI ${c.enableSni ? '' : 'un'}set`, `   Fast recovery ${c.fastRecovery ? '' : 'un'}set`);
      for (const u of c.urls) {
        out.push(`   Checked url = ${u.path}`);
        if (u.digest) out.push(`     digest = ${u.digest.toLowerCase()}`);
        out.push('     HTTP Status Code(s)', ...statusRanges(u.statusCodes).map((r) => `       ${r}`));
        if (u.virtualhost) out.push(`     Virtual host = ${u.virtualhost}`);
        if (u.regex) out.push(...regexLines(input, u.regex));
      }
      if (view.failedUrl !== null) out.push(`   Failed URL = ${view.failedUrl}`);
      return [out];
    }
    case 'MISC_CHECK': {
      const ids = scriptUidGid(input, { user: c.user ?? c.miscPath.user, group: c.group ?? c.miscPath.group }, g);
      // our model resolves an unset misc_timeout to delay_loop; keepalived prints unset as 0
      const timeout = c.miscTimeoutMs === c.delayLoopMs ? 0 : Math.floor(c.miscTimeoutMs / 1000);
      const out = [
        ...head(null),
        '   Keepalive method = MISC_CHECK',
        `   script = ${scriptCommand(input, c.miscPath)}`,
        `   timeout = ${timeout}`,
        `   dynamic = ${c.miscDynamic ? 'YES' : 'NO'}`,
        `   uid:gid = ${ids}`,
      ];
      if (view.lastRan !== null) out.push(`   Last ran = ${lastRanText(view.lastRan)}`, `   Last status = ${view.lastStatus ?? 0}`);
      return [out];
    }
    case 'SMTP_CHECK': {
      const tail = ['   Keepalive method = SMTP_CHECK', `   helo = ${c.heloName}`];
      // keepalived turns each deprecated `host` block into a checker of its own
      return [
        [...head(own), ...tail],
        ...c.hosts.map((h) => [
          ...head({
            ip: h.connectIp ?? rs.address,
            port: h.connectPort ?? rs.port,
            bindto: h.bindto,
            bindPort: h.bindPort,
            bindIf: null,
            timeoutMs: h.connectTimeoutMs ?? 0,
          }),
          ...tail,
        ]),
      ];
    }
    case 'DNS_CHECK':
      return [[...head(own), '   Keepalive method = DNS_CHECK', `   Type = ${c.queryType}`, `   Name = ${c.name}`]];
    case 'UDP_CHECK': {
      const out = [
        ...head(own),
        '   Keepalive method = UDP_CHECK',
        `   Payload len = ${(c.payloadHex ?? '').length / 2}`,
        `   Require reply = ${yesNo(c.requireReplyHex !== null)}`,
      ];
      if (c.requireReplyHex !== null) {
        out.push(
          `     Min reply length = ${c.minReplyLength}`,
          `     Max reply length = ${c.maxReplyLength ?? 0}`,
          `     Reply data len = ${c.requireReplyHex.length / 2}`,
          '     Reply data mask = no',
        );
      }
      return [out];
    }
    case 'FILE_CHECK':
      return [[...head(null), '   Keepalive method = FILE_CHECK', `     Tracked file = ${c.trackFile}`, '     Reloaded = No']];
  }
}

/** Status codes as keepalived prints its bitmap: sorted, runs as `from-to`. */
function statusRanges(ranges: readonly { from: number; to: number }[]): string[] {
  const codes = [...new Set(ranges.flatMap((r) => Array.from({ length: r.to - r.from + 1 }, (_, i) => r.from + i)))].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < codes.length;) {
    let j = i;
    while (j + 1 < codes.length && codes[j + 1] === codes[j]! + 1) j++;
    out.push(i === j ? `${codes[i]}` : `${codes[i]}-${codes[j]}`);
    i = j + 1;
  }
  return out;
}

export function formatCheckDump(input: CheckDumpInput): string {
  const { config } = input;
  const out = formatGlobalSection({ ...input, process: 'checker' });
  const allCheckers = config.virtualServers.flatMap((vs) => vs.realServers.flatMap((rs) => rs.checkers));
  if (allCheckers.some((c) => c.type === 'SSL_GET')) out.push('------< SSL definitions >------', ' Using autogen SSL context');
  if (config.virtualServers.length) {
    out.push('------< LVS Topology >------', ` System is compiled with LVS v${input.ipvsVersion}`);
    for (const g of config.virtualServerGroups) out.push(...groupSection(input, g));
    for (const vs of config.virtualServers) out.push(...vsSection(input, vs));
  }
  const checkers: string[] = [];
  const tracking = new Map<string, string[]>();
  // keepalived queues FILE_CHECKs after every other checker, once the whole config is read
  for (const fileChecks of [false, true]) {
    for (const vs of config.virtualServers) {
      for (const rs of vs.realServers) {
        rs.checkers.forEach((c, i) => {
          if ((c.type === 'FILE_CHECK') !== fileChecks) return;
          for (const entry of checkerEntries(input, vs, rs, c, input.checker(vs, rs, i))) checkers.push(...entry);
          if (c.type === 'FILE_CHECK') {
            const list = tracking.get(c.trackFile) ?? [];
            list.push(`     ${formatVs(vs)} -> ${formatRs(vs, rs)}, ${fileWeight(input, c)}`);
            tracking.set(c.trackFile, list);
          }
        });
      }
    }
  }
  if (checkers.length) out.push('------< Health checkers >------', ...checkers);
  const files = (config.trackFiles ?? []).filter((t) => tracking.has(t.name));
  if (files.length) {
    out.push('------< Checker track files >------');
    for (const t of files) {
      out.push(
        ` Track file = ${t.name}`,
        `   File = ${t.file}`,
        `   Status = ${input.trackFileValue(t.name) ?? 0}`,
        `   Weight = ${t.weight}${t.weightReverse ? ' reverse' : ''}`,
        '   Tracking instances :',
        ...tracking.get(t.name)!,
      );
    }
  }
  return out.join('\n') + '\n';
}
