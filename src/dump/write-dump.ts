// Writing a dump file where keepalived writes it (/tmp, mode 0600). The directory is
// world-writable and we run as root: never follow a symlink someone planted at the path.
import { closeSync, constants, fchmodSync, ftruncateSync, openSync, writeSync } from 'node:fs';

export function writeDumpFile(path: string, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    // truncate only once we hold the file we mean to write (not a symlink's target)
    ftruncateSync(fd, 0);
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
