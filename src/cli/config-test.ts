// `-t`: every diagnostic of a file, a verdict line saying whether the daemon would start on
// it, and keepalived 2.2.7's exit code for it. The host's facts (interfaces, whether a
// script's command exists) come in as options; the command line (main.ts) writes the text
// where -t / --config-test-log send it.
import { formatDiagnostic, loadConfig, type Diagnostic, type KeepalivedConfig, type LoadOptions } from '../config/index.js';
import { scriptDiagnostics } from '../script/index.js';

/**
 * keepalived's `-t` exit codes (lib/scheduler.h, core/main.c config_test_exit), kept by ours:
 * 0 clean; 4 the daemon would not start (bad interface, fatal error; also a missing file,
 * where keepalived exits 0);
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

/** keepalived's -t counts a vrrp_script it disables as insecure or unusable as an error (exit 5). */
const SCRIPT_ERRORS = new Set(['script-insecure', 'script-unusable']);

export function configTest(file: string, opts: Pick<LoadOptions, 'configId' | 'hostInterfaces'>): ConfigTestReport {
  const { config, diagnostics, errorCount: n } = loadConfig(file, opts);
  const s = (k: number) => (k === 1 ? '' : 's');
  // -t is stricter than the daemon: a file it refuses is read again as the daemon reads it
  const start = config ? null : loadConfig(file, { ...opts, tolerant: true });
  const runs = config ?? start?.config ?? null;
  const scripts = runs ? scriptDiagnostics(runs) : [];
  const text = [...diagnostics, ...scripts].map((d: Diagnostic) => formatDiagnostic(d) + '\n').join('');
  const violation = scripts.some((d) => d.code === 'script-security-off');
  if (!runs) {
    return {
      code: CONFIG_TEST_EXIT.unusable,
      diagnostics: text,
      config: null,
      verdict: `keepalived-ts: ${file}: ${n} error${s(n)}, configuration not usable: the daemon would not start\n`,
    };
  }
  // keepalived ranks the script-security verdict above every error it starts with
  const code = violation ? CONFIG_TEST_EXIT.security : start || scripts.some((d) => SCRIPT_ERRORS.has(d.code)) ? CONFIG_TEST_EXIT.errors : CONFIG_TEST_EXIT.ok;
  if (start) {
    const ignored = start.diagnostics.filter((d) => d.ignored && !d.tolerated).length;
    const kept = start.diagnostics.filter((d) => d.tolerated).length;
    return {
      code,
      diagnostics: text,
      config: null,
      verdict:
        `keepalived-ts: ${file}: ${n} error${s(n)}; the daemon would start (as keepalived does), ignoring ${ignored} statement${s(ignored)}` +
        `${kept ? ` and working around ${kept} more as the messages say` : ''}\n`,
    };
  }
  const verdict = violation
    ? `keepalived-ts: ${file}: scripts run without \`enable_script_security\` in global_defs (keepalived -t: SECURITY VIOLATION, exit 6)\n`
    : code === CONFIG_TEST_EXIT.errors
      ? `keepalived-ts: ${file}: the daemon would start, disabling the scripts the messages name\n`
      : '';
  return { code, diagnostics: text, config, verdict };
}
