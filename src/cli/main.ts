// keepalived-ts command line: keepalived's options; -t, -d, --keywords, -v, -h and --signum
// are implemented here, daemon modes come with the VRRP and checker components.
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
    process.stderr.write('keepalived-ts: genhash mode not implemented yet\n');
    return 1;
  }
  if (o.configTest || o.dumpConf) return testConfig(o);
  process.stderr.write('keepalived-ts: daemon mode not implemented yet\n');
  return 1;
}

/** -t / -d: parse and validate everything, list every diagnostic, optionally dump the model. */
async function testConfig(o: CliOptions): Promise<number> {
  // Loaded here, not at the top: the parser's start-up cost is only paid when a config is read.
  const { formatDiagnostic, hostInterfaces, loadConfig } = await import('../config/index.js');
  const { config, diagnostics } = loadConfig(o.useFile, {
    ...(o.configId ? { configId: o.configId } : {}),
    hostInterfaces: hostInterfaces(),
  });
  const text = diagnostics.map((d) => formatDiagnostic(d) + '\n').join('');
  if (o.configTestLog) writeFileSync(o.configTestLog, text);
  else process.stderr.write(text);
  if (!config) {
    const n = diagnostics.filter((d) => d.severity === 'error').length;
    process.stderr.write(`keepalived-ts: ${o.useFile}: ${n} error${n === 1 ? '' : 's'}, configuration not usable\n`);
    return 1;
  }
  if (o.dumpConf) process.stdout.write(JSON.stringify(config, null, 2) + '\n');
  return 0;
}
