// The syntax tree the front end (preprocess + lex + parse) hands to the model builder.
// It knows nothing about keywords: a statement is a first word, the rest of its line, and
// an optional `{ }` block. List blocks (virtual_ipaddress, unicast_peer, group, ...) come
// out the same way: each line is a Statement whose `keyword` is its first word.
import { MAX_DIAGNOSTICS, STOPPED_CODES } from './limits.js';
import type { SourcePos } from './model.js';

export interface Word {
  /** Text after macro expansion, quotes removed. */
  text: string;
  /** Written inside "..." or '...' (so `#`, `!`, spaces and braces were literal). */
  quoted: boolean;
  pos: SourcePos;
}

export interface Statement {
  keyword: Word;
  args: Word[];
  /** null when the statement has no `{ }` block. */
  block: Statement[] | null;
  /** Position of the `{` that opened the block, if any. */
  blockOpen: SourcePos | null;
  pos: SourcePos;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  /** Stable machine-readable kind, e.g. `unknown-keyword`, `unclosed-brace`, `range`. */
  code: string;
  pos: SourcePos;
  message: string;
  /**
   * Only in a tolerant load (LoadOptions.tolerant) that built a config anyway: this error's
   * statement was left out, as keepalived skips it at start.
   */
  ignored?: true;
  /**
   * Only in a tolerant load that built a config, with `ignored`: keepalived logs this error and starts,
   * working around it as the message says (the rest of a line ignored, a default set, a
   * duplicate or an undefined reference left out); the config was built the same way.
   */
  tolerated?: true;
}

export interface ParsedFile {
  statements: Statement[];
  diagnostics: Diagnostic[];
  /** Every file read: the main one first, then includes in read order. */
  files: string[];
  /** Diagnostics past the cap (MAX_DIAGNOSTICS): counted, not kept. */
  omitted?: OmittedDiagnostics;
}

/** What a capped list left out. */
export interface OmittedDiagnostics {
  errors: number;
  warnings: number;
  /** Where the first one left out was. */
  first: SourcePos | null;
}

/** A list of diagnostics that keeps the first `cap` (and those of STOPPED_CODES) and counts the rest. */
export class DiagnosticList {
  readonly list: Diagnostic[] = [];
  readonly omitted: OmittedDiagnostics = { errors: 0, warnings: 0, first: null };

  constructor(private readonly cap = MAX_DIAGNOSTICS) {}

  /** The cap is reached: further diagnostics are only counted (their text need not be made). */
  get full(): boolean {
    return this.list.length >= this.cap;
  }

  /** Keeps `d`, or counts it when the list is full; returns whether it was kept. */
  push(d: Diagnostic): boolean {
    if (this.list.length < this.cap || STOPPED_CODES.has(d.code)) {
      this.list.push(d);
      return true;
    }
    this.omit(d.severity, d.pos);
    return false;
  }

  /** Counts a diagnostic past the cap without making it. */
  omit(severity: Diagnostic['severity'], pos: SourcePos): void {
    if (severity === 'error') this.omitted.errors++;
    else this.omitted.warnings++;
    this.omitted.first ??= pos;
  }
}

/** `file:line:column: severity: message` — the one format every report uses. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.pos.file}:${d.pos.line}:${d.pos.column}: ${d.severity}: ${d.message}`;
}
