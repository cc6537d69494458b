// Routes and rules in keepalived.conf (virtual_routes, virtual_rules, static_routes,
// static_rules): each line is ip-route(8) / ip-rule(8) syntax as keepalived 2.2.7 reads it
// (vrrp_iproute.c alloc_route, vrrp_iprule.c alloc_rule). Where keepalived drops a line it
// logs a config error and starts without it: a lenient diagnostic here, the line left out.
// Where it only remarks (a deprecated word, a priority it picks itself) the line is kept.
import { readFileSync } from 'node:fs';
import type { Word } from './ast.js';
import type { Family, RouteGateway, RouteMetricName, RouteNextHop, RoutePrefix, SourcePos, VirtualRoute, VirtualRule } from './model.js';
import { familyOf } from './build-values.js';
import type { Diagnostics } from './schema-check.js';

/** RTPROT_KEEPALIVED: keepalived's protocol number for what it installs (Linux 5.8). */
export const RTPROT_KEEPALIVED = 18;
/** keepalived counts the priorities of rules that name none down from here, per family. */
export const RULE_START_PRIORITY = 16384;

const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;
const RTN_BLACKHOLE = 6;
const RTN_UNREACHABLE = 7;
const RTN_PROHIBIT = 8;
const FR_ACT_TO_TBL = 1;
const FR_ACT_GOTO = 2;
const FR_ACT_NOP = 3;
const FR_ACT_BLACKHOLE = 6;
const FR_ACT_UNREACHABLE = 7;
const FR_ACT_PROHIBIT = 8;

const RTN_TYPES: Record<string, number> = {
  local: 2,
  nat: 10,
  broadcast: 3,
  brd: 3,
  anycast: 4,
  multicast: 5,
  prohibit: RTN_PROHIBIT,
  unreachable: RTN_UNREACHABLE,
  blackhole: RTN_BLACKHOLE,
  xresolve: 11,
  unicast: RTN_UNICAST,
  throw: 9,
};

/** The names /etc/iproute2 gives tables, protocols, scopes, ... (keepalived's lib/rttables.c). */
export interface RtNames {
  /** The number for `name` in one of the iproute2 files, or null. */
  lookup(file: 'rt_tables' | 'rt_protos' | 'rt_scopes' | 'rt_dsfield' | 'rt_realms' | 'group', name: string): number | null;
}

const BUILT_IN: Record<string, Record<string, number>> = {
  rt_tables: { default: 253, main: 254, local: 255 },
  rt_protos: {
    none: 0,
    redirect: 1,
    kernel: 2,
    boot: 3,
    static: 4,
    gated: 8,
    ra: 9,
    mrt: 10,
    zebra: 11,
    bird: 12,
    babel: 42,
    dnrouted: 13,
    xorp: 14,
    ntk: 15,
    dhcp: 16,
  },
  rt_scopes: { global: 0, nowhere: 255, host: 254, link: 253, site: 200 },
};

/**
 * The host's /etc/iproute2 files, read once each as keepalived does (`NUMBER NAME` lines);
 * the built-in names fill in the numbers a file does not name.
 */
export function systemRtNames(dir = '/etc/iproute2'): RtNames {
  const cache = new Map<string, Map<string, number>>();
  const load = (file: string): Map<string, number> => {
    let names = cache.get(file);
    if (names) return names;
    names = new Map();
    let text = '';
    try {
      text = readFileSync(`${dir}/${file}`, 'utf8');
    } catch {
      // no file: the built-in names only, as keepalived
    }
    for (const line of text.split('\n')) {
      const words = line.replace(/#.*/, '').trim().split(/\s+/);
      if (words.length !== 2) continue;
      const id = parseCNumber(words[0]!);
      if (id !== null && !names.has(words[1]!)) names.set(words[1]!, id);
    }
    const ids = new Set(names.values());
    for (const [name, id] of Object.entries(BUILT_IN[file] ?? {})) if (!ids.has(id) && !names.has(name)) names.set(name, id);
    cache.set(file, names);
    return names;
  };
  return { lookup: (file, name) => load(file).get(name) ?? null };
}

/** strtoul(s, 0): decimal, 0x hex or 0 octal, the whole word; null otherwise. */
function parseCNumber(s: string): number | null {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[0-7]+$/.test(s)) return parseInt(s, 8);
  if (/^\d+$/.test(s)) return Number(s);
  return null;
}

export interface IpLineContext {
  diags: Diagnostics;
  names: RtNames;
  /** static_* lines take `track_group` */
  isStatic: boolean;
  /** Names of the track_group blocks defined so far. */
  trackGroups: ReadonlySet<string>;
  /** Interfaces the line names (the config checks they exist, as keepalived). */
  onInterface(name: string, pos: SourcePos, what: string): void;
}

/** Stops a line's reading: keepalived drops the line (its error is already reported). */
class Dropped extends Error {}

/** Walks one line's words the way keepalived's parsers step through their strvec. */
class Cursor {
  i = 0;
  constructor(
    readonly words: readonly Word[],
    private readonly ctx: IpLineContext,
    readonly what: string,
    readonly pos: SourcePos,
  ) {}
  get done(): boolean {
    return this.i >= this.words.length;
  }
  peek(): Word | undefined {
    return this.words[this.i];
  }
  /** The word after the current one (the option's value); a missing one drops the line. */
  value(): Word {
    const w = this.words[++this.i];
    if (!w) this.drop(this.words[this.i - 1]!.pos, `\`${this.words[this.i - 1]!.text}\` needs a value`);
    return w;
  }
  drop(pos: SourcePos, why: string): never {
    this.ctx.diags.lenient(pos, `bad-${this.what}`, `${this.what} ${why}: keepalived ignores this ${this.what}`);
    throw new Dropped();
  }
  /**
   * A remark keepalived logs while it keeps the line (its -t exits 5 on it): a warning here,
   * since the line does what keepalived makes of it.
   */
  note(pos: SourcePos, message: string): void {
    this.ctx.diags.warn(pos, `${this.what}-note`, message);
  }
}

/** keepalived's parse_ipaddress: an address of either family, `/prefix` only where allowed. */
function address(c: Cursor, w: Word, what: string): RouteGateway {
  const family = familyOf(w.text);
  if (!family) c.drop(w.pos, `\`${w.text}\` is not a valid ${what} address`);
  return { family, address: family === 6 ? w.text.toLowerCase() : w.text };
}

/** keepalived's parse_route: `default`/`any`/`all` (the family decided later), else ADDRESS[/LEN]. */
function prefixOf(c: Cursor, w: Word, what: string): { family: Family | null; address: string; prefix: number } {
  if (w.text === 'default' || w.text === 'any' || w.text === 'all') return { family: null, address: '', prefix: 0 };
  if (w.text === 'default6') {
    c.note(w.pos, "'default6' is deprecated - keepalived reads it as 'inet6 default'");
    return { family: 6, address: '::', prefix: 0 };
  }
  const slash = w.text.indexOf('/');
  const text = slash < 0 ? w.text : w.text.slice(0, slash);
  const family = familyOf(text);
  if (!family) c.drop(w.pos, `\`${w.text}\` is not a valid ${what}`);
  const max = family === 6 ? 128 : 32;
  let prefix = max;
  if (slash >= 0) {
    const len = w.text.slice(slash + 1);
    if (/^\d+$/.test(len) && +len <= max) prefix = +len;
    else c.note(w.pos, `invalid prefix length in \`${w.text}\`: keepalived uses /${max}`);
  }
  return { family, address: family === 6 ? text.toLowerCase() : text, prefix };
}

function finishPrefix(p: { family: Family | null; address: string; prefix: number }, family: Family): RoutePrefix {
  return { family, address: p.family ? p.address : family === 6 ? '::' : '0.0.0.0', prefix: p.prefix };
}

/**
 * keepalived 2.2.7 steps past `inet`/`inet6` twice, so the word after it is never read
 * (`inet6 from X` loses its `from`): the same here, said where it happens.
 */
function skipAfterFamily(c: Cursor, w: Word): void {
  const next = c.words[c.i + 1];
  if (!next) return;
  c.i++;
  c.note(
    next.pos,
    `keepalived 2.2.7 skips the word after \`${w.text}\` (\`${next.text}\` is not read); write the ${c.what} without \`${w.text}\`, its addresses give the family`,
  );
}

function unsigned(c: Cursor, w: Word, max: number, what: string): number {
  const n = parseCNumber(w.text);
  if (n === null || n > max) c.drop(w.pos, `has an invalid ${what} \`${w.text}\` (0-${max})`);
  return n;
}

function named(c: Cursor, w: Word, file: Parameters<RtNames['lookup']>[0], max: number, what: string, names: RtNames): number {
  const n = parseCNumber(w.text);
  if (n !== null) {
    if (n > max) c.drop(w.pos, `has an invalid ${what} \`${w.text}\``);
    return n;
  }
  const id = names.lookup(file, w.text);
  if (id === null) c.drop(w.pos, `names ${what} \`${w.text}\`, which is not in /etc/iproute2/${file}`);
  return id;
}

/** realms FROM/TO or TO (numbers or rt_realms names): (from << 16) | to. */
function realms(c: Cursor, w: Word, names: RtNames): number {
  const parts = w.text.split('/');
  if (parts.length > 2) c.drop(w.pos, `has invalid realms \`${w.text}\``);
  const one = (s: string) => {
    const n = parseCNumber(s) ?? names.lookup('rt_realms', s);
    if (n === null || n > 255) c.drop(w.pos, `has invalid realms \`${w.text}\``);
    return n;
  };
  return parts.length === 2 ? ((one(parts[0]!) << 16) | one(parts[1]!)) >>> 0 : one(parts[0]!);
}

/** rtt, rttvar, rto_min: a time (s, ms, or plain as ms when no unit), in 1/(1000*scale) s units. */
function rttTime(c: Cursor, w: Word, scale: number, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|sec|secs|ms|msec|msecs)?$/.exec(w.text);
  if (!m) c.drop(w.pos, `has an invalid ${what} \`${w.text}\``);
  const v = Number(m[1]);
  const ms = m[2] === undefined || m[2].startsWith('m') ? v : v * 1000;
  return Math.floor(ms * scale);
}

const LOCKABLE: ReadonlySet<string> = new Set(['mtu', 'advmss', 'rtt', 'rttvar', 'reordering', 'cwnd', 'ssthresh', 'rto_min']);

/** One line of virtual_routes or static_routes; null when keepalived drops it. */
export function parseRoute(words: readonly Word[], pos: SourcePos, ctx: IpLineContext): VirtualRoute | null {
  const c = new Cursor(words, ctx, 'route', pos);
  try {
    return readRoute(c, ctx);
  } catch (e) {
    if (e instanceof Dropped) return null;
    throw e;
  }
}

function readRoute(c: Cursor, ctx: IpLineContext): VirtualRoute {
  let family: Family | null = null;
  const agree = (f: Family, at: Word, why = 'cannot mix IPv4 and IPv6 addresses') => {
    if (family === null) family = f;
    else if (family !== f) c.drop(at.pos, why);
  };
  let dst: ReturnType<typeof prefixOf> | null = null;
  let from: ReturnType<typeof prefixOf> | null = null;
  const r: Omit<VirtualRoute, 'family' | 'destination' | 'from'> = {
    type: RTN_UNICAST,
    src: null,
    via: null,
    dev: null,
    table: RT_TABLE_MAIN,
    protocol: RTPROT_KEEPALIVED,
    scope: null,
    metric: null,
    tos: null,
    onlink: false,
    realms: null,
    metrics: {},
    locked: [],
    congctl: null,
    pref: null,
    expires: null,
    ttlPropagate: null,
    nexthops: [],
    mode: 'prepend',
    track: true,
    trackGroup: null,
    text: c.words.map((w) => w.text).join(' '),
    pos: c.pos,
  };
  let protocolWritten: { value: number; at: Word } | null = null;
  let nexthopsFrom = -1;
  const metric = (name: RouteMetricName, read: (w: Word) => number) => {
    let w = c.value();
    if (LOCKABLE.has(name) && w.text === 'lock') {
      if (!r.locked.includes(name)) r.locked.push(name);
      w = c.value();
    }
    r.metrics[name] = read(w);
  };
  for (; !c.done; c.i++) {
    const w = c.peek()!;
    switch (w.text) {
      case 'inet':
      case 'inet6':
        agree(w.text === 'inet' ? 4 : 6, w, `\`${w.text}\` does not match the route's other addresses`);
        skipAfterFamily(c, w);
        continue;
      case 'src': {
        const a = address(c, c.value(), 'src');
        agree(a.family, w);
        r.src = a.address;
        continue;
      }
      case 'as':
        if (c.words[c.i + 1]?.text === 'to') c.i++;
        c.i++;
        c.note(w.pos, '`as to` is for MPLS only: keepalived ignores it');
        continue;
      case 'via':
      case 'gw': {
        if (w.text === 'gw') c.note(w.pos, '`gw` for routes is deprecated (keepalived reads it as `via`)');
        let v = c.value();
        if (v.text === 'inet' || v.text === 'inet6') {
          agree(v.text === 'inet' ? 4 : 6, v);
          v = c.value();
        }
        const a = address(c, v, 'via');
        agree(a.family, v);
        r.via = a;
        continue;
      }
      case 'from': {
        const v = c.value();
        from = prefixOf(c, v, 'from prefix');
        if (from.family !== 6) c.drop(v.pos, `from \`${v.text}\`: a route's from address is only supported with IPv6`);
        agree(6, v);
        continue;
      }
      case 'tos':
      case 'dsfield':
        r.tos = named(c, c.value(), 'rt_dsfield', 255, 'TOS', ctx.names);
        continue;
      case 'table':
        r.table = named(c, c.value(), 'rt_tables', 0xffffffff, 'routing table', ctx.names);
        continue;
      case 'protocol': {
        const v = c.value();
        protocolWritten = { value: named(c, v, 'rt_protos', 255, 'protocol', ctx.names), at: v };
        continue;
      }
      case 'scope':
        r.scope = named(c, c.value(), 'rt_scopes', 255, 'scope', ctx.names);
        continue;
      case 'metric':
      case 'priority':
      case 'preference':
        r.metric = unsigned(c, c.value(), 0xffffffff, 'metric');
        continue;
      case 'dev':
      case 'oif': {
        const v = c.value();
        r.dev = v.text;
        ctx.onInterface(v.text, v.pos, 'route dev');
        continue;
      }
      case 'onlink':
        r.onlink = true;
        continue;
      case 'encap':
        return c.drop(w.pos, '`encap`: lightweight tunnel encapsulation is not supported by keepalived-ts (keepalived installs it)');
      case 'vrf':
        return c.drop(w.pos, "`vrf`: not supported by keepalived-ts (keepalived uses the VRF device's table); write `table N`");
      case 'expires': {
        const v = c.value();
        if (family === 4) c.drop(w.pos, '`expires` is only valid for IPv6');
        family = 6;
        r.expires = unsigned(c, v, 0xffffffff, 'expires time');
        continue;
      }
      case 'mtu':
      case 'advmss':
      case 'reordering':
      case 'cwnd':
      case 'ssthresh':
        metric(w.text, (v) => unsigned(c, v, 0xffffffff, w.text));
        continue;
      case 'window':
      case 'initcwnd':
      case 'initrwnd':
        r.metrics[w.text] = unsigned(c, c.value(), 0xffffffff, w.text);
        continue;
      case 'hoplimit':
        r.metrics.hoplimit = unsigned(c, c.value(), 255, 'hoplimit');
        continue;
      case 'rtt':
        metric('rtt', (v) => rttTime(c, v, 8, 'rtt'));
        continue;
      case 'rttvar':
        metric('rttvar', (v) => rttTime(c, v, 4, 'rttvar'));
        continue;
      case 'rto_min':
        metric('rto_min', (v) => rttTime(c, v, 1, 'rto_min'));
        continue;
      case 'realms': {
        r.realms = realms(c, c.value(), ctx.names);
        if (family === 6) c.drop(w.pos, 'realms are only valid for IPv4');
        family = 4;
        continue;
      }
      case 'features': {
        const v = c.value();
        if (v.text === 'ecn') r.metrics.features = 1;
        else c.note(v.pos, `route feature \`${v.text}\` is not supported: keepalived ignores it`);
        continue;
      }
      case 'quickack':
      case 'fastopen_no_cookie':
        r.metrics[w.text] = unsigned(c, c.value(), 1, w.text);
        continue;
      case 'congctl': {
        let v = c.value();
        if (v.text === 'lock') {
          r.locked.push('congctl' as RouteMetricName);
          v = c.value();
        }
        r.congctl = v.text;
        continue;
      }
      case 'pref': {
        const v = c.value();
        if (family === 4) c.drop(w.pos, '`pref` is only valid for IPv6');
        family = 6;
        const byName: Record<string, number> = { low: 3, medium: 0, high: 1 };
        r.pref = byName[v.text] ?? unsigned(c, v, 255, 'pref');
        continue;
      }
      case 'ttl-propagate': {
        const v = c.value();
        if (v.text === 'enabled') r.ttlPropagate = 1;
        else if (v.text === 'disabled') r.ttlPropagate = 0;
        else {
          c.note(v.pos, `ttl-propagate value \`${v.text}\` is not recognised: keepalived sends 0`);
          r.ttlPropagate = 0;
        }
        continue;
      }
      case 'add':
      case 'prepend':
      case 'append':
        r.mode = w.text;
        continue;
      case 'or': {
        c.note(w.pos, '`or` for routes is deprecated: keepalived reads it as two nexthops (write `nexthop via A nexthop via B`)');
        const v = c.value();
        if (r.nexthops.length) {
          c.note(w.pos, 'a second `or`: keepalived ignores it');
          continue;
        }
        const second = address(c, v, '`or`');
        r.nexthops.push(nexthop(r.via), nexthop(second));
        r.via = null;
        continue;
      }
      case 'nexthop':
        if (r.nexthops.length) c.note(w.pos, 'nexthops cannot follow an `or` route: keepalived ignores them');
        else nexthopsFrom = c.i;
        break;
      case 'no_track':
        r.track = false;
        continue;
      case 'track_group': {
        if (!ctx.isStatic) return unknownDestination(c, w);
        const v = c.value();
        if (r.trackGroup !== null) c.drop(v.pos, `has a duplicate track_group ${v.text}`);
        if (ctx.trackGroups.has(v.text)) r.trackGroup = v.text;
        else c.note(v.pos, `track_group ${v.text} not found: keepalived tracks nothing for this route`);
        continue;
      }
      default: {
        let at = w;
        if (at.text === 'to') at = c.value();
        const type = RTN_TYPES[at.text] ?? (/^\d+$/.test(at.text) && +at.text <= 255 ? +at.text : null);
        if (type !== null) {
          r.type = type;
          at = c.value();
        }
        dst = prefixOf(c, at, 'destination');
        if (dst.family) agree(dst.family, at, `cannot mix IPv4 and IPv6 addresses (${at.text})`);
        continue;
      }
    }
    break;
  }
  if (nexthopsFrom >= 0) {
    c.i = nexthopsFrom;
    const famOf = (f: Family, at: Word) => agree(f, at, 'address family mismatch for a nexthop');
    readNexthops(c, r.nexthops, famOf, ctx, () => family);
  } else if (!c.done) {
    c.drop(c.peek()!.pos, `has trailing nonsense \`${c.peek()!.text}\``);
  }
  if (!dst) c.drop(c.pos, 'must have a destination');
  if (r.track) {
    if (protocolWritten && protocolWritten.value !== RTPROT_KEEPALIVED) {
      c.note(protocolWritten.at.pos, `a tracked route keeps protocol keepalived (${RTPROT_KEEPALIVED}): keepalived resets it (add \`no_track\` to keep yours)`);
    }
    if (!r.dev) {
      c.note(c.pos, `cannot track route ${dstText(dst)} with no interface specified: keepalived does not track it`);
      r.track = false;
    }
  } else if (protocolWritten) {
    r.protocol = protocolWritten.value;
  }
  settleTrackGroup(c, r, r.dev !== null, 'static route', 'a track group without `dev`');
  const fam: Family = family ?? 4;
  return { ...r, family: fam, destination: finishPrefix(dst, fam), from: from ? finishPrefix(from, fam) : null };
}

/** A track_group needs the entry's interface (keepalived drops the group without one) and tracking. */
function settleTrackGroup(c: Cursor, r: { trackGroup: string | null; track: boolean }, hasInterface: boolean, what: string, without: string): void {
  if (r.trackGroup && !hasInterface) {
    c.note(c.pos, `a ${what} cannot have ${without}: keepalived drops the track group`);
    r.trackGroup = null;
  }
  if (r.trackGroup && !r.track) c.note(c.pos, `${what} has both track_group and no_track: keepalived does not track it`);
}

function dstText(d: { family: Family | null; address: string; prefix: number } | null): string {
  return d && d.family ? `${d.address}/${d.prefix}` : 'default';
}

function unknownDestination(c: Cursor, w: Word): never {
  c.drop(w.pos, `has an unknown keyword \`${w.text}\``);
}

function nexthop(via: RouteGateway | null): RouteNextHop {
  return { via, dev: null, weight: null, onlink: false, realms: null };
}

function readNexthops(c: Cursor, out: RouteNextHop[], agree: (f: Family, at: Word) => void, ctx: IpLineContext, family: () => Family | null): void {
  while (!c.done && c.peek()!.text === 'nexthop') {
    c.i++;
    const nh = nexthop(null);
    for (; !c.done; c.i++) {
      const w = c.peek()!;
      if (w.text === 'via') {
        let v = c.value();
        if (v.text === 'inet' || v.text === 'inet6') {
          agree(v.text === 'inet' ? 4 : 6, v);
          v = c.value();
        }
        nh.via = address(c, v, 'nexthop');
        agree(nh.via.family, v);
      } else if (w.text === 'dev') {
        const v = c.value();
        nh.dev = v.text;
        ctx.onInterface(v.text, v.pos, 'route nexthop dev');
      } else if (w.text === 'weight') {
        const v = c.value();
        const n = parseCNumber(v.text);
        if (n === null || n < 1 || n > 256) c.drop(v.pos, `has an invalid nexthop weight \`${v.text}\` (1-256)`);
        nh.weight = n;
      } else if (w.text === 'onlink') {
        nh.onlink = true;
      } else if (w.text === 'realms') {
        nh.realms = realms(c, c.value(), ctx.names);
        if (family() === 6) c.drop(w.pos, 'realms are only supported for IPv4');
        agree(4, w);
      } else if (w.text === 'encap') {
        c.drop(w.pos, '`encap`: lightweight tunnel encapsulation is not supported by keepalived-ts (keepalived installs it)');
      } else if (w.text === 'as') {
        c.drop(w.pos, "'as [to]' (nat) is not supported");
      } else {
        break;
      }
    }
    out.push(nh);
  }
  if (!c.done) c.drop(c.peek()!.pos, `has trailing nonsense after nexthops \`${c.peek()!.text}\``);
}

/** Per-family countdown of rule priorities keepalived assigns (reset for each config read). */
export class RulePriorities {
  private readonly next = { 4: RULE_START_PRIORITY, 6: RULE_START_PRIORITY };
  take(family: Family): number {
    return this.next[family]--;
  }
}

/** One line of virtual_rules or static_rules; null when keepalived drops it. */
export function parseRule(words: readonly Word[], pos: SourcePos, ctx: IpLineContext, priorities: RulePriorities): VirtualRule | null {
  const c = new Cursor(words, ctx, 'rule', pos);
  try {
    return readRule(c, ctx, priorities);
  } catch (e) {
    if (e instanceof Dropped) return null;
    throw e;
  }
}

/** sport/dport: keepalived 2.2.7 takes only START-END (a single port is refused as a range). */
function portRange(c: Cursor, w: Word, what: string): [number, number] | null {
  const m = /^(\d+)-(\d+)/.exec(w.text);
  if (!m || +m[1]! > 65535 || +m[2]! > 65535) {
    const single = /^\d+$/.test(w.text) ? ` (keepalived 2.2.7 reads a single port as a bad range: write ${w.text}-${w.text})` : '';
    c.note(w.pos, `invalid ${what} range \`${w.text}\`: keepalived ignores it${single}`);
    return null;
  }
  return [+m[1]!, +m[2]!];
}

const IP_PROTOS: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, 'ipv6-icmp': 58, icmpv6: 58, sctp: 132, udplite: 136 };

function readRule(c: Cursor, ctx: IpLineContext, priorities: RulePriorities): VirtualRule {
  let family: Family | null = null;
  const agree = (f: Family, at: Word) => {
    if (family === null) family = f;
    else if (family !== f) c.drop(at.pos, 'mixes IPv4 and IPv6');
  };
  let from: ReturnType<typeof prefixOf> | null = null;
  let to: ReturnType<typeof prefixOf> | null = null;
  let priority: number | null = null;
  let tableOption = false;
  let protocolWritten: { value: number; at: Word } | null = null;
  const r: Omit<VirtualRule, 'family' | 'from' | 'to' | 'priority'> = {
    action: 0,
    table: 0,
    l3mdev: false,
    goto: null,
    invert: false,
    tos: 0,
    fwmark: null,
    fwmask: null,
    realms: null,
    suppressPrefixLength: null,
    suppressIfgroup: null,
    iif: null,
    oif: null,
    tunnelId: null,
    uidRange: null,
    protocol: null,
    ipProto: null,
    sport: null,
    dport: null,
    track: true,
    trackGroup: null,
    text: c.words.map((w) => w.text).join(' '),
    pos: c.pos,
  };
  const oneAction = (action: number, at: Word) => {
    if (r.action !== 0) c.drop(at.pos, 'can have only one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev');
    r.action = action;
  };
  for (; !c.done; c.i++) {
    const w = c.peek()!;
    switch (w.text) {
      case 'inet':
      case 'inet6':
        agree(w.text === 'inet' ? 4 : 6, w);
        skipAfterFamily(c, w);
        continue;
      case 'from':
      case 'to': {
        const v = c.value();
        const p = prefixOf(c, v, `${w.text} address`);
        if (p.family) agree(p.family, v);
        if (w.text === 'from') from = p;
        else to = p;
        continue;
      }
      case 'table':
      case 'lookup': {
        const v = c.value();
        const t = named(c, v, 'rt_tables', 0xffffffff, 'routing table', ctx.names);
        if (t === 0) c.drop(v.pos, 'table 0 is not valid');
        r.table = t;
        oneAction(FR_ACT_TO_TBL, w);
        continue;
      }
      case 'not':
        r.invert = true;
        continue;
      case 'preference':
      case 'order':
      case 'priority':
        priority = unsigned(c, c.value(), 0xffffffff, 'preference');
        continue;
      case 'tos':
      case 'dsfield':
        r.tos = named(c, c.value(), 'rt_dsfield', 255, 'TOS', ctx.names);
        continue;
      case 'fwmark': {
        const v = c.value();
        const [mark, mask, extra] = v.text.split('/');
        const m = parseCNumber(mark!);
        const k = mask === undefined ? 0 : parseCNumber(mask);
        if (m === null || m > 0xffffffff || k === null || k > 0xffffffff || extra !== undefined) c.drop(v.pos, `has an invalid fwmark \`${v.text}\``);
        r.fwmark = m;
        r.fwmask = mask === undefined ? null : k;
        continue;
      }
      case 'realms':
        r.realms = realms(c, c.value(), ctx.names);
        tableOption = true;
        agree(4, w);
        continue;
      case 'suppress_prefixlength':
      case 'sup_pl':
        r.suppressPrefixLength = unsigned(c, c.value(), 0x7fffffff, 'suppress_prefixlength');
        tableOption = true;
        continue;
      case 'suppress_ifgroup':
      case 'sup_group':
        r.suppressIfgroup = named(c, c.value(), 'group', 0x7fffffff, 'suppress_ifgroup', ctx.names);
        tableOption = true;
        continue;
      case 'dev':
      case 'iif':
      case 'oif': {
        const v = c.value();
        if (w.text === 'oif') r.oif = v.text;
        else r.iif = v.text;
        ctx.onInterface(v.text, v.pos, `rule ${w.text}`);
        continue;
      }
      case 'tunnel-id': {
        const v = c.value();
        if (!/^\d+$/.test(v.text) || BigInt(v.text) > 0xffffffffffffffffn) c.drop(v.pos, `has an invalid tunnel-id \`${v.text}\``);
        r.tunnelId = BigInt(v.text).toString();
        continue;
      }
      case 'uidrange': {
        const v = c.value();
        const m = /^(\d+)-(\d+)/.exec(v.text);
        if (!m || +m[1]! > 0xffffffff || +m[2]! > 0xffffffff) c.drop(v.pos, `has an invalid uidrange \`${v.text}\``);
        r.uidRange = [+m[1]!, +m[2]!];
        continue;
      }
      case 'l3mdev':
        if (r.action !== 0) c.drop(w.pos, 'cannot have l3mdev with another action');
        r.l3mdev = true;
        r.action = FR_ACT_TO_TBL;
        continue;
      case 'protocol': {
        const v = c.value();
        const n = parseCNumber(v.text);
        if (n === null || n > 255) c.note(v.pos, `invalid rule protocol \`${v.text}\`: keepalived ignores it`);
        else protocolWritten = { value: n, at: v };
        continue;
      }
      case 'ipproto': {
        const v = c.value();
        const n = IP_PROTOS[v.text.toLowerCase()] ?? parseCNumber(v.text);
        if (n === null || n > 255) c.note(v.pos, `invalid ipproto \`${v.text}\`: keepalived ignores it`);
        else r.ipProto = n;
        continue;
      }
      case 'sport':
        r.sport = portRange(c, c.value(), 'sport');
        continue;
      case 'dport':
        r.dport = portRange(c, c.value(), 'dport');
        continue;
      case 'no_track':
        r.track = false;
        continue;
      case 'track_group': {
        if (!ctx.isStatic) break;
        const v = c.value();
        if (r.trackGroup !== null) {
          c.note(v.pos, `track_group ${v.text} is a duplicate: keepalived stops reading the rule here`);
          c.i = c.words.length;
          break;
        }
        if (ctx.trackGroups.has(v.text)) r.trackGroup = v.text;
        else c.note(v.pos, `track_group ${v.text} not found: keepalived tracks nothing for this rule`);
        continue;
      }
      default:
        break;
    }
    if (c.done) break;
    // an action: [type] goto N | nop | blackhole | unreachable | prohibit
    let a = w;
    if (a.text === 'type') a = c.value();
    if (a.text === 'goto') {
      r.goto = unsigned(c, c.value(), 0xffffffff, 'goto target');
      oneAction(FR_ACT_GOTO, a);
    } else if (a.text === 'nop') {
      oneAction(FR_ACT_NOP, a);
    } else {
      const t = RTN_TYPES[a.text] ?? (/^\d+$/.test(a.text) && +a.text <= 255 ? +a.text : null);
      if (t === null) c.drop(a.pos, `has an unknown option \`${a.text}\``);
      const act = t === RTN_BLACKHOLE ? FR_ACT_BLACKHOLE : t === RTN_UNREACHABLE ? FR_ACT_UNREACHABLE : t === RTN_PROHIBIT ? FR_ACT_PROHIBIT : null;
      if (act === null) c.drop(a.pos, `has an invalid action \`${a.text}\``);
      oneAction(act, a);
    }
  }
  if (r.action === FR_ACT_GOTO) {
    if (priority === null) c.drop(c.pos, `goto ${r.goto} needs a preference`);
    if (priority >= r.goto!) c.drop(c.pos, `preference ${priority} must be below its goto target ${r.goto}`);
  }
  if (r.action === 0) c.drop(c.pos, 'has no action (table, goto, nop, blackhole, unreachable, prohibit or l3mdev)');
  if (r.action !== FR_ACT_TO_TBL && tableOption) c.drop(c.pos, 'has suppressor/realms options without a table action');
  if (r.table && r.l3mdev) c.drop(c.pos, 'cannot name a table with l3mdev');
  if (r.track) {
    if (protocolWritten && protocolWritten.value !== RTPROT_KEEPALIVED) {
      c.note(protocolWritten.at.pos, `a tracked rule keeps protocol keepalived (${RTPROT_KEEPALIVED}): keepalived resets it (add \`no_track\` to keep yours)`);
    }
    r.protocol = RTPROT_KEEPALIVED;
  } else if (protocolWritten) {
    r.protocol = protocolWritten.value;
  }
  settleTrackGroup(c, r, r.iif !== null, 'static rule', 'a track_group without dev/iif');
  const fam: Family = family ?? 4;
  if (priority === null) {
    priority = priorities.take(fam);
    c.note(c.pos, `rule has no preference: keepalived sets ${priority} (counting down from ${RULE_START_PRIORITY}); write \`preference N\``);
  }
  return { ...r, family: fam, priority, from: from ? finishPrefix(from, fam) : null, to: to ? finishPrefix(to, fam) : null };
}
