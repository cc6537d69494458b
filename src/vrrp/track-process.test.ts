import { describe, expect, it } from 'vitest';
import { delayExpired, initialQuorum, processAdded, processMatches, processRemoved } from './track-process.js';

const cmd = (...argv: string[]) => argv.map((a) => `${a}\0`).join('');
const proc = (comm: string, ...argv: string[]) => ({ comm, cmdline: cmd(...argv) });
type Match = Parameters<typeof processMatches>[0];
const def = (over: Partial<Match>): Match => ({ process: 'sleep', params: [], paramMatch: 'none', fullCommand: false, ...over });

describe('which processes match (keepalived 2.2.7 check_params)', () => {
  it('by comm, 15 characters, unless full_command compares argv[0]', () => {
    expect(processMatches(def({}), proc('sleep', '/bin/sleep', '5'))).toBe(true);
    expect(processMatches(def({ fullCommand: true }), proc('sleep', '/bin/sleep', '5'))).toBe(false);
    expect(processMatches(def({ process: '/bin/sleep', fullCommand: true }), proc('sleep', '/bin/sleep', '5'))).toBe(true);
    expect(processMatches(def({ process: 'a-very-long-name' }), proc('a-very-long-nam', 'a-very-long-name'))).toBe(false);
  });

  it('exact: the same parameters, no more, no fewer; with none configured, none', () => {
    const d = def({ params: ['kt-marker', '300'], paramMatch: 'exact', fullCommand: true });
    expect(processMatches(d, proc('sleep', 'sleep', 'kt-marker', '300'))).toBe(true);
    expect(processMatches(d, proc('sleep', 'sleep', 'kt-marker', '3000'))).toBe(false);
    expect(processMatches(d, proc('sleep', 'sleep', 'kt-marker', '300', 'x'))).toBe(false);
    expect(processMatches(d, proc('sleep', 'sleep', 'kt-marker'))).toBe(false);
    const none = def({ paramMatch: 'exact', fullCommand: true });
    expect(processMatches(none, proc('sleep', 'sleep'))).toBe(true);
    expect(processMatches(none, proc('sleep', 'sleep', '1'))).toBe(false);
  });

  it('partial: the parameters begin with the configured words; initial: the last may be a prefix', () => {
    const partial = def({ params: ['kt-marker'], paramMatch: 'partial', fullCommand: true });
    expect(processMatches(partial, proc('sleep', 'sleep', 'kt-marker', '300'))).toBe(true);
    expect(processMatches(partial, proc('sleep', 'sleep', 'kt-marker-2', '300'))).toBe(false);
    const initial = def({ params: ['kt-mark'], paramMatch: 'initial', fullCommand: true });
    expect(processMatches(initial, proc('sleep', 'sleep', 'kt-marker', '300'))).toBe(true);
    expect(processMatches(initial, proc('sleep', 'sleep', 'kt-other'))).toBe(false);
    expect(processMatches(def({ paramMatch: 'partial', fullCommand: true }), proc('sleep', 'sleep', 'anything'))).toBe(true);
  });
});

describe('quorum (keepalived 2.2.7 track_process.c)', () => {
  const q = { quorum: 2, quorumMax: 3, forkDelayMs: 0, terminateDelayMs: 0 };

  it('up while quorum <= count <= quorum_max; only crossing a bound changes the status', () => {
    let s = initialQuorum(q, 1);
    expect(s.up).toBe(false);
    s = processAdded(q, s, 'exec').state;
    expect(s).toEqual({ count: 2, up: true, timer: null });
    s = processAdded(q, s, 'exec').state;
    expect(s.up).toBe(true);
    s = processAdded(q, s, 'exec').state;
    expect(s).toEqual({ count: 4, up: false, timer: null });
    s = processRemoved(q, s, 'exit').state;
    expect(s).toEqual({ count: 3, up: true, timer: null });
    s = processRemoved(q, processRemoved(q, s, 'exit').state, 'exit').state;
    expect(s).toEqual({ count: 1, up: false, timer: null });
  });

  it('quorum_max 0 (quorum 0): up while no such process runs', () => {
    const none = { quorum: 0, quorumMax: 0, forkDelayMs: 0, terminateDelayMs: 0 };
    expect(initialQuorum(none, 0).up).toBe(true);
    expect(processAdded(none, initialQuorum(none, 0), 'exec').state.up).toBe(false);
  });

  it('fork_delay holds a gain by fork; an exec counts at once; an exit cancels a pending gain', () => {
    const d = { quorum: 1, quorumMax: 10, forkDelayMs: 500, terminateDelayMs: 0 };
    const forked = processAdded(d, initialQuorum(d, 0), 'fork');
    expect(forked).toEqual({ state: { count: 1, up: false, timer: 'fork' }, startTimerMs: 500 });
    expect(delayExpired(d, forked.state)).toEqual({ count: 1, up: true, timer: null });
    expect(processRemoved(d, forked.state, 'exit')).toEqual({ state: { count: 0, up: false, timer: null }, cancelTimer: true });
    expect(processAdded(d, initialQuorum(d, 0), 'exec')).toEqual({ state: { count: 1, up: true, timer: null } });
  });

  it('terminate_delay holds a loss by exit, not by a rename; a new process within it cancels the loss', () => {
    const d = { quorum: 1, quorumMax: 10, forkDelayMs: 0, terminateDelayMs: 2000 };
    const exited = processRemoved(d, initialQuorum(d, 1), 'exit');
    expect(exited).toEqual({ state: { count: 0, up: true, timer: 'terminate' }, startTimerMs: 2000 });
    expect(processAdded(d, exited.state, 'exec')).toEqual({ state: { count: 1, up: true, timer: null }, cancelTimer: true });
    expect(delayExpired(d, exited.state).up).toBe(false);
    expect(processRemoved(d, initialQuorum(d, 1), 'renamed').state).toEqual({ count: 0, up: false, timer: null });
  });
});
