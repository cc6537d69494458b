// `-t`: every diagnostic of a file, a verdict line saying whether the daemon would start on
// it, and keepalived 2.2.7's exit code for it. The host's facts (interfaces, whether a
// script's command exists) come in as options; the command line (main.ts) writes the text
// where -t / --config-test-log send it.
import { accessSync, constants } from 'node:fs';
import { locate } from '../check/script-security.js';
import { formatDiagnostic, loadConfig, type KeepalivedConfig, type LoadOptions } from '../config/index.js';
import { scriptsWithoutSecurity } from '../config/script-use.js';

/** A script's command exists here and can be executed (keepalived's check before it runs one). */
export function commandOnHost(command: string): boolean {
  const path = locate(command);
  if (!path) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * keepalived's `-t` exit codes (lib/scheduler.h, core/main.c config_test_exit), kept by ours:
 * 0 clean; 4 the daemon would not start (keepalived: missing file, bad interface, fatal);
 * 5 it would start, working around errors it logs (ignored statements, adjusted values);
 * 6 it would start, but runs scripts without `enable_script_security`.
 */
export const CONFIG_TEST_EXIT = { ok: 0, unusable: 4, errors: 5, security: 6 } as const;

export interface ConfigTestReport {
  code: number;
  /** One formatted diagnostic a line. */
  diagnostics: string;
  /** The closing `keepalived-ts: FILE: ...` line, when there is one. */
  verdict: string;
  /** The model -d prints (a file without errors). */
  config: KeepalivedConfig | null;
}

export function configTest(file: string, opts: Pick<LoadOptions, 'configId' | 'hostInterfaces' | 'commandFound'>): ConfigTestReport {
  const { config, diagnostics } = loadConfig(file, opts);
  const text = diagnostics.map((d) => formatDiagnostic(d) + '\n').join('');
  const n = diagnostics.filter((d) => d.severity === 'error').length;
  const s = (k: number) => (k === 1 ? '' : 's');
  if (!config) {
    // -t is stricter than the daemon: say whether the daemon would still start on it
    const start = loadConfig(file, { ...opts, tolerant: true });
    if (!start.config) {
      return { code: CONFIG_TEST_EXIT.unusable, diagnostics: text, config: null, verdict: `keepalived-ts: ${file}: ${n} error${s(n)}, configuration not usable: the daemon would not start\n` };
    }
    const ignored = start.diagnostics.filter((d) => d.ignored && !d.tolerated).length;
    const kept = start.diagnostics.filter((d) => d.tolerated).length;
    // keepalived ranks the script-security verdict above every error it starts with
    return {
      code: scriptsWithoutSecurity(start.config) ? CONFIG_TEST_EXIT.security : CONFIG_TEST_EXIT.errors, diagnostics: text, config: null,
      verdict: `keepalived-ts: ${file}: ${n} error${s(n)}; the daemon would start (as keepalived does), ignoring ${ignored} statement${s(ignored)}` +
        `${kept ? ` and working around ${kept} more as the messages say` : ''}\n`,
    };
  }
  if (scriptsWithoutSecurity(config)) {
    return { code: CONFIG_TEST_EXIT.security, diagnostics: text, config, verdict: `keepalived-ts: ${file}: scripts run without \`enable_script_security\` in global_defs (keepalived -t: SECURITY VIOLATION, exit 6)\n` };
  }
  return { code: CONFIG_TEST_EXIT.ok, diagnostics: text, config, verdict: '' };
}
