// disable_local_igmp (keepalived vrrp_daemon.c set_disable_local_igmp / reset_...): while the
// daemon runs, the kernel sends no IGMP reports for link-local groups (224.0.0.x, VRRP's
// 224.0.0.18 among them), so a VMAC in private mode does not announce them from its MAC.
// Set at the first start only (a reload does not touch it) and put back at stop when it was
// 1 and the running config still asks for it, as keepalived does.
import type { Logger } from '../log/logger.js';
import type { Sysctls } from './vmac.js';

export const IGMP_LINK_LOCAL_REPORTS = 'net/ipv4/igmp_link_local_mcast_reports';

export class LocalIgmpReports {
  /** We turned it from 1 to 0. */
  private turnedOff = false;

  constructor(
    private readonly sysctl: Sysctls,
    private readonly log: Logger,
  ) {}

  /** At start, when the config has disable_local_igmp. */
  disable(): void {
    const was = this.sysctl.get(IGMP_LINK_LOCAL_REPORTS);
    if (was === null) {
      this.log.info({}, `Unable to read /proc/sys/${IGMP_LINK_LOCAL_REPORTS}: disable_local_igmp has no effect`);
      return;
    }
    if (was !== 1) return;
    try {
      this.sysctl.set(IGMP_LINK_LOCAL_REPORTS, 0);
      this.turnedOff = true;
    } catch (err) {
      this.log.info({}, `Unable to write /proc/sys/${IGMP_LINK_LOCAL_REPORTS}: ${(err as Error).message}`);
    }
  }

  /** At stop; `stillAsked`: the running config (after any reload) has disable_local_igmp. */
  restore(stillAsked: boolean): void {
    if (!this.turnedOff || !stillAsked) return;
    this.turnedOff = false;
    try {
      this.sysctl.set(IGMP_LINK_LOCAL_REPORTS, 1);
    } catch (err) {
      this.log.info({}, `Unable to write /proc/sys/${IGMP_LINK_LOCAL_REPORTS}: ${(err as Error).message}`);
    }
  }
}
