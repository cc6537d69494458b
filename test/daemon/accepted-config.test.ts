// The children run the config the parent accepted, and only that. Whole daemons in
// namespaces: r1 MASTER (priority 200) and r2 BACKUP (100) of one instance, our daemon on
// both, the client capturing the adverts.
//  - A HUP of a file the parent refuses (priority 50, and a VRID out of range that stops
//    the load), then kill -9 of r1's VRRP child: the respawned child runs the last accepted
//    config (the file on the disk is the refused one): priority 200 on the wire.
//  - A HUP storm alternating accepted and refused files, with the VRRP child killed twice
//    while the refused one is on the disk: no child ever runs the refused one.
//  - A file with a statement the start skips starts, and its later HUPs (a VIP added) are
//    applied, the skipped statement logged again each time.
import { renameSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alive, DaemonLab, daemonLabUnavailable, sleep, stateChanges, until, vrrpInstance, type RunningDaemon } from './daemon-lab.js';

const skip = daemonLabUnavailable();
if (skip) console.warn(`test/daemon/accepted-config.test.ts skipped: ${skip}`);

const lab = new DaemonLab('kt-dmn-ac', 231);
const [A, B] = [lab.vip(100), lab.vip(101)];

const conf = (state: 'MASTER' | 'BACKUP', prio: number, vips = [A], extra: string[] = []) =>
  [
    'global_defs {',
    `  router_id kt_dmn_ac_${prio}`,
    '}',
    vrrpInstance({ state, vrid: 91, prio, version: 2, advertInt: '1', vips: vips.map((v) => `${v}/24`), extra }),
  ].join('\n');
/** A file the parent refuses: its VRID is out of range, so the instance has none. */
const refused = (note = '') => conf('MASTER', 50).replace('virtual_router_id 91', 'virtual_router_id 300') + note;

/** Replaces the file at once (an editor's write-and-rename): a reader never sees half of it. */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
}

async function pair(r1Text: string): Promise<{ master: RunningDaemon; backup: RunningDaemon; r1Conf: string }> {
  const r1Conf = lab.writeConf(r1Text);
  const master = await lab.start('ours', lab.r1, r1Conf, /VRRP child running/);
  const backup = await lab.start('ours', lab.r2, lab.writeConf(conf('BACKUP', 100)), /VRRP child running/);
  await master.waitLog(/\(VI_1\) Entering MASTER STATE/, 15_000);
  await until(() => lab.hasAddr(lab.r1, A), 5_000, 'VIP on r1');
  return { master, backup, r1Conf };
}

/** Kills r1's VRRP child and waits for its successor to run. */
async function killVrrpChild(d: RunningDaemon): Promise<number> {
  const pid = d.vrrpPid()!;
  const running = d.logSince(0).filter((l) => /VRRP child running/.test(l)).length;
  process.kill(pid, 'SIGKILL');
  await until(() => !alive(pid), 5_000, 'the child gone');
  await until(() => d.logSince(0).filter((l) => /VRRP child running/.test(l)).length > running || !d.running, 20_000, 'its successor running');
  return pid;
}

describe.skipIf(skip)('children run the config the parent accepted', () => {
  beforeAll(() => lab.setup());
  afterEach(() => lab.stopAll());
  afterAll(() => lab.cleanup());

  it('a refused HUP, then kill -9 of the VRRP child: the respawned child runs the accepted config, priority 200 on the wire', async () => {
    const { master, backup, r1Conf } = await pair(conf('MASTER', 200));
    const cap = await lab.capture();
    const mark = master.log.length;
    const backupMark = backup.log.length;
    replaceFile(r1Conf, refused());
    master.signal('SIGHUP');
    await master.waitLog(/new configuration rejected/, 15_000, mark);
    const t0 = Date.now();
    await killVrrpChild(master);
    // longer than r2's Master_Down (3 x 1 s + 0.61 s): whatever r1 advertises by then is its config
    await sleep(5_000);
    const fromR1 = cap.adverts().filter((a) => a.src === lab.r1.ip && a.frame.ts * 1000 > t0);
    console.log(
      `refused HUP then kill -9 of r1's VRRP child: ${fromR1.length} adverts from r1 after the kill, priorities ${[...new Set(fromR1.map((a) => a.prio))].join(', ')}; r2: ${stateChanges(backup, backupMark).join(' | ') || 'no state change'}`,
    );

    expect(master.running).toBe(true);
    expect(fromR1.length).toBeGreaterThanOrEqual(2);
    expect(fromR1.every((a) => a.prio === 200)).toBe(true);
    expect(master.logSince(mark).join('\n')).not.toMatch(/configuration errors|reload refused|exited with code/);
  }, 60_000);

  it('a HUP storm alternating accepted and refused files, the VRRP child killed meanwhile: no child runs a refused one', async () => {
    const { master, r1Conf } = await pair(conf('MASTER', 200));
    const cap = await lab.capture();
    const mark = master.log.length;
    const t0 = Date.now();
    // each load runs in a worker of the parent's; HUPs during one make one more load after it
    const kills: number[] = [];
    // 6 s of storm at least, and on until the second kill (a successor slow to start on a
    // loaded host holds up the loop)
    for (let round = 0; Date.now() - t0 < 6_000 || kills.length < 2; round++) {
      replaceFile(r1Conf, `${conf('MASTER', 200)}# round ${round}\n`);
      master.signal('SIGHUP');
      await sleep(30);
      replaceFile(r1Conf, refused(`# round ${round}\n`));
      master.signal('SIGHUP');
      // twice, with the refused file on the disk while the successor starts
      if ((kills.length === 0 && Date.now() - t0 > 1_500) || (kills.length === 1 && Date.now() - t0 > 4_000)) kills.push(await killVrrpChild(master));
      if (Date.now() - t0 > 60_000) break; // a successor that never ran: the kill count says so
      await sleep(30);
    }
    replaceFile(r1Conf, `${conf('MASTER', 200)}# last\n`);
    master.signal('SIGHUP');
    const tEnd = Date.now();
    await sleep(4_000);
    const log = master.logSince(mark);
    const fromR1 = cap.adverts().filter((a) => a.src === lab.r1.ip && a.frame.ts * 1000 > t0);
    const count = (re: RegExp) => log.filter((l) => re.test(l)).length;
    console.log(
      `HUP storm on r1: ${count(/Reloading/)} loads, ${count(/new configuration accepted/)} accepted, ${count(/new configuration rejected/)} rejected, ` +
        `${count(/reload applied/)} reloads applied by children, ${kills.length} kills; adverts from r1 at priorities ${[...new Set(fromR1.map((a) => a.prio))].join(', ')}`,
    );

    expect(kills.length).toBe(2);
    expect(master.running).toBe(true);
    expect(count(/new configuration accepted/)).toBeGreaterThan(0);
    expect(count(/new configuration rejected/)).toBeGreaterThan(0);
    // r1 advertised after the storm, and never anything but 200
    expect(fromR1.some((a) => a.frame.ts * 1000 > tEnd + 1_000)).toBe(true);
    expect(fromR1.every((a) => a.prio === 200)).toBe(true);
    expect(log.join('\n')).not.toMatch(/configuration errors|reload refused|exited with code/);
  }, 120_000);

  it('a file with a statement the start skips starts, and its later HUPs are applied: a VIP added appears', async () => {
    // a misspelt preempt_delay: keepalived's daemon logs it and runs without it; so do we
    const tolerated = (vips: string[]) => conf('MASTER', 200, vips, ['preempt_dealy 5']);
    const { master, r1Conf } = await pair(tolerated([A]));
    expect(master.log).toMatch(/r\d?\S*\.conf:\d+:\d+: error: unknown keyword `preempt_dealy`.*statement ignored/);
    const mark = master.log.length;
    replaceFile(r1Conf, tolerated([A, B]));
    master.signal('SIGHUP');
    await master.waitLog(/reload applied/, 15_000, mark);
    await until(() => lab.hasAddr(lab.r1, B), 5_000, `${B} on r1`);
    const log = master.logSince(mark).join('\n');
    expect(log).toMatch(/unknown keyword `preempt_dealy`.*statement ignored/);
    expect(log).not.toMatch(/rejected/);
    expect(lab.hasAddr(lab.r1, A)).toBe(true);
  }, 60_000);
});
