// Whether a script may run, as keepalived 2.2.7 vets every script when it loads a config
// (check_script_secure in lib/notify.c):
//  - `</path` (a redirect that tests a file can be opened) is run by the shell, not vetted;
//  - a bare name is looked up on PATH (the first entry that is an executable regular file
//    for the script's user);
//  - the path is resolved (realpath), keeping the written file name when the resolved
//    directory holds that name for the same file, since some programs act on their name; the
//    resolved path is what runs, so a symlink swapped later does not change the program;
//  - a file the script's user cannot execute is disabled;
//  - only a script that runs with root's power needs protecting (run as uid 0 or gid 0, or a
//    setuid-root / setgid-root executable); then every component of its path, from `/`
//    down, must be owned by root, and no directory without the sticky bit and no file may be
//    writable by a non-root group or by everyone. The last component may be a symlink (only
//    its owner counts). Under enable_script_security such a script is disabled; without it,
//    it runs and only counts as insecure.
// Disabled means never run while this config is loaded: not a failure.
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import type { Ids } from './users.js';

export interface FileInfo {
  kind: 'file' | 'dir' | 'link' | 'other';
  /** Permission bits with setuid, setgid and sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  dev: number;
  ino: number;
}

/** The file system calls the vetting needs; null / an error text where the call fails. */
export interface FileSystem {
  stat(path: string): FileInfo | null;
  lstat(path: string): FileInfo | null;
  realpath(path: string): string | { error: string };
}

export type Vetting =
  /**
   * `program`: what to execute (resolved); `shell`: a `</path` test run by /bin/sh;
   * `insecure`: its path is writable by others (only possible without enable_script_security).
   */
  { ok: true; program: string; shell: boolean; insecure: boolean } | { ok: false; cause: 'not-found' | 'not-executable' | 'insecure'; why: string };

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const S_IXUSR = 0o100;
const S_IXGRP = 0o010;
const S_IWGRP = 0o020;
const S_IWOTH = 0o002;
const S_IXOTH = 0o001;

/** As execve decides for `ids` (root: any execute bit). */
export function isExecutable(f: FileInfo, ids: Ids): boolean {
  if (ids.uid === 0) return (f.mode & 0o111) !== 0;
  if (ids.uid === f.uid) return (f.mode & S_IXUSR) !== 0;
  return ids.gid === f.gid ? (f.mode & S_IXGRP) !== 0 : (f.mode & S_IXOTH) !== 0;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** A bare command name on PATH, as glibc's execvp searches it (an empty entry is the cwd). */
function searchPath(name: string, ids: Ids, path: string, fs: FileSystem): string | { denied: boolean } {
  let denied = false;
  for (const dir of path.split(':')) {
    const candidate = dir ? `${dir}/${name}` : name;
    const f = fs.stat(candidate);
    if (!f) continue;
    if (f.kind === 'file' && isExecutable(f, ids)) return candidate;
    denied = true;
  }
  return { denied };
}

/** Why some component of `file` lets a non-root user change what runs; null when none. */
function unsafeComponent(file: string, fs: FileSystem): { cause: 'not-found' | 'wrong-type' | 'unsafe'; why: string } | null {
  const parts = file.split('/').filter(Boolean);
  const components = ['/', ...parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'))];
  for (let i = 0; i < components.length; i++) {
    const c = components[i]!;
    const last = i === components.length - 1;
    const f = fs.lstat(c);
    if (!f) return { cause: 'not-found', why: `could not find script '${file}'` };
    if (last ? f.kind !== 'file' && f.kind !== 'link' : f.kind !== 'dir')
      return { cause: 'wrong-type', why: `wrong file type found in script path '${file}' (${c})` };
    const guarded = (f.kind === 'dir' && !(f.mode & S_ISVTX)) || f.kind === 'file';
    const writable = (f.gid !== 0 && (f.mode & S_IWGRP) !== 0) || (f.mode & S_IWOTH) !== 0;
    if (f.uid !== 0) return { cause: 'unsafe', why: `unsafe permissions found for script '${file}': ${c} is owned by uid ${f.uid}` };
    if (guarded && writable) {
      const by = f.mode & S_IWOTH ? 'everyone' : `group ${f.gid}`;
      return { cause: 'unsafe', why: `unsafe permissions found for script '${file}': ${c} is writable by ${by}` };
    }
  }
  return null;
}

export interface VetOptions {
  /** global_defs enable_script_security. */
  scriptSecurity: boolean;
  /** PATH for bare command names. */
  path: string;
}

/** Vets `command` (argv[0] as written) for running as `ids`. Pure over `fs`. */
export function vetScript(command: string, ids: Ids, o: VetOptions, fs: FileSystem): Vetting {
  if (/^<[ \t]*\//.test(command)) return { ok: true, program: command, shell: true, insecure: false };
  if (command === '') return { ok: false, cause: 'not-found', why: 'empty command' };
  let written = command;
  if (!command.includes('/')) {
    const found = searchPath(command, ids, o.path, fs);
    if (typeof found !== 'string') {
      return {
        ok: false,
        cause: 'not-found',
        why: found.denied ? `permissions failure for script ${command} in path` : `cannot find script ${command} in path`,
      };
    }
    written = found;
  }
  const real = fs.realpath(written);
  if (typeof real !== 'string') return { ok: false, cause: 'not-found', why: `script ${written} cannot be accessed - ${real.error}` };
  let program = real;
  let realFile: string | null = null;
  if (written !== real && basename(written) !== basename(real)) {
    // keep the name it was called by when the resolved directory has it for the same file
    const named = `${dirname(real)}/${basename(written)}`;
    const r = fs.stat(real);
    const n = fs.stat(named);
    if (!r || (n && n.dev === r.dev && n.ino === r.ino)) {
      program = named;
      realFile = real;
    }
  }
  const f = fs.stat(realFile ?? program);
  if (!f) return { ok: false, cause: 'not-found', why: `unable to access script ${program}` };
  if (!isExecutable(f, ids)) return { ok: false, cause: 'not-executable', why: `script '${program}' is not executable for uid:gid ${ids.uid}:${ids.gid}` };
  const rootPower =
    ids.uid === 0 ||
    ids.gid === 0 ||
    (f.uid === 0 && (f.mode & S_IXUSR) !== 0 && (f.mode & S_ISUID) !== 0) ||
    (f.gid === 0 && (f.mode & S_IXGRP) !== 0 && (f.mode & S_ISGID) !== 0);
  let insecure = false;
  if (rootPower) {
    for (const p of realFile ? [program, realFile] : [program]) {
      const bad = unsafeComponent(p, fs);
      if (!bad) continue;
      if (bad.cause === 'not-found') return { ok: false, cause: 'not-found', why: bad.why };
      // a wrong file type is refused with or without enable_script_security
      if (bad.cause === 'wrong-type' || o.scriptSecurity) return { ok: false, cause: 'insecure', why: bad.why };
      insecure = true;
      break;
    }
  }
  return { ok: true, program, shell: false, insecure };
}

function info(s: Stats): FileInfo {
  const kind = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'link' : 'other';
  return { kind, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, dev: s.dev, ino: s.ino };
}

/** The host's file system. */
export const hostFileSystem: FileSystem = {
  stat: (p) => {
    try {
      return info(statSync(p));
    } catch {
      return null;
    }
  },
  lstat: (p) => {
    try {
      return info(lstatSync(p));
    } catch {
      return null;
    }
  },
  realpath: (p) => {
    try {
      return realpathSync(p);
    } catch (e) {
      return { error: (e as NodeJS.ErrnoException).code ?? 'error' };
    }
  },
};
