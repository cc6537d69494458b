// Whether a config runs scripts, for keepalived's script-security verdict: keepalived's -t
// exits 6 ("SECURITY VIOLATION - scripts are being executed but script_security not
// enabled") when any script is run without `enable_script_security`. Pure.
import type { KeepalivedConfig, NotifyHooks } from './model.js';

const hooks = (o: NotifyHooks) => [o.notifyMaster, o.notifyBackup, o.notifyFault, o.notifyStop, o.notify];

/** Scripts that will run (tracked vrrp_scripts, notify hooks, MISC_CHECKs, quorum and real server hooks). */
export function runsScripts(c: KeepalivedConfig): boolean {
  const tracked = new Set([...c.vrrpInstances, ...c.vrrpSyncGroups].flatMap((o) => o.trackScripts.map((r) => r.name)));
  if (c.vrrpScripts.some((s) => tracked.has(s.name))) return true;
  if ([...c.vrrpInstances, ...c.vrrpSyncGroups].some((o) => hooks(o).some(Boolean))) return true;
  return c.virtualServers.some((vs) => vs.quorumUp || vs.quorumDown || vs.realServers.some((rs) =>
    rs.notifyUp || rs.notifyDown || rs.checkers.some((k) => k.type === 'MISC_CHECK')));
}

export function scriptsWithoutSecurity(c: KeepalivedConfig): boolean {
  return !c.globalDefs.enableScriptSecurity && runsScripts(c);
}
