// keepalived's process keywords in the VRRP child, ours beside keepalived 2.2.7 on the same
// config in a namespace: what the kernel reports for the process afterwards (/proc/PID/sched's
// policy, nice in /proc/PID/stat, VmLck and Cpus_allowed_list in /proc/PID/status, /proc/PID/limits, `chrt -p`), after
// start and after a HUP with a config without them (keepalived drops them at each reload and
// sets what the new config says; the CPU affinity stays).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configText, labUnavailable, RouterLab, sleep, until, type Daemon, type Impl } from '../vrrp/lab.js';

const why = labUnavailable();
if (why) console.warn(`process knob tests skipped: ${why}`);

interface Observed {
  /** /proc/PID/sched's policy: 0 SCHED_OTHER, 2 SCHED_RR */
  schedPolicy: number;
  /** `chrt -p`'s wording, which also shows SCHED_RESET_ON_FORK */
  policy: string;
  rtPriority: number;
  nice: number;
  lockedKb: number;
  /** Cpus_allowed_list in /proc/PID/status */
  cpus: string;
  rttime: string;
}

/** What the kernel says about a process's scheduling, memory locking and CPUs. */
function observe(pid: number): Observed {
  const sched = readFileSync(`/proc/${pid}/sched`, 'utf8');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  // /proc/PID/stat: fields after the command's closing parenthesis; nice is field 19
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const chrt = execFileSync('chrt', ['-p', String(pid)], { encoding: 'utf8' });
  const limits = /^Max realtime timeout\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))!;
  return {
    schedPolicy: Number(/^policy\s*:\s*(\d+)/m.exec(sched)![1]),
    policy: /scheduling policy: (.*)/.exec(chrt)![1]!.trim(),
    rtPriority: Number(/scheduling priority: (\d+)/.exec(chrt)![1]),
    nice: Number(fields[16]),
    lockedKb: Number(/^VmLck:\s+(\d+)/m.exec(status)![1]),
    cpus: /^Cpus_allowed_list:\s+(\S+)/m.exec(status)![1]!,
    rttime: `${limits[1]}/${limits[2]}`,
  };
}

describe.skipIf(why !== null)('process keywords in the VRRP child, ours beside keepalived 2.2.7', () => {
  const lab = new RouterLab('kt-pk', 86);
  const VIP = lab.vip(100);
  const instance = { vrid: 86, prio: 150, version: 2 as const, advertInt: '1', vips: [`${VIP}/24`] };
  beforeAll(() => lab.setup(), 60_000);
  afterAll(() => lab.cleanup(), 60_000);

  /** Rewrites the daemon's config file and HUPs it; waits until it says it reloaded. */
  async function reload(d: Daemon, body: string): Promise<void> {
    writeFileSync(d.conf, body);
    // keepalived's VRRP child logs only the start of a reload, and applies the keywords at its end
    const reloaded = () => (d.log.match(d.impl === 'ours' ? /configuration reloaded/g : /Reloading/g) ?? []).length;
    const before = reloaded();
    d.proc.kill('SIGHUP');
    await until(() => reloaded() > before, 30_000, `${d.impl} reloaded`);
    await sleep(1500);
  }

  const seen: Record<string, { started: Observed; reloaded: Observed; niced: Observed }> = {};

  for (const impl of ['ours', 'keepalived'] as Impl[]) {
    it(`${impl}: vrrp_rt_priority, vrrp_no_swap and vrrp_cpu_affinity take effect; a reload without them drops the first two`, async () => {
      const knobs = configText([instance], ['vrrp_rt_priority 40', 'vrrp_no_swap', 'vrrp_cpu_affinity 0']);
      const d = await lab.start(impl, lab.r1, knobs);
      try {
        await until(() => lab.hasAddr(lab.r1, VIP), 30_000, `${impl} master`);
        await sleep(500);
        const started = observe(d.vrrpPid);
        expect(started).toMatchObject({ schedPolicy: 2, policy: 'SCHED_RR|SCHED_RESET_ON_FORK', rtPriority: 40, cpus: '0' });
        expect(started.lockedKb).toBeGreaterThan(0);
        expect(d.running).toBe(true);

        await reload(d, configText([instance]));
        const reloaded = observe(d.vrrpPid);
        expect(reloaded).toMatchObject({ schedPolicy: 0, policy: 'SCHED_OTHER', rtPriority: 0, lockedKb: 0, cpus: '0' });
        // back to vrrp_priority: nice for a non-real-time child
        await reload(d, configText([instance], ['vrrp_priority -5']));
        const niced = observe(d.vrrpPid);
        expect(niced).toMatchObject({ schedPolicy: 0, policy: 'SCHED_OTHER', nice: -5 });
        expect(lab.hasAddr(lab.r1, VIP)).toBe(true);
        seen[impl] = { started, reloaded, niced };
      } finally {
        await d.kill();
        lab.flushVips(lab.r1, [`${VIP}/24`]);
      }
    }, 120_000);
  }

  for (const impl of ['ours', 'keepalived'] as Impl[]) {
    it(`${impl}: max_auto_priority raises a child that ran late (frozen 2.5 s) to SCHED_RR 1, then 2`, async () => {
      const d = await lab.start(impl, lab.r1, configText([instance], ['max_auto_priority 5']));
      try {
        await until(() => lab.hasAddr(lab.r1, VIP), 30_000, `${impl} master`);
        expect(observe(d.vrrpPid)).toMatchObject({ schedPolicy: 0, rtPriority: 0 });
        const raised = () => (d.log.match(impl === 'ours' ? /raising to real-time priority/g : /Set realtime priority/g) ?? []).length;
        for (const step of [1, 2]) {
          process.kill(d.vrrpPid, 'SIGSTOP');
          await sleep(2500);
          process.kill(d.vrrpPid, 'SIGCONT');
          await until(() => raised() >= step, 10_000, `${impl} raised to ${step}`);
          expect(observe(d.vrrpPid)).toMatchObject({ schedPolicy: 2, policy: 'SCHED_RR|SCHED_RESET_ON_FORK', rtPriority: step });
        }
      } finally {
        await d.kill();
        lab.flushVips(lab.r1, [`${VIP}/24`]);
      }
    }, 120_000);
  }

  it('the same kernel state from both, except the real-time CPU limit (ours 200 ms when unwritten, keepalived 10 ms)', () => {
    const { ours, keepalived } = seen;
    if (!ours || !keepalived) throw new Error(`observed only ${Object.keys(seen).join(', ') || 'nothing'}: an earlier test failed`);
    const same = (o: Observed) => ({ ...o, lockedKb: o.lockedKb > 0, rttime: undefined });
    for (const phase of ['started', 'reloaded', 'niced'] as const) expect(same(ours[phase])).toEqual(same(keepalived[phase]));
    expect(ours.started.rttime).toBe('100000/200000');
    expect(keepalived.started.rttime).toBe('5000/10000');
  });
});
