import type { LogCliOptions } from '../log/logger.js';

/**
 * What the parent reads of keepalived's command line. src/cli/ parses the command line into
 * its CliOptions, which carry these and the options only the CLI acts on (-t, -v, --signum,
 * ...); the daemon names what it needs here so it does not import the CLI that starts it.
 */
export interface DaemonOptions extends LogCliOptions {
  /** -f: the config file. */
  useFile: string;
  /** -i: the config id ($CONFIG_ID, @id lines). */
  configId: string | null;
  /** -P / -C: only the VRRP child, only the checker child. */
  vrrpOnly: boolean;
  checkOnly: boolean;
  /** -e: start both children even when the config has nothing for one of them. */
  allConfig: boolean;
  /** -n: stay in the foreground. */
  dontFork: boolean;
  /** -R: do not respawn a child that exits. */
  dontRespawn: boolean;
  /**
   * --child-start-timeout (ours): how long a child may take from fork to its first heartbeat
   * before the watchdog kills it; null = the watchdog's default.
   */
  childStartTimeoutMs: number | null;
  /** -V / -I: leave VIPs / IPVS rules in place on stop. */
  dontReleaseVrrp: boolean;
  dontReleaseIpvs: boolean;
  /** -s: the network namespace the daemon and its children run in. */
  namespace: string | null;
  /** -d: the children log their configuration data once started. */
  dumpConf: boolean;
  /** -p / -r / -c: pid files of the parent and the two children. */
  pidFile: string;
  vrrpPidFile: string;
  checkersPidFile: string;
  /** -u: umask for created files; null = keepalived's default. */
  umask: number | null;
  /** Warnings the parser collected (options accepted but not implemented), logged at start. */
  warnings: string[];
}
