/**
 * Active-active directors take over each other's flows in mid-connection: when ECMP moves a
 * flow (a director withdrawn, killed or back), the next director sees its packets without
 * ever having seen its SYN. IPVS schedules a TCP (or SCTP) connection only on its first
 * packet unless `net.ipv4.vs.sloppy_tcp` (`sloppy_sctp`) is set; otherwise the packet goes
 * to the local stack, which resets the connection. With sloppy scheduling, mh or sh sends
 * the flow to the same real server as the director it came from.
 *
 * The checker sets these sysctls (of its own network namespace) when the config announces
 * virtual servers active-active, and says so in its log.
 */
import type { KeepalivedConfig, Protocol } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { virtualServersOf } from './decide.js';

const SLOPPY: Partial<Record<Protocol, string>> = { TCP: 'sloppy_tcp', SCTP: 'sloppy_sctp' };

/** The IPVS sysctls (under net.ipv4.vs) that active-active `follow quorum` prefixes need set to 1 (pure). */
export function takeoverSysctls(config: Pick<KeepalivedConfig, 'bgpAnnounce' | 'virtualServers' | 'virtualServerGroups'>): string[] {
  const names = new Set<string>();
  for (const p of config.bgpAnnounce?.prefixes ?? []) {
    if (p.follow.kind !== 'quorum') continue;
    for (const vs of virtualServersOf(p, config)) {
      const name = SLOPPY[vs.protocol];
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

export interface SysctlPort {
  read(path: string): string;
  write(path: string, value: string): void;
}

/** Sets each of `names` to 1 where it is not; a sysctl that cannot be set is a warning (the flows still work until one moves). */
export function ensureTakeoverSysctls(names: readonly string[], log: Pick<Logger, 'info' | 'warn'>, sysctl: SysctlPort): void {
  for (const name of names) {
    const path = `/proc/sys/net/ipv4/vs/${name}`;
    try {
      if (sysctl.read(path).trim() === '1') continue;
      sysctl.write(path, '1');
      log.info(
        { sysctl: `net.ipv4.vs.${name}` },
        `bgp_announce: set net.ipv4.vs.${name}=1 so that this director carries on the flows another director started`,
      );
    } catch (e) {
      log.warn(
        { sysctl: `net.ipv4.vs.${name}`, err: (e as Error).message },
        `bgp_announce: cannot set net.ipv4.vs.${name}=1: flows moved here from another director will be reset`,
      );
    }
  }
}
