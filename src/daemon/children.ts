// What the parent runs as its children: each child's module, command line and Node flags,
// and the children forked before the daemon's own modules load (src/watchdog/fork-child.ts
// says why). Kept apart from parent.ts so the command can fork them without importing it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EarlyChild, type ChildSpec } from '../watchdog/fork-child.js';
import type { ChildRole } from '../watchdog/ipc.js';
import { CHILD_NODE_FLAGS } from './node-flags.js';
import type { DaemonOptions } from './options.js';

/** Each child's entry: its launcher beside this code in the bundle (tools/bundle.mjs), its module in dist/src. */
export const CHILD_MODULES: Record<ChildRole, string> =
  typeof KEEPALIVED_TS_BUNDLE === 'undefined'
    ? {
        vrrp: fileURLToPath(new URL('../vrrp/main.js', import.meta.url)),
        checker: fileURLToPath(new URL('../checker/main.js', import.meta.url)),
      }
    : {
        vrrp: fileURLToPath(new URL('./vrrp.cjs', import.meta.url)),
        checker: fileURLToPath(new URL('./checker.cjs', import.meta.url)),
      };

/** keepalived's umask when -u is not given. */
export const KEEPALIVED_UMASK = 0o177;

/** keepalived's default umask, which the children, scripts and files inherit: set before any fork. */
export function applyUmask(opts: Pick<DaemonOptions, 'umask'>): void {
  process.umask(opts.umask ?? KEEPALIVED_UMASK);
}

/** Which children the loaded config needs (keepalived starts none for an empty subsystem). */
export function childrenFor(
  config: { vrrpInstances: number; virtualServers: number },
  opts: Pick<DaemonOptions, 'vrrpOnly' | 'checkOnly' | 'allConfig'>,
): ChildRole[] {
  const wantVrrp = !opts.checkOnly && (opts.allConfig || config.vrrpInstances > 0);
  const wantChecker = !opts.vrrpOnly && (opts.allConfig || config.virtualServers > 0);
  return [...(wantVrrp ? ['vrrp' as const] : []), ...(wantChecker ? ['checker' as const] : [])];
}

/**
 * The children a config is likely to need, from its main file's text alone, before it is
 * read for real: a block's keyword at the start of a line. A wrong guess costs time only
 * (a child forked for nothing, or forked once the config is loaded, as without a guess):
 * what runs is decided by the loaded config (childrenFor).
 */
export function likelyChildren(mainText: string, opts: Pick<DaemonOptions, 'vrrpOnly' | 'checkOnly' | 'allConfig'>): ChildRole[] {
  const has = (keyword: RegExp) => keyword.test(mainText);
  return childrenFor(
    {
      vrrpInstances: has(/^[ \t]*vrrp_instance[ \t]/m) ? 1 : 0,
      virtualServers: has(/^[ \t]*virtual_server[ \t]/m) ? 1 : 0,
    },
    opts,
  );
}

/**
 * The command line a child gets: the config path (for its logs and dumps: the config itself
 * comes from the parent) and the options it acts on. `metrics`: the status endpoint is on, so
 * the children keep prom-client metrics from their start (they skip them otherwise; loading
 * prom-client later would stall a running child's event loop).
 */
export function childArgs(role: ChildRole, opts: DaemonOptions, { metrics = false } = {}): string[] {
  const args = ['--config', opts.useFile, '--config-from-parent'];
  if (opts.configId) args.push('--config-id', opts.configId);
  if (role === 'vrrp' && opts.dontReleaseVrrp) args.push('--dont-release-vrrp');
  if (role === 'checker' && opts.dontReleaseIpvs) args.push('--dont-release-ipvs');
  if (opts.logConsole) args.push('--log-console');
  if (opts.logDetail) args.push('--log-detail');
  if (opts.logJson) args.push('--log-json');
  if (opts.noSyslog) args.push('--no-syslog');
  if (opts.logFacility !== null) args.push('--log-facility', opts.logFacility);
  if (opts.namespace) args.push('--namespace', opts.namespace);
  if (opts.dumpConf) args.push('--dump-conf');
  if (metrics) args.push('--metrics');
  return args;
}

/** What the Supervisor runs for `role`. */
export function childSpec(role: ChildRole, opts: DaemonOptions, modules: Record<ChildRole, string>, { metrics = false } = {}): ChildSpec {
  return { role, modulePath: modules[role], args: childArgs(role, opts, { metrics }), execArgv: [...CHILD_NODE_FLAGS[role]] };
}

/** How much of the main file likelyChildren reads. */
const GUESS_BYTES = 1 << 20;

/** The start of a regular file (never a fifo or a device: the load reads those); null when it cannot be read. */
function fileStart(path: string): string | null {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    if (!fstatSync(fd).isFile()) return null;
    const buf = Buffer.alloc(GUESS_BYTES);
    return buf.toString('latin1', 0, readSync(fd, buf, 0, GUESS_BYTES, 0));
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Forks the children the config file is likely to need (likelyChildren), for runDaemon to
 * adopt (DaemonDeps.earlyChildren); none when the file cannot be read (the load reports it).
 * Sets the umask first, as runDaemon does before its forks.
 */
export function forkEarlyChildren(opts: DaemonOptions, { metrics = false } = {}): Map<ChildRole, EarlyChild> {
  const text = fileStart(opts.useFile);
  if (text === null) return new Map();
  applyUmask(opts);
  return new Map(likelyChildren(text, opts).map((role) => [role, new EarlyChild(childSpec(role, opts, CHILD_MODULES, { metrics }))]));
}
