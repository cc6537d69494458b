/**
 * Directories for the files the daemon keeps at run time (pid files, the checker's owned
 * IPVS list). The daemon runs with keepalived's umask 0177, which would strip every search
 * bit from a directory created under it: root could then use it only with CAP_DAC_OVERRIDE,
 * which a container given just NET_ADMIN/NET_RAW/NET_BROADCAST does not have. keepalived
 * creates its pid directory rwxr-xr-x whatever the umask; so do we.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const STATE_DIR_MODE = 0o755;

/**
 * Creates `dir` and any missing parents with `mode` exactly (mkdir's own mode passes through
 * the umask, so each directory this call created is chmod'ed). A directory that already
 * existed keeps the mode its owner gave it.
 */
export function makeStateDir(dir: string, mode = STATE_DIR_MODE): void {
  const firstCreated = mkdirSync(dir, { recursive: true, mode });
  if (firstCreated === undefined) return;
  const top = resolve(firstCreated);
  for (let d = resolve(dir); ; d = dirname(d)) {
    chmodSync(d, mode);
    if (d === top || dirname(d) === d) break;
  }
}
