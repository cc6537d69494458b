// The V8 flags the daemon's processes run with, chosen for memory and measured with
// bench/memory.mjs (keepalived's three processes hold ~20 MB; one bare Node process ~40 MB,
// most of it libnode's text, which the three share).
//
// --max-semi-space-size=1   the young generation stays at 1 MB per semi-space. By default it
//                           grows to 16 MB after a burst of allocation (parsing a config) and
//                           keeps those pages.
// --single-threaded         no V8 helper threads for garbage collection and compilation: each
//                           helper's malloc arena kept memory the main thread had freed.
// Private memory after 1,000 x 10 real servers (host, bench/memory.mjs): parent 35-39 MB with
// V8's defaults, 17-28 with the first flag, 12 with both; VRRP child 16-20 -> 14 MB.
//
// The parent and the VRRP child are idle between events (adverts every second or so), so
// doing that work on the main thread costs them nothing noticeable. `-t` runs with these
// flags too (the command's #! line): on 10,000 virtual servers x 10 it took 0.81-0.83 s of
// wall and 0.82 s of CPU, one core, against 0.72 s wall and 0.99 s CPU with V8's defaults on
// an idle machine (bench/parse.mjs); the defaults lean on the second core and lose their
// lead when something else holds it. keepalived -t in the same runs: 0.93-0.97 s.
//
// The checker is the process with allocation throughput, so it gets only the first flag, at
// 2 MB. V8's default let its young generation grow to 2 x 16 MB (loading the config and the
// first reconcile are bursts), ~2.7 KB per real server at 10,000 of them. When a TCP check
// still allocated (prom-client built a hash string per observe), a 1 MB young generation cost
// ~17 % more CPU per check and ~20 % fewer checks; since the checks allocate next to nothing
// the cost is below the noise. bench/checker.mjs, 10,000 real servers, 3 runs each, CPU per
// 1,000 checks/s (the native-probe floor of the same run) and RSS growth per real server:
//   defaults                   3.32 (3.68)  2.97 (2.91)  4.06 (3.17)   5.03  5.12  4.97 KB
//   --max-semi-space-size=1    3.36 (3.54)  3.14 (2.92)  3.54 (3.20)   2.87  3.09  3.01 KB
//   --max-semi-space-size=2    2.99 (2.81)  4.28 (3.71)  3.30 (2.86)   2.73  2.70  2.88 KB
// all at 10,000 checks/s. 2 MB holds as little as 1 MB and leaves room for allocation
// bursts (HTTP_GET, scripts). --single-threaded cost the checker more CPU still (not
// re-measured).
//
// Since then the checker takes --single-threaded and --optimize-for-size as well. With the
// config read by the loader (as the child reads it), V8's helper threads left what they had
// allocated for the load resident in their own malloc arenas: the compiler thread's zones,
// the GC threads' marking worklists. --single-threaded keeps all of it on the main thread,
// whose freed memory the child hands back after its start (releaseFreedMemory, malloc_trim);
// --optimize-for-size grows the heap in smaller steps. bench/checker.mjs, 10,000 real
// servers, RSS growth per real server against a 100-server run (keepalived's method), CPU
// per 1,000 checks/s (the native-probe floor of the same run):
//   --max-semi-space-size=2                                         3.74 KB   3.28 (2.85)
//   + --single-threaded-gc --optimize-for-size                      2.78 KB   3.10
//   + --single-threaded                                             2.16 KB   3.11
//   + --single-threaded --optimize-for-size                         1.99-2.02 KB   3.09, 3.69 (3.50)
// all at 10,000 checks/s.
import type { ChildRole } from '../watchdog/ipc.js';

/** The parent's flags: bin/keepalived-ts's `#!/usr/bin/env -S node ...` line carries them. */
export const PARENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--single-threaded'];

/** Each child's flags (the Supervisor passes them as execArgv). */
export const CHILD_NODE_FLAGS: Readonly<Record<ChildRole, readonly string[]>> = {
  vrrp: ['--max-semi-space-size=1', '--single-threaded'],
  checker: ['--max-semi-space-size=2', '--single-threaded', '--optimize-for-size'],
};
