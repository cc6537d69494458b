/**
 * The command line of the two children (`node dist/bundle/vrrp.cjs ARGS`,
 * `node dist/bundle/checker.cjs ARGS`; dist/src/ holds the same modules unbundled), parsed once for both: the parent writes it
 * (daemon/parent.ts childArgs), a developer may type it to run a child standalone. Every
 * option takes `--flag value` and `--flag=value` alike.
 */
import type { LogCliOptions } from '../log/logger.js';
import type { ChildRole } from './ipc.js';

export interface ChildArgs extends LogCliOptions {
  /** --config / -f. */
  config: string;
  /** --config-id / -i: $CONFIG_ID and @id lines. */
  configId: string | undefined;
  /** --config-from-parent: the watchdog parent sends the config it accepted; the disk is not read. */
  configFromParent: boolean;
  /** Leave what the child installed on stop: VIPs (--dont-release-vrrp / -V) or IPVS rules (--dont-release-ipvs / -I). */
  dontRelease: boolean;
  /** --namespace: the network namespace the daemon runs in (the dumps name it). */
  namespace: string | null;
  /** --dump-conf / -d: log the configuration data once started. */
  dumpConf: boolean;
  /**
   * --metrics: keep prom-client metrics for the parent's status endpoint (it passes this when
   * the endpoint is on). Without it prom-client is never loaded; a scrape gets the status alone.
   */
  metrics: boolean;
  /** --owned-state (checker): where the checker records the IPVS rules it owns; null = its default. */
  ownedState: string | null;
}

export const DEFAULT_CONFIG_PATH = '/etc/keepalived/keepalived.conf';

interface ChildOption {
  names: readonly string[];
  /** Only this child accepts it; both when absent. */
  role?: ChildRole;
  /** Sets the option; `value` is given for options that take one. */
  apply(args: ChildArgs, value: string): void;
  takesValue: boolean;
}

const flag = (names: readonly string[], apply: (a: ChildArgs) => void, role?: ChildRole): ChildOption => ({
  names,
  apply,
  takesValue: false,
  ...(role ? { role } : {}),
});
const valued = (names: readonly string[], apply: (a: ChildArgs, v: string) => void, role?: ChildRole): ChildOption => ({
  names,
  apply,
  takesValue: true,
  ...(role ? { role } : {}),
});

const OPTIONS: readonly ChildOption[] = [
  valued(['--config', '-f'], (a, v) => {
    a.config = v;
  }),
  valued(['--config-id', '-i'], (a, v) => {
    a.configId = v;
  }),
  flag(['--config-from-parent'], (a) => {
    a.configFromParent = true;
  }),
  flag(
    ['--dont-release-vrrp', '-V'],
    (a) => {
      a.dontRelease = true;
    },
    'vrrp',
  ),
  flag(
    ['--dont-release-ipvs', '-I'],
    (a) => {
      a.dontRelease = true;
    },
    'checker',
  ),
  flag(['--log-console', '-l'], (a) => {
    a.logConsole = true;
  }),
  flag(['--log-detail', '-D'], (a) => {
    a.logDetail = true;
  }),
  flag(['--log-json'], (a) => {
    a.logJson = true;
  }),
  flag(['--no-syslog', '-G'], (a) => {
    a.noSyslog = true;
  }),
  valued(['--log-facility', '-S'], (a, v) => {
    a.logFacility = v;
  }),
  valued(['--namespace'], (a, v) => {
    a.namespace = v;
  }),
  flag(['--dump-conf', '-d'], (a) => {
    a.dumpConf = true;
  }),
  flag(['--metrics'], (a) => {
    a.metrics = true;
  }),
  valued(
    ['--owned-state'],
    (a, v) => {
      a.ownedState = v;
    },
    'checker',
  ),
];

/** The `role` child's arguments; throws a one-line message on an unknown option or a missing value. */
export function parseChildArgs(role: ChildRole, argv: readonly string[]): ChildArgs {
  const args: ChildArgs = {
    config: DEFAULT_CONFIG_PATH,
    configId: undefined,
    configFromParent: false,
    dontRelease: false,
    logConsole: false,
    logDetail: false,
    logJson: false,
    noSyslog: false,
    logFacility: null,
    namespace: null,
    dumpConf: false,
    metrics: false,
    ownedState: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const option = OPTIONS.find((o) => o.names.includes(name) && (!o.role || o.role === role));
    if (!option) throw new Error(`unknown argument ${arg}`);
    if (!option.takesValue) {
      if (eq >= 0) throw new Error(`${name} takes no value`);
      option.apply(args, '');
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value`);
    option.apply(args, value);
  }
  return args;
}
