import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { askDaemon, formatPlan, planExitCode } from '../cli/plan.js';
import { createLogger } from '../log/logger.js';
import type { ChildRole, ChildToParent, ParentToChild } from '../watchdog/ipc.js';
import { planSocketPath, startPlanServer, type ChildPlan } from './plan-server.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const conf = (text: string, name: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const GOOD = 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n';

/** A supervisor whose children answer `plan` with canned parts, recording what they were asked. */
function fakeSupervisor(answers: Partial<Record<ChildRole, ChildPlan | null>>) {
  const asked: ParentToChild[] = [];
  return {
    asked,
    running: () => Object.keys(answers) as ChildRole[],
    request: <T extends ChildToParent>(role: ChildRole, m: ParentToChild, match: (r: ChildToParent) => r is T): Promise<T | null> => {
      asked.push(m);
      const plan = answers[role];
      if (!plan || m.t !== 'plan') return Promise.resolve(null);
      const reply: ChildToParent = { t: 'plan', id: m.id, plan };
      return Promise.resolve(match(reply) ? reply : null);
    },
  };
}

describe('plan socket', () => {
  it('sits next to the pid file', () => {
    expect(planSocketPath('/run/keepalived.pid')).toBe('/run/keepalived.plan.sock');
    expect(planSocketPath('/run/kt/r1.pid')).toBe('/run/kt/r1.plan.sock');
  });

  it("answers with each running child's part, mode 0600, and exit 1 when something would change", async () => {
    const vrrp: ChildPlan = {
      role: 'vrrp',
      ok: true,
      instances: [
        {
          name: 'VI_1',
          interface: 'eth0',
          vrid: 51,
          family: 4,
          change: 'altered',
          state: 'MASTER',
          fields: ['priority'],
          vipsAdded: [],
          vipsRemoved: [],
          vipsOnHost: false,
          stateChange: null,
        },
      ],
    };
    const sup = fakeSupervisor({ vrrp });
    const pidFile = join(dir, 'a.pid');
    const server = startPlanServer({
      pidFile,
      supervisor: sup,
      log: createLogger({ proc: 'parent', write: () => undefined }),
      wanted: () => ['vrrp', 'checker'],
    });
    try {
      const file = conf(GOOD, 'good.conf');
      const plan = await until(() => askDaemon(planSocketPath(pidFile), file));
      expect(statSync(planSocketPath(pidFile)).mode & 0o777).toBe(0o600);
      expect(sup.asked).toEqual([{ t: 'plan', id: 1, configPath: file }]);
      expect(plan).toMatchObject({ ok: true, file, children: [vrrp] });
      // the file asks for a checker the daemon did not start: said, since a HUP will not start it
      expect(plan.ok && plan.notes).toEqual([expect.stringMatching(/needs the checker child, which is not running/)]);
      expect(planExitCode(plan)).toBe(1);
      expect(formatPlan(plan)).toMatch(/~ VI_1 \(eth0, VRID 51, IPv4\) altered, now MASTER\n {6}changes: priority\n/);
    } finally {
      server.close();
    }
  });

  it('a file a reload would refuse: located errors, the children not asked, exit 2', async () => {
    const sup = fakeSupervisor({ vrrp: null });
    const pidFile = join(dir, 'b.pid');
    const server = startPlanServer({ pidFile, supervisor: sup, log: createLogger({ proc: 'parent', write: () => undefined }), wanted: () => ['vrrp'] });
    try {
      const file = conf(GOOD.replace('priority', 'priorty'), 'bad.conf');
      const plan = await until(() => askDaemon(planSocketPath(pidFile), file));
      expect(plan.ok).toBe(false);
      expect(formatPlan(plan)).toMatch(/bad\.conf:4:3: error: unknown keyword `priorty`/);
      expect(sup.asked).toEqual([]);
      expect(planExitCode(plan)).toBe(2);
    } finally {
      server.close();
    }
  });

  it('a child that cannot answer makes the plan incomplete: exit 2, not "no change"', async () => {
    const sup = fakeSupervisor({ vrrp: { role: 'vrrp', ok: true, instances: [] }, checker: { role: 'checker', ok: false, message: 'IPVS not available' } });
    const pidFile = join(dir, 'c.pid');
    const server = startPlanServer({
      pidFile,
      supervisor: sup,
      log: createLogger({ proc: 'parent', write: () => undefined }),
      wanted: () => ['vrrp', 'checker'],
    });
    try {
      const plan = await until(() => askDaemon(planSocketPath(pidFile), conf(GOOD, 'c.conf')));
      expect(formatPlan(plan)).toMatch(/VRRP: no change\nIPVS: no plan: IPVS not available\n/);
      expect(planExitCode(plan)).toBe(2);
    } finally {
      server.close();
    }
  });
});

/** The server listens asynchronously: retry the first connection briefly. */
async function until<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
