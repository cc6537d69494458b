// Starting a bundled process from V8's code cache. Node 20 reuses compiled code only for a
// script it is handed as vm.Script cachedData (no module.enableCompileCache before Node 22, and
// none for ES modules), so each process entry is one CommonJS file (tools/bundle.mjs), compiled
// here with the cache the build wrote beside it: V8 then skips parsing and compiling what the
// cache holds (bench/README.md, "Code cache").
//
// A cache is used only when it was made from this very file (a key the build writes at the end
// of both) and V8 accepts it (the same V8 and the same V8 flags; checksummed, see
// verifyCacheChecksums). Anything else, a missing, stale, corrupt or foreign cache, compiles the
// file as if there were none: a start is never refused for its cache.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

/** `ENTRY.code.cjs`: the bundled code of a process entry; `ENTRY.cjs` is its launcher. */
export const CODE_SUFFIX = '.code.cjs';
/** `ENTRY.code.cache`: the code cache of ENTRY.code.cjs. */
export const CACHE_SUFFIX = '.code.cache';

/** The last line of a bundled file: the key its cache must carry. */
const KEY_LINE = '//# keepalived-ts-code-key=';
/** A cache file: this, the key, a newline, then V8's data. */
const CACHE_MAGIC = 'keepalived-ts code cache ';

/** What a load did with the cache. */
export type CacheUse =
  | 'used' // V8 took it
  | 'absent' // no cache file (or no key in the code)
  | 'stale' // a cache of other code, or not a cache at all
  | 'rejected' // V8 refused it: another Node or V8 flags, a bad checksum
  | 'bypassed'; // source maps are on: Node's own loader, which applies them

export interface BundleEntry {
  main(argv: string[]): unknown;
}

export interface LoadedEntry {
  exports: unknown;
  cache: CacheUse;
  /** The compiled script, when compiled here (to make a cache from). */
  script: Script | null;
}

/** The line that ends a bundled file with `key`. */
export const keyLine = (key: string): string => `\n${KEY_LINE}${key}\n`;

/** The key at the end of bundled code, or null. */
export function sourceKey(source: string): string | null {
  const at = source.lastIndexOf(KEY_LINE);
  return at < 0 ? null : source.slice(at + KEY_LINE.length).trim() || null;
}

/** A cache file's bytes: its header, then V8's data. */
export function cacheFileBytes(key: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${CACHE_MAGIC}${key}\n`, 'latin1'), data]);
}

/** V8's data in a cache file's bytes when the file carries `key`; null otherwise. */
export function cacheData(file: Buffer, key: string): Buffer | null {
  const header = `${CACHE_MAGIC}${key}\n`;
  if (file.length <= header.length || file.toString('latin1', 0, header.length) !== header) return null;
  return file.subarray(header.length);
}

/**
 * V8 checksums code caches only when told to (by default only in its debug builds): without
 * it a cache damaged in its body would be deserialized as it is. Set where the cache is made
 * and where it is read, as the flag is part of what V8 checks a cache against.
 */
function verifyCacheChecksums(): void {
  setFlagsFromString('--verify-snapshot-checksum');
}

/** Node's CommonJS wrapper, so the code sees what Node's loader would give it. */
const wrap = (source: string): string => `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;

/**
 * Loads and runs a bundled CommonJS file, compiled from its cache at `cachePath` when the cache
 * fits; returns its exports and what became of the cache.
 */
export function loadEntry(codePath: string, cachePath: string): LoadedEntry {
  const requireHere = createRequire(codePath);
  // Node applies source maps to the files its loader compiles, not to a vm.Script's
  if (process.sourceMapsEnabled) return { exports: requireHere(codePath) as unknown, cache: 'bypassed', script: null };
  // the bundle is ASCII (tools/bundle.mjs): read as latin1, a byte a character, no UTF-8 decoding
  const source = readFileSync(codePath, 'latin1');
  const key = sourceKey(source);
  let cachedData: Buffer | undefined;
  let cache: CacheUse = 'absent';
  if (key) {
    try {
      cachedData = cacheData(readFileSync(cachePath), key) ?? undefined;
      cache = cachedData ? 'used' : 'stale';
    } catch {
      cache = 'absent';
    }
  }
  verifyCacheChecksums();
  // no import() in it (tools/bundle.mjs): one compiled from a cache could not run it
  const script = new Script(wrap(source), { filename: codePath, cachedData });
  if (cachedData && script.cachedDataRejected) cache = 'rejected';
  const module = { exports: {} as unknown, filename: codePath, id: codePath, loaded: false };
  const body = script.runInThisContext() as (...args: unknown[]) => void;
  body.call(module.exports, module.exports, requireHere, module, codePath, dirname(codePath));
  module.loaded = true;
  return { exports: module.exports, cache, script };
}

/** Runs the process entry `entry` of the bundle in `dir` (what each launcher does). */
export function start(dir: string, entry: string): void {
  const { exports } = loadEntry(join(dir, entry + CODE_SUFFIX), join(dir, entry + CACHE_SUFFIX));
  void Promise.resolve((exports as BundleEntry).main(process.argv.slice(2))).catch((err: unknown) => {
    process.stderr.write(`keepalived-ts: ${err instanceof Error && err.stack ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}

/**
 * Writes the cache of the entry `entry` in `dir`: its code compiled and its top level run (what
 * every start of it runs), without its main. Run with the process's own V8 flags (tools/bundle.mjs).
 */
export function writeCache(dir: string, entry: string): void {
  const codePath = join(dir, entry + CODE_SUFFIX);
  const cachePath = join(dir, entry + CACHE_SUFFIX);
  const key = sourceKey(readFileSync(codePath, 'latin1'));
  if (!key) throw new Error(`${codePath} has no code key line`);
  const { script } = loadEntry(codePath, join(dir, 'no-such-cache'));
  if (!script) throw new Error('source maps are on: no script to make a cache from');
  writeFileSync(`${cachePath}.tmp`, cacheFileBytes(key, script.createCachedData()));
  renameSync(`${cachePath}.tmp`, cachePath);
}
