// enable_script_security: keepalived refuses to run a script as root when anyone but root
// (or the user it runs as) could change it: the file or any directory on its path being
// writable by another user, group or everyone. Sticky world-writable directories (/tmp)
// are tolerated because other users cannot replace entries they do not own there.
import { realpathSync, statSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface StatLike {
  uid: number;
  gid: number;
  mode: number;
}

export interface RunAs {
  uid: number;
  gid: number;
}

const S_IWGRP = 0o020;
const S_IWOTH = 0o002;
const S_ISVTX = 0o1000;

/** Why a single path component is unsafe for `runAs`, or null when it is fine. */
export function insecurity(path: string, st: StatLike, runAs: RunAs, isDir: boolean): string | null {
  if (st.uid !== 0 && st.uid !== runAs.uid) return `${path} is owned by uid ${st.uid}`;
  if (st.mode & S_IWGRP && st.gid !== 0 && st.gid !== runAs.gid) return `${path} is writable by group ${st.gid}`;
  if (st.mode & S_IWOTH && !(isDir && st.mode & S_ISVTX)) return `${path} is world-writable`;
  return null;
}

/** A bare command name is looked up on PATH, as exec would. */
export function locate(command: string, pathEnv = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): string | null {
  const candidates = command.includes('/') ? [command] : pathEnv.split(':').filter(Boolean).map((d) => join(d, command));
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return realpathSync(c);
    } catch { /* next */ }
  }
  return null;
}

/** Checks the resolved script and every directory above it; null when secure. */
export function scriptInsecurity(script: string, runAs: RunAs): string | null {
  const path = locate(script);
  if (!path) return `${script} not found`;
  for (let p = path, isDir = false; ; p = dirname(p), isDir = true) {
    const why = insecurity(p, statSync(p), runAs, isDir);
    if (why) return why;
    if (p === dirname(p)) return null;
  }
}

/** getpwnam/getgrnam from /etc files (Node has neither). */
export function lookupUser(user: string, group: string | null): RunAs | null {
  const pw = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  const entry = pw.find((f) => f[0] === user) ?? (/^\d+$/.test(user) ? pw.find((f) => f[2] === user) : undefined);
  if (!entry) return /^\d+$/.test(user) ? { uid: Number(user), gid: Number(user) } : null;
  let gid = Number(entry[3]);
  if (group) {
    const gr = readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':'));
    const g = gr.find((f) => f[0] === group);
    if (g) gid = Number(g[2]);
    else if (/^\d+$/.test(group)) gid = Number(group);
    else return null;
  }
  return { uid: Number(entry[2]), gid };
}
