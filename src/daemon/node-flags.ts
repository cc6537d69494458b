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
// doing that work on the main thread costs them nothing noticeable; `-t` on 10,000 virtual
// servers is no slower than with the defaults (1.95 s against 2.07 s here). The checker
// keeps V8's defaults: it is the process with allocation throughput. With
// --max-semi-space-size=1 it held ~9 MB less on three-masters-checks.conf (undici and
// nodemailer loaded) and ~2 MB less on the other examples, but at 10,000 checks/s it spent
// ~17 % more CPU per check and ran ~20 % fewer checks (bench/checker.mjs, 3 runs each);
// --single-threaded cost it more still.
import type { ChildRole } from '../watchdog/ipc.js';

/** The parent's flags: bin/keepalived-ts's `#!/usr/bin/env -S node ...` line carries them. */
export const PARENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--single-threaded'];

/** Each child's flags (the Supervisor passes them as execArgv). */
export const CHILD_NODE_FLAGS: Readonly<Record<ChildRole, readonly string[]>> = {
  vrrp: ['--max-semi-space-size=1', '--single-threaded'],
  checker: [],
};
