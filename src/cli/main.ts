// keepalived-ts command line: keepalived's options. -t, -d, --keywords, -v, -h, --signum and
// -T (genhash) answer here; everything else starts the daemon (src/daemon/parent.ts).
import { writeFileSync } from 'node:fs';
import { formatKeywords } from './keywords.js';
import { HELP, SIGNUMS, parseArgs, type CliOptions } from './options.js';

export const VERSION = 'Keepalived-ts v0.1.0 (a TypeScript keepalived 2.2.7)';

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
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (o.version) {
    process.stdout.write(`${VERSION}\n`);
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
    process.stdout.write(formatKeywords());
    return 0;
  }
  if (o.genhash) {
    const { runGenhash } = await import('./genhash.js');
    return runGenhash(o.genhash);
  }
  if (o.configTest || o.dumpConf) return testConfig(o);
  return runDaemonMode(o, argv);
}

async function runDaemonMode(o: CliOptions, argv: string[]): Promise<number> {
  if (o.namespace && o.dontFork) {
    // keepalived's -s: the whole daemon (and the children it forks) lives in that network namespace.
    try {
      const { enterNamedNetworkNamespace } = await import('../netlink/native.js');
      enterNamedNetworkNamespace(o.namespace);
    } catch (err) {
      process.stderr.write(`keepalived-ts: cannot enter network namespace ${o.namespace}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  const { runDaemon } = await import('../daemon/parent.js');
  const handle = runDaemon(o, argv, { statusListen: o.statusListen });
  return typeof handle === 'number' ? handle : handle.done;
}

/** -t / -d: parse and validate everything, list every diagnostic, optionally dump the model. */
async function testConfig(o: CliOptions): Promise<number> {
  // Loaded here, not at the top: the parser's start-up cost is only paid when a config is read.
  const [{ hostInterfaces }, { configTest, commandOnHost }] = await Promise.all([import('../config/index.js'), import('./config-test.js')]);
  const r = configTest(o.useFile, { ...(o.configId ? { configId: o.configId } : {}), hostInterfaces: hostInterfaces(), commandFound: commandOnHost });
  if (o.configTestLog) writeFileSync(o.configTestLog, r.diagnostics);
  else process.stderr.write(r.diagnostics);
  if (r.config && o.dumpConf) process.stdout.write(JSON.stringify(r.config, null, 2) + '\n');
  process.stderr.write(r.verdict);
  return r.code;
}
