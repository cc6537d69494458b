// Reloads of big files must not stall the watchdog. Whole daemons in namespaces: r1 MASTER
// (priority 200, with a virtual server so the checker child runs too) and r2 BACKUP (100),
// our daemon on both.
//  - A HUP of a 1,000,000-line broken file (the config, a million junk lines, an unclosed
//    block): while the parent loads it (in a worker thread) it still answers signals (a USR1
//    is passed on and the VRRP child writes its dump before the load is over); then it
//    refuses the file; no child was restarted and r2 never took over.
//  - A HUP of a big file the daemon runs (100,000 lines it skips, as a start would): both
//    children load it too and apply it; none is killed for silence, no failover.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonLab, daemonLabUnavailable, memoryMb, sleep, stateChanges, until, vrrpInstance, type RunningDaemon } from './daemon-lab.js';

const skip = daemonLabUnavailable();
if (skip) console.warn(`test/daemon/big-reload.test.ts skipped: ${skip}`);

const lab = new DaemonLab('kt-dmn-big', 233);
const VIP = lab.vip(100);

/** A virtual server so the checker child runs (it idles without kernel IPVS). */
const virtualServer = [
  'virtual_server 10.233.0.100 80 {',
  '  lb_kind DR',
  '  protocol TCP',
  '  real_server 10.233.0.50 80 {',
  '    TCP_CHECK {',
  '      connect_timeout 1',
  '    }',
  '  }',
  '}',
  '',
].join('\n');
const conf = (state: 'MASTER' | 'BACKUP', prio: number) =>
  [
    'global_defs {',
    `  router_id kt_dmn_big_${prio}`,
    '}',
    vrrpInstance({ state, vrid: 93, prio, version: 2, advertInt: '1', vips: [`${VIP}/24`] }),
    virtualServer,
  ].join('\n');
const junk = (lines: number) => 'junk statement here\n'.repeat(lines);

async function pair(): Promise<{ master: RunningDaemon; backup: RunningDaemon; r1Conf: string }> {
  const r1Conf = lab.writeConf(conf('MASTER', 200));
  const master = await lab.start('ours', lab.r1, r1Conf, /VRRP child running/);
  const backup = await lab.start('ours', lab.r2, lab.writeConf(conf('BACKUP', 100)), /VRRP child running/);
  await master.waitLog(/\(VI_1\) Entering MASTER STATE/, 15_000);
  // without kernel IPVS the checker waits for it, heartbeating and reloading as usual
  await master.waitLog(/checker started|health checking is paused/, 15_000);
  return { master, backup, r1Conf };
}

describe.skipIf(skip)('reloads of big files', () => {
  beforeAll(() => lab.setup());
  afterEach(() => lab.stopAll());
  afterAll(() => lab.cleanup());

  it('a HUP of a 1,000,000-line broken file: the parent keeps answering, refuses it, no child restarted, no failover', async () => {
    const { master, backup, r1Conf } = await pair();
    const pids = [master.vrrpPid(), master.checkerPid()];
    const mark = master.log.length;
    const backupMark = backup.log.length;
    writeFileSync(r1Conf, `${conf('MASTER', 200)}${junk(1_000_000)}vrrp_instance VI_2 {\n`);
    const t0 = Date.now();
    master.signal('SIGHUP');
    await master.waitLog(/Reloading/, 10_000, mark);
    // while it loads: a dump request reaches the VRRP child through the parent
    const dumpFile = master.tmpFile('keepalived.data');
    rmSync(dumpFile, { force: true });
    master.signal('SIGUSR1');
    await until(() => existsSync(dumpFile), 20_000, "the VRRP child's dump");
    const dumpedMs = Date.now() - t0;
    const answeredDuringLoad = !/new configuration rejected/.test(master.log.slice(mark));
    await master.waitLog(/new configuration rejected/, 300_000, mark);
    const refusedMs = Date.now() - t0;
    await sleep(2_000);
    const log = master.logSince(mark);
    console.log(
      [
        `HUP of a 1,000,000-line broken file: USR1 answered (dump written) after ${dumpedMs} ms, file refused after ${refusedMs} ms; parent RSS now ${memoryMb(master.pid).rss.toFixed(0)} MB, peak ${memoryMb(master.pid).peak.toFixed(0)} MB (the worker's load included)`,
        ...log
          .filter((l) => /error|rejected|more/.test(l))
          .slice(-3)
          .map((l) => l.slice(0, 200)),
      ].join('\n'),
    );

    expect(answeredDuringLoad).toBe(true);
    expect(master.running).toBe(true);
    expect([master.vrrpPid(), master.checkerPid()]).toEqual(pids);
    expect(log.join('\n')).not.toMatch(/stopped answering|child died|did not finish starting/);
    expect(stateChanges(master, mark)).toEqual([]);
    expect(stateChanges(backup, backupMark)).toEqual([]);
    // what is logged is bounded, with the count of the rest
    expect(log.filter((l) => /unknown keyword `junk`/.test(l)).length).toBeLessThanOrEqual(50);
    expect(log.join('\n')).toMatch(/\.\.\. and \d+ more/);
    expect(lab.hasAddr(lab.r1, VIP) && !lab.hasAddr(lab.r2, VIP)).toBe(true);
  }, 400_000);

  it('a HUP of a big file the daemon runs: both children apply it, none is killed for silence, no failover', async () => {
    const { master, backup, r1Conf } = await pair();
    const pids = [master.vrrpPid(), master.checkerPid()];
    const mark = master.log.length;
    const backupMark = backup.log.length;
    writeFileSync(r1Conf, `${conf('MASTER', 200)}${junk(100_000)}`);
    const t0 = Date.now();
    master.signal('SIGHUP');
    await master.waitLog(/new configuration accepted/, 200_000, mark);
    const acceptedMs = Date.now() - t0;
    await until(() => master.logSince(mark).filter((l) => /reload applied/.test(l)).length === 2 || !master.running, 200_000, 'both children applied it').catch(
      (e) => {
        console.log(
          master
            .logSince(mark)
            .map((l) => l.slice(0, 200))
            .filter((l) => !/unknown keyword/.test(l))
            .join('\n'),
        );
        throw e;
      },
    );
    const appliedMs = Date.now() - t0;
    await sleep(2_000);
    const log = master.logSince(mark);
    console.log(`HUP of a 100,000-line file the daemon runs: accepted after ${acceptedMs} ms, applied by both children after ${appliedMs} ms`);

    expect(master.running).toBe(true);
    expect([master.vrrpPid(), master.checkerPid()]).toEqual(pids);
    expect(log.join('\n')).not.toMatch(/stopped answering|child died|did not finish starting|reload refused/);
    expect(stateChanges(master, mark)).toEqual([]);
    expect(stateChanges(backup, backupMark)).toEqual([]);
  }, 400_000);
});
