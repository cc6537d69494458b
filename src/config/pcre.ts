// keepalived's HTTP_GET/SSL_GET `regex` is a PCRE2 pattern; keepalived-ts matches it with
// JavaScript's RegExp. This turns the pattern and its `regex_options` into a RegExp with the
// same meaning where one exists, and says exactly what has none, so the config builder can
// warn at the statement and the probe never matches a pattern that means something else.
//
// The subject is the response body read as bytes (latin1: one character per byte, as PCRE2
// without `utf` sees it), or as UTF-8 text with `utf`. PCRE2's defaults differ from RegExp's
// in a few places the translation handles: `.` stops only at LF, `$` also matches before a
// final LF, `\s` is ASCII, `[]...]` starts a class with `]`, `\A \z \Z \h \R \Q...\E`, POSIX
// classes, `(?P<name>`, leading `(?i)`-style flags and `extended`/`ungreedy` rewriting.

/** The regex_options words keepalived 2.2.7 knows (any other word it skips without a word). */
export const PCRE2_OPTIONS = [
  'allow_empty_class',
  'alt_bsux',
  'auto_callout',
  'caseless',
  'dollar_endonly',
  'dotall',
  'dupnames',
  'extended',
  'firstline',
  'match_unset_backref',
  'multiline',
  'never_ucp',
  'never_utf',
  'no_auto_capture',
  'no_auto_possess',
  'no_dotstar_anchor',
  'no_start_optimize',
  'ucp',
  'ungreedy',
  'utf',
  'never_backslash_c',
  'alt_circumflex',
  'alt_verbnames',
  'use_offset_limit',
] as const;

/**
 * Options that change nothing a health check can see: optimisations, capture bookkeeping,
 * restrictions on pattern syntax we refuse anyway, callouts nobody registers, and an offset
 * limit keepalived never sets.
 */
const NO_VISIBLE_EFFECT = new Set([
  'auto_callout',
  'dupnames',
  'no_auto_capture',
  'no_auto_possess',
  'no_dotstar_anchor',
  'no_start_optimize',
  'never_ucp',
  'never_utf',
  'never_backslash_c',
  'alt_verbnames',
  'use_offset_limit',
  'alt_bsux',
]);

/** PCRE2 options RegExp cannot express: the check runs without them (the builder warns). */
const NO_EQUIVALENT: Record<string, string> = {
  ucp: 'JavaScript\'s \\w, \\d and \\b stay ASCII (there is no "Unicode properties for \\w" mode)',
  alt_circumflex: 'a multiline ^ after a final newline is not reproduced',
  match_unset_backref: 'a back-reference to an unset group already matches the empty string in JavaScript (it fails in PCRE2 without this option)',
};

export interface TranslatedRegex {
  source: string;
  flags: string;
  /** Decode the body as UTF-8 (option `utf`) rather than one character per byte. */
  utf: boolean;
  /** PCRE2_FIRSTLINE: the match must start at or before the first LF after the start. */
  firstline: boolean;
  /** Options written that RegExp cannot honour (each with why), for a warning. */
  unsupportedOptions: string[];
}

export type PcreResult = ({ ok: true } & TranslatedRegex) | { ok: false; reason: string };

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  xdigit: '0-9A-Fa-f',
  space: '\\t\\n\\v\\f\\r ',
  blank: ' \\t',
  word: '\\w',
  punct: '!-\\/:-@\\[-`{-~',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
};

const PCRE_SPACE = '\\t\\n\\v\\f\\r ';
const H_SPACE = ' \\t\\xa0';
const V_SPACE = '\\n\\v\\f\\r\\x85';
/** Escapes whose meaning RegExp shares (ASCII classes, control characters, back-references). */
const SAME_ESCAPES = new Set([...'dDwWbBnrtf0123456789', 'x', 'c', 'k']);
const INLINE_FLAGS: Record<string, string> = { i: 'caseless', m: 'multiline', s: 'dotall', x: 'extended', U: 'ungreedy' };

class Unsupported extends Error {}

const CONTROL_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/**
 * The `regex` word as keepalived reads it: its line goes through keepalived's escape decoding
 * first, so `\n` is a newline, `\x41` an `A`, `\b` a backspace, and any other escaped character
 * stands for itself (`\.` is `.`): a PCRE2 escape is written with two backslashes (`\\d`).
 */
export function unescapeRegexWord(word: string): string {
  let out = '';
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    if (c !== '\\' || i + 1 >= word.length) {
      out += c;
      continue;
    }
    const e = word[++i]!;
    if (e === 'x' && /[0-9A-Fa-f]/.test(word[i + 1] ?? '')) {
      let v = 0;
      while (/[0-9A-Fa-f]/.test(word[i + 1] ?? '')) v = ((v << 4) | parseInt(word[++i]!, 16)) & 0xff;
      out += String.fromCharCode(v);
    } else if (e === 'c' && i + 1 < word.length) {
      out += String.fromCharCode(word.charCodeAt(++i) & 0x1f);
    } else if (e >= '0' && e <= '7') {
      let v = Number(e);
      for (let n = 0; n < 2 && /[0-7]/.test(word[i + 1] ?? ''); n++) v = ((v << 3) | Number(word[++i])) & 0xff;
      out += String.fromCharCode(v);
    } else out += CONTROL_ESCAPES[e] ?? e;
  }
  return out;
}

/**
 * Translates a PCRE2 pattern and its keepalived `regex_options` words into a RegExp source.
 * Syntax RegExp lacks (atomic groups, possessive quantifiers, recursion, verbs, \K, \G, inline
 * flags past the start) fails with a reason rather than matching something else.
 */
export function translatePcre(pattern: string, optionWords: readonly string[]): PcreResult {
  const opts = new Set(optionWords.filter((o) => (PCRE2_OPTIONS as readonly string[]).includes(o)));
  let p = pattern;
  // A leading (?imsxU) sets options for the whole pattern, as keepalived users write it.
  const lead = /^\(\?([imsxU]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]!) opts.add(INLINE_FLAGS[f]!);
    p = p.slice(lead[0].length);
  }
  try {
    const source = rewrite(p, opts);
    const utf = opts.has('utf');
    const flags = `${opts.has('caseless') ? 'i' : ''}${utf ? 'u' : ''}`;
    try {
      new RegExp(source, flags);
    } catch {
      return { ok: false, reason: "JavaScript's RegExp does not accept it (PCRE2-only syntax or an invalid pattern)" };
    }
    return {
      ok: true,
      source,
      flags,
      utf,
      firstline: opts.has('firstline'),
      unsupportedOptions: [...opts].filter((o) => o in NO_EQUIVALENT).map((o) => `${o}: ${NO_EQUIVALENT[o]}`),
    };
  } catch (e) {
    if (e instanceof Unsupported) return { ok: false, reason: e.message };
    throw e;
  }
}

/** Whether an option word is one that changes nothing visible (documentation and tests). */
export function optionHasNoVisibleEffect(option: string): boolean {
  return NO_VISIBLE_EFFECT.has(option);
}

function rewrite(p: string, opts: ReadonlySet<string>): string {
  const multiline = opts.has('multiline');
  const extended = opts.has('extended');
  const ungreedy = opts.has('ungreedy');
  let out = '';
  let i = 0;
  const unsupported = (what: string): never => {
    throw new Unsupported(`${what} has no JavaScript RegExp equivalent`);
  };
  /** After a quantifier: PCRE2's lazy/possessive suffix, and `ungreedy` swapping the sense. */
  const quantifierSuffix = (): string => {
    if (p[i] === '+') unsupported('a possessive quantifier');
    const lazy = p[i] === '?';
    if (lazy) i++;
    return lazy !== ungreedy ? '?' : '';
  };
  while (i < p.length) {
    const c = p[i]!;
    if (extended && /\s/.test(c)) {
      i++;
      continue;
    }
    if (extended && c === '#') {
      while (i < p.length && p[i] !== '\n') i++;
      continue;
    }
    switch (c) {
      case '\\': {
        const { text, next } = escape(p, i, false);
        out += text;
        i = next;
        continue;
      }
      case '[': {
        const { text, next } = charClass(p, i, opts.has('allow_empty_class'));
        out += text;
        i = next;
        continue;
      }
      case '.':
        out += opts.has('dotall') ? '[\\s\\S]' : '[^\\n]';
        i++;
        continue;
      case '^':
        out += multiline ? '(?:(?<![\\s\\S])|(?<=\\n)(?=[\\s\\S]))' : '(?<![\\s\\S])';
        i++;
        continue;
      case '$':
        out += multiline ? '(?=\\n|(?![\\s\\S]))' : opts.has('dollar_endonly') ? '(?![\\s\\S])' : '(?=\\n?(?![\\s\\S]))';
        i++;
        continue;
      case '(': {
        i++;
        if (p[i] === '*') unsupported('a backtracking verb `(*...)`');
        if (p[i] !== '?') {
          out += '(';
          continue;
        }
        const rest = p.slice(i + 1);
        if (rest.startsWith('#')) {
          const end = p.indexOf(')', i);
          if (end < 0) unsupported('an unterminated comment');
          i = end + 1;
          continue;
        }
        const named = /^(?:P<|')([A-Za-z_]\w*)[>']/.exec(rest);
        if (named) {
          out += `(?<${named[1]}>`;
          i += 1 + named[0].length;
          continue;
        }
        const backref = /^P=([A-Za-z_]\w*)\)/.exec(rest);
        if (backref) {
          out += `\\k<${backref[1]}>`;
          i += 1 + backref[0].length;
          continue;
        }
        if (/^(?::|=|!|<=|<!|<[A-Za-z_])/.test(rest)) {
          out += '(?';
          i++;
          continue;
        }
        if (rest.startsWith('>')) unsupported('an atomic group `(?>...)`');
        if (rest.startsWith('|')) unsupported('a branch-reset group `(?|...)`');
        if (/^[-imsxUJn]+[):]/.test(rest)) unsupported('an option setting inside the pattern (only a leading one, as `(?i)`, is translated)');
        return unsupported('this group or recursion syntax');
      }
      case '*':
      case '+':
      case '?':
        out += c;
        i++;
        out += quantifierSuffix();
        continue;
      case '{': {
        const m = /^\{\d+(?:,\d*)?\}/.exec(p.slice(i));
        if (!m) {
          out += '\\{';
          i++;
          continue;
        }
        out += m[0];
        i += m[0].length;
        out += quantifierSuffix();
        continue;
      }
      default:
        out += c;
        i++;
    }
  }
  return out;
}

/** One escape sequence at p[i] === '\\'; `inClass` when inside [...]. */
function escape(p: string, i: number, inClass: boolean): { text: string; next: number } {
  const e = p[i + 1];
  if (e === undefined) throw new Unsupported('a pattern ending in a lone backslash');
  const one = (text: string) => ({ text, next: i + 2 });
  switch (e) {
    case 's':
      return one(inClass ? PCRE_SPACE : `[${PCRE_SPACE}]`);
    case 'S':
      if (inClass) throw new Unsupported('`\\S` inside a character class');
      return one(`[^${PCRE_SPACE}]`);
    case 'h':
      return one(inClass ? H_SPACE : `[${H_SPACE}]`);
    case 'H':
      if (inClass) throw new Unsupported('`\\H` inside a character class');
      return one(`[^${H_SPACE}]`);
    case 'v':
      return one(inClass ? V_SPACE : `[${V_SPACE}]`);
    case 'V':
      if (inClass) throw new Unsupported('`\\V` inside a character class');
      return one(`[^${V_SPACE}]`);
    case 'a':
      return one('\\x07');
    case 'e':
      return one('\\x1b');
    case 'R':
      if (inClass) throw new Unsupported('`\\R` inside a character class');
      return one(`(?:\\r\\n|[${V_SPACE}])`);
    case 'A':
      return one('(?<![\\s\\S])');
    case 'z':
      return one('(?![\\s\\S])');
    case 'Z':
      return one('(?=\\n?(?![\\s\\S]))');
    case 'Q': {
      const end = p.indexOf('\\E', i + 2);
      const literal = p.slice(i + 2, end < 0 ? p.length : end);
      return { text: literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'), next: end < 0 ? p.length : end + 2 };
    }
    case 'E':
      return { text: '', next: i + 2 };
    case 'x':
      if (p[i + 2] === '{') {
        const m = /^\{([0-9A-Fa-f]+)\}/.exec(p.slice(i + 2));
        if (!m) throw new Unsupported('a malformed `\\x{...}`');
        const code = parseInt(m[1]!, 16);
        if (code > 0xff) throw new Unsupported('`\\x{...}` above 0xff');
        return { text: `\\x${code.toString(16).padStart(2, '0')}`, next: i + 2 + m[0].length };
      }
      return one('\\x');
  }
  if (SAME_ESCAPES.has(e)) return one(`\\${e}`);
  if (/[A-Za-z]/.test(e)) throw new Unsupported(`the escape \`\\${e}\``);
  // A backslash before any other character takes it literally in both.
  return one(/[\\^$.*+?()[\]{}|/-]/.test(e) ? `\\${e}` : e);
}

/** A character class at p[i] === '['. */
function charClass(p: string, i: number, allowEmpty: boolean): { text: string; next: number } {
  let j = i + 1;
  let out = '[';
  if (p[j] === '^') {
    out += '^';
    j++;
  }
  // PCRE2 reads a `]` right after `[` or `[^` as a member, unless allow_empty_class.
  if (p[j] === ']' && !allowEmpty) {
    out += '\\]';
    j++;
  }
  while (j < p.length && p[j] !== ']') {
    const c = p[j]!;
    if (c === '\\') {
      const { text, next } = escape(p, j, true);
      out += text;
      j = next;
      continue;
    }
    if (c === '[' && p[j + 1] === ':') {
      const m = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(j));
      if (m) {
        const set = POSIX_CLASSES[m[2]!];
        if (!set || m[1]) throw new Unsupported(`the POSIX class \`${m[0]}\``);
        out += set;
        j += m[0].length;
        continue;
      }
    }
    out += c === '[' ? '\\[' : c;
    j++;
  }
  if (j >= p.length) throw new Unsupported('an unterminated character class');
  return { text: `${out}]`, next: j + 1 };
}
