// The config component's entry point: read (front end), build (schema + defaults), validate.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { Statement } from './ast.js';
import { ConfigBuilder } from './build.js';
import { validateBuilt } from './build-pipeline.js';
import type { LoadResult } from './build-pipeline.js';
import { parseConfigFile, type ParseOptions } from './parser.js';

export type { KeepalivedConfig } from './model.js';
export type { Diagnostic } from './ast.js';
export { formatDiagnostic } from './ast.js';
export { buildAndValidate, sortDiagnostics } from './build-pipeline.js';

export interface LoadOptions {
  /** `-i` config id for `@ID` lines; default: the front end's (keepalived's host name rule). */
  configId?: string;
  /** Default router_id / smtp_helo_name; default the host name. */
  hostname?: string;
  /**
   * Interfaces present on the host, against which the interfaces the config names are
   * checked; null: not checked. Default: not checked by `-t`-style reading, and this host's
   * (hostInterfaces()) for the start-up reading (`tolerant`), which the daemon's start and
   * reload use: keepalived's VRRP process refuses a config naming a missing interface.
   */
  hostInterfaces?: ReadonlySet<string> | null;
  /**
   * Start-up reading, as keepalived's daemon reads a config (`-t` is strict, as keepalived's
   * `-t`). A statement whose keyword is unknown (also: in the wrong block, an old spelling
   * not accepted there) or whose words are refused by the keyword schema (bad value, missing
   * or extra word) is left out and the config is built without
   * it, its defaults standing. Its diagnostic is returned as usual (`error`, same message:
   * unknown keywords say "did you mean ...?") and carries `ignored: true`.
   * Still fatal (config null): every front-end error (braces, quotes, includes, macros,
   * unreadable files), a missing or unexpected `{ }`, every other builder error (an object refused as a whole, e.g. a bad
   * virtual server address or VIP), every cross-check (duplicates, undefined references,
   * missing interfaces keepalived's VRRP process looks up, see checkInterfaces), and a required keyword whose statement was left out
   * (`virtual_router_id 300` then reads as a missing virtual_router_id).
   */
  tolerant?: boolean;
  /**
   * Where the files come from (see snapshot.ts: a load that records what it read, a child
   * that replays the parent's recording); default: the file system.
   */
  readFile?: ParseOptions['readFile'];
  glob?: ParseOptions['glob'];
}

export type { LoadResult } from './build-pipeline.js';

export function loadConfig(path: string, opts: LoadOptions = {}): LoadResult {
  const host = opts.hostname ?? osHostname();
  if (!opts.readFile && !isConfigFile(path)) return missingConfig(path);
  // The builder takes each top-level block as the front end completes it, so the syntax
  // tree of the whole file is never held at once.
  const tolerant = opts.tolerant === true;
  const builder = new ConfigBuilder({ files: [], hostname: host, tolerant });
  const onStatement = (s: Statement) => builder.add(s);
  // Without -i the front end applies keepalived's default config id (the host name).
  const parsed = parseConfigFile(path, {
    onStatement,
    ...(opts.configId ? { configId: opts.configId } : {}),
    ...(opts.readFile ? { readFile: opts.readFile } : {}),
    ...(opts.glob ? { glob: opts.glob } : {}),
  });
  const built = { config: builder.finish(parsed.files), facts: builder.facts, diags: builder.diags };
  const present = opts.hostInterfaces !== undefined ? opts.hostInterfaces : tolerant ? hostInterfaces() : null;
  return validateBuilt(built, parsed.files, parsed.diagnostics, { hostInterfaces: present }, tolerant, parsed.omitted);
}

export function isConfigFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** The load's answer when the main file is missing (keepalived exits 0 there; we refuse). */
export function missingConfig(path: string): LoadResult {
  return {
    config: null,
    diagnostics: [
      {
        severity: 'error',
        code: 'no-config',
        pos: { file: path, line: 0, column: 0 },
        message: `configuration file \`${path}\` does not exist or is not a file`,
      },
    ],
    errorCount: 1,
  };
}

/** Interfaces present on this host (what keepalived -t checks against). */
export function hostInterfaces(sysClassNet = '/sys/class/net'): Set<string> {
  try {
    return new Set(readdirSync(sysClassNet));
  } catch {
    return new Set();
  }
}
