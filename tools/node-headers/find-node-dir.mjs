// Where the running Node's headers are: next to the binary that runs us (PREFIX/include/node
// for the official tarballs, nvm and the node images; PREFIX = the directory above bin/node),
// else Debian's /usr/include/node. A directory counts only when its node_version.h is this
// Node's version.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The directory to pass as --nodedir: the first candidate whose headers are this Node's. */
export function findNodeDir(execPath = process.execPath, version = process.version, read = readFileSync) {
  const candidates = [dirname(dirname(execPath)), '/usr', '/usr/local'];
  for (const dir of candidates) {
    try {
      const h = read(join(dir, 'include', 'node', 'node_version.h'), 'utf8');
      const v = ['MAJOR', 'MINOR', 'PATCH'].map((p) => new RegExp(`#define NODE_${p}_VERSION (\\d+)`).exec(h)?.[1]).join('.');
      if (`v${v}` === version) return dir;
    } catch {
      /* no headers there */
    }
  }
  return null;
}
