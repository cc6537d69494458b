// What the lexer reads: one byte per UTF-16 code unit of the config text, so an offset means
// the same in the bytes and in the text.
//
// The bytes are a window that moves through the text: the text of a big file, or the
// preprocessor's output (read from it a piece at a time), is never held whole. A line
// longer than MAX_LINE_BYTES is skipped without being held, and the text ends at
// MAX_CONFIG_BYTES (`truncated`).
//
// An ASCII file with nothing for the preprocessor (no `$`, `include`, `@` or `~`: the usual
// big config) is streamed from the file through a small window, never decoded into a string
// nor held whole: decoding a big config as UTF-8, and even reading it into one buffer (its
// first-touch page faults), cost a large share of the front end's time (bench/parse.mjs;
// bench/README.md, "Config front end"). Any other text is preprocessed into a string first; its bytes
// are then the text with each non-ASCII unit as 0x80 (which sends its line to chevrotain).
import { isAscii } from 'node:buffer';
import * as fs from 'node:fs';
import { MAX_CONFIG_BYTES } from './limits.js';

/** The file changed between the scan that found it plain and the read that lexes it. */
export class SourceChangedError extends Error {}

/** A file longer than its reader may read. */
export class FileTooLargeError extends Error {
  constructor(readonly size: number) {
    super(`file longer than allowed (${size} bytes)`);
  }
}

/** A file holding a NUL byte: no config (a program, an image, a binary /proc file). */
export class NotTextError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
  ) {
    super('not a text file (it holds a NUL byte); it is not read');
  }
}

/** Pieces of text (each gets a newline after it); null when there are no more. */
export type TextFeed = () => string | null;

const NON_ASCII = /[^\x00-\x7f]/;

/** Bytes read at a time; the window is refilled when less than a quarter is left to lex. */
const WINDOW = 256 * 1024;
/** Longest text `include` a read may split (the word's length minus one). */
const INCLUDE_OVERLAP = 6;

export class Source {
  /** The text's bytes from `base` on: `size` bytes of them are valid. */
  bytes: Buffer;
  base = 0;
  size: number;
  /** The window holds the end of the text. */
  atEnd: boolean;
  /** The text went on past MAX_CONFIG_BYTES: it was cut there. */
  truncated = false;
  /** A piece of the feed's text not yet in the window, from `pendingAt` on. */
  private pending = '';
  private pendingAt = 0;
  private newlineOwed = false;

  private constructor(
    bytes: Buffer,
    size: number,
    /**
     * The window's text, aligned with `bytes` (the whole text when there is no window);
     * null when the window is all ASCII: `slice` decodes the bytes then.
     */
    private chars: string | null,
    private readonly file: { fd: number; length: number } | null,
    private readonly feed: TextFeed | null = null,
  ) {
    this.bytes = bytes;
    this.size = size;
    this.atEnd = file === null && feed === null;
  }

  /** Bytes known to be ASCII. */
  static ofAscii(bytes: Buffer): Source {
    return new Source(bytes, bytes.length, null, null);
  }

  static ofText(text: string): Source {
    const bytes = Buffer.allocUnsafe(text.length);
    let ascii = true;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 128) bytes[i] = c;
      else {
        bytes[i] = 0x80;
        ascii = false;
      }
    }
    return new Source(bytes, bytes.length, ascii ? null : text, null);
  }

  /**
   * A file scanPlainFile found plain, read again as it is lexed (through `window`); it stays
   * open until the text is done. Throws SourceChangedError if it is no longer plain or its
   * length changed.
   */
  static ofPlainFile(fd: number, length: number, window: Buffer): Source {
    const s = new Source(window, 0, null, { fd, length });
    s.fill();
    return s;
  }

  /** Text read from `feed` as it is lexed (the preprocessor's output). */
  static ofFeed(feed: TextFeed, window = newWindow()): Source {
    const s = new Source(window, 0, null, null, feed);
    s.fill();
    return s;
  }

  /**
   * The text of [s, e) (within the window) as a string of its own. V8 makes a slice of 13 or
   * more characters of a string a view into it, so a few words kept in the model would keep
   * the whole config text alive; going through a concatenation copies it.
   */
  slice(s: number, e: number): string {
    const chars = this.chars;
    if (chars === null) return this.bytes.toString('latin1', s - this.base, e - this.base);
    const from = s - this.base;
    const to = e - this.base;
    return e - s < 13 ? chars.slice(from, to) : (' ' + chars.slice(from, to)).slice(1);
  }

  /**
   * Makes the window start at `from` (the next line to lex; what is before it is done with)
   * and hold a quarter window after it, or the end of the text. With `more`, the window must
   * grow past what it holds: the line at `from` does not end in it.
   */
  ensure(from: number, more: boolean): void {
    if (this.atEnd) return;
    const done = from - this.base;
    if (!more && this.size - done >= this.bytes.length >> 2) return;
    if (done > 0) {
      this.drop(done);
    } else if (this.size === this.bytes.length) {
      // one line longer than the window
      const bigger = Buffer.allocUnsafe(this.bytes.length * 2);
      this.bytes.copy(bigger, 0, 0, this.size);
      this.bytes = bigger;
    }
    this.fill();
  }

  /**
   * Skips the line at `from` (one too long to lex) without holding it: returns the offset
   * of the newline that ends it, or of the text's end.
   */
  skipLine(from: number): number {
    for (;;) {
      const k = this.bytes.subarray(0, this.size).indexOf(10, from - this.base);
      if (k >= 0) return this.base + k;
      if (this.atEnd) return this.base + this.size;
      this.drop(this.size);
      this.fill();
      from = this.base;
    }
  }

  /** Drops the window's first `done` bytes (lexed already). */
  private drop(done: number): void {
    this.bytes.copyWithin(0, done, this.size);
    this.size -= done;
    this.base += done;
    if (this.chars !== null) this.chars = isAscii(this.bytes.subarray(0, this.size)) ? null : this.chars.slice(done);
  }

  private fill(): void {
    const room = MAX_CONFIG_BYTES - this.base;
    if (room < this.bytes.length) {
      // the window may not go past the bound: the text is cut there
      if (this.size >= room) {
        this.truncated = !this.atEnd;
        this.atEnd = true;
        return;
      }
      this.bytes = this.bytes.subarray(0, room);
    }
    if (this.feed !== null) this.fillFromFeed(this.feed);
    else if (this.file !== null) this.fillFromFile(this.file);
  }

  private fillFromFeed(feed: TextFeed): void {
    const bytes = this.bytes;
    while (this.size < bytes.length) {
      if (this.pendingAt >= this.pending.length) {
        if (this.newlineOwed) {
          this.newlineOwed = false;
          bytes[this.size++] = 10;
          if (this.chars !== null) this.chars += '\n';
          continue;
        }
        const next = feed();
        if (next === null) {
          this.atEnd = true;
          return;
        }
        this.pending = next;
        this.pendingAt = 0;
        this.newlineOwed = true;
        continue;
      }
      const take = Math.min(bytes.length - this.size, this.pending.length - this.pendingAt);
      const chunk = this.pending.slice(this.pendingAt, this.pendingAt + take);
      this.pendingAt += take;
      if (this.chars === null && !NON_ASCII.test(chunk)) {
        bytes.write(chunk, this.size, take, 'latin1');
      } else {
        this.chars ??= bytes.toString('latin1', 0, this.size);
        this.chars += chunk;
        for (let i = 0; i < take; i++) {
          const c = chunk.charCodeAt(i);
          bytes[this.size + i] = c < 128 ? c : 0x80;
        }
      }
      this.size += take;
    }
  }

  private fillFromFile(file: { fd: number; length: number }): void {
    const { fd, length } = file;
    while (this.size < this.bytes.length) {
      const n = fs.readSync(fd, this.bytes, this.size, this.bytes.length - this.size, this.base + this.size);
      if (n === 0) {
        if (this.base + this.size !== length) throw new SourceChangedError('the file changed while it was read');
        this.atEnd = true;
        return;
      }
      if (!isPlain(this.bytes, Math.max(0, this.size - INCLUDE_OVERLAP), this.size + n)) {
        throw new SourceChangedError('the file changed while it was read');
      }
      this.size += n;
    }
  }
}

/** A window for ofPlainFile, also used by scanPlainFile (tests try small ones). */
export function newWindow(size = WINDOW): Buffer {
  return Buffer.allocUnsafe(Math.max(size, 2 * INCLUDE_OVERLAP));
}

/**
 * Reads the file through `window`: its length when it is all ASCII with nothing for the
 * preprocessor (no `$`, `@`, `~` or `include`) and no NUL (refused by the preprocessor), else -1.
 */
export function scanPlainFile(fd: number, window: Buffer): number {
  let length = 0;
  let kept = 0;
  for (;;) {
    const n = fs.readSync(fd, window, kept, window.length - kept, length);
    if (n === 0) return length;
    if (!isPlain(window, 0, kept + n)) return -1;
    length += n;
    // the end of this read stays, in case an `include` starts there
    const total = kept + n;
    kept = Math.min(INCLUDE_OVERLAP, total);
    window.copyWithin(0, total - kept, total);
  }
}

function isPlain(bytes: Buffer, s: number, e: number): boolean {
  const b = bytes.subarray(s, e);
  return isAscii(b) && b.indexOf(36) < 0 && b.indexOf(64) < 0 && b.indexOf(126) < 0 && b.indexOf(0) < 0 && b.indexOf('include') < 0;
}

/**
 * The text of a file read whole (UTF-8), refused with FileTooLargeError past `maxBytes`
 * before more than that is read, and with NotTextError at its first NUL byte (a binary file
 * is refused on its first read, not read whole). Its size is not trusted (files in /proc
 * say 0 and can be endless), and it is opened non-blocking, so a file that would wait for
 * data (/proc/kmsg) fails instead of hanging the load.
 */
export function readTextFile(file: string, maxBytes: number): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    return readTextFd(fd, maxBytes);
  } finally {
    fs.closeSync(fd);
  }
}

/** Bytes read at once by readTextFd. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** readTextFile on an open file. */
export function readTextFd(fd: number, maxBytes: number): string {
  const size = fs.fstatSync(fd).size;
  if (size > maxBytes) throw new FileTooLargeError(size);
  let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(size + 1, 64 * 1024)));
  let total = 0;
  for (;;) {
    if (total === buf.length) {
      if (total > maxBytes) throw new FileTooLargeError(total);
      const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
      buf.copy(bigger, 0, 0, total);
      buf = bigger;
    }
    // a bounded read each time, so a binary file's first NUL (in its first bytes, for most)
    // refuses it before the rest of it is read
    const n = fs.readSync(fd, buf, total, Math.min(buf.length - total, READ_CHUNK_BYTES), null);
    if (n === 0) break;
    const nul = buf.subarray(0, total + n).indexOf(0, total);
    total += n;
    if (nul >= 0) throw notTextAt(buf, nul);
  }
  return buf.toString('utf8', 0, total);
}

/** The NotTextError for the NUL at `nul` of a text or of its UTF-8 bytes. */
export function notTextAt(text: string | Buffer, nul: number): NotTextError {
  const nextLine = (from: number) => (typeof text === 'string' ? text.indexOf('\n', from) : text.indexOf(10, from));
  let line = 1;
  let lineStart = 0;
  for (let i = nextLine(0); i >= 0 && i < nul; i = nextLine(i + 1)) {
    line++;
    lineStart = i + 1;
  }
  const column = typeof text === 'string' ? nul - lineStart + 1 : text.toString('utf8', lineStart, nul).length + 1;
  return new NotTextError(line, column);
}
