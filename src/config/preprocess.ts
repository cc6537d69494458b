// Line-level preprocessing of keepalived.conf, done before lexing, as keepalived does it:
// `include`, `$NAME=value` macro definitions (also multi-line ones continued by `\`),
// `$NAME` / `${NAME}` expansion, `@ID` / `@^ID` conditional lines and `~SEQ` / `~SEQx` /
// `~LST` repeated lines.
//
// The output is one text to lex plus a list of segments telling, for each output line,
// where its characters came from (file, line, and the column of each character), so every
// token keeps its original position; text produced by a macro points at the macro's use site.
//
// Choices where keepalived is loose or silent:
// - An undefined `$NAME` / `${NAME}` is an error (keepalived keeps it as text); inside quotes
//   it stays as written with a warning, since scripts use shell variables there.
// - As in keepalived, `$NAME` is only a reference when a blank, `,`, `)` or the line's end
//   follows; a defined `$NAME` glued to other text gets a warning suggesting `${NAME}`.
// - `\$` writes a literal `$`.
// - Limits keep hostile input bounded: 32 levels of nesting, 1 MiB per expanded line,
//   5,000,000 lines produced by expansions; each is reported, never a hang.
// - `include` no match is a warning (keepalived logs and goes on), an error for the strict
//   variants `includem/w/b/a`; a file that includes itself, directly or not, is an error
//   naming the chain.
//
// Speed: a line is only looked at closely when it holds a `$`, the word `include`, or starts
// with `@` or `~` (or a multi-line definition is being read). Runs of other lines are passed
// through as one slice of the file with an identity column map.
import * as path from 'node:path';
import type { Diagnostic } from './ast.js';
import type { SourcePos } from './model.js';

export interface PreprocessOptions {
  configId: string;
  readFile: (path: string) => string;
  glob: (pattern: string, cwd: string) => string[];
}

/** Where a run of output lines came from. */
export interface Segment {
  file: string;
  /** Source line of the segment's first output line. */
  line: number;
  /** Output lines in the segment (> 1 only for pass-through runs, which map 1:1). */
  lineCount: number;
  /** Column of the line's first character when `map` is null (column = base + offset). */
  base: number;
  /** Column of each character of a rewritten line, or null for a plain shift; empty when
   *  every character sits at `base` (text from a macro). */
  map: number[] | null;
}

export interface PreprocessResult {
  /** Output lines joined with '\n'. */
  text: string;
  segments: Segment[];
  files: string[];
  diagnostics: Diagnostic[];
}

/** A line being rewritten, with the source column of every character. */
interface LineText {
  text: string;
  file: string;
  line: number;
  base: number;
  map: number[] | null;
  /** Set once macros were substituted (comment characters in it are literal then). */
  expanded: boolean;
}

interface MacroDef {
  /** One entry per line; more than one for a multi-line definition. */
  lines: string[];
  /** Computed value (predefined macros such as ${_RANDOM}). */
  fn?: (params: string) => string;
}

interface PendingDefinition {
  name: string;
  lines: string[];
}

/** Recursion depth for nested macro references and multi-line expansions. */
const MAX_DEPTH = 32;
/** A rewritten line longer than this is certainly a runaway (recursive) expansion. */
const MAX_LINE_LENGTH = 1 << 20;
/** Lines produced by expansions (macros, ~SEQ, ~LST) in one parse. */
const MAX_EXPANDED_LINES = 5_000_000;

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

function colOf(lt: LineText, i: number): number {
  if (lt.map === null) return lt.base + i;
  if (lt.map.length === 0) return lt.base;
  return lt.map[Math.min(i, lt.map.length - 1)]!;
}

function posOf(lt: LineText, i: number): SourcePos {
  return { file: lt.file, line: lt.line, column: colOf(lt, i) };
}

/** The line without its first `k` characters. */
function dropPrefix(lt: LineText, k: number): LineText {
  return {
    ...lt,
    text: lt.text.slice(k),
    base: lt.map === null ? lt.base + k : colOf(lt, k),
    map: lt.map === null ? null : lt.map.slice(k),
  };
}

function isFixed(lt: LineText): boolean {
  return lt.map !== null && lt.map.length === 0;
}

function columnsOf(lt: LineText): number[] {
  if (isFixed(lt)) return new Array<number>(lt.text.length).fill(lt.base);
  if (lt.map !== null) return lt.map;
  const m = new Array<number>(lt.text.length);
  for (let i = 0; i < m.length; i++) m[i] = lt.base + i;
  return m;
}

/** A line of macro text: every character sits at the use site's column. */
function atUseSite(text: string, file: string, line: number, column: number): LineText {
  return { text, file, line, base: column, map: [], expanded: false };
}

function isBlankChar(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v';
}

function skipBlanks(s: string, i: number): number {
  while (i < s.length && isBlankChar(s[i])) i++;
  return i;
}

/**
 * Strip a comment (`#` or `!` outside quotes, not escaped by `\`) and trailing blanks.
 * `continued` is set when the remaining text ends with a `\` (a multi-line definition).
 */
export function decomment(s: string): { end: number; continued: boolean } {
  let quote = '';
  let end = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' || c === '!') {
      end = i;
      break;
    }
  }
  while (end > 0 && isBlankChar(s[end - 1])) end--;
  // a trailing backslash continues the line unless it is itself escaped
  let slashes = 0;
  while (slashes < end && s[end - 1 - slashes] === '\\') slashes++;
  return { end, continued: slashes % 2 === 1 };
}

/** Read a macro reference at `i` (which holds `$`): its name, params and extent. */
function readReference(
  s: string,
  i: number,
): { name: string; params: string; end: number; terminated: boolean } | null {
  if (s[i + 1] === '{') {
    let j = i + 2;
    if (!isNameStart(s.charCodeAt(j))) return null;
    while (j < s.length && isNameChar(s.charCodeAt(j))) j++;
    const name = s.slice(i + 2, j);
    let params = '';
    if (s[j] === ' ') {
      // ${_RANDOM 1 10}: parameters are blanks and digits
      const k = j;
      while (j < s.length && (s[j] === ' ' || (s[j]! >= '0' && s[j]! <= '9'))) j++;
      params = s.slice(k, j).trim();
    }
    if (s[j] !== '}') return null;
    return { name, params, end: j + 1, terminated: true };
  }
  let j = i + 1;
  if (!isNameStart(s.charCodeAt(j))) return null;
  while (j < s.length && isNameChar(s.charCodeAt(j))) j++;
  const next = s[j];
  // keepalived only takes `$NAME` when followed by a blank, `,`, `)` or the line's end
  const terminated = next === undefined || isBlankChar(next) || next === ',' || next === ')';
  return { name: s.slice(i + 1, j), params: '', end: j, terminated };
}

/** A glob match for `include`, as a path joined to the including file's directory. */
function includeTargets(pattern: string, dir: string, glob: PreprocessOptions['glob']): string[] {
  const matches = glob(pattern, dir);
  return matches.map((m) => (path.isAbsolute(m) ? m : path.join(dir, m)));
}

class Preprocessor {
  private readonly pieces: string[] = [];
  private readonly segments: Segment[] = [];
  private readonly diagnostics: Diagnostic[] = [];
  private readonly files: string[] = [];
  private readonly fileSeen = new Set<string>();
  private readonly defs = new Map<string, MacroDef>();
  /** Absolute paths of the files being read, outermost first (for include cycles). */
  private readonly includeStack: string[] = [];
  private readonly includeStackShown: string[] = [];
  private pending: PendingDefinition | null = null;
  private expandedLines = 0;
  private limitReported = false;
  private currentDir = '.';
  private currentPwd = path.resolve('.');

  constructor(private readonly opts: PreprocessOptions) {
    this.defs.set('_INSTANCE', { lines: [opts.configId] });
    this.defs.set('_HASH', { lines: ['#'] });
    this.defs.set('_BANG', { lines: ['!'] });
    this.defs.set('_PWD', { lines: [''], fn: () => this.currentPwd });
    this.defs.set('_RANDOM', { lines: [''], fn: randomValue });
  }

  run(text: string, file: string): PreprocessResult {
    this.noteFile(file);
    this.processFile(text, file);
    return {
      text: this.pieces.join('\n'),
      segments: this.segments,
      files: this.files,
      diagnostics: this.diagnostics,
    };
  }

  private noteFile(file: string): void {
    if (!this.fileSeen.has(file)) {
      this.fileSeen.add(file);
      this.files.push(file);
    }
  }

  private error(code: string, pos: SourcePos, message: string, severity: 'error' | 'warning' = 'error'): void {
    this.diagnostics.push({ severity, code, pos, message });
  }

  private emitLine(lt: LineText): void {
    if (lt.expanded && (lt.text.includes('#') || lt.text.includes('!'))) lt = escapeCommentChars(lt);
    this.pieces.push(lt.text);
    this.segments.push({ file: lt.file, line: lt.line, lineCount: 1, base: lt.base, map: lt.map });
  }

  private processFile(text: string, file: string): void {
    // a UTF-8 byte order mark is no part of the first keyword; a blank keeps the columns
    if (text.charCodeAt(0) === 0xfeff) text = ' ' + text.slice(1);
    const savedDir = this.currentDir;
    this.currentDir = path.dirname(file);
    this.currentPwd = path.resolve(this.currentDir);
    this.includeStack.push(path.resolve(file));
    this.includeStackShown.push(file);

    const n = text.length;
    let nextDollar = text.indexOf('$');
    let nextInclude = text.indexOf('include');
    if (nextDollar < 0 && nextInclude < 0 && this.pending === null && text.indexOf('@') < 0 && text.indexOf('~') < 0) {
      // nothing to preprocess (the usual case): the whole file passes through as is
      let lines = 1;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
      this.pieces.push(text);
      this.segments.push({ file, line: 1, lineCount: lines, base: 1, map: null });
      this.leaveFile(savedDir);
      return;
    }
    let runStart = 0;
    let runLine = 1;
    let lineNo = 1;
    let s = 0;
    while (s <= n) {
      let e = text.indexOf('\n', s);
      if (e < 0) e = n;
      if (nextDollar >= 0 && nextDollar < s) nextDollar = text.indexOf('$', s);
      if (nextInclude >= 0 && nextInclude < s) nextInclude = text.indexOf('include', s);
      let special = this.pending !== null || (nextDollar >= 0 && nextDollar < e) || (nextInclude >= 0 && nextInclude < e);
      if (!special) {
        let k = s;
        while (k < e) {
          const c = text.charCodeAt(k);
          if (c !== 32 && c !== 9) break;
          k++;
        }
        const c = text.charCodeAt(k);
        special = c === 64 /* @ */ || c === 126 /* ~ */;
      }
      if (special) {
        if (lineNo > runLine) {
          this.pieces.push(text.slice(runStart, s - 1));
          this.segments.push({ file, line: runLine, lineCount: lineNo - runLine, base: 1, map: null });
        }
        this.processPhysicalLine(text.slice(s, e), file, lineNo);
        runStart = e + 1;
        runLine = lineNo + 1;
      }
      s = e + 1;
      lineNo++;
    }
    // lines left in the run (lineNo is one past the last line now)
    if (lineNo > runLine && runStart <= n) {
      this.pieces.push(text.slice(runStart));
      this.segments.push({ file, line: runLine, lineCount: lineNo - runLine, base: 1, map: null });
    }
    if (this.pending) this.finishDefinition();
    this.leaveFile(savedDir);
  }

  private leaveFile(savedDir: string): void {
    this.includeStack.pop();
    this.includeStackShown.pop();
    this.currentDir = savedDir;
    this.currentPwd = path.resolve(savedDir);
  }

  private processPhysicalLine(raw: string, file: string, line: number): void {
    const { end, continued } = decomment(raw);
    if (this.pending) {
      this.continueDefinition(raw.slice(0, end), continued);
      return;
    }
    const lead = skipBlanks(raw, 0);
    if (lead >= end) return;
    const lt: LineText = { text: raw.slice(lead, end), file, line, base: lead + 1, map: null, expanded: false };
    this.processLine(lt, 0);
  }

  private continueDefinition(text: string, continued: boolean): void {
    const p = this.pending!;
    let t = text.trim();
    if (continued) {
      t = t.slice(0, -1).trimEnd();
      if (t) p.lines.push(t);
      return;
    }
    if (t) p.lines.push(t);
    this.finishDefinition();
  }

  private finishDefinition(): void {
    const p = this.pending!;
    this.pending = null;
    this.defs.set(p.name, { lines: p.lines.length ? p.lines : [''] });
  }

  private countExpandedLine(pos: SourcePos): boolean {
    if (++this.expandedLines <= MAX_EXPANDED_LINES) return true;
    if (!this.limitReported) {
      this.limitReported = true;
      this.error('expansion-limit', pos, `expansions produce more than ${MAX_EXPANDED_LINES} lines; stopped expanding`);
    }
    return false;
  }

  /** One logical line, then the further lines of any multi-line macro it used. */
  private processLine(lt: LineText, depth: number): void {
    if (depth > MAX_DEPTH) {
      this.error('macro-recursion', posOf(lt, 0), `macro expansion nested more than ${MAX_DEPTH} deep (recursive definition?)`);
      return;
    }
    const extra: LineText[] = [];
    this.processOneLine(lt, depth, extra);
    for (const x of extra) {
      if (!this.countExpandedLine(posOf(x, 0))) return;
      this.processLine(x, depth + 1);
    }
  }

  /** Conditionals, definitions, sequences, expansion, then include or emit. */
  private processOneLine(lt: LineText, depth: number, extra: LineText[]): void {
    for (let round = 0; round < 8; round++) {
      const t = lt.text;
      if (t.length === 0) return;
      const c0 = t[0];
      if (c0 === '@') {
        const kept = this.applyConditional(lt);
        if (!kept) return;
        lt = kept;
        continue;
      }
      if (c0 === '$' && this.tryDefinition(lt)) return;
      if (c0 === '~' && (t.startsWith('~SEQ') || t.startsWith('~LST'))) {
        this.processSequence(lt, depth);
        return;
      }
      if (!lt.expanded && t.includes('$')) {
        const r = this.expand(lt, 0);
        if (r === null) return;
        lt = r.line;
        for (const x of r.extra) extra.push(x);
        const s = skipBlanks(lt.text, 0);
        if (s > 0) lt = dropPrefix(lt, s);
        // an expansion may produce a conditional, a definition or a sequence: look again
        continue;
      }
      break;
    }
    if (lt.text.length === 0) return;
    if (isIncludeLine(lt.text)) this.processInclude(lt);
    else this.emitLine(lt);
  }

  /** `@ID rest` / `@^ID rest`: the rest of the line if it applies to this config id. */
  private applyConditional(lt: LineText): LineText | null {
    const t = lt.text;
    const negate = t[1] === '^';
    const idStart = negate ? 2 : 1;
    let idEnd = idStart;
    while (idEnd < t.length && !isBlankChar(t[idEnd])) idEnd++;
    const id = t.slice(idStart, idEnd);
    if (id.length === 0) {
      this.error('conditional-syntax', posOf(lt, 0), `'${t.slice(0, idEnd)}' must be followed directly by a config id`);
      return null;
    }
    const rest = skipBlanks(t, idEnd);
    if (rest >= t.length) {
      this.error('conditional-syntax', posOf(lt, 0), `conditional '${t.slice(0, idEnd)}' has nothing after the config id`, 'warning');
      return null;
    }
    if ((id === this.opts.configId) === negate) return null;
    return dropPrefix(lt, rest);
  }

  /** `$NAME=value`: record the definition. False when the line is not a definition. */
  private tryDefinition(lt: LineText): boolean {
    const t = lt.text;
    if (/^\$\{[^}]*\}\s*=/.test(t)) {
      this.error('macro-definition', posOf(lt, 0), `a macro definition is written $NAME=value, without braces`);
      return true;
    }
    const m = /^\$([^\s=$]*)(\s*)=/.exec(t);
    if (!m) return false;
    const name = m[1]!;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      // `$X.y=1` etc. Still a definition attempt when the name part has no braces.
      this.error(
        'macro-definition',
        posOf(lt, 1),
        `invalid macro name '${name}': use letters, digits and _, not starting with a digit`,
      );
      return true;
    }
    if (m[2]!.length > 0) {
      this.error('macro-definition', posOf(lt, 1 + name.length), `no blank allowed between macro name '${name}' and '='`);
      return true;
    }
    let value = t.slice(m[0].length).trim();
    // the line was decommented: a trailing unescaped `\` starts a multi-line definition
    let slashes = 0;
    while (slashes < value.length && value[value.length - 1 - slashes] === '\\') slashes++;
    if (slashes % 2 === 1) {
      value = value.slice(0, -1).trimEnd();
      this.pending = { name, lines: value ? [value] : [] };
      return true;
    }
    this.defs.set(name, { lines: [value] });
    return true;
  }

  /**
   * Substitute macro references. A multi-line macro's first line replaces the reference;
   * its other lines come back in `extra`, to be processed as lines of their own afterwards.
   */
  private expand(lt: LineText, depth: number): { line: LineText; extra: LineText[] } | null {
    const t = lt.text;
    let out = '';
    let changed = false;
    // a line of macro text has all its characters at one column: no per-character map needed
    const fixed = isFixed(lt);
    const cols: number[] | null = fixed ? null : [];
    const srcCols = fixed ? null : columnsOf(lt);
    let extra: LineText[] = [];
    let copied = 0;
    let quote = '';
    for (let i = 0; i < t.length; i++) {
      const c = t[i];
      if (c === '\\') {
        i++;
        continue;
      }
      if (quote) {
        if (c === quote) quote = '';
        else if (c !== '$') continue;
      } else if (c === '"' || c === "'") {
        quote = c;
        continue;
      }
      if (c !== '$') continue;
      const ref = readReference(t, i);
      if (ref === null) continue;
      const def = this.defs.get(ref.name);
      const useCol = srcCols === null ? lt.base : (srcCols[i] ?? lt.base);
      if (!ref.terminated) {
        // keepalived leaves `$NAME` alone unless a blank, `,`, `)` or the line's end follows
        if (def !== undefined) {
          this.error(
            'macro-not-expanded',
            posOf(lt, i),
            `'$${ref.name}' is followed by '${t[ref.end]}' so it is not expanded; write \${${ref.name}}`,
            'warning',
          );
        }
        continue;
      }
      if (def === undefined) {
        if (quote) {
          this.error(
            'macro-undefined',
            posOf(lt, i),
            `macro '${ref.name}' is not defined; kept as written inside quotes`,
            'warning',
          );
        } else {
          this.error('macro-undefined', posOf(lt, i), `macro '${ref.name}' is not defined`);
        }
        continue;
      }
      if (depth >= MAX_DEPTH) {
        this.error('macro-recursion', posOf(lt, i), `macro '${ref.name}' expands more than ${MAX_DEPTH} levels deep (recursive definition?)`);
        return null;
      }
      if (def.lines.length > 1 && t.slice(ref.end).trim().length > 0) {
        this.error('macro-multiline', posOf(lt, i), `multi-line macro '${ref.name}' must be the last thing on its line`);
        continue;
      }
      const first = def.fn ? def.fn(ref.params) : def.lines[0]!;
      // expand the value in place (the value's own references use the same use site)
      let valueText = first;
      if (first.includes('$')) {
        const inner = this.expand(atUseSite(first, lt.file, lt.line, useCol), depth + 1);
        if (inner === null) return null;
        valueText = inner.line.text;
        extra = extra.concat(inner.extra);
      }
      changed = true;
      out += t.slice(copied, i) + valueText;
      if (cols !== null) {
        for (let k = copied; k < i; k++) cols.push(srcCols![k]!);
        for (let k = 0; k < valueText.length; k++) cols.push(useCol);
      }
      copied = ref.end;
      i = ref.end - 1;
      for (let k = 1; k < def.lines.length; k++) extra.push(atUseSite(def.lines[k]!, lt.file, lt.line, useCol));
      if (out.length > MAX_LINE_LENGTH) {
        this.error('macro-recursion', posOf(lt, 0), `macro expansion exceeds ${MAX_LINE_LENGTH} characters (recursive definition?)`);
        return null;
      }
    }
    if (!changed) return { line: { ...lt, expanded: true }, extra };
    out += t.slice(copied);
    if (cols === null) return { line: { text: out, file: lt.file, line: lt.line, base: lt.base, map: [], expanded: true }, extra };
    for (let k = copied; k < t.length; k++) cols.push(srcCols![k]!);
    return { line: { text: out, file: lt.file, line: lt.line, base: cols[0] ?? lt.base, map: cols, expanded: true }, extra };
  }

  /** `~SEQ(var, [start,] [step,] end) rest`, `~SEQx(...)`, `~LST(var, v1, v2...)`. */
  private processSequence(lt: LineText, depth: number): void {
    const t = lt.text;
    const pos = posOf(lt, 0);
    const m = /^~(SEQx?|LST)\s*\(/.exec(t);
    const close = t.indexOf(')', m ? m[0].length : 0);
    if (!m || close < 0) {
      this.error('seq-syntax', pos, `invalid sequence '${t}': expected ~SEQ(var, start, step, end), ~SEQx(...) or ~LST(var, values...)`);
      return;
    }
    const kind = m[1]!;
    // a `)` inside ~LST's {...} groups cannot occur: values are plain words
    let inside = t.slice(m[0].length, close);
    if (inside.includes('$')) {
      const r = this.expand(atUseSite(inside, lt.file, lt.line, colOf(lt, 0)), 0);
      if (r === null) return;
      if (r.extra.length) {
        this.error('seq-syntax', pos, `a multi-line macro cannot be used inside ${kind}(...)`);
        return;
      }
      inside = r.line.text;
    }
    const restAt = skipBlanks(t, close + 1);
    const rest = dropPrefix(lt, restAt);
    const assignments = kind === 'LST' ? this.parseList(inside, pos) : this.parseSeq(kind === 'SEQx', inside, pos);
    if (assignments === null) return;
    for (const values of assignments) {
      for (const [name, value] of values) this.defs.set(name, { lines: [value] });
      if (rest.text.length === 0) continue;
      if (!this.countExpandedLine(pos)) return;
      this.processLine(rest, depth + 1);
    }
  }

  private parseSeq(hex: boolean, inside: string, pos: SourcePos): [string, string][][] | null {
    const parts = inside.split(',').map((p) => p.trim());
    const name = parts[0]!;
    const bad = (why: string) => {
      this.error('seq-syntax', pos, `invalid ~SEQ(${inside}): ${why}`);
      return null;
    };
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return bad(`'${name}' is not a variable name`);
    if (parts.length < 2 || parts.length > 4) return bad('expected (var, end), (var, start, end) or (var, start, step, end)');
    const nums: number[] = [];
    for (const p of parts.slice(1)) {
      const v = parseCInteger(p);
      if (v === null) return bad(`'${p}' is not an integer`);
      nums.push(v);
    }
    let start: number;
    let step: number;
    let end: number;
    if (nums.length === 1) {
      end = nums[0]!;
      step = end < 1 ? -1 : 1;
      start = end < 0 ? -1 : 1;
    } else if (nums.length === 2) {
      [start, end] = nums as [number, number];
      step = start <= end ? 1 : -1;
    } else {
      [start, step, end] = nums as [number, number, number];
      if (step === 0 || (start < end && step < 0) || (start > end && step > 0)) {
        return bad('the step is zero or goes away from the end');
      }
    }
    if (hex && (start < 0 || end < 0)) return bad('~SEQx only takes non-negative numbers');
    const count = Math.floor((end - start) / step) + 1;
    if (count > MAX_EXPANDED_LINES) return bad(`${count} values is more than ${MAX_EXPANDED_LINES}`);
    const out: [string, string][][] = [];
    for (let k = 0, v = start; k < count; k++, v += step) out.push([[name, hex ? v.toString(16) : String(v)]]);
    return out;
  }

  private parseList(inside: string, pos: SourcePos): [string, string][][] | null {
    const bad = (why: string) => {
      this.error('seq-syntax', pos, `invalid ~LST(${inside}): ${why}`);
      return null;
    };
    // split on commas outside {...}
    const items: string[] = [];
    let depth = 0;
    let from = 0;
    for (let i = 0; i < inside.length; i++) {
      const c = inside[i];
      if (c === '{') depth++;
      else if (c === '}') depth--;
      else if (c === ',' && depth === 0) {
        items.push(inside.slice(from, i).trim());
        from = i + 1;
      }
      if (depth < 0 || depth > 1) return bad('unbalanced { }');
    }
    if (depth !== 0) return bad('unbalanced { }');
    items.push(inside.slice(from).trim());
    const group = (s: string) => (s.startsWith('{') && s.endsWith('}') ? s.slice(1, -1).split(',').map((x) => x.trim()) : [s]);
    const names = group(items[0]!);
    for (const nm of names) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(nm)) return bad(`'${nm}' is not a variable name`);
    if (items.length < 2) return bad('no values');
    const out: [string, string][][] = [];
    for (const item of items.slice(1)) {
      const vals = group(item);
      if (vals.length !== names.length) return bad(`'${item}' has ${vals.length} values for ${names.length} variables`);
      out.push(names.map((nm, k) => [nm, vals[k]!] as [string, string]));
    }
    return out;
  }

  private processInclude(lt: LineText): void {
    const t = lt.text;
    const pos = posOf(lt, 0);
    const word = /^\S+/.exec(t)![0];
    const args = splitArgs(t.slice(word.length));
    if (args.length !== 1) {
      this.error('include-syntax', pos, `'${word}' takes exactly one file name or pattern, got ${args.length}`);
      return;
    }
    const pattern = args[0]!;
    const dir = this.currentDir;
    let targets: string[];
    try {
      targets = includeTargets(pattern, dir, this.opts.glob);
    } catch (e) {
      this.error('include-unreadable', pos, `cannot expand include pattern '${pattern}': ${(e as Error).message}`);
      return;
    }
    if (targets.length === 0) {
      // keepalived logs this and goes on; the strict variants make it an error
      const strict = word === 'includem' || word === 'includew' || word === 'includeb' || word === 'includea';
      this.error('include-no-match', pos, `include '${pattern}' matches no file`, strict ? 'error' : 'warning');
      return;
    }
    for (const target of targets) {
      const abs = path.resolve(target);
      const at = this.includeStack.indexOf(abs);
      if (at >= 0) {
        const chain = [...this.includeStackShown.slice(at), target].join(' -> ');
        this.error('include-cycle', pos, `include cycle: ${chain}`);
        continue;
      }
      let text: string;
      try {
        text = this.opts.readFile(target);
      } catch (e) {
        this.error('include-unreadable', pos, `cannot read included file '${target}': ${errorText(e)}`);
        continue;
      }
      this.noteFile(target);
      this.processFile(text, target);
    }
  }
}

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? err.message ?? String(e);
}

/** `include`, `includer`, `includem`, `includew`, `includeb`, `includea` as first word. */
function isIncludeLine(t: string): boolean {
  if (!t.startsWith('include')) return false;
  let k = 7;
  if (k < t.length && 'rmwba'.includes(t[k]!)) k++;
  return k === t.length || isBlankChar(t[k]);
}

/** Split the rest of an include line into words, honouring quotes. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"?|'([^']*)'?|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** strtol(s, 0): decimal, 0x hex or 0 octal, with an optional sign; null if not all digits. */
function parseCInteger(s: string): number | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return null;
  const body = m[2]!;
  let v: number;
  if (/^0[xX]/.test(body)) v = parseInt(body.slice(2), 16);
  else if (body.length > 1 && body[0] === '0') v = parseInt(body, 8);
  else v = parseInt(body, 10);
  if (!Number.isSafeInteger(v)) return null;
  return m[1] === '-' ? -v : v;
}

/** ${_RANDOM [MIN [MAX]]}: an integer in [MIN, MAX], defaults 0 and 32767. */
function randomValue(params: string): string {
  const [a, b] = params.split(/\s+/).filter(Boolean).map(Number);
  const min = a ?? 0;
  const max = b ?? 32767;
  if (max < min) return String(min);
  return String(min + Math.floor(Math.random() * (max - min + 1)));
}

/** Make `#` and `!` produced by a macro (e.g. ${_HASH}) literal for the lexer. */
function escapeCommentChars(lt: LineText): LineText {
  if (isFixed(lt)) {
    const text = lt.text.replace(/\\[\s\S]|"(?:[^"\\]|\\[\s\S])*"?|'(?:[^'\\]|\\[\s\S])*'?|[#!]/g, (m) =>
      m === '#' || m === '!' ? `\\${m}` : m,
    );
    return { ...lt, text };
  }
  const cols = columnsOf(lt);
  let out = '';
  const map: number[] = [];
  let quote = '';
  const t = lt.text;
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (c === '\\' && i + 1 < t.length) {
      out += c + t[i + 1];
      map.push(cols[i]!, cols[i + 1]!);
      i++;
      continue;
    }
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' || c === '!') {
      out += '\\';
      map.push(cols[i]!);
    }
    out += c;
    map.push(cols[i]!);
  }
  return { ...lt, text: out, map, base: map[0] ?? lt.base };
}

export function preprocess(text: string, file: string, opts: PreprocessOptions): PreprocessResult {
  return new Preprocessor(opts).run(text, file);
}
