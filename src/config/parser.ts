// keepalived.conf front end: preprocess (include, macros, conditionals, ~SEQ) -> lex ->
// statements and blocks, with the source position of every word. Never throws: every
// problem becomes a Diagnostic, and all problems of a parse are reported together.
//
// Blocks: `{` opens a block for the statement before it on the same line, or for the
// statement of an earlier line when the `{` starts its line; `}` closes one block and
// several may share a line. As keepalived splits lines at braces, a one-line block
// `group { VI_1 VI_2 }` holds one statement, keyword `VI_1`, args [`VI_2`], and words after
// a `{` or `}` start a new statement.
//
// Statements are built by a loop over the token arrays rather than a chevrotain parser:
// the grammar is "words up to a newline or brace, blocks in braces", its error recovery
// (unclosed `{` reported where it was opened, stray `}`) is simplest to state directly, and
// a loop over typed arrays allocates nothing but the AST itself.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { DiagnosticList, type ParsedFile, type Statement, type Word } from './ast.js';
import { globFiles, newGlobBudget } from './glob.js';
import { decodeWord, Tok, TokenReader, type TokenStream } from './lexer.js';
import { formatBytes, formatCount, MAX_BLOCK_DEPTH, MAX_BLOCK_WORDS, MAX_CONFIG_BYTES, MAX_HELD_BYTES, MAX_STATEMENTS, MAX_WORDS } from './limits.js';
import type { SourcePos } from './model.js';
import { Preprocessor, SegmentQueue, type Segment } from './preprocess.js';
import { FileTooLargeError, newWindow, NotTextError, readTextFd, readTextFile, scanPlainFile, Source, SourceChangedError } from './source.js';

export interface ParseOptions {
  /** For `@ID` / `@^ID` lines; default the short host name (as keepalived's -i default). */
  configId?: string;
  /**
   * Injectable for tests; default readTextFile (UTF-8, refused past `maxBytes`). A file
   * longer than `maxBytes` is refused either way.
   */
  readFile?: (path: string, maxBytes: number) => string;
  /** Matches an include pattern relative to `cwd`; sorted results. Default: globFiles. */
  glob?: (pattern: string, cwd: string) => string[];
  /**
   * Receives each top-level statement as soon as it is complete (its block closed, or the
   * next top-level statement begun); the result's `statements` is then empty. Lets the
   * model builder consume a big config block by block, so the syntax tree of the whole
   * file never exists at once: on a big director's config that tree was several times the
   * model's size, and the garbage collector copying it took more time than parsing.
   */
  onStatement?: (stmt: Statement) => void;
}

export function parseConfigFile(file: string, opts: ParseOptions = {}): ParsedFile {
  let text: string;
  let fd = -1;
  try {
    if (opts.readFile === undefined) {
      // A plain file (see Source) is lexed as it is read again; the rest is preprocessed.
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const size = fs.fstatSync(fd).size;
      if (size > MAX_CONFIG_BYTES) {
        return fileError(
          file,
          'config-too-large',
          `configuration file is ${formatCount(size)} bytes, more than the ${formatBytes(MAX_CONFIG_BYTES)} a configuration may hold`,
        );
      }
      const window = newWindow();
      const length = scanPlainFile(fd, window);
      if (length >= 0) {
        const plainFd = fd;
        fd = -1; // closed once lexed
        try {
          const segments = new SegmentQueue();
          // lineCount only matters to the segments after it: there are none
          segments.push({ file, line: 1, lineCount: Number.MAX_SAFE_INTEGER, base: 1, map: null });
          return parseSource(
            () => Source.ofPlainFile(plainFd, length, window),
            segments,
            new DiagnosticList(),
            () => [file],
            opts,
          );
        } finally {
          fs.closeSync(plainFd);
        }
      }
      text = readTextFd(fd, MAX_HELD_BYTES);
    } else {
      text = opts.readFile(file, MAX_HELD_BYTES);
      if (text.length > MAX_HELD_BYTES) throw new FileTooLargeError(text.length);
    }
  } catch (e) {
    if (e instanceof NotTextError) return fileError(file, 'not-text', e.message, { file, line: e.line, column: e.column });
    if (e instanceof FileTooLargeError) {
      return fileError(
        file,
        'config-too-large',
        `configuration file uses macros, includes, @ or ~ lines and is longer than ${formatBytes(MAX_HELD_BYTES)}, the most such text read at once`,
      );
    }
    const err = e as NodeJS.ErrnoException;
    return fileError(file, 'file-unreadable', `cannot read configuration file: ${err.code ?? err.message ?? String(e)}`);
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
  return parseConfigText(text, file, opts);
}

function fileError(file: string, code: string, message: string, pos: SourcePos = { file, line: 1, column: 1 }): ParsedFile {
  return { statements: [], diagnostics: [{ severity: 'error', code, pos, message }], files: [file] };
}

export function parseConfigText(text: string, file: string, opts: ParseOptions = {}): ParsedFile {
  const diags = new DiagnosticList();
  const segments = new SegmentQueue();
  const budget = newGlobBudget();
  const pre = new Preprocessor(
    {
      configId: opts.configId ?? defaultConfigId(),
      readFile: opts.readFile ?? readTextFile,
      glob: opts.glob ?? ((pattern, cwd) => globFiles(pattern, cwd, budget)),
    },
    diags,
    segments,
  );
  return parseSource(
    () => {
      pre.start(text, file);
      return Source.ofFeed(() => pre.next());
    },
    segments,
    diags,
    () => pre.files,
    opts,
  );
}

/** Statements of a text whose lines `segments` place. */
function parseSource(source: () => Source, segments: SegmentQueue, diags: DiagnosticList, files: () => string[], opts: ParseOptions): ParsedFile {
  const cursor = new PositionCursor(segments);
  const result = (statements: Statement[]): ParsedFile => {
    const { omitted } = diags;
    const r: ParsedFile = { statements, diagnostics: diags.list, files: files() };
    if (omitted.errors + omitted.warnings > 0) r.omitted = omitted;
    return r;
  };
  try {
    return result(buildStatements(cursor, new TokenReader(source()), diags, opts.onStatement ?? null));
  } catch (e) {
    if (e instanceof SourceChangedError) {
      diags.push({
        severity: 'error',
        code: 'file-changed',
        pos: { file: files()[0] ?? '', line: 1, column: 1 },
        message: `cannot read configuration file: ${e.message}`,
      });
      return result([]);
    }
    // A bug of ours: still a located, plain report (no error text or stack: that is no use
    // to whoever reads it), and the caller is not taken down.
    diags.push({
      severity: 'error',
      code: 'internal-error',
      pos: cursor.here(files()[0] ?? ''),
      message:
        'keepalived-ts failed while reading the configuration at this point (a bug in keepalived-ts: please report it, with the configuration); it is refused',
    });
    return result([]);
  }
}

function defaultConfigId(): string {
  return os.hostname().split('.')[0] ?? '';
}

interface Frame {
  /** Statements of the block so far: `statements[0..n)` of a reused scratch array, copied
   *  at exact size when the block closes. */
  statements: Statement[];
  n: number;
  /** The frame that receives this frame's statements: itself, or for a phantom frame the
   *  enclosing block. */
  host: Frame | null;
  owner: SourceStatement | null;
  /** Column of the owner's keyword when it starts its line (for the indentation hint), else 0. */
  indent: number;
  /** Column of the block's first statement that starts a line; 0 until there is one. */
  contentIndent: number;
  /** A `{` with no statement before it: its content goes to the enclosing list. */
  phantom: boolean;
  open: SourcePos | null;
}

/** Before the first segment is known. */
const NO_SEGMENT: Segment = { file: '', line: 1, lineCount: 0, base: 1, map: null };

/**
 * Follows the token walk through the preprocessor's segments to give source positions.
 * When a segment's last line ends before the next segment is known (the preprocessor
 * produces a segment with its text, which the lexer may not have reached when the newline
 * goes by), it moves on when a position is next asked for.
 */
class PositionCursor {
  private seg = -1;
  private lineInSeg = 0;
  private lineStart = 0;
  private segment = NO_SEGMENT;
  /** The current line is past the segment: move on before giving a position. */
  private behind = true;

  constructor(
    private readonly segments: SegmentQueue,
    /** Whether segments behind this cursor are released (copies of it must not). */
    private readonly owner = true,
  ) {}

  copy(): PositionCursor {
    const c = new PositionCursor(this.segments, false);
    c.seg = this.seg;
    c.lineInSeg = this.lineInSeg;
    c.lineStart = this.lineStart;
    c.segment = this.segment;
    c.behind = this.behind;
    return c;
  }

  /** Called for each newline token (offset of the character after it). */
  newline(nextLineStart: number): void {
    this.lineStart = nextLineStart;
    if (++this.lineInSeg >= this.segment.lineCount) this.advance();
  }

  private advance(): void {
    while (this.lineInSeg >= this.segment.lineCount) {
      const next = this.segments.at(this.seg + 1);
      if (next === undefined) {
        this.behind = true;
        return;
      }
      // `| 0`: lineCount may be read as a double (the plain file's is MAX_SAFE_INTEGER), and a
      // double here would make every position the model keeps a boxed number
      this.lineInSeg = (this.lineInSeg - this.segment.lineCount) | 0;
      this.segment = next;
      if (this.owner) this.segments.release(++this.seg);
      else this.seg++;
    }
    this.behind = false;
  }

  /** Column of the character at `offset` (on the current line). */
  column(offset: number): number {
    if (this.behind) this.advance();
    const s = this.segment;
    if (s.map === null) return s.base + offset - this.lineStart;
    return s.map.length === 0 ? s.base : s.map[Math.min(offset - this.lineStart, s.map.length - 1)]!;
  }

  get line(): number {
    if (this.behind) this.advance();
    return this.segment.line + this.lineInSeg;
  }

  get file(): string {
    if (this.behind) this.advance();
    return this.segment.file;
  }

  at(offset: number): SourcePos {
    return { file: this.file, line: this.line, column: this.column(offset) };
  }

  /** The current line (its first column), or `file`'s start before any text. */
  here(file: string): SourcePos {
    if (this.behind) this.advance();
    const s = this.segment;
    return s === NO_SEGMENT ? { file, line: 1, column: 1 } : { file: s.file, line: s.line + this.lineInSeg, column: 1 };
  }
}

/**
 * `s` as V8's one shared copy of that text (the kind property names and literals are): a
 * flat string of its own, not a view into the config text (see Source.slice), so reading
 * its characters is direct, and comparing it with the keyword schema's names is a pointer
 * check. Done once per distinct interned word.
 */
function ownString(s: string): string {
  return Object.keys({ [s]: 0 })[0]!;
}

/** `bytes` hold `word` at `s` (compared by hand: words are short, a builtin call costs more). */
function sameChars(word: string, bytes: Uint8Array, s: number): boolean {
  for (let j = 0; j < word.length; j++) if (word.charCodeAt(j) !== bytes[s + j]) return false;
  return true;
}

/** Arguments up to this long are interned (numbers, ports, enum values); longer ones are sliced. */
const SHORT_WORD = 8;

/**
 * Shares one string per distinct keyword or short value. A big config repeats the same few
 * hundred keywords and values (`weight`, `1`, `80`, `TCP_CHECK`) millions of times; looking
 * a word up by hashing its characters in place avoids allocating a string per occurrence.
 * Long values (addresses, paths) are mostly distinct: the parser slices those directly, as
 * looking each up in a table of hundreds of thousands cost more than the slice (a cache
 * miss per probe), so the table stays small.
 */
class WordInterner {
  private static readonly MAX_LEN = 32;
  private static readonly MAX_SIZE = 1 << 14;
  private size = 1 << 12;
  private mask = this.size - 1;
  private count = 0;
  private strings: (string | undefined)[] = new Array<string | undefined>(this.size);
  private hashes = new Int32Array(this.size);

  constructor(private readonly source: Source) {}

  /** The plain (ASCII) word at [s, e). */
  get(s: number, e: number): string {
    const source = this.source;
    if (e - s > WordInterner.MAX_LEN) return source.slice(s, e);
    const bytes = source.bytes;
    const from = s - source.base; // in the source's window
    const len = e - s;
    let h = 0x811c9dc5 | 0;
    for (let i = from; i < from + len; i++) h = Math.imul(h ^ bytes[i]!, 16777619);
    let idx = h & this.mask;
    for (;;) {
      const cand = this.strings[idx];
      if (cand === undefined) break;
      if (this.hashes[idx] === h && cand.length === len && sameChars(cand, bytes, from)) return cand;
      idx = (idx + 1) & this.mask;
    }
    if (this.count * 2 >= this.size) {
      // full: stop sharing, stay correct; and stop interning too, as each new name costs V8 a
      // hidden class (a file of a million distinct junk words spent seconds on them)
      if (this.size >= WordInterner.MAX_SIZE) return source.slice(s, e);
      this.rehash();
      idx = h & this.mask;
      while (this.strings[idx] !== undefined) idx = (idx + 1) & this.mask;
    }
    const str = ownString(source.slice(s, e));
    this.strings[idx] = str;
    this.hashes[idx] = h;
    this.count++;
    return str;
  }

  private rehash(): void {
    const oldStrings = this.strings;
    const oldHashes = this.hashes;
    this.size *= 2;
    this.mask = this.size - 1;
    this.strings = new Array<string | undefined>(this.size);
    this.hashes = new Int32Array(this.size);
    for (let i = 0; i < oldStrings.length; i++) {
      const str = oldStrings[i];
      if (str === undefined) continue;
      let idx = oldHashes[i]! & this.mask;
      while (this.strings[idx] !== undefined) idx = (idx + 1) & this.mask;
      this.strings[idx] = str;
      this.hashes[idx] = oldHashes[i]!;
    }
  }
}

/**
 * A word as the parser makes it. Its position is kept as three numbers and made into an
 * object only when asked for: a big config has millions of words, few positions are used.
 */
class SourceWord implements Word {
  constructor(
    readonly text: string,
    readonly quoted: boolean,
    readonly file: string,
    readonly line: number,
    readonly column: number,
  ) {}

  get pos(): SourcePos {
    return { file: this.file, line: this.line, column: this.column };
  }
}

/** A statement as the parser makes it: its position is its keyword's. */
class SourceStatement implements Statement {
  args: Word[] = NO_ARGS;
  block: Statement[] | null = null;
  blockOpen: SourcePos | null = null;

  constructor(readonly keyword: SourceWord) {}

  get pos(): SourcePos {
    return this.keyword.pos;
  }
}

/** Shared by statements with no arguments (nobody changes a syntax tree's arrays). */
const NO_ARGS: Word[] = Object.freeze([]) as unknown as Word[];
/** A block's placeholder from its `{` until its `}` (then replaced by the statements). */
const OPEN_BLOCK: Statement[] = Object.freeze([]) as unknown as Statement[];

function describe(st: Statement): string {
  const words = [st.keyword.text, ...st.args.slice(0, 2).map((w) => w.text)].join(' ');
  return st.args.length > 2 ? `${words} ...` : words;
}

function buildStatements(cursor: PositionCursor, reader: TokenReader, diags: DiagnosticList, emit: ((stmt: Statement) => void) | null): Statement[] {
  const source = reader.source;
  const root: Frame = { statements: [], n: 0, host: null, owner: null, indent: 0, contentIndent: 0, phantom: false, open: null };
  root.host = root;
  const stack: Frame[] = [root];
  let frame = root;
  let cur: SourceStatement | null = null;
  // Arrays are built in scratch buffers and copied once at their final size: pushing into a
  // fresh array reserves room for 17 elements, per statement of a big config.
  const argBuf: Word[] = [];
  let argN = 0;
  const framePool: Statement[][] = [];
  /** Frames of closed blocks, reused for the next blocks. */
  const frames: Frame[] = [];
  const endStatement = (st: SourceStatement) => {
    // literals for the usual one or two words: cheaper than a slice call
    st.args = argN === 0 ? NO_ARGS : argN === 1 ? [argBuf[0]!] : argN === 2 ? [argBuf[0]!, argBuf[1]!] : argBuf.slice(0, argN);
    argN = 0;
  };
  const closeFrame = (f: Frame) => {
    if (f.phantom) return; // its statements went to the enclosing block's array
    const n = f.n;
    const st = f.statements;
    f.owner!.block = n === 1 ? [st[0]!] : n === 2 ? [st[0]!, st[1]!] : st.slice(0, n);
    framePool.push(f.statements);
  };
  /** A statement ended by a newline, which a `{` at the start of a later line may open. */
  let candidate: SourceStatement | null = null;
  /** The current token is the first of its line. */
  let lineFirst = true;
  /** Whether the current statement's keyword started its line. */
  let curFirst = false;
  let candidateFirst = false;
  /** First statement indented no deeper than the block it sits in: where a `}` may be missing. */
  let misindented: { owner: SourceStatement; at: SourcePos } | null = null;
  const interner = new WordInterner(source);
  const toks = reader.batch;
  /** `{` past MAX_BLOCK_DEPTH still open: what is inside them is not read. */
  let excess = 0;
  let statementCount = 0;
  let wordCount = 0;
  /** Words of the current top-level statement (what is held until it is handed over). */
  let blockWords = 0;
  /** A bound was crossed: reading stopped there. */
  let stopped = false;
  const stop = (code: string, pos: SourcePos, message: string) => {
    diags.push({ severity: 'error', code, pos, message });
    stopped = true;
  };

  reading: while (reader.read()) {
    if (toks.errors.length) reportLexErrors(cursor, toks, diags);
    const { kind, start, end, count } = toks;
    for (let i = 0; i < count; i++) {
      const k = kind[i]!;
      if (excess > 0 && k !== Tok.Newline) {
        if (k === Tok.LBrace) excess++;
        else if (k === Tok.RBrace) excess--;
        continue;
      }
      if (k === Tok.Newline) {
        if (cur !== null) {
          endStatement(cur);
          candidate = cur.block === null ? cur : null;
          candidateFirst = curFirst;
          cur = null;
        }
        cursor.newline(end[i]!);
        lineFirst = true;
        continue;
      }
      const s = start[i]!;
      if (k === Tok.PlainWord || k === Tok.Word || k === Tok.Quoted) {
        const column = cursor.column(s);
        const line = cursor.line;
        const file = cursor.file;
        let word: SourceWord;
        if (k === Tok.PlainWord) {
          const e = end[i]!;
          const wordText = cur === null || e - s <= SHORT_WORD ? interner.get(s, e) : source.slice(s, e);
          word = new SourceWord(wordText, false, file, line, column);
        } else {
          const image = source.slice(s, end[i]!);
          const d = decodeWord(image);
          if (d.unterminatedAt >= 0) {
            const q = image[d.unterminatedAt];
            diags.push({
              severity: 'error',
              code: 'unterminated-quote',
              pos: cursor.at(s + d.unterminatedAt),
              message: `unterminated quote: no closing ${q} before the end of the line`,
            });
          }
          word = new SourceWord(d.text, d.quoted, file, line, column);
        }
        if (cur === null && frame.host === root) blockWords = 0; // a top-level statement begins
        if (++wordCount > MAX_WORDS) {
          stop('word-limit', word.pos, `more than ${formatCount(MAX_WORDS)} words; the rest is not read`);
          break reading;
        }
        if (++blockWords > MAX_BLOCK_WORDS) {
          const top = root.statements[root.n - 1]!.keyword;
          stop(
            'block-limit',
            word.pos,
            `the statement '${top.text}' at ${top.pos.file}:${top.pos.line} holds more than ${formatCount(MAX_BLOCK_WORDS)} words; the rest is not read`,
          );
          break reading;
        }
        if (cur === null) {
          if (++statementCount > MAX_STATEMENTS) {
            stop('statement-limit', word.pos, `more than ${formatCount(MAX_STATEMENTS)} statements; the rest is not read`);
            break reading;
          }
          candidate = null;
          cur = new SourceStatement(word);
          curFirst = lineFirst;
          const host = frame.host!;
          if (host === root && emit !== null && root.n > 0) {
            // a new top-level statement begins: the previous one can no longer change
            emit(root.statements[0]!);
            root.n = 0;
          }
          host.statements[host.n++] = cur;
          if (lineFirst && frame.contentIndent === 0) frame.contentIndent = column;
          else if (
            lineFirst &&
            misindented === null &&
            frame.indent > 0 &&
            frame.contentIndent > frame.indent &&
            column <= frame.indent &&
            file === frame.open!.file &&
            line > frame.open!.line
          ) {
            misindented = { owner: frame.owner!, at: word.pos };
          }
          if (!word.quoted && word.text === 'include') {
            diags.push({
              severity: 'error',
              code: 'include-position',
              pos: word.pos,
              message: "'include' must start its own line (after a brace it is not read as an include)",
            });
          }
        } else {
          argBuf[argN++] = word;
        }
        lineFirst = false;
        continue;
      }
      lineFirst = false;
      if (k === Tok.LBrace) {
        const pos = cursor.at(s);
        const target = cur ?? candidate;
        const targetFirst = cur !== null ? curFirst : candidateFirst;
        if (cur !== null) endStatement(cur);
        cur = null;
        candidate = null;
        if (stack.length > MAX_BLOCK_DEPTH) {
          excess = 1;
          diags.push({
            severity: 'error',
            code: 'block-depth',
            pos,
            message: `blocks nested more than ${MAX_BLOCK_DEPTH} deep; what is inside this one is not read`,
          });
          continue;
        }
        if (target !== null && target.block === null) {
          target.block = OPEN_BLOCK;
          target.blockOpen = pos;
          const indent = targetFirst ? target.keyword.column : 0;
          const items = framePool.pop() ?? [];
          const f = frames.pop();
          if (f === undefined) {
            frame = { statements: items, n: 0, host: null, owner: target, indent, contentIndent: 0, phantom: false, open: pos };
          } else {
            frame = f;
            f.statements = items;
            f.n = 0;
            f.owner = target;
            f.indent = indent;
            f.contentIndent = 0;
            f.open = pos;
          }
          frame.host = frame;
        } else {
          diags.push({
            severity: 'error',
            code: 'unexpected-open-brace',
            pos,
            message: "'{' without a keyword to open a block for",
          });
          frame = { statements: [], n: 0, host: frame.host, owner: null, indent: 0, contentIndent: 0, phantom: true, open: pos };
        }
        stack.push(frame);
        continue;
      }
      // Tok.RBrace
      if (cur !== null) endStatement(cur);
      cur = null;
      candidate = null;
      if (stack.length > 1) {
        const closed = stack.pop()!;
        closeFrame(closed);
        if (!closed.phantom) {
          closed.statements = OPEN_BLOCK;
          closed.owner = null;
          frames.push(closed);
        }
        frame = stack[stack.length - 1]!;
      } else {
        diags.push({
          severity: 'error',
          code: 'unexpected-close-brace',
          pos: cursor.at(s),
          message: "'}' without a matching '{'",
        });
      }
    }
  }
  if (stopped) return [];
  if (cur !== null) endStatement(cur);
  if (source.truncated) {
    diags.push({
      severity: 'error',
      code: 'config-too-large',
      pos: cursor.here(''),
      message: `the configuration (with what it includes and expands to) is longer than ${formatBytes(MAX_CONFIG_BYTES)}; the rest is not read`,
    });
  }
  for (let d = stack.length - 1; d > 0; d--) {
    const f = stack[d]!;
    closeFrame(f);
    let message = f.owner ? `block '${describe(f.owner)}' opened here is never closed` : "'{' opened here is never closed";
    if (d === stack.length - 1 && misindented !== null) {
      // the `}` that went missing is usually where the indentation first steps back out
      const { owner, at } = misindented;
      const open = owner.blockOpen!;
      message += `; the indentation suggests block '${describe(owner)}' (opened at ${open.line}:${open.column})` + ` lacks its '}' before line ${at.line}`;
    }
    diags.push({ severity: 'error', code: 'unclosed-brace', pos: f.open!, message });
  }
  if (emit !== null) {
    if (root.n > 0) emit(root.statements[0]!);
    return [];
  }
  return root.statements.slice(0, root.n);
}

function reportLexErrors(cursor: PositionCursor, toks: TokenStream, diags: DiagnosticList): void {
  // rare (every character is covered by some token): each error's line is found by walking
  // a copy of the cursor (which is at the batch's first line) over the batch's newlines
  for (const e of toks.errors) {
    const at = cursor.copy();
    for (let i = 0; i < toks.count && toks.start[i]! < e.offset; i++) if (toks.kind[i] === Tok.Newline) at.newline(toks.end[i]!);
    diags.push({ severity: 'error', code: e.code, pos: at.at(e.offset), message: e.message });
  }
}
