// The scripts a config runs, as keepalived 2.2.7 checks them when it reads the file
// (check_script_secure): a script whose command it cannot find on the host is disabled (a
// tracked vrrp_script is then dropped from every tracking list, a notify hook never runs),
// and when any script is found while `enable_script_security` is off, its -t exits 6
// ("SECURITY VIOLATION - scripts are being executed but script_security not enabled").
// Pure: whether a command exists on the host is the caller's port.
import type { KeepalivedConfig, NotifyHooks, ScriptSpec, SourcePos, TrackRef } from './model.js';
import type { Diagnostics } from './schema-check.js';

/** Whether a script's command (its first word: a path, or a name looked up on PATH) can be run. */
export type CommandFound = (command: string) => boolean;

const HOOKS = ['notifyMaster', 'notifyBackup', 'notifyFault', 'notifyStop', 'notify'] as const;
const HOOK_KEYWORDS: Record<(typeof HOOKS)[number], string> = {
  notifyMaster: 'notify_master', notifyBackup: 'notify_backup', notifyFault: 'notify_fault', notifyStop: 'notify_stop', notify: 'notify',
};

/**
 * Drops what keepalived disables because its command is not on this host, each with an error
 * at the object that runs it: the vrrp_scripts (and the entries tracking them), the notify
 * hooks of instances and sync groups. Checker scripts keepalived disables quietly; they stay.
 */
export function disableMissingScripts(c: KeepalivedConfig, found: CommandFound, diags: Diagnostics): void {
  const missing = (s: ScriptSpec) => s.argv.length > 0 && !isFileTest(s) && !found(s.argv[0]!);
  const disabled = new Set<string>();
  c.vrrpScripts = c.vrrpScripts.filter((s) => {
    if (!missing(s.script)) return true;
    diags.lenient(s.pos, 'script-not-found', `vrrp_script ${s.name}: \`${s.script.argv[0]}\` is not found on this host (or not executable): keepalived disables the script, and the instances tracking it run without it`);
    disabled.add(s.name);
    return false;
  });
  const owners: { o: NotifyHooks & { trackScripts: TrackRef[] }; what: string; pos: SourcePos }[] = [
    ...c.vrrpInstances.map((i) => ({ o: i, what: `vrrp_instance ${i.name}`, pos: i.pos })),
    ...c.vrrpSyncGroups.map((g) => ({ o: g, what: `vrrp_sync_group ${g.name}`, pos: g.pos })),
  ];
  for (const { o, what, pos } of owners) {
    o.trackScripts = o.trackScripts.filter((r) => !disabled.has(r.name));
    for (const hook of HOOKS) {
      const s = o[hook];
      if (!s || !missing(s)) continue;
      diags.warn(pos, 'script-not-found', `${what} ${HOOK_KEYWORDS[hook]}: \`${s.argv[0]}\` is not found on this host (or not executable): keepalived never runs it`);
      o[hook] = null;
    }
  }
  // the checker's scripts (check_check_script_security, check_misc_script_security)
  for (const vs of c.virtualServers) {
    for (const hook of ['quorumUp', 'quorumDown'] as const) {
      const s = vs[hook];
      if (!s || !missing(s)) continue;
      diags.warn(vs.pos, 'script-not-found', `virtual_server ${hook === 'quorumUp' ? 'quorum_up' : 'quorum_down'}: \`${s.argv[0]}\` is not found on this host (or not executable): keepalived never runs it`);
      vs[hook] = null;
    }
    for (const rs of vs.realServers) {
      for (const hook of ['notifyUp', 'notifyDown'] as const) {
        const s = rs[hook];
        if (!s || !missing(s)) continue;
        diags.warn(rs.pos, 'script-not-found', `real_server ${rs.address} ${hook === 'notifyUp' ? 'notify_up' : 'notify_down'}: \`${s.argv[0]}\` is not found on this host (or not executable): keepalived never runs it`);
        rs[hook] = null;
      }
      const kept = rs.checkers.filter((k) => {
        if (k.type !== 'MISC_CHECK' || !missing(k.miscPath)) return true;
        diags.warn(k.pos, 'script-not-found', `MISC_CHECK: \`${k.miscPath.argv[0]}\` is not found on this host (or not executable): keepalived drops this checker`);
        return false;
      });
      if (kept.length !== rs.checkers.length) rs.checkers = kept;
    }
  }
}

/** `script "</path/file"` tests that a file can be opened: nothing is run. */
function isFileTest(s: ScriptSpec): boolean {
  return /^<\s*\//.test(s.command);
}

/**
 * Whether keepalived counts scripts it runs: every vrrp_script (used or not), notify hooks,
 * MISC_CHECKs, quorum and real server hooks.
 */
export function runsScripts(c: KeepalivedConfig): boolean {
  if (c.vrrpScripts.some((s) => !isFileTest(s.script))) return true;
  if ([...c.vrrpInstances, ...c.vrrpSyncGroups].some((o) => HOOKS.some((h) => o[h]))) return true;
  return c.virtualServers.some((vs) => vs.quorumUp || vs.quorumDown || vs.realServers.some((rs) =>
    rs.notifyUp || rs.notifyDown || rs.checkers.some((k) => k.type === 'MISC_CHECK')));
}

export function scriptsWithoutSecurity(c: KeepalivedConfig): boolean {
  return !c.globalDefs.enableScriptSecurity && runsScripts(c);
}
