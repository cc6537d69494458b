// Build + validate, the pure half of loadConfig: statements in, model and every diagnostic out.
import type { Diagnostic, Statement } from './ast.js';
import { buildConfig, type BuildResult } from './build.js';
import type { KeepalivedConfig } from './model.js';
import { checkInterfaces, validateConfig } from './validate.js';

export interface LoadResult {
  /**
   * null when there is any error; in a tolerant load, when there is an error other than
   * the skippable ones (those then carry `ignored: true`).
   */
  config: KeepalivedConfig | null;
  diagnostics: Diagnostic[];
}

/** The pure part of loadConfig: statements in, model and every diagnostic out. */
export function buildAndValidate(
  statements: Statement[], files: string[], frontEnd: Diagnostic[], hostname: string,
  hostInterfaces: ReadonlySet<string> | null, tolerant = false,
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
  built: BuildResult, files: string[], frontEnd: Diagnostic[], host: HostFacts, tolerant = false,
): LoadResult {
  const { config, facts, diags } = built;
  validateConfig(config, facts, diags);
  if (host.hostInterfaces) checkInterfaces(config, facts, host.hostInterfaces, diags, tolerant);
  const diagnostics = sortDiagnostics([...frontEnd, ...diags.list], files);
  for (const d of frontEnd) {
    const does = d.severity === 'error' ? FRONT_END_TOLERATED.get(d.code) : undefined;
    if (does) d.message += `; ${does}`;
  }
  const worksAround = (d: Diagnostic) => diags.tolerated.has(d) || (d.severity === 'error' && FRONT_END_TOLERATED.has(d.code) && frontEnd.includes(d));
  const fatal = (d: Diagnostic) => d.severity === 'error' && !(tolerant && (diags.skippable.has(d) || worksAround(d)));
  if (diagnostics.some(fatal)) return { config: null, diagnostics };
  if (tolerant) {
    for (const d of diagnostics) {
      if (d.severity !== 'error') continue;
      // consumers treat both alike: the daemon goes on (`tolerated` says it kept the statement)
      d.ignored = true;
      if (worksAround(d)) d.tolerated = true;
    }
  }
  return { config, diagnostics };
}

/** File order (main first), then line and column; stable for equal positions. */
export function sortDiagnostics(list: Diagnostic[], files: string[]): Diagnostic[] {
  const rank = (f: string) => {
    const i = files.indexOf(f);
    return i < 0 ? files.length : i;
  };
  return list
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d.pos.file) - rank(b.d.pos.file) || a.d.pos.line - b.d.pos.line || a.d.pos.column - b.d.pos.column || a.i - b.i)
    .map((x) => x.d);
}

