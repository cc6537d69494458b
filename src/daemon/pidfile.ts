// Pid files as keepalived keeps them (/run/keepalived.pid, _vrrp.pid, _checkers.pid).
// A second daemon must not start over a live one; a stale file (dead pid) is taken over.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeStateDir } from '../fs/state-dir.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid recorded in `path` if that process is still running, else null. */
export function runningPid(path: string): number | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
}

/** Writes our pid; throws a clear error when another live process owns the file. */
export function claimPidFile(path: string, pid = process.pid): void {
  const other = runningPid(path);
  if (other !== null) {
    throw new Error(`${path} names running process ${other}: is keepalived already running? Stop it or use -p/-r/-c for other pid files`);
  }
  makeStateDir(dirname(path));
  writeFileSync(path, `${pid}\n`);
}

/** Removes the file only if it still names `pid` (a successor may have claimed it). */
export function releasePidFile(path: string, pid = process.pid): void {
  try {
    if (Number.parseInt(readFileSync(path, 'utf8'), 10) === pid) unlinkSync(path);
  } catch {
    /* already gone */
  }
}
