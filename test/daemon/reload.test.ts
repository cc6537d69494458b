// HUP on whole daemons in namespaces: r1 MASTER (200) and r2 BACKUP (100) of one VRRP
// instance with two VIPs, our daemon on both, an address monitor on r1.
//  - HUP with a file a start would refuse: the daemon keeps running the old config (same
//    processes, same state, VIPs untouched) and logs the errors with file:line:column.
//  - HUP that adds one VIP and removes another: on the MASTER exactly those two change
//    (one add, one delete on the address monitor), nobody changes state.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonLab, daemonLabUnavailable, sleep, stateChanges, until, vrrpInstance, type RunningDaemon } from './daemon-lab.js';

const skip = daemonLabUnavailable();
if (skip) console.warn(`test/daemon/reload.test.ts skipped: ${skip}`);

const lab = new DaemonLab('kt-dmn-h', 223);
const [A, B, C] = [lab.vip(100), lab.vip(101), lab.vip(102)];

const conf = (state: 'MASTER' | 'BACKUP', prio: number, vips: string[]) =>
  [
    'global_defs {',
    `  router_id kt_dmn_${prio}`,
    '}',
    vrrpInstance({ state, vrid: 71, prio, version: 3, advertInt: '0.5', vips: vips.map((v) => `${v}/24`) }),
  ].join('\n');

let master: RunningDaemon;
let backup: RunningDaemon;
let r1Conf: string;
let r2Conf: string;

describe.skipIf(skip)('HUP reloads of a running pair', () => {
  beforeAll(async () => {
    lab.setup();
    r1Conf = lab.writeConf(conf('MASTER', 200, [A, C]), 'r1.conf');
    r2Conf = lab.writeConf(conf('BACKUP', 100, [A, C]), 'r2.conf');
    master = await lab.start('ours', lab.r1, r1Conf, /VRRP child running/);
    backup = await lab.start('ours', lab.r2, r2Conf, /VRRP child running/);
    await master.waitLog(/\(VI_1\) Entering MASTER STATE/, 15_000);
    await until(() => lab.hasAddr(lab.r1, A) && lab.hasAddr(lab.r1, C), 5_000, 'VIPs on r1');
  }, 60_000);
  afterAll(async () => {
    lab.stopWatchers();
    for (const d of [master, backup]) await d?.stop();
    await lab.cleanup();
  });

  it('a broken file changes nothing: same processes, same state, same VIPs, errors with file:line:column', async () => {
    const r1Addrs = lab.addrMonitor(lab.r1);
    await sleep(200);
    const pids = [master.pid, master.vrrpPid()];
    const mark = master.log.length;
    const backupMark = backup.log.length;
    // line 8 is `priority 200`: a typo, and an out-of-range advert_int below it, which a start
    // would skip; and a VRID out of range, which would stop a start (the instance has none)
    const broken = conf('MASTER', 200, [A, C])
      .replace('  priority 200', '  priorty 200')
      .replace('advert_int 0.5', 'advert_int 500')
      .replace('virtual_router_id 71', 'virtual_router_id 300');
    writeFileSync(r1Conf, broken);
    master.signal('SIGHUP');
    await master.waitLog(/keeping the running one/, 10_000, mark);
    await sleep(2_000);
    const lines = master.logSince(mark).join('\n');
    console.log(
      `HUP with a broken file, r1 logged:\n${master
        .logSince(mark)
        .filter((l) => /error/.test(l))
        .join('\n')}`,
    );
    expect(lines).toMatch(/r1\.conf:8:3: error: unknown keyword `priorty`.*did you mean `priority`/);
    expect(lines).toMatch(/r1\.conf:9:14: error: `advert_int` expects/);
    expect(lines).toMatch(/r1\.conf:7:\d+: error: `virtual_router_id` expects/);
    expect(master.running).toBe(true);
    expect([master.pid, master.vrrpPid()]).toEqual(pids);
    expect(stateChanges(master, mark)).toEqual([]);
    expect(stateChanges(backup, backupMark)).toEqual([]);
    expect(lines).not.toMatch(/configuration reloaded|reload applied/);
    expect(r1Addrs.events).toEqual([]);
    expect(lab.hasAddr(lab.r1, A) && lab.hasAddr(lab.r1, C)).toBe(true);
  }, 30_000);

  it('a VIP added and another removed: on the MASTER exactly one add and one delete, no state change anywhere', async () => {
    const r1Addrs = lab.addrMonitor(lab.r1);
    await sleep(200);
    const mark = master.log.length;
    const backupMark = backup.log.length;
    writeFileSync(r1Conf, conf('MASTER', 200, [A, B]));
    writeFileSync(r2Conf, conf('BACKUP', 100, [A, B]));
    master.signal('SIGHUP');
    backup.signal('SIGHUP');
    await Promise.all([master.waitLog(/reload applied/, 10_000, mark), backup.waitLog(/reload applied/, 10_000, backupMark)]);
    await until(() => r1Addrs.events.length >= 2, 5_000, 'two address changes on r1');
    // longer than the backup's Master_Down (3 x 0.5 s + skew): it would have taken over by now
    await sleep(2_500);
    console.log(`HUP adding ${B} and removing ${C} on the MASTER, address monitor:\n${r1Addrs.events.map((e) => e.line).join('\n')}`);
    expect(r1Addrs.events.map((e) => `${e.deleted ? 'del' : 'add'} ${e.address}`).sort()).toEqual([`add ${B}`, `del ${C}`]);
    expect(stateChanges(master, mark)).toEqual([]);
    expect(stateChanges(backup, backupMark)).toEqual([]);
    expect(lab.hasAddr(lab.r1, A) && lab.hasAddr(lab.r1, B) && !lab.hasAddr(lab.r1, C)).toBe(true);
    expect([A, B, C].some((v) => lab.hasAddr(lab.r2, v))).toBe(false);
  }, 30_000);
});
