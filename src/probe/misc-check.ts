// MISC_CHECK: run misc_path; its exit code decides. It runs through the checker's ScriptHost
// (src/script/): without a shell (argv as split by the parser), as its `user` or the default
// script user, in its own process group, which is ended with everything it started at
// misc_timeout. A MISC_CHECK the host disables at load is removed from its real server by
// the checker engine, so it never gets here.
import type { MiscCheck } from '../config/model.js';
import { ScriptHost, describeEnd, ownerOf } from '../script/index.js';
import { down, up, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';

/** Exit code => outcome. With misc_dynamic, 2..255 means up with weight code - 2. */
export function judgeExit(code: number, dynamic: boolean): CheckOutcome {
  if (code === 0) return up('exit 0');
  if (dynamic && code >= 2 && code <= 255) return up(`exit ${code}`, { weight: code - 2, weightMode: 'set' });
  return down(`exit ${code}`);
}

let processHost: ScriptHost | null = null;
/** For callers without a host of their own: default globals (no script_user, no script security). */
function defaultHost(): ScriptHost {
  return (processHost ??= new ScriptHost({ log: { info: () => {}, warn: () => {} } }));
}

export async function runMiscCheck(check: MiscCheck, _target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const host = ctx.scripts ?? defaultHost();
  const argv = check.miscPath.argv;
  const p = host.verdict(argv[0] ?? '', ownerOf(check.user, check.group));
  if (!p.ok) return down(`disabled: ${p.why}`);
  const end = await host.run(p, argv.slice(1), check.miscTimeoutMs, ctx.signal);
  return end.how === 'exit' ? judgeExit(end.code, check.miscDynamic) : down(describeEnd(end));
}
