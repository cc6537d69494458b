// The daemon's end of `keepalived-ts --plan`: a local Unix socket, root-only (mode 0600, next
// to the pid file; never the network), where a client sends one JSON line {"file": PATH} and
// reads back one JSON line, the ReloadPlan of what a HUP with that file would change. The file
// is loaded as a reload loads it; each running child computes its part over the IPC channel.
// Nothing is applied.
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { formatDiagnostic, loadConfig, type KeepalivedConfig } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import type { ChildRole, ChildToParent } from '../watchdog/ipc.js';
import type { ChildPlan, ReloadPlan } from '../watchdog/plan.js';
import type { Supervisor } from '../watchdog/supervisor.js';

export type { ChildPlan, IpvsPlan, ReloadPlan, VrrpInstancePlan } from '../watchdog/plan.js';
export { planChanges } from '../watchdog/plan.js';

/** /run/keepalived.pid -> /run/keepalived.plan.sock: one socket per daemon, found from its pid file. */
export function planSocketPath(pidFile: string): string {
  return join(dirname(pidFile), `${basename(pidFile).replace(/\.pid$/, '')}.plan.sock`);
}

/** A child loading a 10,000-server config can take seconds: generous, but a plan never hangs. */
const CHILD_PLAN_TIMEOUT_MS = 60_000;
const MAX_REQUEST_BYTES = 64 * 1024;

export interface PlanServerOptions {
  pidFile: string;
  configId?: string;
  supervisor: Pick<Supervisor, 'running' | 'request'>;
  log: Logger;
  /** The children a config needs (the parent's childrenFor). */
  wanted: (config: KeepalivedConfig) => ChildRole[];
}

/** Loads `file` as a reload does (strict: a reload only replaces a working config with one that passes -t). */
export async function computePlan(file: string, o: Omit<PlanServerOptions, 'pidFile' | 'log'>, nextId: () => number): Promise<ReloadPlan> {
  const r = loadConfig(file, o.configId ? { configId: o.configId } : {});
  const errors = r.diagnostics.filter((d) => d.severity === 'error' || d.ignored).map(formatDiagnostic);
  if (!r.config) return { ok: false, file, errors };
  const warnings = r.diagnostics.filter((d) => d.severity !== 'error' && !d.ignored).map(formatDiagnostic);
  const running = o.supervisor.running();
  const children = await Promise.all(
    running.map(async (role): Promise<ChildPlan> => {
      const id = nextId();
      const reply = await o.supervisor.request(
        role,
        { t: 'plan', id, configPath: file, ...(o.configId ? { configId: o.configId } : {}) },
        (m): m is Extract<ChildToParent, { t: 'plan' }> => m.t === 'plan' && m.id === id,
        CHILD_PLAN_TIMEOUT_MS,
      );
      return reply?.plan ?? { role, ok: false, message: `the ${role} child did not answer` };
    }),
  );
  const notes = o
    .wanted(r.config)
    .filter((role) => !running.includes(role))
    .map((role) => `the new configuration needs the ${role} child, which is not running: a HUP does not start it (restart keepalived-ts)`);
  return { ok: true, file, warnings, children, notes };
}

export function startPlanServer(o: PlanServerOptions): { close(): void } {
  const path = planSocketPath(o.pidFile);
  let id = 0;
  const answer = (sock: Socket, request: string) => {
    let file: unknown;
    try {
      file = (JSON.parse(request) as { file?: unknown }).file;
    } catch {
      file = undefined;
    }
    if (typeof file !== 'string' || !file.startsWith('/')) {
      sock.end(JSON.stringify({ ok: false, file: String(file), errors: ['plan request: expected {"file": "/absolute/path"}'] }) + '\n');
      return;
    }
    o.log.info({ file }, 'reload plan requested');
    computePlan(file, o, () => ++id).then(
      (plan) => sock.end(JSON.stringify(plan) + '\n'),
      (err: Error) => sock.end(JSON.stringify({ ok: false, file, errors: [`plan failed: ${err.message}`] }) + '\n'),
    );
  };
  const server: Server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy()); // a client gone mid-answer is no concern of the daemon
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        sock.removeAllListeners('data');
        answer(sock, buf.slice(0, nl));
      } else if (buf.length > MAX_REQUEST_BYTES) sock.destroy();
    });
  });
  removeStaleSocket(path);
  server.on('error', (err) => o.log.error({ path }, `reload plan socket not available: ${err.message}`));
  server.listen(path, () => {
    try {
      chmodSync(path, 0o600);
    } catch (err) {
      o.log.error({ path }, `reload plan socket: cannot restrict to root: ${(err as Error).message}`);
      server.close();
    }
  });
  return {
    close() {
      server.close();
      removeStaleSocket(path);
    },
  };
}

/** A socket left by a daemon that died: only a socket is removed, never another kind of file. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // absent
  }
}
