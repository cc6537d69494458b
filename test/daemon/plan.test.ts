// `keepalived-ts --plan` against our running daemon in a namespace, then a real HUP with the
// same file: the plan must name exactly what the HUP then changes (ip addr, the log, /status).
// r1 alone: VI_1 (VRID 81, MASTER at 200, VIPs A and C) and VI_2 (VRID 82, MASTER after its
// Master_Down, VIP D). The edited file keeps VI_1 with B instead of C, drops VI_2 and adds
// VI_3 (VRID 83, VIP E). IPVS parts need kernel IPVS: the VM, not this host.
import { spawnSync } from 'node:child_process';
import { copyFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, DaemonLab, daemonLabUnavailable, sleep, until, vrrpInstance, type RunningDaemon } from './daemon-lab.js';

const skip = daemonLabUnavailable();
if (skip) console.warn(`test/daemon/plan.test.ts skipped: ${skip}`);

const lab = new DaemonLab('kt-dmn-p', 226);
const [A, B, C, D, E] = ([100, 101, 102, 103, 104] as const).map((n) => lab.vip(n)) as [string, string, string, string, string];

const file = (instances: string[]) => ['global_defs {', '  router_id kt_dmn_plan', '}', ...instances].join('\n');
const vi1 = (vips: string[]) =>
  vrrpInstance({ name: 'VI_1', state: 'MASTER', vrid: 81, prio: 200, advertInt: '0.5', version: 3, vips: vips.map((v) => `${v}/24`) });
const vi2 = vrrpInstance({ name: 'VI_2', vrid: 82, prio: 100, advertInt: '0.5', version: 3, vips: [`${D}/24`] });
const vi3 = vrrpInstance({ name: 'VI_3', vrid: 83, prio: 100, advertInt: '0.5', version: 3, vips: [`${E}/24`] });

let d: RunningDaemon;
let running: string;

function plan(path: string): { status: number; out: string; err: string } {
  const r = spawnSync(BIN, ['--plan', '-f', path, '-p', d.pidFiles.parent], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function status(): { vrrp: { instances: { name: string; state: string; vips: string[] }[] } } {
  const js = "fetch('http://127.0.0.1:9650/status').then((r) => r.text()).then((t) => process.stdout.write(t))";
  return JSON.parse(lab.net.exec(d.host.ns, `node -e "${js}"`)) as never;
}

const eth0Vips = () => [A, B, C, D, E].filter((v) => lab.hasAddr(lab.r1, v));

describe.skipIf(skip)('--plan asks the running daemon, then a HUP does what it said', () => {
  beforeAll(async () => {
    lab.setup();
    running = lab.writeConf(file([vi1([A, C]), vi2]), 'r1.conf');
    d = await lab.start('ours', lab.r1, running, /VRRP child running/, ['--status-listen']);
    await d.waitLog(/\(VI_2\) Entering MASTER STATE/, 20_000);
    await until(() => eth0Vips().join() === [A, C, D].join(), 5_000, 'VIPs A, C, D on r1');
  }, 60_000);
  afterAll(async () => {
    lab.stopWatchers();
    await d?.stop();
    await lab.cleanup();
  });

  it('the plan socket is root-only and sits next to the pid file', () => {
    const sock = d.pidFiles.parent.replace(/\.pid$/, '.plan.sock');
    const st = statSync(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(0);
  });

  it('the running file again: exit 0, nothing would change', () => {
    const r = plan(running);
    expect(r.out).toMatch(/VRRP: no change/);
    expect(r.out).toMatch(/would change nothing/);
    expect(r.status).toBe(0);
  });

  it('a file the daemon would refuse: its errors at file:line:column, exit 2, nothing touched', async () => {
    const addrs = lab.addrMonitor(lab.r1);
    await sleep(200);
    const mark = d.log.length;
    const broken = lab.writeConf(file([vi1([A, C]), vi2]).replace('priority 200', 'priorty 200'), 'broken.conf');
    const r = plan(broken);
    expect(r.err).toMatch(/broken\.conf:\d+:3: error: unknown keyword `priorty`/);
    expect(r.err).toMatch(/the daemon would refuse this file/);
    expect(r.status).toBe(2);
    await sleep(500);
    expect(addrs.events).toEqual([]);
    expect(d.logSince(mark).filter((l) => /reload|Entering/.test(l) && !/plan requested/.test(l))).toEqual([]);
  }, 30_000);

  it('an edited file: the plan names the VIPs and instances, changes nothing; the HUP then makes exactly those changes', async () => {
    const next = lab.writeConf(file([vi1([A, B]), vi3]), 'r1-next.conf');
    const addrs = lab.addrMonitor(lab.r1);
    await sleep(200);
    const mark = d.log.length;
    const r = plan(next);
    console.log(`--plan printed:\n${r.out}${r.err}`);
    expect(r.status).toBe(1);
    // VI_1 (MASTER) edits the host: B added, C removed
    expect(r.out).toMatch(/~ VI_1 \(eth0, VRID 81, IPv4\) altered, now MASTER\n\s+changes: virtualIpaddresses\n/);
    expect(r.out).toContain(`VIPs added (on the host now): ${B}/24`);
    expect(r.out).toContain(`VIPs removed (on the host now): ${C}/24`);
    // VI_2 (MASTER) is removed: hands over and releases D
    expect(r.out).toMatch(/- VI_2 \(eth0, VRID 82, IPv4\) removed, now MASTER/);
    expect(r.out).toContain(`VIPs removed (on the host now): ${D}/24`);
    expect(r.out).toMatch(/state: MASTER -> removed: sends priority 0/);
    // VI_3 is new: starts BACKUP, E only once it is MASTER
    expect(r.out).toMatch(/\+ VI_3 \(eth0, VRID 83, IPv4\) added/);
    expect(r.out).toContain(`VIPs added (config only: not on the host in this state): ${E}/24`);
    expect(r.out).toMatch(/state: starts in BACKUP/);
    // asking changed nothing
    await sleep(1_000);
    expect(addrs.events).toEqual([]);
    expect(eth0Vips()).toEqual([A, C, D]);
    expect(d.logSince(mark).filter((l) => /reload applied|configuration reloaded|Entering/.test(l))).toEqual([]);
    expect(status().vrrp.instances.map((i) => [i.name, i.state])).toEqual([
      ['VI_1', 'MASTER'],
      ['VI_2', 'MASTER'],
    ]);

    // now the real HUP with that file
    copyFileSync(next, running);
    d.signal('SIGHUP');
    await d.waitLog(/reload applied/, 15_000, mark);
    await until(() => addrs.events.length >= 3, 5_000, 'three address changes on r1');
    await sleep(300);
    const changes = (evs: typeof addrs.events) => evs.map((e) => `${e.deleted ? '-' : '+'}${e.address}`).sort();
    // what the plan said would change on the host at once, and nothing else
    expect(changes(addrs.events)).toEqual([`+${B}`, `-${C}`, `-${D}`].sort());
    expect(d.logSince(mark).filter((l) => /VI_1\) Entering/.test(l))).toEqual([]);
    // VI_3 started BACKUP, as planned; with no master heard it takes MASTER and only then E
    await d.waitLog(/\(VI_3\) Entering MASTER STATE/, 15_000, mark);
    await until(() => lab.hasAddr(lab.r1, E), 5_000, 'E on r1 once VI_3 is MASTER');
    expect(d.logSince(mark).filter((l) => /\(VI_3\) Entering/.test(l))[0]).toMatch(/Entering BACKUP STATE/);
    expect(eth0Vips()).toEqual([A, B, E]);
    const after = status();
    expect(after.vrrp.instances.map((i) => [i.name, i.state, i.vips])).toEqual([
      ['VI_1', 'MASTER', [`${A}/24`, `${B}/24`]],
      ['VI_3', 'MASTER', [`${E}/24`]],
    ]);
    // and the daemon's running file now plans to nothing
    expect(plan(running).status).toBe(0);
  }, 90_000);

  it('without a daemon behind the pid file: exit 2 and why', () => {
    const r = spawnSync(BIN, ['--plan', '-f', running, '-p', `${lab.run}/none.pid`], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/none\.plan\.sock: no keepalived-ts daemon answers there/);
    expect(r.status).toBe(2);
  });
});
