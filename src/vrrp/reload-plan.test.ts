import { afterAll, describe, expect, it } from 'vitest';
import { configOf, instanceText, removeConfigFiles } from './engine-testkit.js';
import { changedFields, planVrrpReload, type RunningInstance } from './reload-plan.js';

afterAll(removeConfigFiles);

const running = (text: string, state: string[], masterPriority = 0): RunningInstance[] =>
  configOf(text).vrrpInstances.map((cfg, i) => ({ cfg, state: state[i]!, priority: cfg.priority, masterPriority }));

describe('planVrrpReload', () => {
  it('reports nothing for the same file, even when its blocks moved (positions are not config)', () => {
    const now = running(instanceText('A', 51) + instanceText('B', 52), ['MASTER', 'BACKUP']);
    const moved = configOf(`\n\n${instanceText('B', 52)}\n${instanceText('A', 51)}`);
    expect(planVrrpReload(now, moved.vrrpInstances)).toEqual([]);
  });

  it('a MASTER whose VIP set changes edits the host; a BACKUP with the same change does not', () => {
    const text = instanceText('A', 51, 'eth0', '', ['10.0.0.1/24', '10.0.0.2/24']) + instanceText('B', 52, 'eth0', '', ['10.0.1.1/24']);
    const now = running(text, ['MASTER', 'BACKUP']);
    const next = configOf(instanceText('A', 51, 'eth0', '', ['10.0.0.1/24', '10.0.0.3/24']) + instanceText('B', 52, 'eth0', '', ['10.0.1.2/24']));
    const [a, b] = planVrrpReload(now, next.vrrpInstances);
    expect(a).toMatchObject({
      name: 'A',
      change: 'altered',
      state: 'MASTER',
      fields: ['virtualIpaddresses'],
      vipsAdded: ['10.0.0.3/24'],
      vipsRemoved: ['10.0.0.2/24'],
      vipsOnHost: true,
      stateChange: null,
    });
    expect(b).toMatchObject({ name: 'B', change: 'altered', state: 'BACKUP', vipsAdded: ['10.0.1.2/24'], vipsRemoved: ['10.0.1.1/24'], vipsOnHost: false });
  });

  it('a removed MASTER drops its VIPs and hands over; an added instance starts BACKUP below 255', () => {
    const now = running(instanceText('A', 51, 'eth0', '', ['10.0.0.1/24']), ['MASTER']);
    const next = configOf(instanceText('N', 60, 'eth0', '', ['10.0.9.9/24']));
    const plan = planVrrpReload(now, next.vrrpInstances);
    expect(plan.map((p) => [p.name, p.change])).toEqual([
      ['A', 'removed'],
      ['N', 'added'],
    ]);
    expect(plan[0]).toMatchObject({ vipsRemoved: ['10.0.0.1/24'], vipsOnHost: true });
    expect(plan[0]!.stateChange).toMatch(/MASTER -> removed: sends priority 0/);
    expect(plan[1]).toMatchObject({ vipsAdded: ['10.0.9.9/24'], vipsOnHost: false });
    expect(plan[1]!.stateChange).toMatch(/starts in BACKUP/);
  });

  it('matches by VRID + family + interface as the engine does: a rename is an alteration, a move is remove + add', () => {
    const now = running(instanceText('A', 51) + instanceText('B', 52), ['BACKUP', 'BACKUP']);
    const next = configOf(instanceText('A2', 51) + instanceText('B', 52, 'eth1'));
    const plan = planVrrpReload(now, next.vrrpInstances);
    expect(plan.map((p) => [p.name, p.change, p.fields])).toEqual([
      ['B', 'removed', []],
      ['A2', 'altered', ['name']],
      ['B', 'added', []],
    ]);
  });

  it('a BACKUP raised above the master it hears would preempt; with nopreempt it would not', () => {
    const now = running(instanceText('A', 51), ['BACKUP'], 150);
    const raised = configOf(instanceText('A', 51).replace('priority 100', 'priority 200'));
    expect(planVrrpReload(now, raised.vrrpInstances)[0]!.stateChange).toBe("BACKUP -> MASTER (priority 200 preempts the master's 150)");
    const nopreempt = configOf(instanceText('A', 51, 'eth0', '  nopreempt').replace('priority 100', 'priority 200'));
    const p = planVrrpReload(now, nopreempt.vrrpInstances)[0]!;
    expect(p.fields).toEqual(['nopreempt', 'priority']);
    expect(p.stateChange).toBeNull();
  });

  it('a MASTER lowered in priority is told it may lose MASTER', () => {
    const now = running(instanceText('A', 51), ['MASTER']);
    const lowered = configOf(instanceText('A', 51).replace('priority 100', 'priority 50'));
    expect(planVrrpReload(now, lowered.vrrpInstances)[0]!.stateChange).toMatch(/priority 100 -> 50: stays MASTER unless/);
  });

  it('changedFields lists only the fields whose values differ', () => {
    const [a] = configOf(instanceText('A', 51)).vrrpInstances;
    const [b] = configOf(instanceText('A', 51, 'eth0', '  advert_int 2')).vrrpInstances;
    expect(changedFields(a!, b!)).toEqual(['advertIntMs']);
  });
});
