// A config as a load read it: the bytes of every file (the main one and each include) and
// every include pattern's expansion. The watchdog parent records its load of the file and
// hands the recording of the config it accepted to the children, which replay it instead of
// reading the disk: a child runs exactly the config the parent validated, however the files
// change afterwards (a HUP storm, a refused edit left on disk when a child is respawned).
// Replaying reads the same names, so every position still names the original file.
//
// Bytes rather than the model: a child started by an upgraded program reads the accepted
// bytes with its own code rather than a model shaped by the old one. The parent holds them
// for its life and sends them to every child it starts, so they are kept deflated (config
// text is repetitive: a big one shrinks many times over); only the loads, in worker
// threads, deflate and inflate.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { globFiles, newGlobBudget } from './glob.js';
import { FileTooLargeError, readTextFile } from './source.js';
import { isConfigFile, loadConfig, missingConfig, type LoadOptions, type LoadResult } from './index.js';

/** One file a load read: its size and its bytes deflated (or the read's error code). */
export type FileRecord = { path: string; size: number; deflated: Uint8Array } | { path: string; error: string };

/** One include pattern's expansion in a directory. */
export type GlobRecord = { cwd: string; pattern: string; matches: string[] } | { cwd: string; pattern: string; error: string };

export interface ConfigSnapshot {
  /** The main file, as given (-f). */
  path: string;
  /** `-i`: the id `@ID` lines were read for; null for the front end's default. */
  configId: string | null;
  files: FileRecord[];
  globs: GlobRecord[];
}

/** Where a recording load reads from (tests give a fake file system). */
export interface FileAccess {
  /** The text of a file (refused past maxBytes, as the front end's own reader does). */
  readFile(path: string, maxBytes: number): string;
  glob(pattern: string, cwd: string): string[];
}

/** The disk, read as the front end reads it: text only, bounded, globs on one load's budget. */
function disk(): FileAccess {
  const budget = newGlobBudget();
  return { readFile: readTextFile, glob: (pattern, cwd) => globFiles(pattern, cwd, budget) };
}

const globKey = (cwd: string, pattern: string) => `${cwd}\0${pattern}`;

/** An fs error's code (ENOENT, EACCES ...), which is what the front end reports of it. */
function errorCode(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? err.message ?? String(e);
}

function replayedError(code: string): Error {
  return Object.assign(new Error(code), { code });
}

/**
 * Records what a load reads. Each file is read once: a file included twice is served the
 * bytes of its first read, so the load sees one version of it, the version recorded.
 */
export class ConfigRecorder {
  /** What was read, as read (deflated when the snapshot is taken). */
  private readonly files = new Map<string, { path: string; text: string } | { path: string; error: string; thrown: unknown }>();
  private readonly globs = new Map<string, GlobRecord>();
  private readonly globErrors = new Map<string, unknown>();

  constructor(private readonly from: FileAccess = disk()) {}

  // The recording load gets what it would have got from the disk, errors included (a bound
  // crossed keeps its located wording); the snapshot keeps the error's code.
  readonly readFile = (path: string, maxBytes: number): string => {
    let r = this.files.get(path);
    if (!r) {
      try {
        r = { path, text: this.from.readFile(path, maxBytes) };
      } catch (e) {
        r = { path, error: errorCode(e), thrown: e };
      }
      this.files.set(path, r);
    }
    if ('error' in r) throw r.thrown;
    return r.text;
  };

  readonly glob = (pattern: string, cwd: string): string[] => {
    const key = globKey(cwd, pattern);
    let r = this.globs.get(key);
    if (!r) {
      try {
        r = { cwd, pattern, matches: this.from.glob(pattern, cwd) };
      } catch (e) {
        r = { cwd, pattern, error: (e as Error).message };
        this.globErrors.set(key, e);
      }
      this.globs.set(key, r);
    }
    if ('error' in r) throw this.globErrors.get(key);
    return [...r.matches];
  };

  snapshot(path: string, configId: string | null): ConfigSnapshot {
    const files = [...this.files.values()].map((r): FileRecord => {
      if ('error' in r) return { path: r.path, error: r.error };
      // level 1: most of the gain for a fraction of the time. A copy with an ArrayBuffer of
      // its own (zlib's result may be a view into a larger one): a clone carries the buffer.
      const bytes = Buffer.from(r.text, 'utf8');
      return { path: r.path, size: bytes.byteLength, deflated: new Uint8Array(deflateRawSync(bytes, { level: 1 })) };
    });
    return { path, configId, files, globs: [...this.globs.values()] };
  }
}

/** The snapshot as a file system: what the recorded load read, and nothing else. */
export function replayAccess(s: ConfigSnapshot): FileAccess {
  const files = new Map(s.files.map((f) => [f.path, f]));
  const globs = new Map(s.globs.map((g) => [globKey(g.cwd, g.pattern), g]));
  return {
    readFile(path, maxBytes) {
      const r = files.get(path);
      // a replay makes the recorded load's calls; anything else is a bug, reported as a read error
      if (!r) throw replayedError(`not in the accepted configuration (${path})`);
      if ('error' in r) throw replayedError(r.error);
      if (r.size > maxBytes) throw new FileTooLargeError(r.size);
      return inflateRawSync(r.deflated).toString('utf8');
    },
    glob(pattern, cwd) {
      const r = globs.get(globKey(cwd, pattern));
      if (!r) throw new Error(`include pattern not in the accepted configuration (${pattern})`);
      if ('error' in r) throw new Error(r.error);
      return [...r.matches];
    },
  };
}

/** Bytes the snapshot holds (what the parent keeps of an accepted config). */
export function snapshotSize(s: ConfigSnapshot): number {
  return s.files.reduce((n, f) => n + ('deflated' in f ? f.deflated.byteLength : 0), 0);
}

type LoadFrom = Omit<LoadOptions, 'configId' | 'readFile' | 'glob'>;

/** loadConfig from `from` (the disk), with the recording of everything it read. */
export function loadRecorded(path: string, configId: string | null, opts: LoadFrom = {}, from?: FileAccess): { result: LoadResult; snapshot: ConfigSnapshot } {
  const recorder = new ConfigRecorder(from);
  if (!from && !isConfigFile(path)) return { result: missingConfig(path), snapshot: recorder.snapshot(path, configId) };
  const result = loadConfig(path, { ...opts, ...(configId !== null ? { configId } : {}), readFile: recorder.readFile, glob: recorder.glob });
  return { result, snapshot: recorder.snapshot(path, configId) };
}

/** loadConfig of a recorded config, the disk untouched. */
export function loadSnapshot(s: ConfigSnapshot, opts: LoadFrom = {}): LoadResult {
  const access = replayAccess(s);
  return loadConfig(s.path, {
    ...opts,
    ...(s.configId !== null ? { configId: s.configId } : {}),
    readFile: (p, max) => access.readFile(p, max),
    glob: (pattern, cwd) => access.glob(pattern, cwd),
  });
}
