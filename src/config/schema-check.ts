// Generic checks of statements against the keyword schema (grammar/keywords.ts): argument
// types and counts, unknown keywords with a nearest-known suggestion, keywords written in
// the wrong block. Pure: returns values and pushes diagnostics, knows nothing of the model.
import { isIPv6 } from 'node:net';
import { BLOCKS, type ArgSpec, type ArgType, type BlockSpec, type FoundKeyword } from '../../grammar/keywords.js';
import { type Diagnostic, DiagnosticList, type Statement, type Word } from './ast.js';
import type { SourcePos } from './model.js';

export type ArgValue = string | number | boolean | undefined;

/**
 * Statement errors keepalived logs and goes on from at start: an unknown keyword, a bad,
 * missing or extra word. A missing or unexpected `{ }` is not among them: the lines around
 * it would be read at the wrong level.
 */
// Not a missing word: keepalived's handler reads past the end of the line and the process
// exits ("is missing a parameter ... at word position 2", permanent error CONFIG).
const SKIPPABLE = new Set(['unknown-keyword', 'wrong-block', 'old-spelling', 'bad-argument', 'extra-argument', 'bad-address']);

/** The builder's diagnostics: capped (DiagnosticList), and which errors are skippable. */
export class Diagnostics extends DiagnosticList {
  /**
   * Errors about one statement the builder left out, the rest of the config standing
   * without it (unknown keyword, refused words): what keepalived logs and skips at start.
   */
  readonly skippable = new Set<Diagnostic>();
  /**
   * Errors keepalived logs at start and then works around in a way the builder copies (the
   * rest of a line ignored, a port-0 service made persistent, a duplicate instance or an
   * undefined reference left out): the daemon starts; -t fails.
   */
  readonly tolerated = new Set<Diagnostic>();
  /** Errors past the cap that were not marked skippable (a tolerant load fails on them). */
  omittedUnskipped = 0;
  /** Errors past the cap of a kind never skippable. */
  private omittedFatal = 0;
  private markOmittedErrors = 0;
  private markOmittedFatal = 0;
  /** Tolerated errors past the cap: counted in `omitted`, never skippable or fatal. */
  private omittedTolerated = 0;
  private markOmittedTolerated = 0;

  error(pos: SourcePos, code: string, message: string): void {
    this.push({ severity: 'error', code, pos, message });
  }
  warn(pos: SourcePos, code: string, message: string): void {
    this.push({ severity: 'warning', code, pos, message });
  }
  override push(d: Diagnostic): boolean {
    if (super.push(d)) return true;
    if (d.severity === 'error') {
      this.omittedUnskipped++;
      if (!SKIPPABLE.has(d.code)) this.omittedFatal++;
    }
    return false;
  }
  /** Where one statement's diagnostics begin: the argument for markSkippable. */
  mark(): number {
    this.markOmittedErrors = this.omitted.errors;
    this.markOmittedFatal = this.omittedFatal;
    this.markOmittedTolerated = this.omittedTolerated;
    return this.list.length;
  }
  /** An error the daemon starts with, doing what keepalived does (see `tolerated`). */
  lenient(pos: SourcePos, code: string, message: string): void {
    const d: Diagnostic = { severity: 'error', code, pos, message };
    this.tolerated.add(d);
    // past the cap it is only counted: worked around, it neither blocks a start nor is skipped
    if (!super.push(d)) this.omittedTolerated++;
  }
  /**
   * Marks the errors since `from` (what mark() returned) as skippable when all are of a
   * kind keepalived skips (see SKIPPABLE); returns whether there were any and all were marked.
   */
  markSkippable(from: number): boolean {
    if (this.omittedFatal > this.markOmittedFatal) return false;
    const omittedErrors = this.omitted.errors - this.markOmittedErrors - (this.omittedTolerated - this.markOmittedTolerated);
    let any = omittedErrors > 0;
    for (let i = from; i < this.list.length; i++) {
      const d = this.list[i]!;
      if (d.severity !== 'error' || this.tolerated.has(d)) continue;
      if (!SKIPPABLE.has(d.code)) return false;
      any = true;
    }
    for (let i = from; i < this.list.length; i++) {
      const d = this.list[i]!;
      if (d.severity === 'error' && !this.tolerated.has(d)) this.skippable.add(d);
    }
    this.omittedUnskipped -= omittedErrors;
    return any;
  }
}

export function describeType(t: ArgType): string {
  switch (t.kind) {
    case 'int':
      return `an integer ${t.min}-${t.max}`;
    case 'decimal':
      return `a number of seconds ${t.min}-${+t.max.toFixed(6)}`;
    case 'ipv4':
      return 'an IPv4 address';
    case 'ipv6':
      return 'an IPv6 address';
    case 'ip':
      return 'an IP address';
    case 'prefix':
      return 'an address[/prefix]';
    case 'port':
      return 'a port 1-65535';
    case 'enum':
      return `one of ${t.values.join('|')}`;
    case 'string':
      return 'a string';
    case 'path':
      return 'a path';
    case 'bool':
      return 'on|off|true|false|yes|no';
  }
}

const INT_RE = /^[-+]?\d+$/;
const BOOLS: Record<string, boolean> = { on: true, off: false, true: true, false: false, yes: true, no: false };

/** `[-+]?digits` as a number, else null; a loop, not a regex: this runs per statement. */
export function parseIntStrict(text: string): number | null {
  const len = text.length;
  if (len === 0 || len > 16) return len > 16 && INT_RE.test(text) ? Number(text) : null;
  let i = 0;
  let sign = 1;
  const c0 = text.charCodeAt(0);
  if (c0 === 45 || c0 === 43) {
    if (len === 1) return null;
    sign = c0 === 45 ? -1 : 1;
    i = 1;
  }
  let n = 0;
  for (; i < len; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return sign * n;
}

/**
 * node:net's isIPv4, by hand: four decimal octets 0-255 without leading zeros. The check
 * runs for every real server address (twice), and node's regular expression was a visible
 * part of loading a big config.
 */
export function isIPv4(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let i = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (s.charCodeAt(i) !== 46) return false; // '.'
      i++;
    }
    const start = i;
    let v = 0;
    while (i < n && i - start < 3) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    const len = i - start;
    if (len === 0 || v > 255 || (len > 1 && s.charCodeAt(start) === 48)) return false;
  }
  return i === n;
}

/** `[-+]?(digits[.digits]|.digits)` (a trailing `.` allowed), checked by hand: per statement. */
export function isDecimal(text: string): boolean {
  const n = text.length;
  let i = 0;
  const c0 = text.charCodeAt(0);
  if (c0 === 43 || c0 === 45) i = 1; // + -
  let digits = 0;
  let dot = false;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46 && !dot) dot = true;
    else return false;
  }
  return digits > 0;
}

export function parseBool(text: string): boolean | undefined {
  return BOOLS[text.toLowerCase()];
}

/** Converts one word; undefined when it does not fit (allocation-free: runs per statement). */
export function convert(t: ArgType, text: string): string | number | boolean | undefined {
  switch (t.kind) {
    case 'int': {
      const n = parseIntStrict(text);
      return n !== null && n >= t.min && n <= t.max ? n : undefined;
    }
    case 'decimal': {
      if (!isDecimal(text)) return undefined;
      const n = Number(text);
      return n >= t.min && n <= t.max ? n : undefined;
    }
    case 'port': {
      const n = parseIntStrict(text);
      return n !== null && n >= 1 && n <= 65535 ? n : undefined;
    }
    case 'ipv4':
      return isIPv4(text) ? text : undefined;
    case 'ipv6':
      return isIPv6(text) ? text.toLowerCase() : undefined;
    case 'ip':
      return isIPv4(text) || isIPv6(text) ? text : undefined;
    case 'prefix': {
      const [addr, len, extra] = text.split('/');
      if (extra !== undefined || addr === undefined) return undefined;
      const max = isIPv4(addr) ? 32 : isIPv6(addr) ? 128 : -1;
      if (max < 0) return undefined;
      if (len !== undefined && (!/^\d+$/.test(len) || Number(len) > max)) return undefined;
      return text;
    }
    case 'enum':
      if (t.values.includes(text)) return text;
      return t.anyCase ? t.values.find((v) => v.toLowerCase() === text.toLowerCase()) : undefined;
    case 'bool':
      return parseBool(text);
    case 'string':
    case 'path':
      return text;
  }
}

/** Why a word was refused, when there is more to say than its expected type. */
function refusalHint(t: ArgType, text: string): string | undefined {
  if (t.kind !== 'enum') return undefined;
  const ci = t.values.find((v) => v.toLowerCase() === text.toLowerCase());
  return ci ? `case matters: write \`${ci}\`` : undefined;
}

/**
 * Checks a statement's words against a positional shape; null when any word is wrong.
 * `at`: the statement's keyword, whose position a missing word is reported at (asked for
 * only then: a parsed word makes its position object on demand).
 */
export function checkArgs(keyword: string, shape: readonly ArgSpec[], words: Word[], at: { readonly pos: SourcePos }, diags: Diagnostics): ArgValue[] | null {
  // Fast path, most statements: one plain argument, one word.
  if (shape.length === 1 && words.length === 1 && !shape[0]!.rest) {
    const v = checkWord(keyword, shape[0]!, words[0]!, diags, false);
    return v === undefined ? null : [v];
  }
  const values: ArgValue[] = [];
  let ok = true;
  let i = 0;
  for (const spec of shape) {
    if (spec.rest) {
      for (; i < words.length; i++) {
        const v = checkWord(keyword, spec, words[i]!, diags, shape.length > 1);
        if (v === undefined) ok = false;
        values.push(v);
      }
      break;
    }
    const w = words[i];
    if (w === undefined) {
      if (!spec.optional) {
        diags.error(at.pos, 'missing-argument', `\`${keyword}\` needs ${spec.name} (${describeType(spec.type)})`);
        return null;
      }
      values.push(undefined);
      continue;
    }
    const v = checkWord(keyword, spec, w, diags, shape.length > 1);
    if (v === undefined) ok = false;
    values.push(v);
    i++;
  }
  if (i < words.length) {
    if (!ok) return null;
    // keepalived's handlers read the words they expect and never look further: the
    // statement stands, the rest of the line is lost (`priority 150 state MASTER`).
    const extra = words
      .slice(i)
      .map((w) => w.text)
      .join(' ');
    diags.lenient(
      words[i]!.pos,
      'extra-argument',
      `unexpected \`${extra}\` after \`${keyword}\` (${usage(keyword, shape)}): keepalived reads \`${keyword}\` and ignores the rest of the line; write one statement per line`,
    );
    return values;
  }
  return ok ? values : null;
}

/**
 * What keepalived makes of a value keyword's `{ }`: it skips the `{`, reads the lines inside
 * as statements of the enclosing block, and takes the `}` as that block's end, reading what
 * follows one level up. keepalived-ts does not start on such a file (see compat.test.ts).
 */
const STRAY_BLOCK = ': keepalived ignores the `{`, and the `}` closing it ends the enclosing block, so the lines after it are read one level up';

/** Extra words for mistakes keepalived lets through silently. */
const SILENT_TRAPS: Record<string, string> = {
  state: 'keepalived ignores it and runs this instance as BACKUP',
};

function checkWord(keyword: string, spec: ArgSpec, w: Word, diags: Diagnostics, nameIt: boolean): ArgValue {
  const v = convert(spec.type, w.text);
  if (v !== undefined) return v;
  const why = refusalHint(spec.type, w.text);
  const trap = why && SILENT_TRAPS[keyword] ? ` (${SILENT_TRAPS[keyword]})` : '';
  const hint = why ? `; ${why}${trap}` : '';
  const what = nameIt ? ` for ${spec.name}` : '';
  diags.error(w.pos, 'bad-argument', `\`${keyword}\` expects ${describeType(spec.type)}${what}, got \`${w.text}\`${hint}`);
  return undefined;
}

export function usage(keyword: string, shape: readonly ArgSpec[] | 'any'): string {
  if (shape === 'any') return `${keyword} ...`;
  const parts = shape.map((a) => (a.rest ? `[${a.name}...]` : a.optional ? `[${a.name}]` : `<${a.name}>`));
  return [keyword, ...parts].join(' ');
}

// ------------------------------------------------------------------ unknown keywords

/** Levenshtein distance, early exit above `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** Nearest keyword of `candidates` within a distance that still looks like a typo. */
export function nearest(word: string, candidates: Iterable<string>): string | null {
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: string | null = null;
  let bestD = limit + 1;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase(), limit);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/** For each keyword, the blocks that accept it (to say where a misplaced one belongs). */
const HOMES: Map<string, string[]> = (() => {
  const m = new Map<string, string[]>();
  for (const b of BLOCKS.values()) {
    for (const k of b.keywords) {
      for (const name of [k.name, ...(k.aliases ?? [])]) {
        const list = m.get(name) ?? [];
        if (!list.includes(b.name)) list.push(b.name);
        m.set(name, list);
      }
    }
  }
  return m;
})();

export function blockTitle(block: string): string {
  return block === 'root' ? 'the top level' : block;
}

export function reportUnknown(stmt: Statement, block: BlockSpec, diags: Diagnostics): void {
  // past the cap it is only counted: the search for a suggestion is the costly part
  if (diags.full) return diags.error(stmt.keyword.pos, 'unknown-keyword', '');
  const word = stmt.keyword.text;
  // An old spelling keepalived accepts elsewhere, of a keyword this block has.
  for (const b of BLOCKS.values()) {
    const spec = b.keywords.find((k) => k.aliases?.includes(word));
    if (spec && block.keywords.some((k) => k.name === spec.name)) {
      diags.error(
        stmt.keyword.pos,
        'old-spelling',
        `\`${word}\` is not accepted in ${blockTitle(block.name)} (keepalived ignores it here); write \`${spec.name}\``,
      );
      return;
    }
  }
  const homes = HOMES.get(word);
  if (homes) {
    const where = homes.slice(0, 3).map(blockTitle).join(', ');
    diags.error(stmt.keyword.pos, 'wrong-block', `\`${word}\` is not valid in ${blockTitle(block.name)}; it belongs in ${where}`);
    return;
  }
  const names = block.keywords.flatMap((k) => [k.name, ...(k.aliases ?? [])]);
  const near = nearest(word, names);
  const suggestion = near ? `; did you mean \`${near}\`?` : block.unknownHint ? `; ${block.unknownHint}` : '';
  diags.error(stmt.keyword.pos, 'unknown-keyword', `unknown keyword \`${word}\` in ${blockTitle(block.name)}${suggestion}`);
}

/**
 * Checks one statement of `block` whose keyword was found: returns the checked values, or
 * null when it must be skipped (wrong shape, or known-but-not-implemented).
 */
export function checkStatement(stmt: Statement, found: FoundKeyword, diags: Diagnostics): ArgValue[] | null {
  const { spec, alias } = found;
  const kwText = stmt.keyword.text;
  if (alias && spec.deprecatedAliases?.includes(kwText)) {
    diags.warn(stmt.keyword.pos, 'deprecated', `\`${kwText}\` is deprecated; write \`${spec.name}\``);
  }
  if (spec.status === 'parsed') {
    diags.warn(
      stmt.keyword.pos,
      'not-implemented',
      `keepalived knows \`${kwText}\`; keepalived-ts does not implement it yet${spec.why ? ` (${spec.why})` : ''}: it is ignored`,
    );
    return null;
  }
  if (spec.status === 'not-applied') {
    diags.warn(stmt.keyword.pos, 'not-applied', `\`${kwText}\` is read but not applied: ${spec.why ?? 'keepalived-ts does not act on it yet'}`);
  }
  if (spec.ignoresValue && stmt.args.length > 0) {
    const words = stmt.args.map((w) => w.text).join(' ');
    diags.warn(
      stmt.args[0]!.pos,
      'flag-value',
      `\`${kwText}\` takes no value: keepalived sets it and ignores \`${words}\`${/^(off|no|false|0)$/i.test(words) ? ' (it is on)' : ''}; write \`${kwText}\` alone`,
    );
    if (spec.block && spec.block !== 'any' && !stmt.block && spec.blockRequired) return null;
    if (!spec.block && stmt.block) {
      diags.error(stmt.blockOpen ?? stmt.pos, 'unexpected-block', `\`${kwText}\` does not take a \`{ }\` block${STRAY_BLOCK}`);
      return null;
    }
    return [];
  }
  if (spec.block && spec.block !== 'any') {
    if (!stmt.block && spec.blockRequired) {
      diags.error(stmt.keyword.pos, 'missing-block', `\`${kwText}\` needs a \`{ }\` block`);
      return null;
    }
  } else if (!spec.block && stmt.block) {
    diags.error(stmt.blockOpen ?? stmt.pos, 'unexpected-block', `\`${kwText}\` does not take a \`{ }\` block${STRAY_BLOCK}`);
    return null;
  }
  if (spec.args === 'any') return stmt.args.map((w) => w.text);
  return checkArgs(kwText, spec.args, stmt.args, stmt.keyword, diags);
}
