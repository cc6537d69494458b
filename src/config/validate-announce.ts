// Cross-checks of the `bgp_announce` block (keepalived-ts only): references, and the
// settings that make active-active directors break each other's flows.
import { networkOf, prefixContains } from '../ip/prefix.js';
import { virtualServersOf } from './virtual-server-addresses.js';
import type { KeepalivedConfig } from './model.js';
import type { Diagnostics } from './schema-check.js';

/**
 * Schedulers that send a flow to the same real server on every director with the same
 * real-server list, whichever director ECMP picks: both hash the packet, not local state.
 */
const CONSISTENT_SCHEDULERS = new Set(['mh', 'sh']);

export function validateBgpAnnounce(config: KeepalivedConfig, diags: Diagnostics): void {
  const announce = config.bgpAnnounce;
  if (!announce) return;
  const seen = new Map<string, number>();
  const warnedVs = new Set<object>();
  for (const p of announce.prefixes) {
    const at = p.pos;
    const network = networkOf(p.address, p.prefix);
    const key = `${network}/${p.prefix}`;
    const line = seen.get(key);
    if (line !== undefined) diags.error(at, 'duplicate', `prefix ${key} is already announced at line ${line}`);
    else seen.set(key, at.line);
    if (network !== networkOf(p.address, p.family === 4 ? 32 : 128)) {
      diags.error(at, 'bad-argument', `prefix ${p.address}/${p.prefix} has host bits set: the kernel takes no such route; write ${key}`);
    }
    if (p.follow.kind === 'vrrp') {
      const inst = config.vrrpInstances.find((i) => i.name === (p.follow as { instance: string }).instance);
      if (!inst) {
        diags.error(at, 'unresolved', `prefix ${key} follows vrrp_instance \`${p.follow.instance}\`, which is not defined`);
        continue;
      }
      for (const vip of [...inst.virtualIpaddresses, ...inst.virtualIpaddressesExcluded]) {
        if (!prefixContains(network, p.prefix, p.family, vip.address)) continue;
        diags.warn(
          vip.pos,
          'announce-address',
          `virtual_ipaddress ${vip.address} lies in the announced prefix ${key}: FRR then exports its connected route, not the announcement (no MED, no withdrawal when keepalived-ts dies); leave it out, bgp_announce makes the prefix local while ${inst.name} is MASTER`,
        );
      }
      continue;
    }
    const servers = virtualServersOf(p, config);
    if (servers.length === 0) {
      diags.error(at, 'unresolved', `prefix ${key} follows quorum, but no virtual_server has an address in it: it would never be announced`);
      continue;
    }
    for (const vs of servers) {
      if (warnedVs.has(vs)) continue;
      warnedVs.add(vs);
      if (!CONSISTENT_SCHEDULERS.has(vs.lbAlgo)) {
        diags.warn(
          vs.pos,
          'announce-scheduler',
          `virtual_server is announced active-active (prefix ${key}) but uses \`lvs_sched ${vs.lbAlgo}\`: a flow that ECMP moves to another director then lands on another real server; use \`lvs_sched mh\` (or \`sh\`) with the same real servers on every director`,
        );
      } else if (vs.realServers.some((rs) => !rs.inhibitOnFailure)) {
        diags.warn(
          vs.pos,
          'announce-inhibit',
          `virtual_server is announced active-active (prefix ${key}) without \`inhibit_on_failure\`: a real server that fails leaves the IPVS list and comes back at its end, the directors' lists then differ in order, and ${vs.lbAlgo}, whose table depends on that order, sends a moved flow to another real server; set inhibit_on_failure (weight 0 keeps its place)`,
        );
      }
      if (CONSISTENT_SCHEDULERS.has(vs.lbAlgo) && vs.realServers.every((rs) => rs.inhibitOnFailure) && !vs.schedulerFlags.includes(`${vs.lbAlgo}-fallback`)) {
        diags.warn(
          vs.pos,
          'announce-fallback',
          `virtual_server is announced active-active (prefix ${key}) with inhibit_on_failure but without \`${vs.lbAlgo}-fallback\`: a failed real server keeps its share of ${vs.lbAlgo}'s table at weight 0 and every director refuses the new connections hashed to it; add ${vs.lbAlgo}-fallback (on every director)`,
        );
      }
      if (vs.lbKind === 'NAT' && !config.globalDefs.lvsSyncDaemon) {
        diags.warn(
          vs.pos,
          'announce-nat-sync',
          `virtual_server is announced active-active (prefix ${key}) with \`lvs_method NAT\` but without \`lvs_sync_daemon\`: a director that receives another one's flow has no NAT entry for it; set up lvs_sync_daemon or use DR/TUN`,
        );
      }
    }
  }
}
