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
  return validateBuilt(buildConfig(statements, { files, hostname, tolerant }), files, frontEnd, hostInterfaces, tolerant);
}

/** Validation and the verdict, once the builder has seen every statement. */
export function validateBuilt(
  built: BuildResult, files: string[], frontEnd: Diagnostic[], hostInterfaces: ReadonlySet<string> | null,
  tolerant = false,
): LoadResult {
  const { config, facts, diags } = built;
  validateConfig(config, facts, diags);
  if (hostInterfaces) checkInterfaces(config, facts, hostInterfaces, diags);
  const diagnostics = sortDiagnostics([...frontEnd, ...diags.list], files);
  // Front-end errors (quotes, includes, macros, a missing `}`) and cross-checks are never
  // skippable, except a `}` that closes nothing: keepalived logs "Extra '}' found" and reads on.
  const left = (d: Diagnostic) => diags.skippable.has(d) || (frontEnd.includes(d) && d.code === 'unexpected-close-brace');
  const fatal = (d: Diagnostic) => d.severity === 'error' && !(tolerant && (left(d) || diags.tolerated.has(d)));
  if (diagnostics.some(fatal)) return { config: null, diagnostics };
  if (tolerant) {
    for (const d of diagnostics) {
      if (d.severity !== 'error') continue;
      // consumers treat both alike: the daemon goes on (`tolerated` says it kept the statement)
      d.ignored = true;
      if (diags.tolerated.has(d)) d.tolerated = true;
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

