// `-t`: the scripts keepalived would disable or warn about when it loads this config, each a
// warning located at the script's statement. Codes, with what keepalived 2.2.7's own -t
// does for the same case:
//   script-insecure      a vrrp_script disabled as insecure                    (exit 5)
//   script-unusable      a vrrp_script not found, or a vrrp_script/MISC_CHECK
//                        whose own user is unknown, or any script whose default
//                        user (script_user, keepalived_script) cannot be used  (exit 5)
//   script-disabled      other scripts disabled at load: notify scripts and
//                        MISC_CHECKs (insecure, not found, not executable,
//                        unknown own user), vrrp_scripts not executable        (exit 0: logged at run only)
//   script-security-off  scripts run without enable_script_security           (exit 6)
import type { Diagnostic } from '../config/ast.js';
import type { KeepalivedConfig } from '../config/model.js';
import { checkerScriptUses, vrrpScriptUses, type ScriptUse } from './config-scripts.js';
import { disabledMessage, hostEnvironment, prepareScript, securityViolation, type Prepared, type ScriptEnvironment } from './host.js';

type Disabled = Extract<Prepared, { ok: false }>;

function codeFor(u: ScriptUse, p: Disabled): string {
  if (p.cause === 'user') return !p.ownUser || u.kind !== 'notify' ? 'script-unusable' : 'script-disabled';
  if (u.kind !== 'vrrp_script') return 'script-disabled';
  return p.cause === 'insecure' ? 'script-insecure' : p.cause === 'not-found' ? 'script-unusable' : 'script-disabled';
}

export function scriptDiagnostics(
  config: Pick<KeepalivedConfig, 'globalDefs' | 'vrrpScripts' | 'vrrpInstances' | 'vrrpSyncGroups' | 'virtualServers'>,
  env: ScriptEnvironment = hostEnvironment(),
): Diagnostic[] {
  const g = config.globalDefs;
  const out: Diagnostic[] = [];
  for (const uses of [vrrpScriptUses(config), checkerScriptUses(config)]) {
    const verdicts = uses.map((u) => prepareScript(u.argv[0] ?? '', u.own, g, env));
    uses.forEach((u, i) => {
      const p = verdicts[i]!;
      if (!p.ok) out.push({ severity: 'warning', code: codeFor(u, p), pos: u.pos, message: disabledMessage(u.label, p) });
    });
    const violation = securityViolation(g, verdicts);
    const first = uses.find((_, i) => verdicts[i]!.ok);
    if (violation && first) out.push({ severity: 'warning', code: 'script-security-off', pos: first.pos, message: violation });
  }
  const at = (d: Diagnostic) => [d.pos.file, d.pos.line, d.pos.column] as const;
  return out.sort((a, b) => {
    const [fa, la, ca] = at(a);
    const [fb, lb, cb] = at(b);
    return fa < fb ? -1 : fa > fb ? 1 : la - lb || ca - cb;
  });
}
