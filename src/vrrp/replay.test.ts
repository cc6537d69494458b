// Replays every recorded event log under testdata/fsm through the pure machines and compares
// states and actions step by step (the logs were written from the RFC and keepalived's
// documented timings, not captured from this code).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { replayGroup, replayInstance, type GroupLog, type InstanceLog } from './replay.js';

const dir = new URL('./testdata/fsm/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('recorded VRRP event logs', () => {
  it('has logs to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });
  for (const f of files) {
    const log = JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as InstanceLog | GroupLog;
    it(`${f}: ${log.description.slice(0, 90)}`, () => {
      const got = 'group' in log ? replayGroup(log).steps : replayInstance(log).steps;
      log.steps.forEach((s, i) => {
        const g = got[i]!;
        const where = `${f} step ${i} (at ${s.at}, ${JSON.stringify(s.event)})`;
        expect(g.actions, where).toEqual(s.actions);
        expect(g.state, where).toBe(s.state);
      });
    });
  }
});
