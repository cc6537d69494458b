// The one way this daemon runs a user script. A ScriptHost belongs to one process (the VRRP
// child, the checker child): at each config load it vets every script that process may run
// (who it runs as, users.ts; whether it may run, security.ts) and logs the ones it disables,
// as keepalived does at load; it runs them (process-groups.ts: own process group, timeout,
// the whole group killed at the deadline); and `stop()` ends whatever is still running.
import type { ScriptUse } from './config-scripts.js';
import { ProcessGroups, describeEnd, type ScriptEnd } from './process-groups.js';
import { hostFileSystem, vetScript, type FileSystem } from './security.js';
import { resolveRunAs, systemUsers, type Ids, type Owner, type RunAs, type ScriptGlobals, type UserDirectory } from './users.js';

/**
 * keepalived gives notify scripts no timeout (they may hang forever). Ours end, with every
 * process they started, 90 s after they start: systemd's default start timeout, the
 * longest a notify script that starts or reloads a service through systemctl waits for it,
 * so such scripts are never cut short, while a hung one cannot pile up across failovers.
 */
export const NOTIFY_TIMEOUT_MS = 90_000;

/** Where users, files and PATH come from (the host's, or a test's). */
export interface ScriptEnvironment {
  users: UserDirectory;
  files: FileSystem;
  /** The daemon's own uid:gid, what "root" means for the default script user. */
  self: Ids;
  /** PATH for bare command names. */
  path: string;
}

export function hostEnvironment(): ScriptEnvironment {
  return {
    users: systemUsers(),
    files: hostFileSystem,
    self: { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 },
    // glibc's confstr(_CS_PATH) when PATH is unset, as keepalived's search does
    path: process.env.PATH ?? '/bin:/usr/bin',
  };
}

export type Prepared =
  /** `program`: what runs (resolved path); the script's own arguments are added at each run. */
  | { ok: true; program: string; ids: Ids; shell: boolean; insecure: boolean }
  | { ok: false; cause: 'user' | 'not-found' | 'not-executable' | 'insecure'; why: string; ownUser: boolean };

/** Who `argv` runs as and whether it may run at all. Pure over `env`. */
export function prepareScript(command: string, own: Owner | null, g: ScriptGlobals, env: ScriptEnvironment): Prepared {
  const who = resolveRunAs(own, g, env.users, env.self);
  if (!who.ok) return { ok: false, cause: 'user', why: who.why, ownUser: who.ownUser };
  const v = vetScript(command, who.ids, { scriptSecurity: g.enableScriptSecurity, path: env.path }, env.files);
  if (!v.ok) return { ...v, ownUser: false };
  return { ok: true, program: v.program, ids: who.ids, shell: v.shell, insecure: v.insecure };
}

/** keepalived's words for a script it disables at load. */
export function disabledMessage(label: string, p: Extract<Prepared, { ok: false }>): string {
  switch (p.cause) {
    case 'insecure':
      return `Disabling ${label} due to insecure (enable_script_security): ${p.why}`;
    case 'not-found':
      return `Disabling ${label} since not found/accessible: ${p.why}`;
    default:
      return `Disabling ${label}: ${p.why}`;
  }
}

/** The SECURITY VIOLATION keepalived reports when scripts run without enable_script_security. */
export function securityViolation(g: ScriptGlobals, verdicts: readonly Prepared[]): string | null {
  if (g.enableScriptSecurity) return null;
  const scripts = verdicts.filter((v) => v.ok && !v.shell);
  if (scripts.length === 0) return null;
  const insecure = scripts.some((v) => v.ok && v.insecure);
  return `SECURITY VIOLATION - scripts are being executed but script_security not enabled.${insecure ? ' There are insecure scripts.' : ''}`;
}

export interface ScriptLog {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
}

export interface ScriptHostOptions {
  log: ScriptLog;
  /** Default: the host's users, files and PATH, read again at each load. */
  environment?: () => ScriptEnvironment;
  notifyTimeoutMs?: number;
  /** SIGTERM to SIGKILL of a group past its deadline (keepalived: 2 s). */
  killGraceMs?: number;
}

const keyOf = (command: string, own: Owner | null) => JSON.stringify([command, own?.user ?? null, own?.group ?? null]);

export class ScriptHost {
  readonly groups: ProcessGroups;
  private globals: ScriptGlobals = { scriptUser: null, enableScriptSecurity: false };
  private env: ScriptEnvironment | null = null;
  private verdicts = new Map<string, Prepared>();
  private readonly notifyTimeoutMs: number;

  constructor(private readonly opts: ScriptHostOptions) {
    this.groups = new ProcessGroups(opts.killGraceMs === undefined ? {} : { killGraceMs: opts.killGraceMs });
    this.notifyTimeoutMs = opts.notifyTimeoutMs ?? NOTIFY_TIMEOUT_MS;
  }

  /**
   * A config load: scripts are vetted again under its global_defs (a script fixed or broken
   * since changes its fate only at a load, as in keepalived). Logs each one disabled and
   * keepalived's SECURITY VIOLATION warning.
   */
  load(g: ScriptGlobals, uses: readonly ScriptUse[]): void {
    this.globals = { scriptUser: g.scriptUser, enableScriptSecurity: g.enableScriptSecurity };
    this.env = null;
    this.verdicts = new Map();
    const all: Prepared[] = [];
    for (const u of uses) {
      const p = this.verdict(u.argv[0] ?? '', u.own);
      all.push(p);
      const where = { script: u.argv.join(' '), file: `${u.pos.file}:${u.pos.line}:${u.pos.column}` };
      if (!p.ok) this.opts.log.warn(where, disabledMessage(u.label, p));
      else if (p.insecure) this.opts.log.warn(where, `Unsafe permissions found for ${u.label} (${u.argv[0]})`);
    }
    const violation = securityViolation(this.globals, all);
    if (violation) this.opts.log.warn({}, violation);
  }

  /** The vetting of `command` run as `own` under the loaded config (computed once per load). */
  verdict(command: string, own: Owner | null): Prepared {
    const key = keyOf(command, own);
    let p = this.verdicts.get(key);
    if (!p) {
      this.env ??= (this.opts.environment ?? hostEnvironment)();
      p = prepareScript(command, own, this.globals, this.env);
      this.verdicts.set(key, p);
    }
    return p;
  }

  /**
   * Who `own` (or, when null, the default script user) is under the loaded config, by the
   * rules scripts run by, and the daemon's own uid:gid: what a notify FIFO is created as.
   */
  runAs(own: Owner | null): { who: RunAs; self: Ids } {
    this.env ??= (this.opts.environment ?? hostEnvironment)();
    return { who: resolveRunAs(own, this.globals, this.env.users, this.env.self), self: this.env.self };
  }

  /** Runs a vetted script with `args`; resolves with how its own process ended. */
  run(p: Extract<Prepared, { ok: true }>, args: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<ScriptEnd> {
    return this.groups.run({ program: p.program, args, ids: p.ids, shell: p.shell, timeoutMs, ...(signal ? { signal } : {}) });
  }

  /**
   * A notify script: started, not awaited (a slow script must not hold anything up), ended
   * with its group at the notify timeout. A script disabled at load is not run (it was
   * logged then).
   */
  notify(argv: readonly string[], own: Owner | null, label: string): void {
    const p = this.verdict(argv[0] ?? '', own);
    if (!p.ok) return;
    void this.run(p, argv.slice(1), this.notifyTimeoutMs).then((end) => {
      if (end.how === 'exit' && end.code === 0) return;
      this.opts.log.warn({ script: argv.join(' '), result: describeEnd(end) }, `${label} script did not succeed`);
    });
  }

  /** Ends every script still running (SIGTERM, SIGKILL a second later) and waits for them. */
  stop(): Promise<void> {
    return this.groups.stop();
  }
}
