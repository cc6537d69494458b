// The V8 flags the daemon's processes run with, chosen for memory (bench/memory.mjs and
// bench/checker.mjs; the measurements behind each choice are in bench/README.md).
//
// --max-semi-space-size=N   caps the young generation. V8's default lets it grow to 16 MB per
//                           semi-space after one burst of allocation (parsing a config) and
//                           keeps those pages for the life of the process.
// --single-threaded         no V8 helper threads for garbage collection and compilation: each
//                           helper's malloc arena keeps memory the main thread has freed, and
//                           the child cannot hand it back (releaseFreedMemory trims only the
//                           main arena).
// --optimize-for-size       grows the heap in smaller steps, and gives the young generation's
//                           second semi-space back after a scavenge: a process that has
//                           allocated past one semi-space (the parent's start, building and
//                           sending the children's models; every advert of a VRRP child)
//                           otherwise keeps both 1 MB halves resident for its life.
//
// The parent and the VRRP child are idle between events (adverts every second or so), so
// doing the collector's work on the main thread costs them nothing a user sees; `-t` runs
// with the parent's flags too (the command's #! line) and stays ahead of keepalived -t.
// The checker is the process with allocation throughput: it gets a 2 MB young generation,
// which holds as little as 1 MB but leaves room for allocation bursts (HTTP_GET, scripts)
// without a collection per burst.
import type { ChildRole } from '../watchdog/ipc.js';

/** The parent's flags: bin/keepalived-ts's `#!/usr/bin/env -S node ...` line carries them. */
export const PARENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--single-threaded', '--optimize-for-size'];

/** Each child's flags (the Supervisor passes them as execArgv). */
export const CHILD_NODE_FLAGS: Readonly<Record<ChildRole, readonly string[]>> = {
  vrrp: ['--max-semi-space-size=1', '--single-threaded', '--optimize-for-size'],
  checker: ['--max-semi-space-size=2', '--single-threaded', '--optimize-for-size'],
};
