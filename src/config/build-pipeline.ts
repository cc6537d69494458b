// Build + validate, the pure half of loadConfig: statements in, model and every diagnostic out.
import type { Diagnostic, OmittedDiagnostics, Statement } from './ast.js';
import { buildConfig, type BuildResult } from './build.js';
import { formatCount, MAX_DIAGNOSTICS, STOPPED_CODES } from './limits.js';
import type { KeepalivedConfig, SourcePos } from './model.js';
import { checkInterfaces, validateConfig } from './validate.js';

export interface LoadResult {
  /**
   * null when there is any error; in a tolerant load, when there is an error other than
   * the skippable ones (those then carry `ignored: true`).
   */
  config: KeepalivedConfig | null;
  /**
   * The first MAX_DIAGNOSTICS diagnostics in file order, then, when there were more, one
   * saying how many more (code `more-diagnostics`).
   */
  diagnostics: Diagnostic[];
  /** Errors found, listed or not. */
  errorCount: number;
}

/** The pure part of loadConfig: statements in, model and every diagnostic out. */
export function buildAndValidate(
  statements: Statement[],
  files: string[],
  frontEnd: Diagnostic[],
  hostname: string,
  hostInterfaces: ReadonlySet<string> | null,
  tolerant = false,
): LoadResult {
  return validateBuilt(buildConfig(statements, { files, hostname, tolerant }), files, frontEnd, { hostInterfaces }, tolerant);
}

/** What the host has, for the checks keepalived makes against it (null: not checked). */
export interface HostFacts {
  hostInterfaces: ReadonlySet<string> | null;
}

/**
 * Front-end errors keepalived reads on from, doing what the front end does too: a `}` that
 * closes nothing ("Extra '}' found"), a block still open at the end of the file (its end
 * handlers run there: "There are N missing '}'s"), an undefined `$NAME` (kept as written).
 * Every other front-end error (quotes, includes, macro definitions) stops the daemon.
 */
const FRONT_END_TOLERATED = new Map([
  ['unexpected-close-brace', 'keepalived reports it and reads on'],
  ['unclosed-brace', 'keepalived reads it to the end of the file and closes it there'],
  ['macro-undefined', 'keepalived keeps it as written'],
]);

/** Validation and the verdict, once the builder has seen every statement. */
export function validateBuilt(
  built: BuildResult,
  files: string[],
  frontEnd: Diagnostic[],
  host: HostFacts,
  tolerant = false,
  frontEndOmitted?: OmittedDiagnostics,
): LoadResult {
  const { config, facts, diags } = built;
  validateConfig(config, facts, diags);
  if (host.hostInterfaces) checkInterfaces(config, facts, host.hostInterfaces, diags, tolerant);
  for (const d of frontEnd) {
    const does = d.severity === 'error' ? FRONT_END_TOLERATED.get(d.code) : undefined;
    if (does) d.message += `; ${does}`;
  }
  const order = positionOrder(files);
  const diagnostics = [...frontEnd, ...diags.list].sort(order);
  // each list kept the first MAX_DIAGNOSTICS it found (nearly in file order); list as many,
  // and after them the errors that say where reading stopped
  const past = diagnostics.splice(MAX_DIAGNOSTICS);
  const over = past.filter((d) => !STOPPED_CODES.has(d.code));
  for (const d of past) if (STOPPED_CODES.has(d.code)) diagnostics.push(d);
  const errors = (list: Diagnostic[]) => list.reduce((n, d) => n + (d.severity === 'error' ? 1 : 0), 0);
  const omitted: OmittedDiagnostics = {
    errors: (frontEndOmitted?.errors ?? 0) + diags.omitted.errors + errors(over),
    warnings: (frontEndOmitted?.warnings ?? 0) + diags.omitted.warnings + over.length - errors(over),
    first: [frontEndOmitted?.first, diags.omitted.first, over[0]?.pos].reduce<SourcePos | null>(
      (a, p) => (p != null && (a === null || order({ pos: p }, { pos: a }) < 0) ? p : a),
      null,
    ),
  };
  const errorCount = errors(diagnostics) + omitted.errors;
  const worksAround = (d: Diagnostic) => diags.tolerated.has(d) || (d.severity === 'error' && FRONT_END_TOLERATED.has(d.code) && frontEnd.includes(d));
  // other front-end errors (quotes, includes, macros) and cross-checks are never skippable
  const fatal = (d: Diagnostic) => d.severity === 'error' && !(tolerant && (diags.skippable.has(d) || worksAround(d)));
  const omittedFatal = (frontEndOmitted?.errors ?? 0) > 0 || (tolerant ? diags.omittedUnskipped : diags.omitted.errors) > 0;
  const usable = !omittedFatal && !diagnostics.some(fatal) && !over.some(fatal);
  if (omitted.first !== null) diagnostics.push(moreDiagnostics(omitted));
  if (usable && tolerant) {
    for (const d of diagnostics) {
      if (d.severity !== 'error') continue;
      // consumers treat both alike: the daemon goes on (`tolerated` says it kept the statement);
      // the summary too: every error it counts was one of them
      d.ignored = true;
      if (worksAround(d)) d.tolerated = true;
    }
  }
  return { config: usable ? config : null, diagnostics, errorCount };
}

/** The last line of a capped report: how many more there were, placed at the first of them. */
function moreDiagnostics(o: OmittedDiagnostics): Diagnostic {
  const parts: string[] = [];
  if (o.errors > 0) parts.push(`${formatCount(o.errors)} more error${o.errors === 1 ? '' : 's'}`);
  if (o.warnings > 0) parts.push(`${formatCount(o.warnings)} more warning${o.warnings === 1 ? '' : 's'}`);
  return {
    severity: o.errors > 0 ? 'error' : 'warning',
    code: 'more-diagnostics',
    pos: o.first!,
    message: `... and ${parts.join(' and ')}, the first here, not listed (only the first ${formatCount(MAX_DIAGNOSTICS)} are)`,
  };
}

/** File order (main first), then line and column. */
function positionOrder(files: string[]): (a: { pos: SourcePos }, b: { pos: SourcePos }) => number {
  const rank = new Map(files.map((f, i) => [f, i]));
  const r = (f: string) => rank.get(f) ?? files.length;
  return (a, b) => r(a.pos.file) - r(b.pos.file) || a.pos.line - b.pos.line || a.pos.column - b.pos.column;
}

/** File order (main first), then line and column; stable for equal positions. */
export function sortDiagnostics(list: Diagnostic[], files: string[]): Diagnostic[] {
  return [...list].sort(positionOrder(files));
}
