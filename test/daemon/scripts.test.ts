// Scripts under the whole daemon, in a namespace (r1 alone, the client capturing adverts):
//  - enable_script_security with a failing tracked script others can write: keepalived
//    disables the tracker and the instance keeps its priority (no failover); `-t` on the
//    same file warns at the script's statement.
//  - a vrrp_script that leaves a long-lived child behind and a notify script that hangs:
//    the child goes at the script's timeout, and nothing of either outlives the daemon.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupMembers, processGroupOf, running } from '../helpers/proc.js';
import { BIN, DaemonLab, daemonLabUnavailable, until, vrrpInstance } from './daemon-lab.js';

const skip = daemonLabUnavailable();
if (skip) console.warn(`test/daemon/scripts.test.ts skipped: ${skip}`);

const lab = new DaemonLab('kt-dmn-s', 225);

function script(path: string, body: string, mode = 0o755): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

describe.skipIf(skip)('scripts under the daemon', () => {
  beforeAll(() => lab.setup());
  afterAll(async () => {
    lab.stopWatchers();
    await lab.cleanup();
  });

  it('an insecure tracked script is disabled: the priority stays, -t warns at its statement', async () => {
    const open = join(lab.run, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777); // anyone could replace what runs as root
    const bad = script(join(open, 'bad.sh'), 'exit 1');
    const runs = join(lab.run, 'ok-runs');
    const ok = script(join(lab.run, 'ok.sh'), `echo run >> ${runs}`);
    const conf = lab.writeConf(
      [
        'global_defs {',
        '  router_id kt_dmn_s',
        '  enable_script_security',
        '  script_user root',
        '}',
        'vrrp_script bad {',
        `  script "${bad}"`,
        '  interval 1',
        '  weight -60',
        '}',
        'vrrp_script ok {',
        `  script "${ok}"`,
        '  interval 1',
        '}',
        vrrpInstance({ vrid: 81, prio: 150, version: 3, advertInt: '0.5', vips: [`${lab.vip(100)}/24`], extra: ['track_script {', '  bad', '  ok', '}'] }),
      ].join('\n'),
      'insecure.conf',
    );

    const t = lab.net.exec(lab.r1.ns, `${BIN} -t -f ${conf} 2>&1; true`);
    expect(t).toContain(
      `${conf}:7:3: warning: Disabling vrrp_script bad due to insecure (enable_script_security): unsafe permissions found for script '${bad}': ${open} is writable by everyone`,
    );

    const cap = await lab.capture();
    const d = await lab.start('ours', lab.r1, conf, /VRRP child running/);
    await d.waitLog(/\(VI_1\) Entering MASTER STATE/, 15_000);
    expect(d.log).toContain('Disabling vrrp_script bad due to insecure');
    // three runs of the tracked script that does run: the disabled one would have run as often
    const from = lines(runs).length;
    await until(() => lines(runs).length >= from + 3, 15_000, 'ok ran three more times');
    const mine = cap.adverts().filter((a) => a.src === lab.r1.ip && a.vrid === 81);
    expect(mine.length).toBeGreaterThan(3);
    expect(new Set(mine.map((a) => a.prio))).toEqual(new Set([150]));
    await d.stop();
  });

  it('a vrrp_script child left behind ends at the timeout; a hung notify script ends with the daemon', async () => {
    const left = join(lab.run, 'left.pids');
    const leaver = script(join(lab.run, 'leaver.sh'), `sleep 300 & echo $! >> ${left}\nexit 0`);
    const hungPid = join(lab.run, 'hung.pid');
    const hung = script(join(lab.run, 'hung.sh'), `sleep 300 & echo $! > ${hungPid}\nwait`);
    const conf = lab.writeConf(
      [
        'global_defs {',
        '  router_id kt_dmn_s',
        '}',
        'vrrp_script leaver {',
        `  script "${leaver}"`,
        '  interval 1',
        '  timeout 1',
        '}',
        vrrpInstance({
          vrid: 82,
          prio: 150,
          version: 3,
          advertInt: '0.5',
          vips: [`${lab.vip(101)}/24`],
          extra: ['track_script {', '  leaver', '}', `notify_master ${hung}`],
        }),
      ].join('\n'),
      'leftovers.conf',
    );
    const d = await lab.start('ours', lab.r1, conf, /VRRP child running/);
    await until(() => lines(left).length >= 1, 15_000, 'leaver ran');
    const first = Number(lines(left)[0]);
    // the script exited 0 at once; what it left in its group is ended at its 1 s timeout
    await until(() => !running(first), 10_000, 'left-behind child ended at the timeout');
    await until(() => existsSync(hungPid) && readFileSync(hungPid, 'utf8').trim() !== '', 15_000, 'notify_master ran');
    const sleeper = Number(readFileSync(hungPid, 'utf8'));
    const hungGroup = processGroupOf(sleeper)!;
    expect(groupMembers(hungGroup).length).toBe(2); // the hung script and its child
    const leftPids = lines(left).map(Number);
    await d.stop();
    expect(groupMembers(hungGroup)).toEqual([]);
    expect(leftPids.filter(running)).toEqual([]);
    // and keepalived's -t on the same file has nothing to say but the SECURITY VIOLATION
    const t = spawnSync('ip', ['netns', 'exec', lab.r1.ns, BIN, '-t', '-f', conf], { encoding: 'utf8' });
    // (its positioned messages; a verdict line follows them)
    expect(
      t.stderr
        .trim()
        .split('\n')
        .filter((l) => /leftovers\.conf:\d+:\d+:/.test(l)),
    ).toEqual([
      expect.stringMatching(/^\S+leftovers\.conf:\d+:\d+: warning: SECURITY VIOLATION - scripts are being executed but script_security not enabled\.$/),
    ]);
  });

  it('a reload that removes a running vrrp_script ends it and what it started', async () => {
    const pidFile = join(lab.run, 'removed.pid');
    const slow = script(join(lab.run, 'slow.sh'), `sleep 300 & echo $! > ${pidFile}\nwait`);
    const inst = (extra: string[]) => vrrpInstance({ vrid: 83, prio: 150, version: 3, advertInt: '0.5', vips: [`${lab.vip(102)}/24`], extra });
    const head = ['global_defs {', '  router_id kt_dmn_s', '}'];
    const conf = lab.writeConf(
      [...head, 'vrrp_script slow {', `  script "${slow}"`, '  interval 1', '  timeout 300', '}', inst(['track_script {', '  slow', '}'])].join('\n'),
      'reload.conf',
    );
    const d = await lab.start('ours', lab.r1, conf, /VRRP child running/);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 15_000, 'slow script started');
    const pgid = processGroupOf(Number(readFileSync(pidFile, 'utf8')))!;
    expect(groupMembers(pgid).length).toBe(2);
    writeFileSync(conf, [...head, inst([])].join('\n'));
    const mark = d.log.length;
    d.signal('SIGHUP');
    await d.waitLog(/reload/i, 15_000, mark);
    await until(() => groupMembers(pgid).length === 0, 10_000, 'removed script ended');
    await d.stop();
  });
});
