import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../config/ast.js';
import { splitStatements } from '../config/build-testkit.js';
import { buildAndValidate } from '../config/build-pipeline.js';
import { DEFAULT_RTTIME_US, nextAutoPriority, processPlan, type HostLimits } from './plan.js';

const HOST: HostLimits = { rtPriorityMin: 1, rtPriorityMax: 99, onlineCpus: 2 };

function globals(lines: string) {
  // tolerant, as the daemon's children load it: a refused statement is left out
  const r = buildAndValidate(splitStatements(`global_defs {\n${lines}\n}`, 't.conf'), ['t.conf'], [], 'h', null, true);
  return { g: r.config!.globalDefs, msgs: r.diagnostics.map(formatDiagnostic) };
}

describe('process plan from global_defs (keepalived 2.2.7 set_process_priorities)', () => {
  it('nothing written: nothing to apply', () => {
    const { g, msgs } = globals(' router_id a');
    expect(msgs).toEqual([]);
    for (const role of ['vrrp', 'checker'] as const) {
      expect(processPlan(g, role, HOST)).toEqual({ realtime: null, nice: null, lockMemory: false, cpus: null, autoRaise: null, refused: [] });
    }
  });

  it('each role gets its own keywords', () => {
    const { g, msgs } = globals(
      ' vrrp_rt_priority 50\n vrrp_no_swap\n vrrp_cpu_affinity 1\n vrrp_rlimit_rttime 30000\n checker_priority -5\n checker_cpu_affinity 0 1',
    );
    expect(msgs).toEqual([]);
    expect(processPlan(g, 'vrrp', HOST)).toEqual({
      realtime: { priority: 50, rttimeUs: 30000 },
      nice: null,
      lockMemory: true,
      cpus: [1],
      autoRaise: null,
      refused: [],
    });
    expect(processPlan(g, 'checker', HOST)).toEqual({ realtime: null, nice: -5, lockMemory: false, cpus: [0, 1], autoRaise: null, refused: [] });
  });

  it('a real-time priority leaves the nice value alone, as keepalived does', () => {
    const { g } = globals(' vrrp_rt_priority 10\n vrrp_priority -10');
    expect(processPlan(g, 'vrrp', HOST)).toMatchObject({ realtime: { priority: 10 }, nice: null });
  });

  it("without ROLE_rlimit_rttime the real-time limit is ours, not keepalived's 10 ms", () => {
    const { g } = globals(' checker_rt_priority 5');
    expect(processPlan(g, 'checker', HOST).realtime).toEqual({ priority: 5, rttimeUs: DEFAULT_RTTIME_US });
  });

  it('a real-time priority outside 1-99 is brought into range with a warning at its value', () => {
    const { g, msgs } = globals(' vrrp_rt_priority 150\n checker_rt_priority 0');
    expect(processPlan(g, 'vrrp', HOST).realtime?.priority).toBe(99);
    expect(processPlan(g, 'checker', HOST).realtime?.priority).toBe(1);
    expect(msgs).toEqual([
      't.conf:2:19: warning: real-time priority 150 is outside 1-99; using 99, as keepalived does',
      't.conf:3:22: warning: real-time priority 0 is outside 1-99; using 1, as keepalived does',
    ]);
  });

  it('ROLE_rlimit_rttime 1 becomes 2 (its half must not be 0); the old rtime spelling is read with a warning', () => {
    const { g, msgs } = globals(' vrrp_rt_priority 1\n vrrp_rlimit_rttime 1\n checker_rt_priority 1\n checker_rlimit_rtime 4000');
    expect(processPlan(g, 'vrrp', HOST).realtime?.rttimeUs).toBe(2);
    expect(processPlan(g, 'checker', HOST).realtime?.rttimeUs).toBe(4000);
    expect(msgs).toEqual(['t.conf:5:2: warning: `checker_rlimit_rtime` is deprecated; write `checker_rlimit_rttime`']);
  });

  it('a nice value outside -20..19 is refused at its position and not applied', () => {
    const { g, msgs } = globals(' vrrp_priority -21');
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatch(/^t\.conf:2:16: error: .*-20-19/);
    expect(processPlan(g, 'vrrp', HOST).nice).toBeNull();
  });

  it('a CPU the host does not have voids the whole set, as keepalived refuses it', () => {
    const { g } = globals(' vrrp_cpu_affinity 0 3');
    const p = processPlan(g, 'vrrp', HOST);
    expect(p.cpus).toBeNull();
    expect(p.refused).toEqual(['vrrp_cpu_affinity names CPU 3, but this host has CPUs 0-1: the vrrp process keeps its CPUs']);
    expect(processPlan(g, 'vrrp', { ...HOST, onlineCpus: 4 }).cpus).toEqual([0, 3]);
  });

  it('max_auto_priority: alone 99, -1 and 0 never, capped by the host; min_auto_priority_delay in µs', () => {
    expect(processPlan(globals(' max_auto_priority').g, 'vrrp', HOST).autoRaise).toEqual({ maxPriority: 99, minDelayMs: 1000, rttimeUs: DEFAULT_RTTIME_US });
    expect(processPlan(globals(' max_auto_priority -1').g, 'vrrp', HOST).autoRaise).toBeNull();
    expect(processPlan(globals(' max_auto_priority 0').g, 'vrrp', HOST).autoRaise).toBeNull();
    const { g } = globals(' max_auto_priority 20\n min_auto_priority_delay 5000\n checker_rlimit_rttime 50000');
    expect(processPlan(g, 'checker', HOST).autoRaise).toEqual({ maxPriority: 20, minDelayMs: 5, rttimeUs: 50000 });
    expect(processPlan(g, 'checker', { ...HOST, rtPriorityMax: 10 }).autoRaise?.maxPriority).toBe(10);
  });

  it('auto-raise steps: normal scheduler -> the lowest real-time priority -> one up each time -> stop at the maximum', () => {
    expect(nextAutoPriority(0, 3, HOST)).toBe(1);
    expect(nextAutoPriority(1, 3, HOST)).toBe(2);
    expect(nextAutoPriority(2, 3, HOST)).toBe(3);
    expect(nextAutoPriority(3, 3, HOST)).toBeNull();
    // a configured priority above the maximum is never lowered
    expect(nextAutoPriority(50, 3, HOST)).toBeNull();
  });
});
