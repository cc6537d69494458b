import { describe, expect, it } from 'vitest';
import { LocalIgmpReports, IGMP_LINK_LOCAL_REPORTS } from './local-igmp.js';
import type { Sysctls } from './vmac.js';
import { createLogger } from '../log/logger.js';

function rig(initial: number | null) {
  const sys = new Map<string, number>(initial === null ? [] : [[IGMP_LINK_LOCAL_REPORTS, initial]]);
  const writes: number[] = [];
  const sysctl: Sysctls = {
    get: (p) => sys.get(p) ?? null,
    set: (p, v) => (writes.push(v), void sys.set(p, v)),
    list: () => [],
  };
  return {
    igmp: new LocalIgmpReports(sysctl, createLogger({ proc: 'vrrp', collect: () => undefined })),
    value: () => sys.get(IGMP_LINK_LOCAL_REPORTS),
    writes,
  };
}

describe('disable_local_igmp: net.ipv4.igmp_link_local_mcast_reports (keepalived vrrp_daemon.c)', () => {
  it('1 is turned to 0 at start and back to 1 at stop', () => {
    const r = rig(1);
    r.igmp.disable();
    expect(r.value()).toBe(0);
    r.igmp.restore(true);
    expect(r.value()).toBe(1);
  });

  it('already 0: left alone, and not raised at stop', () => {
    const r = rig(0);
    r.igmp.disable();
    r.igmp.restore(true);
    expect(r.writes).toEqual([]);
  });

  it('a reload that dropped disable_local_igmp leaves it at 0 at stop, as keepalived', () => {
    const r = rig(1);
    r.igmp.disable();
    r.igmp.restore(false);
    expect(r.value()).toBe(0);
  });

  it('no such sysctl (an old kernel): nothing written', () => {
    const r = rig(null);
    r.igmp.disable();
    r.igmp.restore(true);
    expect(r.writes).toEqual([]);
  });
});
