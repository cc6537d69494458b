// What the lexer reads: one byte per UTF-16 code unit of the config text, so an offset means
// the same in the bytes and in the text.
//
// An ASCII file with nothing for the preprocessor (no `$`, `include`, `@` or `~`: the usual
// big config) is streamed from the file through a small window, never decoded into a string
// nor held whole: decoding the 12.8 MB of a 660,000-line config as UTF-8 cost ~110 ms, and
// reading it into one buffer ~40 ms more, most of it first-touch page faults (~11 µs a page
// on the VMs this runs on). Any other text is preprocessed into a string first; its bytes
// are then the text with each non-ASCII unit as 0x80 (which sends its line to chevrotain).
import { isAscii } from 'node:buffer';
import * as fs from 'node:fs';

/** The file changed between the scan that found it plain and the read that lexes it. */
export class SourceChangedError extends Error {}

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

  private constructor(
    bytes: Buffer,
    size: number,
    /** null when the bytes are the text (all ASCII): `slice` decodes them then. */
    private readonly text: string | null,
    private readonly file: { fd: number; length: number } | null,
  ) {
    this.bytes = bytes;
    this.size = size;
    this.atEnd = file === null;
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

  /**
   * The text of [s, e) (within the window) as a string of its own. V8 makes a slice of 13 or
   * more characters of a string a view into it, so a few words kept in the model would keep
   * the whole config text alive; going through a concatenation copies it.
   */
  slice(s: number, e: number): string {
    const text = this.text;
    if (text === null) return this.bytes.toString('latin1', s - this.base, e - this.base);
    return e - s < 13 ? text.slice(s, e) : (' ' + text.slice(s, e)).slice(1);
  }

  /**
   * Makes the window start at `from` (the next line to lex; what is before it is done with)
   * and hold a quarter window after it, or the end of the text. With `more`, the window must
   * grow past what it holds: the line at `from` does not end in it.
   */
  ensure(from: number, more: boolean): void {
    if (this.file === null || this.atEnd) return;
    const done = from - this.base;
    if (!more && this.size - done >= this.bytes.length >> 2) return;
    if (done > 0) {
      this.bytes.copyWithin(0, done, this.size);
      this.size -= done;
      this.base = from;
    } else if (this.size === this.bytes.length) {
      // one line longer than the window
      const bigger = Buffer.allocUnsafe(this.bytes.length * 2);
      this.bytes.copy(bigger, 0, 0, this.size);
      this.bytes = bigger;
    }
    this.fill();
  }

  private fill(): void {
    const { fd, length } = this.file!;
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
 * preprocessor (no `$`, `@`, `~` or `include`), else -1.
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

/** Bytes that are plain as a whole (scanPlainFile's test on a file already in memory). */
export function isPlainText(bytes: Buffer): boolean {
  return isPlain(bytes, 0, bytes.length);
}

function isPlain(bytes: Buffer, s: number, e: number): boolean {
  const b = bytes.subarray(s, e);
  return isAscii(b) && b.indexOf(36) < 0 && b.indexOf(64) < 0 && b.indexOf(126) < 0 && b.indexOf('include') < 0;
}
