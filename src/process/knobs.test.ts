import { describe, expect, it } from 'vitest';
import { defaultGlobalDefs } from '../config/build.js';
import type { GlobalDefs } from '../config/model.js';
import { ProcessKnobs, type ProcessSystem } from './knobs.js';

const LOOP = process.pid;

/** A recording system: every call in order; `refuse` names calls that throw EPERM. */
function fakeSystem(refuse: string[] = []) {
  const calls: string[] = [];
  let late: ((ms: number) => void) | null = null;
  let nice = 0;
  const call = (name: string, text: string) => {
    if (refuse.includes(name)) throw Object.assign(new Error(`${name}: Operation not permitted`), { code: 'EPERM' });
    calls.push(text);
  };
  const sys: ProcessSystem = {
    host: () => ({ rtPriorityMin: 1, rtPriorityMax: 99, onlineCpus: 2 }),
    threads: () => [LOOP, 7001],
    setRealtimePriority: (tid, p) => call('setRealtimePriority', `rt ${tid === LOOP ? 'loop' : tid} ${p}`),
    getNiceness: () => nice,
    setNiceness: (tid, n) => {
      call('setNiceness', `nice ${tid === LOOP ? 'loop' : tid} ${n}`);
      if (tid === LOOP) nice = n;
    },
    lockMemory: () => call('lockMemory', 'lock'),
    unlockMemory: () => call('unlockMemory', 'unlock'),
    setCpuAffinity: (tid, cpus) => call('setCpuAffinity', `cpus ${tid === LOOP ? 'loop' : tid} ${cpus.join(',')}`),
    getRealtimeTimeLimit: () => ({ softUs: -1, hardUs: -1 }),
    setRealtimeTimeLimit: (s, h) => call('setRealtimeTimeLimit', `rttime ${s}/${h}`),
    onRealtimeLimitWarning: () => calls.push('sigxcpu handler'),
    watchLateness: (every, tick) => {
      calls.push(`watch every ${every} ms`);
      late = tick;
      return () => {
        calls.push('unwatch');
        late = null;
      };
    },
  };
  return { sys, calls, late: (ms: number) => late?.(ms) };
}

function collector() {
  const lines: string[] = [];
  return { lines, log: { info: (m: string) => lines.push(`info: ${m}`), warn: (m: string) => lines.push(`warn: ${m}`) } };
}

function globals(edit: (g: GlobalDefs) => void): GlobalDefs {
  const g = defaultGlobalDefs('h');
  edit(g);
  return g;
}

describe('ProcessKnobs', () => {
  it('applies affinity to every thread, the RTTIME limit (after its SIGXCPU handler) before SCHED_RR, then locks memory', () => {
    const f = fakeSystem();
    const { lines, log } = collector();
    const k = new ProcessKnobs('vrrp', log, f.sys);
    k.apply(globals((g) => Object.assign(g.processSettings.vrrp, { rtPriority: 40, noSwap: true, cpuAffinity: [1], rlimitRttimeUs: 30000 })));
    expect(f.calls).toEqual(['cpus loop 1', 'cpus 7001 1', 'sigxcpu handler', 'rttime 15000/30000', 'rt loop 40', 'lock']);
    expect(k.state).toEqual({ rtPriority: 40, niceSet: false, memoryLocked: true });
    expect(lines).toEqual([]);
  });

  it('suspend (a reload) restores the scheduler, the limit and the memory; resume applies the same again', () => {
    const f = fakeSystem();
    const k = new ProcessKnobs('vrrp', collector().log, f.sys);
    k.apply(globals((g) => Object.assign(g.processSettings.vrrp, { rtPriority: 40, noSwap: true, rlimitRttimeUs: 30000 })));
    f.calls.length = 0;
    k.suspend();
    expect(f.calls).toEqual(['rt loop 0', 'rttime -1/-1', 'unlock']);
    expect(k.state).toEqual({ rtPriority: 0, niceSet: false, memoryLocked: false });
    f.calls.length = 0;
    k.resume();
    // the SIGXCPU handler is installed once per process
    expect(f.calls).toEqual(['rttime 15000/30000', 'rt loop 40', 'lock']);
  });

  it('nice for every thread without a real-time priority, and the inherited value back at suspend', () => {
    const f = fakeSystem();
    const k = new ProcessKnobs('checker', collector().log, f.sys);
    k.apply(globals((g) => (g.processSettings.checker.nice = -7)));
    expect(f.calls).toEqual(['nice loop -7', 'nice 7001 -7']);
    f.calls.length = 0;
    k.suspend();
    expect(f.calls).toEqual(['nice loop 0', 'nice 7001 0']);
  });

  it('a reload that drops the keywords leaves the process as inherited', () => {
    const f = fakeSystem();
    const k = new ProcessKnobs('vrrp', collector().log, f.sys);
    k.apply(globals((g) => Object.assign(g.processSettings.vrrp, { rtPriority: 40, noSwap: true })));
    f.calls.length = 0;
    k.apply(defaultGlobalDefs('h'));
    expect(f.calls).toEqual(['rt loop 0', 'rttime -1/-1', 'unlock']);
    expect(k.state).toEqual({ rtPriority: 0, niceSet: false, memoryLocked: false });
  });

  it('every refusal is a warning naming what could not be done; the rest still applies', () => {
    const f = fakeSystem(['setRealtimePriority', 'lockMemory']);
    const { lines, log } = collector();
    const k = new ProcessKnobs('vrrp', log, f.sys);
    k.apply(globals((g) => Object.assign(g.processSettings.vrrp, { rtPriority: 40, noSwap: true, cpuAffinity: [0] })));
    expect(lines).toEqual([
      'warn: cannot switch the VRRP process to real-time priority 40: setRealtimePriority: Operation not permitted',
      'warn: cannot lock the VRRP process in memory: lockMemory: Operation not permitted',
    ]);
    expect(f.calls).toContain('cpus loop 0');
    expect(k.state).toEqual({ rtPriority: 0, niceSet: false, memoryLocked: false });
  });

  it('a CPU the host lacks is logged at every apply and nothing is set', () => {
    const f = fakeSystem();
    const { lines, log } = collector();
    new ProcessKnobs('checker', log, f.sys).apply(globals((g) => (g.processSettings.checker.cpuAffinity = [5])));
    expect(f.calls).toEqual([]);
    expect(lines).toEqual(['warn: checker_cpu_affinity names CPU 5, but this host has CPUs 0-1: the checker process keeps its CPUs']);
  });

  it('max_auto_priority: late beyond min_auto_priority_delay -> SCHED_RR 1 with the limit, then one step per late tick, up to the maximum', () => {
    const f = fakeSystem();
    const { lines, log } = collector();
    const k = new ProcessKnobs('vrrp', log, f.sys);
    k.apply(globals((g) => Object.assign(g, { maxAutoPriority: 2, minAutoPriorityDelayUs: 50_000 })));
    expect(f.calls).toEqual(['watch every 50 ms']);
    f.late(49);
    expect(k.state.rtPriority).toBe(0);
    f.late(120);
    expect(k.state.rtPriority).toBe(1);
    f.late(60);
    f.late(60);
    expect(k.state.rtPriority).toBe(2);
    expect(f.calls).toEqual(['watch every 50 ms', 'sigxcpu handler', 'rttime 100000/200000', 'rt loop 1', 'rt loop 2']);
    expect(lines).toEqual([
      'warn: a VRRP timer ran 0.120 s late: raising to real-time priority 1 (max_auto_priority 2)',
      'warn: a VRRP timer ran 0.060 s late: raising to real-time priority 2 (max_auto_priority 2)',
    ]);
    // a reload starts over from the configured scheduling, as keepalived's reset does
    f.calls.length = 0;
    k.suspend();
    expect(f.calls).toEqual(['unwatch', 'rt loop 0', 'rttime -1/-1']);
  });
});
