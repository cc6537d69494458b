// Tokens of keepalived.conf: words, quoted words, `{`, `}` and newlines; whitespace and
// comments (`#` or `!` to end of line, outside quotes) are skipped.
//
// The token vocabulary is defined with chevrotain, and chevrotain's lexer is the reference:
// it tokenizes every line that holds a backslash, a non-ASCII or control character, or a
// quote that is not closed on its line. Lines made only of ASCII words, closed quotes,
// braces, blanks and comments (nearly every line of a real config) go through a hand-written
// scanner that yields exactly what chevrotain would yield (a property test checks the two
// agree); a process whose config has no other line never loads chevrotain. Reason: chevrotain's per-token cost, times the
// millions of tokens of a big director's config, alone exceeded the whole front end's time
// budget; the fast path is an order of magnitude cheaper (bench/README.md, "Config front end").
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ILexingResult, Lexer, TokenType } from 'chevrotain';
import { LINE_TOO_LONG, MAX_LINE_BYTES } from './limits.js';
import { Source } from './source.js';

/**
 * chevrotain, from the single-file ESM build the package ships (lib/chevrotain.mjs, lodash
 * included) rather than its package entry: the entry pulls in lodash-es, hundreds of modules,
 * and loading them dominated a `-t` run; the bundle is one file.
 * The package's `exports` do not list the bundle, so it is found beside the entry point.
 */
function chevrotainPath(): string {
  const entry = requireHere.resolve('chevrotain');
  const bundle = join(dirname(entry), '..', 'chevrotain.mjs');
  return existsSync(bundle) ? bundle : entry;
}
const requireHere = createRequire(import.meta.url);

/**
 * Loaded on first use, as Node 20.19 and later can require an ES module (package.json
 * "engines"): only lines with a backslash, a non-ASCII or control character or an unclosed
 * quote need it; loading it is a visible part of a `-t`, and it stays in the process's memory
 * (megabytes) once loaded.
 */
let chevrotainModule: typeof import('chevrotain') | null = null;

function chevrotain(): typeof import('chevrotain') {
  return (chevrotainModule ??= requireHere(chevrotainPath()) as typeof import('chevrotain'));
}

// A quoted segment runs to its closing quote or, when unterminated, to the end of the line
// (the decoder reports the missing quote). A backslash escapes the next character.
const QUOTED_SEGMENT = String.raw`"(?:[^"\\\n]|\\[^\n])*"?|'(?:[^'\\\n]|\\[^\n])*'?`;
const PLAIN_CHAR = String.raw`[^\s{}#!"'\\]|\\[^\n]?`;

/** Every char code that may start a plain word (chevrotain needs the list to keep its
 *  first-character optimisation with complement character classes). */
function charCodesWhere(pred: (ch: string) => boolean): number[] {
  const out: number[] = [];
  for (let c = 0; c < 0x10000; c++) if (pred(String.fromCharCode(c))) out.push(c);
  return out;
}
const isBlank = (ch: string) => ch !== '\n' && /\s/.test(ch);

/** The token vocabulary and chevrotain's lexer for it. */
interface Vocabulary {
  lexer: Lexer;
  kinds: Map<TokenType, Tok>;
}

/**
 * Built on first use: only the lines the scanner cannot read need chevrotain, and building the lexer (and the start-character lists it wants) costs start-up
 * time that a config without such lines never has to pay.
 */
let vocabulary: Vocabulary | null = null;

function vocab(): Vocabulary {
  if (vocabulary !== null) return vocabulary;
  const { createToken, Lexer: ChevrotainLexer } = chevrotain();
  const Newline = createToken({ name: 'Newline', pattern: /\n/, line_breaks: true });
  const WhiteSpace = createToken({
    name: 'WhiteSpace',
    pattern: /[^\S\n]+/,
    start_chars_hint: charCodesWhere(isBlank),
    group: ChevrotainLexer.SKIPPED,
  });
  const Comment = createToken({ name: 'Comment', pattern: /[#!][^\n]*/, group: ChevrotainLexer.SKIPPED });
  const LBrace = createToken({ name: 'LBrace', pattern: /{/ });
  const RBrace = createToken({ name: 'RBrace', pattern: /}/ });
  /** A word that starts with a quote; it may continue with more plain or quoted text. */
  const QuotedString = createToken({
    name: 'QuotedString',
    pattern: new RegExp(`(?:${QUOTED_SEGMENT})(?:${PLAIN_CHAR}|${QUOTED_SEGMENT})*`),
    start_chars_hint: ['"', "'"],
  });
  /** A word starting with a plain character; quotes inside it (`ab"c d"`) join the word. */
  const Word = createToken({
    name: 'Word',
    pattern: new RegExp(`(?:${PLAIN_CHAR})(?:${PLAIN_CHAR}|${QUOTED_SEGMENT})*`),
    start_chars_hint: charCodesWhere((ch) => ch !== '\n' && !isBlank(ch) && !'{}#!"\''.includes(ch)),
  });
  const lexer = new ChevrotainLexer([Newline, WhiteSpace, Comment, LBrace, RBrace, QuotedString, Word], {
    positionTracking: 'onlyOffset',
    ensureOptimizations: true,
  });
  // chevrotain reads the hints only while it builds a lexer, but keeps every token type for
  // the process's life: the list of every plain word's first character is ~0.6 MB of heap
  delete Word.START_CHARS_HINT;
  delete WhiteSpace.START_CHARS_HINT;
  const kinds = new Map<TokenType, Tok>([
    [Word, Tok.Word],
    [QuotedString, Tok.Quoted],
    [LBrace, Tok.LBrace],
    [RBrace, Tok.RBrace],
    [Newline, Tok.Newline],
  ]);
  vocabulary = { lexer, kinds };
  return vocabulary;
}

function tokenizeWithChevrotain(text: string): ILexingResult {
  return vocab().lexer.tokenize(text);
}

export const enum Tok {
  /** A word with no quote or backslash: its text is its image. */
  PlainWord = 5,
  Word = 0,
  Quoted = 1,
  LBrace = 2,
  RBrace = 3,
  Newline = 4,
}

/** What the lexer could not read: a line too long (its tokens are left out), or characters
 *  no token matched (should not happen: every character is covered). */
export interface LexError {
  offset: number;
  code: 'line-too-long' | 'lex';
  message: string;
}

/** Tokens as parallel arrays (no object per token): kind, [start, end) offsets in the text. */
export interface TokenStream {
  count: number;
  kind: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  errors: LexError[];
}

class TokenBuffer implements TokenStream {
  count = 0;
  kind: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  errors: LexError[] = [];

  /** `expected`: a guess of the token count, to avoid regrowing (configs run ~6 chars/token). */
  constructor(expected = 1024) {
    const n = Math.max(1024, expected);
    this.kind = new Uint8Array(n);
    this.start = new Int32Array(n);
    this.end = new Int32Array(n);
  }

  push(kind: Tok, start: number, end: number): void {
    if (this.count === this.kind.length) this.grow();
    const i = this.count++;
    this.kind[i] = kind;
    this.start[i] = start;
    this.end[i] = end;
  }

  /** Room for `more` tokens than there is now. */
  grow(more = 1): void {
    let n = this.kind.length * 2;
    while (n - this.count < more) n *= 2;
    const k = new Uint8Array(n);
    k.set(this.kind);
    const s = new Int32Array(n);
    s.set(this.start);
    const e = new Int32Array(n);
    e.set(this.end);
    this.kind = k;
    this.start = s;
    this.end = e;
  }
}

/** Lines longer than this go to chevrotain (the scanner reserves room for a line's tokens first). */
const MAX_PLAIN_LINE = 4096;

/** What a byte is to the plain-line scanner. */
const enum Cls {
  /** Part of a plain word. */
  Word = 0,
  /** Space, tab, CR, VT, FF: separates words. */
  Blank = 1,
  /** `#` or `!`: a comment to the end of the line. */
  Comment = 2,
  LBrace = 3,
  RBrace = 4,
  /** A quote (scanned by closingQuote), a backslash or a control character (the line goes to chevrotain). */
  Complex = 5,
  Newline = 6,
}

/** Every byte's class: bytes 128-255 (only in a text with non-ASCII characters) are Complex. */
const CLASS = (() => {
  const t = new Uint8Array(256).fill(Cls.Complex);
  t.fill(Cls.Word, 32, 127);
  t[10] = Cls.Newline;
  for (const c of [9, 11, 12, 13, 32]) t[c] = Cls.Blank;
  t[35] = Cls.Comment; // #
  t[33] = Cls.Comment; // !
  t[123] = Cls.LBrace;
  t[125] = Cls.RBrace;
  for (const c of [34, 39, 92]) t[c] = Cls.Complex; // " ' \
  return t;
})();

function kindOf(type: TokenType, image: string): Tok | undefined {
  const k = vocab().kinds.get(type);
  if (k === Tok.Word && !/["'\\]/.test(image)) return Tok.PlainWord;
  return k;
}

const DOUBLE_QUOTE = 34;
const SINGLE_QUOTE = 39;
const BACKSLASH = 92;

/**
 * Where the quoted segment opened at `open` closes, or -1 when chevrotain must read the line:
 * no closing quote before `stop` or the line's end (an unterminated quote), or a backslash,
 * a control or a non-ASCII byte inside (an escape, or text only chevrotain classifies).
 */
function closingQuote(bytes: Uint8Array, open: number, stop: number): number {
  const quote = bytes[open]!;
  for (let j = open + 1; j < stop; j++) {
    const c = bytes[j]!;
    if (c === quote) return j;
    if (c === BACKSLASH || c > 126 || (c < 32 && c !== 9)) return -1;
  }
  return -1;
}

/** Lex one line (no '\n' in it) with chevrotain, offsets shifted by `base`. */
function lexLineWithChevrotain(text: string, base: number, out: TokenBuffer): void {
  const r = tokenizeWithChevrotain(text);
  for (const t of r.tokens) {
    const k = kindOf(t.tokenType, t.image);
    if (k !== undefined) out.push(k, base + t.startOffset, base + t.startOffset + t.image.length);
  }
  for (const e of r.errors) out.errors.push({ offset: base + e.offset, code: 'lex', message: e.message });
}

/**
 * Tokenize a whole text. Each line is scanned by hand while it holds only ASCII words, closed
 * quotes, braces, blanks and comments; on the first backslash, unclosed quote, control or
 * non-ASCII character the line's tokens are discarded and the line is handed to chevrotain.
 */
export function lex(text: string | Source): TokenStream {
  const source = typeof text === 'string' ? Source.ofText(text) : text;
  const out = new TokenBuffer(Math.ceil(source.size / 5));
  lexLines(source, 0, out, Infinity);
  return out;
}

/**
 * Lexes a text a batch of lines at a time into one reused buffer, for a consumer that
 * walks the tokens once: the token arrays of a whole big config (millions of tokens, tens of
 * megabytes) never exist at once.
 */
export class TokenReader {
  /** The current batch: whole lines, their newlines included. */
  readonly batch: TokenBuffer;
  readonly source: Source;
  private next = 0;

  constructor(
    text: string | Source,
    private readonly batchTokens = 8192,
  ) {
    this.source = typeof text === 'string' ? Source.ofText(text) : text;
    this.batch = new TokenBuffer(batchTokens);
  }

  /** Replaces the batch with the tokens of the next lines; false when the text is done. */
  read(): boolean {
    const source = this.source;
    if (source.atEnd && this.next > source.base + source.size) return false;
    this.batch.count = 0;
    this.batch.errors.length = 0;
    source.ensure(this.next, false);
    let next = lexLines(source, this.next, this.batch, this.batchTokens);
    // no whole line in the window: read on until one ends, or skip it once it is too long
    while (next === this.next) {
      if (source.base + source.size - this.next > MAX_LINE_BYTES) {
        this.batch.errors.push({ offset: this.next, code: 'line-too-long', message: LINE_TOO_LONG });
        this.next = source.skipLine(this.next);
        source.ensure(this.next, false);
      } else {
        source.ensure(this.next, true);
      }
      next = lexLines(source, this.next, this.batch, this.batchTokens);
    }
    this.next = next;
    return true;
  }
}

/**
 * Lexes whole lines from `from` until `out` holds `budget` tokens or more; returns where the
 * next line starts (past the end when the text is done). Stops before a line that does not
 * end in the source's window (unless the text ends there), so it returns `from` when the
 * window holds no whole line.
 */
function lexLines(source: Source, from: number, out: TokenBuffer, budget: number): number {
  const bytes = source.bytes;
  const base = source.base;
  const n = source.size;
  const atEnd = source.atEnd;
  // local offsets in the window; tokens get text offsets (local + base)
  let lineStart = from - base;
  while (lineStart <= n && out.count < budget) {
    // room for the line's tokens: a line of k bytes has k + 1 at most (with its newline)
    const room = Math.min(n - lineStart, MAX_PLAIN_LINE);
    if (out.kind.length - out.count <= room) out.grow(room + 1);
    const kind = out.kind;
    const start = out.start;
    const end = out.end;
    const firstTok = out.count;
    let count = firstTok;
    let i = lineStart;
    let complex = false;
    let cls = Cls.Blank;
    const stop = Math.min(n, lineStart + MAX_PLAIN_LINE);
    while (i < stop) {
      cls = CLASS[bytes[i]!]!;
      if (cls === Cls.Blank) {
        i++;
      } else if (cls === Cls.Word || bytes[i] === DOUBLE_QUOTE || bytes[i] === SINGLE_QUOTE) {
        // a word: plain characters and closed quoted segments, as chevrotain's Word and
        // QuotedString patterns read them (blanks, braces and comment starters inside quotes)
        const s = i;
        let quotes = false;
        while (i < stop) {
          const b = bytes[i]!;
          if ((cls = CLASS[b]!) === Cls.Word) {
            i++;
          } else if (b === DOUBLE_QUOTE || b === SINGLE_QUOTE) {
            const close = closingQuote(bytes, i, stop);
            if (close < 0) break;
            quotes = true;
            i = close + 1;
            cls = Cls.Word;
          } else {
            break;
          }
        }
        // a backslash, an unclosed quote or a control character in or after the word
        if (cls === Cls.Complex) {
          complex = true;
          break;
        }
        kind[count] = !quotes ? Tok.PlainWord : bytes[s] === DOUBLE_QUOTE || bytes[s] === SINGLE_QUOTE ? Tok.Quoted : Tok.Word;
        start[count] = base + s;
        end[count++] = base + i;
      } else if (cls === Cls.LBrace || cls === Cls.RBrace) {
        kind[count] = cls === Cls.LBrace ? Tok.LBrace : Tok.RBrace;
        start[count] = base + i;
        end[count++] = base + ++i;
      } else {
        if (cls === Cls.Complex) complex = true;
        break; // the line's end, a comment (to the line's end) or a line for chevrotain
      }
    }
    out.count = count;
    // a line too long to have room for its tokens: chevrotain has no such limit
    if (i === stop && stop < n) complex = true;
    let lineEnd = i;
    if (cls !== Cls.Newline) while (lineEnd < n && bytes[lineEnd] !== 10) lineEnd++;
    if (lineEnd === n && !atEnd) {
      out.count = firstTok; // the line goes on past the window
      break;
    }
    if (complex) {
      out.count = firstTok;
      if (lineEnd - lineStart > MAX_LINE_BYTES) out.errors.push({ offset: base + lineStart, code: 'line-too-long', message: LINE_TOO_LONG });
      else lexLineWithChevrotain(source.slice(base + lineStart, base + lineEnd), base + lineStart, out);
    }
    if (lineEnd < n) out.push(Tok.Newline, base + lineEnd, base + lineEnd + 1);
    lineStart = lineEnd + 1;
  }
  return base + lineStart;
}

/** Lex with chevrotain only (the reference the fast path is checked against). */
export function lexWithChevrotainOnly(text: string): TokenStream {
  const out = new TokenBuffer();
  const r = tokenizeWithChevrotain(text);
  for (const t of r.tokens) {
    const k = kindOf(t.tokenType, t.image);
    if (k !== undefined) out.push(k, t.startOffset, t.startOffset + t.image.length);
  }
  for (const e of r.errors) out.errors.push({ offset: e.offset, code: 'lex', message: e.message });
  return out;
}

export interface DecodedWord {
  text: string;
  quoted: boolean;
  /** Offset in the image of an opening quote that is never closed, or -1. */
  unterminatedAt: number;
}

// Outside quotes a backslash makes the next character literal only for the characters the
// config syntax gives a meaning to (comment starters, braces, quotes, blanks, backslash, `$`);
// any other backslash stays as written, since keepalived passes such text through (regexes,
// script arguments). Inside quotes only the quote character and backslash are escapable.
const ESCAPABLE_OUTSIDE = new Set(['#', '!', '{', '}', '"', "'", '\\', ' ', '\t', '$']);

/** Turn a word's source text into its value: quotes removed, escapes resolved. */
export function decodeWord(image: string): DecodedWord {
  let quoted = false;
  if (image.indexOf('"') < 0 && image.indexOf("'") < 0 && image.indexOf('\\') < 0) {
    return { text: image, quoted, unterminatedAt: -1 };
  }
  let text = '';
  let unterminatedAt = -1;
  let i = 0;
  const n = image.length;
  while (i < n) {
    const ch = image[i];
    if (ch === '"' || ch === "'") {
      quoted = true;
      const open = i;
      i++;
      let closed = false;
      while (i < n) {
        const d = image[i];
        if (d === '\\' && i + 1 < n && (image[i + 1] === ch || image[i + 1] === '\\')) {
          text += image[i + 1];
          i += 2;
        } else if (d === ch) {
          closed = true;
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      if (!closed && unterminatedAt < 0) unterminatedAt = open;
    } else if (ch === '\\' && i + 1 < n && ESCAPABLE_OUTSIDE.has(image[i + 1]!)) {
      text += image[i + 1];
      i += 2;
    } else {
      text += ch;
      i++;
    }
  }
  return { text, quoted, unterminatedAt };
}
