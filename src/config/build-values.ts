// Small value parsers the model builder shares: scripts, addresses, tracking lists, status
// codes, LVS forwarding methods. Pure functions; errors go to the Diagnostics they are given.
import { isIPv6 } from 'node:net';
import type { Statement, Word } from './ast.js';
import type { Family, LbKind, ScriptSpec, SourcePos, StatusRange, TrackRef, VirtualIp } from './model.js';
import { Diagnostics, isIPv4 } from './schema-check.js';

/** A VIP line's address with none of its options written. */
export function plainVirtualIp(address: string, prefix: number, family: Family, pos: SourcePos): VirtualIp {
  return { address, prefix, family, broadcast: null, dev: null, scope: null, label: null, noDad: false, noTrack: false, useVmac: false, pos };
}

export function familyOf(address: string): Family | null {
  return isIPv4(address) ? 4 : isIPv6(address) ? 6 : null;
}

/** Splits a command line the way keepalived does: spaces separate, quotes group. */
export function splitCommand(command: string): string[] {
  const argv: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let have = false;
  for (const ch of command) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      have = true;
    } else if (ch === ' ' || ch === '\t') {
      if (have || cur) argv.push(cur);
      cur = '';
      have = false;
    } else {
      cur += ch;
    }
  }
  if (have || cur) argv.push(cur);
  return argv;
}

export function script(command: string, user?: unknown, group?: unknown, pos?: SourcePos): ScriptSpec {
  return {
    command,
    argv: splitCommand(command),
    user: typeof user === 'string' ? user : null,
    group: typeof group === 'string' ? group : null,
    ...(pos ? { pos } : {}),
  };
}

export type TrackKind = 'track_interface' | 'track_script' | 'track_file' | 'track_process';

/** The block that defines what each kind of track entry names. */
export const TRACKED_BLOCK = {
  track_interface: 'interface',
  track_script: 'vrrp_script',
  track_file: 'track_file',
  track_process: 'vrrp_track_process',
} as const;

/**
 * The lines of a track_interface / track_script / track_file / track_process block, read as
 * keepalived 2.2.7 reads them (vrrp_track.c, track_file.c): `NAME [weight N [reverse|noreverse]]`.
 * - a second word other than `weight`, or `weight` without a value: the entry is dropped;
 * - a weight outside -254..254: the entry stays with its default weight; +-254 (interfaces
 *   and scripts) becomes +-253;
 * - a fourth word other than `reverse` (`noreverse` for scripts, files, processes): ignored, except
 *   for track_file, where the entry is dropped; words after the fourth are never read;
 * - the same name twice: the second is dropped.
 * Each of these is an error keepalived logs and starts with.
 */
export function trackRefs(block: Statement[] | null, what: TrackKind, diags: Diagnostics): TrackRef[] {
  const out: TrackRef[] = [];
  for (const line of block ?? []) {
    if (line.block) {
      diags.error(line.blockOpen ?? line.pos, 'unexpected-block', `${what} entries do not take a \`{ }\` block`);
      continue;
    }
    const name = line.keyword.text;
    const ref: TrackRef = { name, weight: null, reverse: false, pos: line.keyword.pos };
    const [option, value, flag, ...rest] = line.args;
    const drop = (at: Word, why: string) => diags.lenient(at.pos, 'bad-argument', `${what} \`${name}\`: ${why}: keepalived ignores this entry`);
    if (out.some((r) => r.name === name)) {
      drop(line.keyword, 'tracked twice in this block');
      continue;
    }
    if (option && option.text !== 'weight') {
      drop(option, `unknown option \`${option.text}\` (expected NAME [weight N [reverse]])`);
      continue;
    }
    if (option && !value) {
      drop(option, '`weight` needs a value');
      continue;
    }
    if (value) {
      const n = /^[-+]?\d+$/.test(value.text) ? Number(value.text) : NaN;
      if (!(n >= -254 && n <= 254)) {
        const dflt = what === 'track_interface' ? '0' : `the ${TRACKED_BLOCK[what]}'s own`;
        const range = what === 'track_file' || what === 'track_process' ? '-254-254' : '-253-253';
        diags.lenient(
          value.pos,
          'bad-argument',
          `${what} \`${name}\`: weight expects an integer ${range}, got \`${value.text}\`: keepalived keeps the entry with weight ${dflt}`,
        );
      } else if (Math.abs(n) === 254 && what !== 'track_file' && what !== 'track_process') {
        ref.weight = Math.sign(n) * 253;
        diags.lenient(value.pos, 'bad-argument', `${what} \`${name}\`: weight cannot be ${n}: keepalived uses ${ref.weight}`);
      } else ref.weight = n;
    }
    if (flag) {
      if (flag.text === 'reverse') ref.reverse = true;
      else if (flag.text !== 'noreverse' || what === 'track_interface') {
        if (what === 'track_file') {
          drop(flag, `unknown weight option \`${flag.text}\` (expected reverse or noreverse)`);
          continue;
        }
        diags.lenient(flag.pos, 'bad-argument', `${what} \`${name}\`: unknown weight option \`${flag.text}\` (expected reverse): keepalived ignores it`);
      }
    }
    if (rest.length)
      diags.lenient(
        rest[0]!.pos,
        'extra-argument',
        `unexpected \`${rest.map((w) => w.text).join(' ')}\` in ${what} entry \`${name}\` (expected NAME [weight N [reverse]]): keepalived never reads it`,
      );
    out.push(ref);
  }
  return out;
}

/** `200-299 301 302-303` → ranges; null (diagnosed) on a malformed word. */
export function statusCodes(words: Word[], diags: Diagnostics): StatusRange[] | null {
  const out: StatusRange[] = [];
  for (const w of words) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(w.text);
    const from = m ? Number(m[1]) : NaN;
    const to = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || from < 100 || to > 599 || from > to) {
      diags.error(w.pos, 'bad-argument', `\`status_code\` expects HTTP codes or ranges 100-599 like \`200-299\`, got \`${w.text}\``);
      return null;
    }
    out.push({ from, to });
  }
  return out;
}

/** `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]` (lvs_method / lb_kind). */
export function lbKind(keyword: string, words: Word[], pos: SourcePos, diags: Diagnostics): LbKind | null {
  const first = words[0];
  if (!first) {
    diags.error(pos, 'missing-argument', `\`${keyword}\` needs a forwarding method (one of NAT|DR|TUN)`);
    return null;
  }
  // keepalived compares the method case-sensitively and ignores the line otherwise (NAT
  // stands): `lb_kind dr` is not DR, and FNAT (a fork's method) is not known.
  const up = first.text;
  if (up !== 'NAT' && up !== 'DR' && up !== 'TUN') {
    const ci = ['NAT', 'DR', 'TUN'].find((m) => m === first.text.toUpperCase());
    const hint = ci ? `; case matters: write \`${ci}\`` : first.text === 'FNAT' ? ' (FNAT is a method of a keepalived fork for its own LVS kernel)' : '';
    diags.error(first.pos, 'bad-argument', `\`${keyword}\` expects one of NAT|DR|TUN, got \`${first.text}\`${hint}; keepalived ignores this line`);
    return null;
  }
  if (words.length > 1 && up !== 'TUN') {
    diags.error(words[1]!.pos, 'extra-argument', `unexpected \`${words[1]!.text}\` after \`${keyword} ${first.text}\` (tunnel options only follow TUN)`);
    return null;
  }
  return up;
}

/**
 * keepalived's HEX_STR (UDP_CHECK `payload`, `require_reply`): the words of the line
 * together, blanks separating groups; a group is read two digits to a byte, an odd last
 * digit being a byte by itself (`Ab12f 3` = ab 12 0f 03). With `wildcards` (require_reply)
 * x or X is a digit whose 4 bits are ignored. Returns the bytes as two lower-case digits
 * each (x kept), or the first word that is not hex; `null` hex when there are no digits.
 */
export function hexString(words: Word[], wildcards: boolean): { hex: string } | { bad: Word } {
  let hex = '';
  const digit = wildcards ? /^[0-9a-fA-FxX]$/ : /^[0-9a-fA-F]$/;
  for (const w of words) {
    for (const group of w.text.split(/[ \t]+/)) {
      for (const ch of group) if (!digit.test(ch)) return { bad: w };
      const even = group.length % 2 === 0 ? group : `${group.slice(0, -1)}0${group.slice(-1)}`;
      hex += even.toLowerCase();
    }
  }
  return hex.length > 0 ? { hex } : { bad: words[0]! };
}

/** Seconds (possibly fractional) → integer milliseconds. */
export function ms(seconds: unknown): number {
  return Math.round(Number(seconds) * 1000);
}
