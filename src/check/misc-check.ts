// MISC_CHECK: run misc_path; its exit code decides. Runs without a shell (argv as split by
// the parser), in its own process group so a timeout kills the whole tree it started.
import { spawn } from 'node:child_process';
import type { MiscCheck } from '../config/model.js';
import { down, up, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';
import { lookupUser, scriptInsecurity, type RunAs } from './script-security.js';

/** Exit code => outcome. With misc_dynamic, 2..255 means up with weight code - 2. */
export function judgeExit(code: number, dynamic: boolean): CheckOutcome {
  if (code === 0) return up('exit 0');
  if (dynamic && code >= 2 && code <= 255) return up(`exit ${code}`, { weight: code - 2, weightMode: 'set' });
  return down(`exit ${code}`);
}

function resolveRunAs(check: MiscCheck, ctx: CheckContext): RunAs | null | 'unknown' {
  const user = check.user ?? check.miscPath.user ?? ctx.scriptUser?.user ?? null;
  const group = check.user ? check.group : check.miscPath.user ? check.miscPath.group : ctx.scriptUser?.group ?? null;
  if (!user) return null;
  return lookupUser(user, group) ?? 'unknown';
}

export function runMiscCheck(check: MiscCheck, _target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const argv = check.miscPath.argv;
  if (argv.length === 0) return Promise.resolve(down('empty misc_path'));
  const runAs = resolveRunAs(check, ctx);
  if (runAs === 'unknown') return Promise.resolve(down('unknown script user'));
  if (ctx.enableScriptSecurity) {
    const why = scriptInsecurity(argv[0]!, runAs ?? { uid: 0, gid: 0 });
    if (why) return Promise.resolve(down(`insecure script: ${why}`));
  }
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: 'ignore',
      detached: true, // own process group: the timeout kills grandchildren too
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    let done = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (o: CheckOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const killGroup = (sig: NodeJS.Signals) => {
      try { process.kill(-child.pid!, sig); } catch { /* already gone */ }
    };
    const expire = (why: string) => {
      killGroup('SIGTERM');
      // Give it a grace period like keepalived, then make sure nothing of it survives.
      killTimer = setTimeout(() => killGroup('SIGKILL'), ctx.miscKillGraceMs ?? 2000);
      killTimer.unref();
      finish(down(why));
    };
    const timer = setTimeout(() => expire(`timeout after ${check.miscTimeoutMs} ms`), check.miscTimeoutMs);
    const onAbort = () => expire('aborted');
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => finish(down(`spawn failed: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    child.once('exit', (code, signal) => {
      finish(code === null ? down(`killed by ${signal}`) : judgeExit(code, check.miscDynamic));
    });
  });
}
