// Every script a config asks a process to run, with the user it names and where it was
// written: what both the vetting at load (each child's ScriptHost) and `-t` go through.
import type { KeepalivedConfig, ScriptSpec, SourcePos } from '../config/model.js';
import type { Owner } from './users.js';

export type ScriptKind = 'vrrp_script' | 'notify' | 'MISC_CHECK';

export interface ScriptUse {
  kind: ScriptKind;
  /** What it is, for logs and diagnostics: `vrrp_script chk`, `notify_master of VI_1`. */
  label: string;
  argv: readonly string[];
  /** Its own `user [group]`; null: the default script user applies. */
  own: Owner | null;
  pos: SourcePos;
}

export function ownerOf(user: string | null, group: string | null): Owner | null {
  return user === null ? null : { user, group };
}

function notifyUse(spec: ScriptSpec | null, label: string, fallback: SourcePos): ScriptUse[] {
  if (!spec) return [];
  return [{ kind: 'notify', label, argv: spec.argv, own: ownerOf(spec.user, spec.group), pos: spec.pos ?? fallback }];
}

type VrrpSide = Pick<KeepalivedConfig, 'vrrpScripts' | 'vrrpInstances' | 'vrrpSyncGroups'> & {
  globalDefs?: Pick<KeepalivedConfig['globalDefs'], 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo'>;
};
type CheckerSide = Pick<KeepalivedConfig, 'virtualServers'> & { globalDefs?: VrrpSide['globalDefs'] };

/** The notify FIFO scripts a child starts: the global FIFO's and its own side's. */
function fifoScriptUses(g: VrrpSide['globalDefs'], side: 'vrrp' | 'lvs'): ScriptUse[] {
  if (!g) return [];
  const own = side === 'vrrp' ? g.vrrpNotifyFifo : g.lvsNotifyFifo;
  const pos = { file: '', line: 0, column: 0 };
  return [...notifyUse(g.notifyFifo?.script ?? null, 'notify_fifo_script', pos), ...notifyUse(own?.script ?? null, `${side}_notify_fifo_script`, pos)];
}

const HOOKS = [
  ['notifyMaster', 'notify_master'],
  ['notifyBackup', 'notify_backup'],
  ['notifyFault', 'notify_fault'],
  ['notifyStop', 'notify_stop'],
  ['notify', 'notify'],
] as const;

/** The VRRP child's scripts: vrrp_scripts, instances' and sync groups' notify scripts. */
export function vrrpScriptUses(c: VrrpSide): ScriptUse[] {
  // keepalived vets none of them when there is no instance to run them for
  if (c.vrrpInstances.length === 0) return [];
  const uses: ScriptUse[] = c.vrrpScripts.map((s) => ({
    kind: 'vrrp_script',
    label: `vrrp_script ${s.name}`,
    argv: s.script.argv,
    own: ownerOf(s.user, s.group),
    pos: s.script.pos ?? s.pos,
  }));
  for (const o of [...c.vrrpInstances, ...c.vrrpSyncGroups]) {
    for (const [field, keyword] of HOOKS) uses.push(...notifyUse(o[field], `${keyword} of ${o.name}`, o.pos));
  }
  for (const i of c.vrrpInstances) {
    uses.push(...notifyUse(i.notifyDeleted?.script ?? null, `notify_deleted of ${i.name}`, i.pos));
    uses.push(...notifyUse(i.notifyMasterRxLowerPri, `notify_master_rx_lower_pri of ${i.name}`, i.pos));
  }
  return [...uses, ...fifoScriptUses(c.globalDefs, 'vrrp')];
}

/** The checker child's scripts: MISC_CHECKs, real servers' and virtual servers' notify scripts. */
export function checkerScriptUses(c: CheckerSide): ScriptUse[] {
  const uses: ScriptUse[] = [];
  const seen = new Set<object>(); // checkers shared between real servers are one script
  for (const vs of c.virtualServers) {
    uses.push(...notifyUse(vs.quorumUp, 'quorum_up', vs.pos), ...notifyUse(vs.quorumDown, 'quorum_down', vs.pos));
    for (const rs of vs.realServers) {
      const where = `real server ${rs.family === 6 ? `[${rs.address}]` : rs.address}:${rs.port}`;
      uses.push(...notifyUse(rs.notifyUp, `notify_up of ${where}`, rs.pos), ...notifyUse(rs.notifyDown, `notify_down of ${where}`, rs.pos));
      for (const c of rs.checkers) {
        if (c.type !== 'MISC_CHECK' || seen.has(c)) continue;
        seen.add(c);
        uses.push({ kind: 'MISC_CHECK', label: `MISC_CHECK of ${where}`, argv: c.miscPath.argv, own: ownerOf(c.user, c.group), pos: c.miscPath.pos ?? c.pos });
      }
    }
  }
  return [...uses, ...fifoScriptUses(c.globalDefs, 'lvs')];
}
