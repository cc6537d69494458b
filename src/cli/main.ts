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

/**
 * keepalived's `-t` exit codes (lib/scheduler.h, core/main.c config_test_exit), kept by ours:
 * 0 clean; 4 the daemon would not start (keepalived: missing file, bad interface, fatal);
 * 5 it would start, working around errors it logs (ignored statements, adjusted values);
 * 6 it would start, but runs scripts without `enable_script_security`.
 */
export const CONFIG_TEST_EXIT = { ok: 0, unusable: 4, errors: 5, security: 6 } as const;

/** -t / -d: parse and validate everything, list every diagnostic, optionally dump the model. */
async function testConfig(o: CliOptions): Promise<number> {
  // Loaded here, not at the top: the parser's start-up cost is only paid when a config is read.
  const { formatDiagnostic, hostInterfaces, loadConfig } = await import('../config/index.js');
  const opts = { ...(o.configId ? { configId: o.configId } : {}), hostInterfaces: hostInterfaces() };
  const { config, diagnostics } = loadConfig(o.useFile, opts);
  const text = diagnostics.map((d) => formatDiagnostic(d) + '\n').join('');
  if (o.configTestLog) writeFileSync(o.configTestLog, text);
  else process.stderr.write(text);
  const n = diagnostics.filter((d) => d.severity === 'error').length;
  const s = (k: number) => (k === 1 ? '' : 's');
  if (!config) {
    // -t is stricter than the daemon: say whether the daemon would still start on it
    const start = loadConfig(o.useFile, { ...opts, tolerant: true });
    if (!start.config) {
      process.stderr.write(`keepalived-ts: ${o.useFile}: ${n} error${s(n)}, configuration not usable: the daemon would not start\n`);
      return CONFIG_TEST_EXIT.unusable;
    }
    const ignored = start.diagnostics.filter((d) => d.ignored && !d.tolerated).length;
    const kept = start.diagnostics.filter((d) => d.tolerated).length;
    process.stderr.write(`keepalived-ts: ${o.useFile}: ${n} error${s(n)}; the daemon would start (as keepalived does), ignoring ${ignored} statement${s(ignored)}` +
      `${kept ? ` and working around ${kept} more as the messages say` : ''}\n`);
    return CONFIG_TEST_EXIT.errors;
  }
  if (o.dumpConf) process.stdout.write(JSON.stringify(config, null, 2) + '\n');
  const { scriptsWithoutSecurity } = await import('../config/script-use.js');
  if (scriptsWithoutSecurity(config)) {
    process.stderr.write(`keepalived-ts: ${o.useFile}: scripts run without \`enable_script_security\` in global_defs (keepalived -t: SECURITY VIOLATION, exit 6)\n`);
    return CONFIG_TEST_EXIT.security;
  }
  return CONFIG_TEST_EXIT.ok;
}
