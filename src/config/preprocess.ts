// Line-level preprocessing of keepalived.conf, done before lexing, as keepalived does it:
// `include`, `$NAME=value` macro definitions (also multi-line ones continued by `\`),
// `$NAME` / `${NAME}` expansion, `@ID` / `@^ID` conditional lines and `~SEQ` / `~SEQx` /
// `~LST` repeated lines.
//
// The output is text to lex, produced on demand a piece at a time (the lexer reads it
// through a window, so neither the whole output nor the segments are ever held), plus a
// segment per piece telling where its lines came from (file, line, and the column of each
// character), so every token keeps its original position; text produced by a macro points
// at the macro's use site.
//
// Choices where keepalived is loose or silent:
// - An undefined `$NAME` / `${NAME}` is an error (keepalived keeps it as text); inside quotes
//   it stays as written with a warning, since scripts use shell variables there.
// - As in keepalived, `$NAME` is only a reference when a blank, `,`, `)` or the line's end
//   follows; a defined `$NAME` glued to other text gets a warning suggesting `${NAME}`.
// - `\$` writes a literal `$`.
// - Limits (limits.ts) keep hostile input to bounded memory and time: macro nesting, line
//   length, lines produced by expansions, macro count and size, include depth, files and
//   bytes read; each is reported where it is crossed, never a hang.
// - `include` no match is a warning (keepalived logs and goes on), an error for the strict
//   variants `includem/w/b/a`; a file that includes itself, directly or not, is an error
//   naming the chain.
//
// Speed: a line is only looked at closely when it holds a `$`, the word `include`, or starts
// with `@` or `~` (or a multi-line definition is being read). Runs of other lines are passed
// through as one slice of the file with an identity column map.
import * as path from 'node:path';
import type { DiagnosticList } from './ast.js';
import { GlobLimitError } from './glob.js';
import {
  formatBytes,
  formatCount,
  LINE_TOO_LONG,
  MAX_CONFIG_BYTES,
  MAX_EXPANDED_LINES,
  MAX_HELD_BYTES,
  MAX_INCLUDE_DEPTH,
  MAX_INCLUDE_FILES,
  MAX_LINE_BYTES,
  MAX_MACRO_BYTES,
  MAX_MACRO_DEPTH,
  MAX_MACROS,
} from './limits.js';
import type { SourcePos } from './model.js';
import { FileTooLargeError, NotTextError, notTextAt } from './source.js';

export interface PreprocessOptions {
  configId: string;
  /** Reads a file whole; may throw FileTooLargeError for one longer than `maxBytes`. */
  readFile: (path: string, maxBytes: number) => string;
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
  /** Text so far (with a byte per line break), against MAX_MACRO_BYTES. */
  bytes: number;
  pos: SourcePos;
}

/** Text a definition holds, against MAX_MACRO_BYTES. */
function macroBytes(lines: readonly string[]): number {
  let n = 0;
  for (const l of lines) n += l.length + 1;
  return n;
}

function extraLineCount(extra: readonly MacroLines[]): number {
  let n = 0;
  for (const x of extra) n += x.lines.length - x.from;
  return n;
}

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
function readReference(s: string, i: number): { name: string; params: string; end: number; terminated: boolean } | null {
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

/** Lines of a multi-line macro still to be read, from `from` on, all at one use site. */
interface MacroLines {
  lines: readonly string[];
  from: number;
  file: string;
  line: number;
  column: number;
}

/** A file being read, line by line; the lines not special to the preprocessor are passed
 *  through in runs. */
interface FileFrame {
  kind: 'file';
  text: string;
  file: string;
  /** Absolute path (for include cycles). */
  abs: string;
  /** Start of the next line and its number. */
  s: number;
  lineNo: number;
  /** The run of pass-through lines not output yet. */
  runStart: number;
  runLine: number;
  nextDollar: number;
  nextInclude: number;
  /** The including file's directory, restored when this file is done. */
  savedDir: string;
}

/** Further lines of multi-line macros, read after the line that used them. */
interface LinesFrame {
  kind: 'lines';
  ranges: MacroLines[];
  r: number;
  k: number;
  depth: number;
  /** The lines of the range being read (in Preprocessor.expanding until it is done). */
  reading: readonly string[] | null;
}

/** A ~SEQ / ~LST line: its rest is read once per value. */
interface SequenceFrame {
  kind: 'sequence';
  rest: LineText;
  depth: number;
  pos: SourcePos;
  /** The next assignment of the variables, or null when done. */
  take: () => [string, string][] | null;
}

/** The files an include matched, read one after the other. */
interface IncludeFrame {
  kind: 'include';
  targets: string[];
  i: number;
  pos: SourcePos;
}

type Frame = FileFrame | LinesFrame | SequenceFrame | IncludeFrame;

/**
 * Where each output line came from, in output order. The preprocessor runs a little ahead
 * of the parser (by the lexer's window), so a segment is dropped once the parser is past it.
 */
export class SegmentQueue {
  private items: Segment[] = [];
  /** Index (counted from the first segment ever) of items[0]. */
  private offset = 0;

  push(s: Segment): void {
    this.items.push(s);
  }

  /** The segment at index `i`, if produced yet. */
  at(i: number): Segment | undefined {
    return this.items[i - this.offset];
  }

  /** Segments before index `i` are no longer needed. */
  release(i: number): void {
    const k = i - this.offset;
    if (k >= 1024 && k * 2 >= this.items.length) {
      this.items = this.items.slice(k);
      this.offset = i;
    }
  }
}

/**
 * Reads the main file and what it includes and expands, on demand: `next()` returns the
 * next piece of output. It is a loop over an explicit stack of frames (files, multi-line
 * macro lines, sequence repetitions, include matches) rather than recursion, so include
 * chains and nested expansions cost a frame each, not a slice of the call stack.
 */
export class Preprocessor {
  /** Every file read: the main one first, then includes in read order. */
  readonly files: string[] = [];
  private readonly fileSeen = new Set<string>();
  private readonly defs = new Map<string, MacroDef>();
  private defBytes = 0;
  private readonly frames: Frame[] = [];
  /** Absolute paths of the files being read (a file may be open once: a second is a cycle). */
  private readonly openFiles = new Set<string>();
  private fileDepth = 0;
  /**
   * Multi-line macros (by their lines) whose further lines are being read: using one of them
   * there would read them again, without end.
   */
  private readonly expanding = new Set<readonly string[]>();
  private readonly out: string[] = [];
  private pending: PendingDefinition | null = null;
  private expandedLines = 0;
  private expansionStopped = false;
  private includedFiles = 0;
  private bytesRead = 0;
  private bytesHeld = 0;
  /** Limits already reported (each once). */
  private readonly limitsReported = new Set<string>();
  private currentDir = '.';
  private currentPwd = path.resolve('.');

  constructor(
    private readonly opts: PreprocessOptions,
    private readonly diags: DiagnosticList,
    private readonly segments: SegmentQueue,
  ) {
    this.defs.set('_INSTANCE', { lines: [opts.configId] });
    this.defs.set('_HASH', { lines: ['#'] });
    this.defs.set('_BANG', { lines: ['!'] });
    this.defs.set('_PWD', { lines: [''], fn: () => this.currentPwd });
    this.defs.set('_RANDOM', { lines: [''], fn: randomValue });
  }

  /** Begins with the main file's text. */
  start(text: string, file: string): void {
    this.noteFile(file);
    if (this.isText(text, file)) this.enterFile(text, file);
  }

  /**
   * A file holding a NUL byte is no config (a program, an image, /proc's binary files that an
   * include pattern matched): it is refused at the byte, as reading it would only produce
   * noise, slowly.
   */
  private isText(text: string, file: string): boolean {
    const nul = text.indexOf('\0');
    if (nul >= 0) this.notText(file, notTextAt(text, nul));
    return nul < 0;
  }

  private notText(file: string, e: NotTextError): void {
    this.error('not-text', { file, line: e.line, column: e.column }, e.message);
  }

  /**
   * The next piece of output: one or more whole lines, without the newline after the last
   * (the reader puts one after every piece); null when everything is read.
   */
  next(): string | null {
    for (;;) {
      if (this.out.length > 0) return this.out.shift()!;
      const top = this.frames[this.frames.length - 1];
      if (top === undefined) return null;
      if (top.kind === 'file') this.stepFile(top);
      else if (top.kind === 'lines') this.stepLines(top);
      else if (top.kind === 'sequence') this.stepSequence(top);
      else this.stepInclude(top);
    }
  }

  private noteFile(file: string): void {
    if (!this.fileSeen.has(file)) {
      this.fileSeen.add(file);
      this.files.push(file);
    }
  }

  private error(code: string, pos: SourcePos, message: string, severity: 'error' | 'warning' = 'error'): void {
    this.diags.push({ severity, code, pos, message });
  }

  /** A limit crossed: reported the first time only (what follows is its consequence). */
  private limit(code: string, pos: SourcePos, message: string): void {
    if (this.limitsReported.has(code)) return;
    this.limitsReported.add(code);
    this.error(code, pos, message);
  }

  private emit(text: string, segment: Segment): void {
    this.out.push(text);
    this.segments.push(segment);
  }

  private emitLine(lt: LineText): void {
    if (lt.expanded && (lt.text.includes('#') || lt.text.includes('!'))) lt = escapeCommentChars(lt);
    this.emit(lt.text, { file: lt.file, line: lt.line, lineCount: 1, base: lt.base, map: lt.map });
  }

  private enterFile(text: string, file: string): void {
    // a UTF-8 byte order mark is no part of the first keyword; a blank keeps the columns
    if (text.charCodeAt(0) === 0xfeff) text = ' ' + text.slice(1);
    this.bytesRead += text.length;
    const nextDollar = text.indexOf('$');
    const nextInclude = text.indexOf('include');
    if (nextDollar < 0 && nextInclude < 0 && this.pending === null && text.indexOf('@') < 0 && text.indexOf('~') < 0) {
      // nothing to preprocess (the usual case): the whole file passes through as is
      let lines = 1;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
      this.emit(text, { file, line: 1, lineCount: lines, base: 1, map: null });
      return;
    }
    const abs = path.resolve(file);
    this.frames.push({
      kind: 'file',
      text,
      file,
      abs,
      s: 0,
      lineNo: 1,
      runStart: 0,
      runLine: 1,
      nextDollar,
      nextInclude,
      savedDir: this.currentDir,
    });
    this.openFiles.add(abs);
    this.fileDepth++;
    this.bytesHeld += text.length;
    this.currentDir = path.dirname(file);
    this.currentPwd = path.resolve(this.currentDir);
  }

  private leaveFile(f: FileFrame): void {
    this.frames.pop();
    this.openFiles.delete(f.abs);
    this.fileDepth--;
    this.bytesHeld -= f.text.length;
    this.currentDir = f.savedDir;
    this.currentPwd = path.resolve(f.savedDir);
  }

  /** Passes lines through up to the next one the preprocessor must look at, and reads that one. */
  private stepFile(f: FileFrame): void {
    const text = f.text;
    const n = text.length;
    let s = f.s;
    let lineNo = f.lineNo;
    while (s <= n) {
      let e = text.indexOf('\n', s);
      if (e < 0) e = n;
      if (f.nextDollar >= 0 && f.nextDollar < s) f.nextDollar = text.indexOf('$', s);
      if (f.nextInclude >= 0 && f.nextInclude < s) f.nextInclude = text.indexOf('include', s);
      let special = this.pending !== null || (f.nextDollar >= 0 && f.nextDollar < e) || (f.nextInclude >= 0 && f.nextInclude < e);
      if (!special) {
        let k = s;
        while (k < e) {
          const c = text.charCodeAt(k);
          if (c !== 32 && c !== 9) break;
          k++;
        }
        const c = text.charCodeAt(k);
        special = c === 64 /* @ */ || c === 126; /* ~ */
      }
      const tooLong = e - s > MAX_LINE_BYTES;
      if (special || tooLong) {
        this.flushRun(f, s, lineNo);
        f.s = f.runStart = e + 1;
        f.lineNo = f.runLine = lineNo + 1;
        if (tooLong) this.error('line-too-long', { file: f.file, line: lineNo, column: 1 }, LINE_TOO_LONG);
        else this.processPhysicalLine(text.slice(s, e), f.file, lineNo);
        return;
      }
      s = e + 1;
      lineNo++;
    }
    // lineNo is one past the last line now
    if (f.runStart <= n) this.flushRun(f, n + 1, lineNo);
    if (this.pending) this.finishDefinition();
    this.leaveFile(f);
  }

  /** Outputs the pass-through lines before line `lineNo` (which starts at `s`). */
  private flushRun(f: FileFrame, s: number, lineNo: number): void {
    if (lineNo <= f.runLine) return;
    this.emit(f.text.slice(f.runStart, s - 1), { file: f.file, line: f.runLine, lineCount: lineNo - f.runLine, base: 1, map: null });
  }

  private stepLines(f: LinesFrame): void {
    const range = f.ranges[f.r];
    if (range?.lines !== f.reading) {
      // a macro's lines are being read from their first to the end of what the last one started
      if (f.reading !== null) this.expanding.delete(f.reading);
      f.reading = range?.lines ?? null;
      if (f.reading !== null) this.expanding.add(f.reading);
    }
    if (range === undefined || this.expansionStopped) {
      if (f.reading !== null) this.expanding.delete(f.reading);
      this.frames.pop();
      return;
    }
    const text = range.lines[f.k]!;
    if (++f.k >= range.lines.length) {
      f.r++;
      f.k = f.ranges[f.r]?.from ?? 0;
    }
    this.processLine(atUseSite(text, range.file, range.line, range.column), f.depth);
  }

  private stepSequence(f: SequenceFrame): void {
    const values = this.expansionStopped ? null : f.take();
    if (values === null) {
      this.frames.pop();
      return;
    }
    for (const [name, value] of values) this.define(name, [value], f.pos);
    if (!this.countExpanded(1, f.pos)) return;
    if (f.rest.text.length > 0) this.processLine(f.rest, f.depth + 1);
  }

  private stepInclude(f: IncludeFrame): void {
    const target = f.targets[f.i++];
    if (target === undefined) {
      this.frames.pop();
      return;
    }
    const pos = f.pos;
    const abs = path.resolve(target);
    if (this.openFiles.has(abs)) {
      const open = this.frames.filter((x): x is FileFrame => x.kind === 'file');
      const at = open.findIndex((x) => x.abs === abs);
      const chain = [...open.slice(at).map((x) => x.file), target].join(' -> ');
      this.error('include-cycle', pos, `include cycle: ${chain}`);
      return;
    }
    if (this.fileDepth >= MAX_INCLUDE_DEPTH) {
      this.error('include-depth', pos, `includes nested more than ${formatCount(MAX_INCLUDE_DEPTH)} deep; '${target}' is not read`);
      return;
    }
    if (++this.includedFiles > MAX_INCLUDE_FILES) {
      this.limit('include-limit', pos, `includes read more than ${formatCount(MAX_INCLUDE_FILES)} files; the rest are not read`);
      f.i = f.targets.length;
      return;
    }
    const heldRoom = MAX_HELD_BYTES - this.bytesHeld;
    const readRoom = MAX_CONFIG_BYTES - this.bytesRead;
    const room = Math.min(heldRoom, readRoom);
    let text: string;
    try {
      text = this.opts.readFile(target, room);
      if (text.length > room) throw new FileTooLargeError(text.length);
    } catch (e) {
      if (e instanceof NotTextError) {
        this.noteFile(target);
        this.notText(target, e);
      } else if (e instanceof FileTooLargeError) {
        const why =
          heldRoom <= readRoom
            ? `the files being read at once would hold more than ${formatBytes(MAX_HELD_BYTES)}`
            : `the configuration's files would hold more than ${formatBytes(MAX_CONFIG_BYTES)} in all`;
        this.error('include-too-large', pos, `included file '${target}' is not read: ${why}`);
      } else {
        this.error('include-unreadable', pos, `cannot read included file '${target}': ${errorText(e)}`);
      }
      return;
    }
    this.noteFile(target);
    if (this.isText(text, target)) this.enterFile(text, target);
  }

  private processPhysicalLine(raw: string, file: string, line: number): void {
    const { end, continued } = decomment(raw);
    if (this.pending) {
      this.continueDefinition(raw.slice(0, end), continued, { file, line, column: 1 });
      return;
    }
    const lead = skipBlanks(raw, 0);
    if (lead >= end) return;
    const lt: LineText = { text: raw.slice(lead, end), file, line, base: lead + 1, map: null, expanded: false };
    this.processLine(lt, 0);
  }

  private continueDefinition(text: string, continued: boolean, pos: SourcePos): void {
    const p = this.pending!;
    let t = text.trim();
    if (continued) t = t.slice(0, -1).trimEnd();
    if (t) {
      p.bytes += t.length + 1;
      if (p.bytes <= MAX_MACRO_BYTES) {
        p.lines.push(t);
      } else {
        this.limit('macro-limit', pos, `macro '${p.name}' is longer than ${formatBytes(MAX_MACRO_BYTES)}; it is not defined`);
        p.lines.length = 0;
      }
    }
    if (!continued) this.finishDefinition();
  }

  private finishDefinition(): void {
    const p = this.pending!;
    this.pending = null;
    if (p.bytes > MAX_MACRO_BYTES) return;
    this.define(p.name, p.lines.length ? p.lines : [''], p.pos);
  }

  /** Records a macro, within the bounds on how many and how much text. */
  private define(name: string, lines: string[], pos: SourcePos): void {
    const old = this.defs.get(name);
    if (old === undefined && this.defs.size >= MAX_MACROS) {
      this.limit('macro-limit', pos, `more than ${formatCount(MAX_MACROS)} macros defined; '${name}' is not`);
      return;
    }
    const bytes = this.defBytes - (old ? macroBytes(old.lines) : 0) + macroBytes(lines);
    if (bytes > MAX_MACRO_BYTES) {
      this.limit('macro-limit', pos, `macro definitions hold more than ${formatBytes(MAX_MACRO_BYTES)} of text; '${name}' is not defined`);
      return;
    }
    this.defBytes = bytes;
    this.defs.set(name, { lines });
  }

  /** Counts lines an expansion produces; false (reported once) past the bound. */
  private countExpanded(n: number, pos: SourcePos): boolean {
    if (!this.expansionStopped && this.expandedLines + n <= MAX_EXPANDED_LINES) {
      this.expandedLines += n;
      return true;
    }
    this.expansionStopped = true;
    this.limit('expansion-limit', pos, `expansions produce more than ${formatCount(MAX_EXPANDED_LINES)} lines; stopped expanding`);
    return false;
  }

  /** One logical line; the further lines of any multi-line macro it used follow it. */
  private processLine(lt: LineText, depth: number): void {
    if (depth > MAX_MACRO_DEPTH) {
      this.error('macro-recursion', posOf(lt, 0), `macro expansion nested more than ${MAX_MACRO_DEPTH} deep (recursive definition?)`);
      return;
    }
    const extra: MacroLines[] = [];
    const first = this.processOneLine(lt, depth, extra);
    // the frames run last pushed first: what the line itself started, then its extra lines
    if (extra.length > 0 && this.countExpanded(extraLineCount(extra), posOf(lt, 0))) {
      this.frames.push({ kind: 'lines', ranges: extra, r: 0, k: extra[0]!.from, depth: depth + 1, reading: null });
    }
    if (first !== null) this.frames.push(first);
  }

  /**
   * Conditionals, definitions, sequences, expansion, then include or emit. Returns the frame
   * of a sequence or an include the line starts.
   */
  private processOneLine(lt: LineText, depth: number, extra: MacroLines[]): Frame | null {
    for (let round = 0; round < 8; round++) {
      const t = lt.text;
      if (t.length === 0) return null;
      const c0 = t[0];
      if (c0 === '@') {
        const kept = this.applyConditional(lt);
        if (!kept) return null;
        lt = kept;
        continue;
      }
      if (c0 === '$' && this.tryDefinition(lt)) return null;
      if (c0 === '~' && (t.startsWith('~SEQ') || t.startsWith('~LST'))) return this.sequence(lt, depth);
      if (!lt.expanded && t.includes('$')) {
        const r = this.expand(lt, 0);
        if (r === null) return null;
        lt = r.line;
        for (const x of r.extra) extra.push(x);
        const s = skipBlanks(lt.text, 0);
        if (s > 0) lt = dropPrefix(lt, s);
        // an expansion may produce a conditional, a definition or a sequence: look again
        continue;
      }
      break;
    }
    if (lt.text.length === 0) return null;
    if (isIncludeLine(lt.text)) return this.include(lt);
    this.emitLine(lt);
    return null;
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
      this.error('macro-definition', posOf(lt, 1), `invalid macro name '${name}': use letters, digits and _, not starting with a digit`);
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
      this.pending = { name, lines: value ? [value] : [], bytes: value.length + 1, pos: posOf(lt, 0) };
      return true;
    }
    this.define(name, [value], posOf(lt, 0));
    return true;
  }

  /**
   * Substitute macro references. A multi-line macro's first line replaces the reference;
   * its other lines come back in `extra`, to be processed as lines of their own afterwards.
   */
  private expand(lt: LineText, depth: number): { line: LineText; extra: MacroLines[] } | null {
    const t = lt.text;
    let out = '';
    let changed = false;
    // a line of macro text has all its characters at one column: no per-character map needed
    const fixed = isFixed(lt);
    const cols: number[] | null = fixed ? null : [];
    const srcCols = fixed ? null : columnsOf(lt);
    let extra: MacroLines[] = [];
    let extraLines = 0;
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
          this.error('macro-undefined', posOf(lt, i), `macro '${ref.name}' is not defined; kept as written inside quotes`, 'warning');
        } else {
          this.error('macro-undefined', posOf(lt, i), `macro '${ref.name}' is not defined`);
        }
        continue;
      }
      if (depth >= MAX_MACRO_DEPTH) {
        this.error('macro-recursion', posOf(lt, i), `macro '${ref.name}' expands more than ${MAX_MACRO_DEPTH} levels deep (recursive definition?)`);
        return null;
      }
      if (def.lines.length > 1 && t.slice(ref.end).trim().length > 0) {
        this.error('macro-multiline', posOf(lt, i), `multi-line macro '${ref.name}' must be the last thing on its line`);
        continue;
      }
      if (this.expanding.has(def.lines)) {
        // its lines would expand it again, each time (through ~SEQ) several times over
        this.error('macro-recursion', posOf(lt, i), `multi-line macro '${ref.name}' is used in its own lines (recursive definition)`);
        return null;
      }
      const first = def.fn ? def.fn(ref.params) : def.lines[0]!;
      // expand the value in place (the value's own references use the same use site)
      let valueText = first;
      if (first.includes('$')) {
        const inner = this.expand(atUseSite(first, lt.file, lt.line, useCol), depth + 1);
        if (inner === null) return null;
        valueText = inner.line.text;
        extra = extra.concat(inner.extra);
        extraLines += extraLineCount(inner.extra);
      }
      changed = true;
      out += t.slice(copied, i) + valueText;
      if (cols !== null) {
        for (let k = copied; k < i; k++) cols.push(srcCols![k]!);
        for (let k = 0; k < valueText.length; k++) cols.push(useCol);
      }
      copied = ref.end;
      i = ref.end - 1;
      if (def.lines.length > 1) {
        extra.push({ lines: def.lines, from: 1, file: lt.file, line: lt.line, column: useCol });
        extraLines += def.lines.length - 1;
      }
      // bounded here, not only when the lines are read: nested macros multiply them
      if (this.expandedLines + extraLines > MAX_EXPANDED_LINES) {
        this.countExpanded(extraLines, posOf(lt, i));
        return null;
      }
      if (out.length > MAX_LINE_BYTES) {
        this.error('macro-recursion', posOf(lt, 0), `macro expansion makes a line longer than ${formatCount(MAX_LINE_BYTES)} bytes (recursive definition?)`);
        return null;
      }
    }
    if (!changed) return { line: { ...lt, expanded: true }, extra };
    out += t.slice(copied);
    if (cols === null) return { line: { text: out, file: lt.file, line: lt.line, base: lt.base, map: [], expanded: true }, extra };
    for (let k = copied; k < t.length; k++) cols.push(srcCols![k]!);
    return { line: { text: out, file: lt.file, line: lt.line, base: cols[0] ?? lt.base, map: cols, expanded: true }, extra };
  }

  /** `~SEQ(var, [start,] [step,] end) rest`, `~SEQx(...)`, `~LST(var, v1, v2...)`: the frame repeating it. */
  private sequence(lt: LineText, depth: number): SequenceFrame | null {
    const t = lt.text;
    const pos = posOf(lt, 0);
    const m = /^~(SEQx?|LST)\s*\(/.exec(t);
    const close = t.indexOf(')', m ? m[0].length : 0);
    if (!m || close < 0) {
      this.error('seq-syntax', pos, `invalid sequence '${t}': expected ~SEQ(var, start, step, end), ~SEQx(...) or ~LST(var, values...)`);
      return null;
    }
    const kind = m[1]!;
    // a `)` inside ~LST's {...} groups cannot occur: values are plain words
    let inside = t.slice(m[0].length, close);
    if (inside.includes('$')) {
      const r = this.expand(atUseSite(inside, lt.file, lt.line, colOf(lt, 0)), 0);
      if (r === null) return null;
      if (r.extra.length) {
        this.error('seq-syntax', pos, `a multi-line macro cannot be used inside ${kind}(...)`);
        return null;
      }
      inside = r.line.text;
    }
    const restAt = skipBlanks(t, close + 1);
    const rest = dropPrefix(lt, restAt);
    const take = kind === 'LST' ? this.parseList(inside, pos) : this.parseSeq(kind === 'SEQx', inside, pos);
    if (take === null) return null;
    return { kind: 'sequence', rest, depth, pos, take };
  }

  /** The values of a ~SEQ, one at a time (a sequence may be long: they are not listed first). */
  private parseSeq(hex: boolean, inside: string, pos: SourcePos): SequenceFrame['take'] | null {
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
    if (count > MAX_EXPANDED_LINES) return bad(`${formatCount(count)} values is more than the ${formatCount(MAX_EXPANDED_LINES)} lines expansions may produce`);
    let k = 0;
    return () => {
      if (k >= count) return null;
      const v = start + k++ * step;
      return [[name, hex ? v.toString(16) : String(v)]];
    };
  }

  private parseList(inside: string, pos: SourcePos): SequenceFrame['take'] | null {
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
    const group = (s: string) =>
      s.startsWith('{') && s.endsWith('}')
        ? s
            .slice(1, -1)
            .split(',')
            .map((x) => x.trim())
        : [s];
    const names = group(items[0]!);
    for (const nm of names) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(nm)) return bad(`'${nm}' is not a variable name`);
    if (items.length < 2) return bad('no values');
    const out: [string, string][][] = [];
    for (const item of items.slice(1)) {
      const vals = group(item);
      if (vals.length !== names.length) return bad(`'${item}' has ${vals.length} values for ${names.length} variables`);
      out.push(names.map((nm, k) => [nm, vals[k]!] as [string, string]));
    }
    let k = 0;
    return () => out[k++] ?? null;
  }

  /** An include line: the frame reading what it matches. */
  private include(lt: LineText): IncludeFrame | null {
    const t = lt.text;
    const pos = posOf(lt, 0);
    const word = /^\S+/.exec(t)![0];
    const args = splitArgs(t.slice(word.length));
    if (args.length !== 1) {
      this.error('include-syntax', pos, `'${word}' takes exactly one file name or pattern, got ${args.length}`);
      return null;
    }
    const pattern = args[0]!;
    const dir = this.currentDir;
    let targets: string[];
    try {
      targets = includeTargets(pattern, dir, this.opts.glob);
    } catch (e) {
      const why = e instanceof GlobLimitError ? e.message : errorText(e);
      this.error('include-unreadable', pos, `cannot expand include pattern '${pattern}': ${why}`);
      return null;
    }
    if (targets.length === 0) {
      // keepalived logs this and goes on; the strict variants make it an error
      const strict = word === 'includem' || word === 'includew' || word === 'includeb' || word === 'includea';
      this.error('include-no-match', pos, `include '${pattern}' matches no file`, strict ? 'error' : 'warning');
      return null;
    }
    return { kind: 'include', targets, i: 0, pos };
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
    const text = lt.text.replace(/\\[\s\S]|"(?:[^"\\]|\\[\s\S])*"?|'(?:[^'\\]|\\[\s\S])*'?|[#!]/g, (m) => (m === '#' || m === '!' ? `\\${m}` : m));
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
