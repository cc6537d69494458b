// keepalived-ts command line: keepalived's options. -t, -d, --keywords, -v, -h, --signum and
// -T (genhash) and --plan answer here; everything else starts the daemon (src/daemon/parent.ts).
import { writeFileSync } from 'node:fs';
import { release, type, version } from 'node:os';
import { HELP, SIGNUMS, parseArgs, type CliOptions } from './options.js';

/** package.json's version (a unit test holds the two equal). */
export const PACKAGE_VERSION = '0.1.0';

/**
 * -v, as keepalived prints it, on stderr: its first line is what keepalived exporters and
 * scripts parse to learn which keepalived (and so which signals and dump formats) they face,
 * and we are keepalived 2.2.7's; our own version follows.
 */
export function versionText(release = osRelease()): string {
  return [
    'Keepalived v2.2.7 (01/16,2022)',
    '',
    `keepalived-ts v${PACKAGE_VERSION}: keepalived 2.2.7 for Node.js ${process.version}`,
    '',
    `Running on ${release}`,
    '',
    'Config options:  LVS VRRP VRRP_AUTH JSON SYSTEMD_NOTIFY',
    '',
  ].join('\n');
}

const osRelease = () => `${type()} ${release()} ${version()}`;

export async function main(argv: string[]): Promise<void> {
  process.exitCode = await run(argv);
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`keepalived-ts: ${parsed.error}\n${HELP}`);
    return 1;
  }
  const o = parsed.options;
  for (const w of o.warnings) process.stderr.write(`keepalived-ts: warning: ${w}\n`);
  // keepalived writes both to stderr
  if (o.help) {
    process.stderr.write(HELP);
    return 0;
  }
  if (o.version) {
    process.stderr.write(versionText());
    return 0;
  }
  if (o.signum !== null) {
    const n = SIGNUMS[o.signum];
    if (n === undefined) {
      process.stderr.write(`Unknown sigfunc ${o.signum}\n`);
      return 1;
    }
    process.stdout.write(`${n}\n`);
    return 0;
  }
  if (o.keywords) {
    // the whole grammar: loaded only here, so the daemon forks its children before it loads it
    const { formatKeywords } = await import('./keywords.js');
    process.stdout.write(formatKeywords());
    return 0;
  }
  if (o.genhash) {
    const { runGenhash } = await import('./genhash.js');
    return runGenhash(o.genhash);
  }
  if (o.plan) return (await import('./plan.js')).runPlan(o);
  if (o.configTest || o.dumpJson) return testConfig(o);
  return runDaemonMode(o, argv);
}

async function runDaemonMode(o: CliOptions, argv: string[]): Promise<number> {
  if (o.namespace && o.dontFork) {
    // keepalived's -s: the whole daemon (and the children it forks) lives in that network namespace.
    try {
      const { enterNamedNetworkNamespace } = await import('../native/index.js');
      enterNamedNetworkNamespace(o.namespace);
    } catch (err) {
      process.stderr.write(`keepalived-ts: cannot enter network namespace ${o.namespace}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  // In the foreground (the process that will run the daemon), the children go first: their
  // start overlaps the loading of the daemon and the config (src/watchdog/fork-child.ts).
  const earlyChildren = o.dontFork ? (await import('../daemon/children.js')).forkEarlyChildren(o, { metrics: Boolean(o.statusListen) }) : null;
  let handle: Awaited<ReturnType<typeof import('../daemon/parent.js').runDaemon>>;
  try {
    const { runDaemon } = await import('../daemon/parent.js');
    handle = await runDaemon(o, argv, { statusListen: o.statusListen, ...(earlyChildren ? { earlyChildren } : {}) });
  } finally {
    // those the daemon did not adopt (the config needs another set, or it was refused)
    for (const child of earlyChildren?.values() ?? []) child.discard();
  }
  return typeof handle === 'number' ? handle : handle.done;
}

/** -t / --dump-json: parse and validate everything, list every diagnostic, optionally print the model. */
async function testConfig(o: CliOptions): Promise<number> {
  // Loaded here, not at the top: the parser's start-up cost is only paid when a config is read.
  const [{ hostInterfaces }, { configTest }] = await Promise.all([import('../config/index.js'), import('./config-test.js')]);
  const r = configTest(o.useFile, { ...(o.configId ? { configId: o.configId } : {}), hostInterfaces: hostInterfaces() });
  if (o.configTestLog) writeFileSync(o.configTestLog, r.diagnostics);
  else process.stderr.write(r.diagnostics);
  if (r.config && o.dumpJson) process.stdout.write(JSON.stringify(r.config, null, 2) + '\n');
  process.stderr.write(r.verdict);
  return r.code;
}
