// keepalived's command line, parsed into a typed object. Pure: no I/O, no process access.
// getopt_long rules as keepalived uses them: clustered short flags (-lnD), values attached or
// in the next word (-fFILE, -f FILE, --use-file=FILE, --use-file FILE), optional values only
// attached (-t, -tLOG, --config-test=LOG).

export interface CliOptions {
  useFile: string;
  vrrpOnly: boolean;
  checkOnly: boolean;
  logConsole: boolean;
  logDetail: boolean;
  /** --log-json (ours): pino's JSON lines on stdout, for log pipelines that want structure. */
  logJson: boolean;
  /** 0-7 for LOG_LOCAL0-7, or `user` / `daemon`; null = daemon. */
  logFacility: string | null;
  noSyslog: boolean;
  dontReleaseVrrp: boolean;
  dontReleaseIpvs: boolean;
  dontRespawn: boolean;
  dontFork: boolean;
  /** -d: log the configuration data once started, as keepalived (the children's data dumps). */
  dumpConf: boolean;
  /** --dump-json (ours): print the typed model as JSON after checking the config, and exit. */
  dumpJson: boolean;
  configTest: boolean;
  /** `-t=LOG_FILE`: where keepalived writes the test output; null = stderr. */
  configTestLog: string | null;
  pidFile: string;
  vrrpPidFile: string;
  checkersPidFile: string;
  configId: string | null;
  namespace: string | null;
  releaseVips: boolean;
  /** umask for created files; null = keepalived's default. */
  umask: number | null;
  allConfig: boolean;
  /** `-T`: genhash mode; the remaining words are genhash's own arguments. */
  genhash: string[] | null;
  /** `--signum=NAME`: print the signal number for NAME and exit. */
  signum: string | null;
  version: boolean;
  help: boolean;
  keywords: boolean;
  /** `--plan` (ours): ask the running daemon (found by -p) what a HUP with -f FILE would change. */
  plan: boolean;
  /** `--status-listen[=HOST:PORT]`: serve /metrics and /status read-only; null = off. */
  statusListen: string | null;
  /** `--child-start-timeout=SECS` (ours): a child's start-up allowance; null = the watchdog's default. */
  childStartTimeoutMs: number | null;
  /** Options keepalived has that we accept but ignore (SNMP, BFD, core dumps, ...). */
  warnings: string[];
}

export type ParseResult = { ok: true; options: CliOptions } | { ok: false; error: string };

export const DEFAULT_CONFIG = '/etc/keepalived/keepalived.conf';

export function defaultOptions(): CliOptions {
  return {
    useFile: DEFAULT_CONFIG,
    vrrpOnly: false,
    checkOnly: false,
    logConsole: false,
    logDetail: false,
    logJson: false,
    logFacility: null,
    noSyslog: false,
    dontReleaseVrrp: false,
    dontReleaseIpvs: false,
    dontRespawn: false,
    dontFork: false,
    dumpConf: false,
    dumpJson: false,
    configTest: false,
    configTestLog: null,
    pidFile: '/run/keepalived.pid',
    vrrpPidFile: '/run/keepalived_vrrp.pid',
    checkersPidFile: '/run/keepalived_checkers.pid',
    configId: null,
    namespace: null,
    releaseVips: false,
    umask: null,
    allConfig: false,
    genhash: null,
    signum: null,
    version: false,
    help: false,
    keywords: false,
    plan: false,
    statusListen: null,
    childStartTimeoutMs: null,
    warnings: [],
  };
}

type Arity = 'none' | 'required' | 'optional';
interface OptDef {
  short?: string;
  long: string;
  arity: Arity;
  apply: (o: CliOptions, value: string | undefined) => string | void;
}

const ignored = (what: string) => (o: CliOptions) => {
  o.warnings.push(`${what} is a keepalived option keepalived-ts accepts but does not implement; ignored`);
};

const OPTIONS: OptDef[] = [
  {
    short: 'f',
    long: 'use-file',
    arity: 'required',
    apply: (o, v) => {
      o.useFile = v!;
    },
  },
  {
    short: 'P',
    long: 'vrrp',
    arity: 'none',
    apply: (o) => {
      o.vrrpOnly = true;
    },
  },
  {
    short: 'C',
    long: 'check',
    arity: 'none',
    apply: (o) => {
      o.checkOnly = true;
    },
  },
  { short: 'B', long: 'no_bfd', arity: 'none', apply: ignored('-B/--no_bfd (BFD)') },
  { long: 'all', arity: 'none', apply: ignored('--all') },
  {
    short: 'l',
    long: 'log-console',
    arity: 'none',
    apply: (o) => {
      o.logConsole = true;
    },
  },
  {
    short: 'D',
    long: 'log-detail',
    arity: 'none',
    apply: (o) => {
      o.logDetail = true;
    },
  },
  {
    long: 'log-json',
    arity: 'none',
    apply: (o) => {
      o.logJson = true;
    },
  },
  {
    short: 'S',
    long: 'log-facility',
    arity: 'required',
    apply: (o, v) => {
      if (!/^([0-7]|local[0-7]|user|daemon)$/.test(v!)) return `invalid log facility \`${v}\` (expected 0-7, local0-7, user or daemon)`;
      o.logFacility = v!.replace(/^local/, '');
    },
  },
  {
    short: 'G',
    long: 'no-syslog',
    arity: 'none',
    apply: (o) => {
      o.noSyslog = true;
    },
  },
  {
    short: 'u',
    long: 'umask',
    arity: 'required',
    apply: (o, v) => {
      const n = /^0[0-7]*$/.test(v!) ? parseInt(v!, 8) : /^(0x[0-9a-f]+|\d+)$/i.test(v!) ? Number(v) : NaN;
      if (!(n >= 0 && n <= 0o777)) return `invalid umask \`${v}\``;
      o.umask = n;
    },
  },
  {
    short: 'X',
    long: 'release-vips',
    arity: 'none',
    apply: (o) => {
      o.releaseVips = true;
    },
  },
  {
    short: 'V',
    long: 'dont-release-vrrp',
    arity: 'none',
    apply: (o) => {
      o.dontReleaseVrrp = true;
    },
  },
  {
    short: 'I',
    long: 'dont-release-ipvs',
    arity: 'none',
    apply: (o) => {
      o.dontReleaseIpvs = true;
    },
  },
  {
    short: 'R',
    long: 'dont-respawn',
    arity: 'none',
    apply: (o) => {
      o.dontRespawn = true;
    },
  },
  {
    long: 'child-start-timeout',
    arity: 'required',
    apply: (o, v) => {
      const secs = Number(v);
      if (!/^\d+$/.test(v ?? '') || secs < 1 || secs > MAX_CHILD_START_TIMEOUT_S)
        return `invalid --child-start-timeout \`${v}\` (expected whole seconds, 1 to ${MAX_CHILD_START_TIMEOUT_S})`;
      o.childStartTimeoutMs = secs * 1000;
    },
  },
  {
    short: 'n',
    long: 'dont-fork',
    arity: 'none',
    apply: (o) => {
      o.dontFork = true;
    },
  },
  {
    short: 'd',
    long: 'dump-conf',
    arity: 'none',
    apply: (o) => {
      o.dumpConf = true;
    },
  },
  {
    long: 'dump-json',
    arity: 'none',
    apply: (o) => {
      o.dumpJson = true;
    },
  },
  {
    long: 'plan',
    arity: 'none',
    apply: (o) => {
      o.plan = true;
    },
  },
  {
    short: 'p',
    long: 'pid',
    arity: 'required',
    apply: (o, v) => {
      o.pidFile = v!;
    },
  },
  {
    short: 'r',
    long: 'vrrp_pid',
    arity: 'required',
    apply: (o, v) => {
      o.vrrpPidFile = v!;
    },
  },
  {
    short: 'c',
    long: 'checkers_pid',
    arity: 'required',
    apply: (o, v) => {
      o.checkersPidFile = v!;
    },
  },
  { short: 'a', long: 'address-monitoring', arity: 'none', apply: ignored('-a/--address-monitoring') },
  { short: 'b', long: 'bfd_pid', arity: 'required', apply: ignored('-b/--bfd_pid (BFD)') },
  { short: 'x', long: 'snmp', arity: 'none', apply: ignored('-x/--snmp (SNMP)') },
  { short: 'A', long: 'snmp-agent-socket', arity: 'required', apply: ignored('-A/--snmp-agent-socket (SNMP)') },
  {
    short: 's',
    long: 'namespace',
    arity: 'required',
    apply: (o, v) => {
      o.namespace = v!;
    },
  },
  { short: 'm', long: 'core-dump', arity: 'none', apply: ignored('-m/--core-dump') },
  { short: 'M', long: 'core-dump-pattern', arity: 'optional', apply: ignored('-M/--core-dump-pattern') },
  {
    short: 'e',
    long: 'all-config',
    arity: 'none',
    apply: (o) => {
      o.allConfig = true;
    },
  },
  {
    short: 'i',
    long: 'config-id',
    arity: 'required',
    apply: (o, v) => {
      o.configId = v!;
    },
  },
  {
    long: 'signum',
    arity: 'required',
    apply: (o, v) => {
      o.signum = v!;
    },
  },
  {
    short: 't',
    long: 'config-test',
    arity: 'optional',
    apply: (o, v) => {
      o.configTest = true;
      o.configTestLog = v ?? null;
    },
  },
  {
    short: 'v',
    long: 'version',
    arity: 'none',
    apply: (o) => {
      o.version = true;
    },
  },
  {
    short: 'h',
    long: 'help',
    arity: 'none',
    apply: (o) => {
      o.help = true;
    },
  },
  {
    long: 'keywords',
    arity: 'none',
    apply: (o) => {
      o.keywords = true;
    },
  },
  {
    long: 'status-listen',
    arity: 'optional',
    apply: (o, v) => {
      const listen = parseListen(v ?? DEFAULT_STATUS_LISTEN);
      if (!listen) return `invalid --status-listen \`${v}\` (expected HOST:PORT, [IPv6]:PORT or PORT)`;
      o.statusListen = listen;
    },
  },
];

/** An hour: beyond that a start-up is stuck on any machine. */
const MAX_CHILD_START_TIMEOUT_S = 3600;

/** Loopback by default: the endpoint is read-only but still tells anyone who asks about the cluster. */
export const DEFAULT_STATUS_LISTEN = '127.0.0.1:9650';

function parseListen(v: string): string | null {
  const m = /^(?:(\[[0-9a-f:.]+\]|[^:\s]+):)?(\d{1,5})$/i.exec(v);
  if (!m || Number(m[2]) > 65535) return null;
  return `${m[1] ?? '127.0.0.1'}:${m[2]}`;
}

export function parseArgs(argv: readonly string[]): ParseResult {
  const o = defaultOptions();
  const fail = (error: string): ParseResult => ({ ok: false, error });
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '-T' || word === '--genhash') {
      // genhash takes over the rest of the command line, as in keepalived.
      o.genhash = argv.slice(i + 1);
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq < 0 ? undefined : eq);
      const def = OPTIONS.find((d) => d.long === name);
      if (!def) return fail(`unrecognized option \`${word}\``);
      let value: string | undefined = eq < 0 ? undefined : word.slice(eq + 1);
      if (def.arity === 'none' && value !== undefined) return fail(`option \`--${name}\` takes no value`);
      if (def.arity === 'required' && value === undefined) {
        value = argv[++i];
        if (value === undefined) return fail(`option \`--${name}\` needs a value`);
      }
      const err = def.apply(o, value);
      if (err) return fail(err);
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      for (let j = 1; j < word.length; j++) {
        const ch = word[j]!;
        const def = OPTIONS.find((d) => d.short === ch);
        if (!def) return fail(`invalid option \`-${ch}\``);
        let value: string | undefined;
        if (def.arity !== 'none') {
          const attached = word.slice(j + 1).replace(/^=/, '');
          if (attached) value = attached;
          else if (def.arity === 'required') {
            value = argv[++i];
            if (value === undefined) return fail(`option \`-${ch}\` needs a value`);
          }
          j = word.length;
        }
        const err = def.apply(o, value);
        if (err) return fail(err);
      }
      continue;
    }
    return fail(`unexpected argument \`${word}\``);
  }
  return { ok: true, options: o };
}

/**
 * keepalived's --signum names and numbers: JSON is SIGRTMIN+2 and STATS_CLEAR SIGRTMAX-1, which
 * the daemon catches (src/native/rt-signals.ts). SIGPWR and SIGURG, printed here before the
 * daemon could catch real-time signals, still work for scripts that saved them.
 */
export const SIGNUMS: Record<string, number> = {
  STOP: 15,
  RELOAD: 1,
  DATA: 10,
  STATS: 12,
  STATS_CLEAR: 63,
  JSON: 36,
};

export const HELP = `Usage: keepalived-ts [OPTION...]
  -f, --use-file=FILE          Use the specified configuration file
                                default '${DEFAULT_CONFIG}'
  -P, --vrrp                   Only run with VRRP subsystem
  -C, --check                  Only run with Health-checker subsystem
  -l, --log-console            Log messages to local console
  -D, --log-detail             Detailed log messages
      --log-json               Log JSON lines (pino) on stdout
  -S, --log-facility=([0-7]|local[0-7]|user|daemon)
                               Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)
  -G, --no-syslog              Don't log via syslog
  -u, --umask=MASK             umask for file creation (in numeric form)
  -X, --release-vips           Drop VIP on transition from signal.
  -V, --dont-release-vrrp      Don't remove VRRP VIPs and VROUTEs on daemon stop
  -I, --dont-release-ipvs      Don't remove IPVS topology on daemon stop
  -R, --dont-respawn           Don't respawn child processes
  -n, --dont-fork              Don't fork the daemon process
  -d, --dump-conf              Dump the configuration data
      --dump-json              Check the configuration and print its typed model as JSON
  -p, --pid=FILE               Use specified pidfile for parent process
  -r, --vrrp_pid=FILE          Use specified pidfile for VRRP child process
  -c, --checkers_pid=FILE      Use specified pidfile for checkers child process
  -T, --genhash                Enter into genhash utility mode (this should be the first option used).
  -s, --namespace=NAME         Run in network namespace NAME (overrides config)
  -e, --all-config             Error if any configuration file missing (same as includet)
  -i, --config-id id           Skip any configuration lines beginning '@' that don't match id
                                or any lines beginning @^ that do match.
                                The config-id defaults to the node name if option not used
      --signum=SIGFUNC         Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON
  -t, --config-test[=LOG_FILE] Check the configuration: every error as file:line:column,
                                exit 1 if there is any
      --keywords               List the configuration keyword schema
      --plan                   Ask the running daemon (the one of -p) what a reload with -f FILE
                                would change, changing nothing; exit 0 = nothing, 1 = changes,
                                2 = the file has errors or the daemon cannot be asked
      --child-start-timeout=SECS  Give each child SECS (default 30) from its start to its
                                first heartbeat before the watchdog kills it as stuck; each
                                start cut short doubles it. Raise it on slow machines
      --status-listen[=ADDR]   Serve /metrics (Prometheus) and /status (JSON) read-only on
                                ADDR (HOST:PORT or PORT; default ${DEFAULT_STATUS_LISTEN})
  -v, --version                Display the version number
  -h, --help                   Display this help message
Accepted and ignored (keepalived features not implemented): -B, --all, -a, -b, -x, -A, -m, -M
`;
