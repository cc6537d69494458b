// Two of our VRRP children (node dist/src/vrrp/main.js), each in its own network namespace,
// plus an observer, all on one bridge. Behaviour is read from where the VIP lives
// (`ip addr` in each namespace), from the adverts the observer hears, and from notify
// scripts. Bounds are generous behavioural limits, not performance figures (bench/).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { NetnsLab, flatLogLine, jsonLines, netnsAvailable, until } from '../helpers/netns.js';
import { sendReload, serveConfig } from '../helpers/parent-channel.js';

const MAIN = fileURLToPath(new URL('../../dist/src/vrrp/main.js', import.meta.url));
const CAPTURE = fileURLToPath(new URL('./advert-capture.mjs', import.meta.url));

const why = netnsAvailable() ?? (existsSync(MAIN) ? null : `${MAIN} missing: run \`npm run build\` first`);
if (why) console.warn(`VRRP router tests skipped: ${why}`);

const lab = new NetnsLab('kt-vr');
const dir = mkdtempSync('/tmp/kt-vr-');

interface Router {
  ns: string;
  ip: string;
  ip6: string;
}
const R1: Router = { ns: '', ip: '10.77.0.1', ip6: 'fd77::1' };
const R2: Router = { ns: '', ip: '10.77.0.2', ip6: 'fd77::2' };
let OBS = '';

interface Advert {
  t: number;
  family: 4 | 6;
  src: string;
  vrid: number;
  prio: number;
  int: number;
  v: number;
  addrs: string[];
}
let adverts: Advert[] = [];

interface Running {
  /** Set when the test stopped it on purpose. */
  stopped?: boolean;
  conf: string;
  router: Router;
  proc: ChildProcess;
  logs: { msg?: string; to?: string; instance?: string }[];
}
const running: Running[] = [];

beforeAll(async () => {
  if (why) return;
  R1.ns = lab.ns('r1');
  R2.ns = lab.ns('r2');
  OBS = lab.ns('obs');
  const br = lab.bridge('br', [
    { ns: R1.ns, ifname: 'eth0' },
    { ns: R2.ns, ifname: 'eth0' },
    { ns: OBS, ifname: 'eth0' },
  ]);
  // ff02::12 must reach everyone without MLD snooping state
  lab.exec(br, 'ip link set br0 type bridge mcast_snooping 0');
  for (const [r, n] of [
    [R1, 1],
    [R2, 2],
    [{ ns: OBS, ip: '10.77.0.9', ip6: 'fd77::9' }, 9],
  ] as const) {
    lab.exec(r.ns, `sysctl -qw net.ipv6.conf.eth0.accept_dad=0 && ip addr add ${r.ip}/24 dev eth0 && ip addr add ${r.ip6}/64 dev eth0 nodad`);
    void n;
  }
  // a gratuitous ARP creates a neighbour entry only with arp_accept
  lab.exec(OBS, 'sysctl -qw net.ipv4.conf.eth0.arp_accept=1');
  await until(() => [R1, R2].every((r) => !/tentative/.test(lab.exec(r.ns, 'ip -6 addr show dev eth0'))), 10_000, 'link-local addresses usable');
  const cap = lab.spawn(OBS, ['node', CAPTURE, 'eth0']);
  const lines = jsonLines(cap) as (Advert & { ready?: boolean })[];
  await until(() => lines.some((l) => l.ready), 10_000, 'capture ready');
  adverts = lines;
});

afterEach(async () => {
  const died = running.filter((r) => !r.stopped && (r.proc.exitCode !== null || r.proc.signalCode !== null));
  for (const r of running.splice(0)) {
    if (r.proc.exitCode === null && r.proc.signalCode === null) {
      r.proc.kill('SIGKILL');
      await new Promise((res) => r.proc.once('exit', res));
    }
  }
  // leave no VIP behind for the next scenario
  for (const r of [R1, R2]) {
    if (!r.ns) continue;
    execFileSync('ip', [
      'netns',
      'exec',
      r.ns,
      'sh',
      '-c',
      "for a in $(ip -o addr show dev eth0 | awk '{print $4}' | grep -E '^(10[.]77[.]0[.]1[0-9][0-9]|fd77::100)/'); do ip addr del $a dev eth0; done",
    ]);
    const left = lab.exec(r.ns, 'ip -o addr show dev eth0');
    if (/10\.77\.0\.1\d\d\/|fd77::100\//.test(left)) throw new Error(`VIP left behind on ${r.ns}: ${left}`);
  }
  // a child that exits on its own during a scenario is a bug even when the scenario passed
  if (died.length)
    throw new Error(`VRRP child exited unexpectedly on ${died.map((r) => `${r.router.ns} (${r.proc.exitCode ?? r.proc.signalCode})`).join(', ')}`);
});

afterAll(() => {
  lab.cleanup();
  if (!process.env.KT_VR_KEEP) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------

interface InstanceOpts {
  name?: string;
  prio: number;
  vrid?: number;
  version?: 2 | 3;
  advertInt?: string;
  vips?: string[];
  extra?: string;
  iface?: string;
}

function instance(o: InstanceOpts): string {
  return `vrrp_instance ${o.name ?? 'VI_1'} {
  state BACKUP
  interface ${o.iface ?? 'eth0'}
  virtual_router_id ${o.vrid ?? 51}
  priority ${o.prio}
  advert_int ${o.advertInt ?? '0.1'}
  version ${o.version ?? 3}
  virtual_ipaddress {
${(o.vips ?? ['10.77.0.100/24']).map((v) => `    ${v}`).join('\n')}
  }
  notify ${join(dir, 'notify.sh')}
${o.extra ?? ''}
}
`;
}

let confSeq = 0;
function writeConf(body: string, path = join(dir, `c${++confSeq}.conf`)): string {
  // a body starting with global_defs brings its own
  writeFileSync(path, body.startsWith('global_defs') ? body : `global_defs {\n  router_id kt-vr\n}\n${body}`);
  return path;
}

function notifyLog(r: Router): string {
  const p = join(dir, `notify-${r.ns}.log`);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

/** Spawns our VRRP child and waits until it runs (start-up is slow on a loaded machine). */
async function start(r: Router, body: string, extraArgs: string[] = []): Promise<Running> {
  const conf = writeConf(body);
  const proc = lab.spawn(r.ns, ['node', MAIN, '--config', conf, '--log-json', ...extraArgs], { KT_NOTIFY_LOG: join(dir, `notify-${r.ns}.log`) });
  const logs = jsonLines(proc, flatLogLine) as Running['logs'];
  // the full log of every router run, for a failing scenario's post-mortem
  const logFile = join(dir, `${r.ns}-${confSeq}.log`);
  proc.stdout!.on('data', (d: Buffer) => appendFileSync(logFile, d));
  proc.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${r.ns}] ${d.toString()}`));
  const run = { conf, router: r, proc, logs };
  running.push(run);
  await until(() => logs.some((l) => l.msg === 'VRRP child running') || proc.exitCode !== null, 30_000, `${r.ns} running`);
  if (proc.exitCode !== null) throw new Error(`${r.ns}: VRRP child exited with ${proc.exitCode}`);
  return run;
}

async function stop(run: Running, signal: NodeJS.Signals): Promise<number | null> {
  if (run.proc.exitCode !== null) return run.proc.exitCode;
  run.stopped = true;
  const exited = new Promise<number | null>((res) => run.proc.once('exit', (code) => res(code)));
  run.proc.kill(signal);
  return exited;
}

function hasAddr(r: Router, addr: string): boolean {
  const out = lab.exec(r.ns, 'ip -o addr show dev eth0');
  return out.split('\n').some((l) => l.includes(` ${addr}/`));
}

async function vipMovesTo(r: Router, other: Router, addr: string, ms: number): Promise<void> {
  await until(() => hasAddr(r, addr) && !hasAddr(other, addr), ms, `${addr} on ${r.ns} only`);
}

function macOf(r: Router): string {
  return lab.exec(r.ns, 'cat /sys/class/net/eth0/address').trim();
}

function vipMacAtObserver(): string | null {
  return /lladdr ([0-9a-f:]+)/.exec(lab.exec(OBS, 'ip neigh show 10.77.0.100 dev eth0'))?.[1] ?? null;
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

function stateOf(run: Running, inst = 'VI_1'): string | undefined {
  return [...run.logs].reverse().find((l) => l.instance === inst && l.to)?.to;
}

// ---------------------------------------------------------------------------------------

describe.skipIf(why)('two VRRP routers in namespaces', () => {
  beforeAll(() => {
    const script = join(dir, 'notify.sh');
    writeFileSync(script, '#!/bin/sh\necho "$@" >> "$KT_NOTIFY_LOG"\n');
    chmodSync(script, 0o755);
  });

  it('elects the higher priority (VIP on exactly one, notify runs), fails over on SIGKILL, preempts back on return', async () => {
    // started together: whoever comes up first may be MASTER for a moment; r1 must end up owning it
    const [a] = await Promise.all([start(R1, instance({ prio: 150 })), start(R2, instance({ prio: 100 }))]);
    await vipMovesTo(R1, R2, '10.77.0.100', 10_000);
    await sleep(500);
    expect(hasAddr(R2, '10.77.0.100')).toBe(false);
    const mine = adverts.filter((x) => x.vrid === 51 && x.family === 4).slice(-5);
    expect(mine.length).toBe(5);
    expect(mine.every((x) => x.src === R1.ip && x.prio === 150 && x.v === 3 && x.int === 100)).toBe(true);
    await until(() => notifyLog(R1).includes('INSTANCE VI_1 MASTER 150'), 5_000, 'notify MASTER on r1');
    expect(notifyLog(R2)).toContain('INSTANCE VI_1 BACKUP 100');

    // the observer learned the VIP at r1's MAC from r1's gratuitous ARP (arp_accept=1)
    await until(() => vipMacAtObserver() === macOf(R1), 8_000, 'observer ARP entry at r1 MAC');

    await stop(a, 'SIGKILL');
    // the killed router cannot remove its VIP; the backup must take over anyway
    await until(() => hasAddr(R2, '10.77.0.100'), 5_000, 'r2 takes the VIP after SIGKILL of r1');
    // and r2's gratuitous ARPs move the observer's entry without any traffic from it
    await until(() => vipMacAtObserver() === macOf(R2), 8_000, 'observer ARP entry moved to r2 MAC');
    await until(() => adverts.some((x) => x.src === R2.ip && x.prio === 100), 2_000, 'r2 advertising');

    // r1 comes back: it finds its VIP still there (adopted, not flapped) and preempts r2
    const monitor = lab.spawn(R1.ns, ['ip', '-o', 'monitor', 'address']);
    const events: string[] = [];
    monitor.stdout!.on('data', (d: Buffer) => events.push(...d.toString().split('\n').filter(Boolean)));
    await sleep(200);
    const back = await start(R1, instance({ prio: 150 }));
    await vipMovesTo(R1, R2, '10.77.0.100', 10_000);
    await until(() => stateOf(back) === 'MASTER', 3_000, 'r1 MASTER again');
    monitor.kill();
    expect(events.filter((e) => e.includes('10.77.0.100/'))).toEqual([]); // never deleted, never re-added
    expect(back.logs.some((l) => /already present/.test(l.msg ?? ''))).toBe(true);
  });

  it('v2 at 1 s: graceful stop sends priority 0, releases the VIP, and the backup takes over after skew only', async () => {
    const a = await start(R1, instance({ prio: 150, version: 2, advertInt: '1' }));
    await start(R2, instance({ prio: 100, version: 2, advertInt: '1' }));
    await vipMovesTo(R1, R2, '10.77.0.100', 10_000);
    await until(() => adverts.some((x) => x.src === R1.ip && x.v === 2 && x.prio === 150 && x.int === 1000), 3_000, 'v2 adverts from r1');
    const from = adverts.length;
    expect(await stop(a, 'SIGTERM')).toBe(0);
    expect(hasAddr(R1, '10.77.0.100')).toBe(false);
    await until(() => hasAddr(R2, '10.77.0.100'), 5_000, 'r2 takes the VIP');
    await until(() => adverts.slice(from).some((x) => x.src === R2.ip), 5_000, 'r2 advertising');
    const later = adverts.slice(from);
    const bye = later.find((x) => x.src === R1.ip && x.prio === 0);
    const first = later.find((x) => x.src === R2.ip && x.prio === 100);
    expect(bye).toBeDefined();
    // Master_Down would be 3.6 s; after a priority-0 advert only Skew_Time (0.61 s) applies
    expect(first!.t - bye!.t).toBeLessThan(2_000);
    await until(() => notifyLog(R1).includes('INSTANCE VI_1 STOP 150'), 3_000, 'notify STOP on r1');
  });

  it('nopreempt keeps a lower-priority master; preempt_delay defers the takeover', async () => {
    await start(R2, instance({ prio: 100 }));
    await until(() => hasAddr(R2, '10.77.0.100'), 10_000, 'r2 master alone');
    const np = await start(R1, instance({ prio: 150, extra: '  nopreempt' }));
    await until(() => stateOf(np) === 'BACKUP', 10_000, 'r1 backup');
    await sleep(1_500); // Master_Down is 0.34 s: a preempting router would have taken over
    expect(hasAddr(R2, '10.77.0.100')).toBe(true);
    expect(hasAddr(R1, '10.77.0.100')).toBe(false);
    expect(stateOf(np)).toBe('BACKUP');
    await stop(np, 'SIGKILL');

    const pd = await start(R1, instance({ prio: 150, extra: '  preempt_delay 2' }));
    await until(() => stateOf(pd) === 'BACKUP', 10_000, 'r1 backup');
    const backupAt = Date.now();
    await sleep(1_000);
    expect(hasAddr(R2, '10.77.0.100')).toBe(true);
    await vipMovesTo(R1, R2, '10.77.0.100', 8_000);
    expect(Date.now() - backupAt).toBeGreaterThan(1_500);
  });

  it('unicast peers: adverts go only to the peer, election and failover still work', async () => {
    const uni = (me: Router, peer: Router) => `  unicast_src_ip ${me.ip}\n  unicast_peer {\n    ${peer.ip}\n  }`;
    const a = await start(R1, instance({ prio: 150, vrid: 52, extra: uni(R1, R2) }));
    await start(R2, instance({ prio: 100, vrid: 52, extra: uni(R2, R1) }));
    await vipMovesTo(R1, R2, '10.77.0.100', 10_000);
    await sleep(500);
    expect(hasAddr(R2, '10.77.0.100')).toBe(false);
    expect(adverts.some((x) => x.vrid === 52)).toBe(false); // nothing multicast
    await stop(a, 'SIGTERM');
    await vipMovesTo(R2, R1, '10.77.0.100', 5_000);
  });

  it('IPv6 VIP with VRRPv3: link-local source, one owner, handover on stop', async () => {
    const a = await start(R1, instance({ prio: 150, vrid: 54, vips: ['fd77::100/64'] }));
    await start(R2, instance({ prio: 100, vrid: 54, vips: ['fd77::100/64'] }));
    await vipMovesTo(R1, R2, 'fd77::100', 10_000);
    const ll = /inet6 (fe80::[0-9a-f:]+)\//.exec(lab.exec(R1.ns, 'ip -6 -o addr show dev eth0 scope link'))![1];
    await until(() => adverts.some((x) => x.family === 6 && x.vrid === 54 && x.src === ll && x.prio === 150), 3_000, 'IPv6 adverts from r1 link-local');
    await stop(a, 'SIGTERM');
    await vipMovesTo(R2, R1, 'fd77::100', 5_000);
  });

  it('a sync group moves together: one member faulting takes the other one along', async () => {
    lab.exec(R1.ns, 'ip link add kt-vr-t9 type veth peer name kt-vr-t9p && ip link set kt-vr-t9 up && ip link set kt-vr-t9p up');
    const group = `vrrp_sync_group G1 {\n  group {\n    VI_1\n    VI_2\n  }\n}\n`;
    const two = (prio: number, track: string) =>
      group + instance({ prio, vrid: 51 }) + instance({ name: 'VI_2', prio, vrid: 53, vips: ['10.77.0.101/24'], extra: track });
    const a = await start(R1, two(150, '  track_interface {\n    kt-vr-t9\n  }'));
    await start(R2, two(100, ''));
    await vipMovesTo(R1, R2, '10.77.0.100', 10_000);
    await vipMovesTo(R1, R2, '10.77.0.101', 5_000);
    lab.exec(R1.ns, 'ip link set kt-vr-t9 down');
    await vipMovesTo(R2, R1, '10.77.0.101', 5_000);
    await vipMovesTo(R2, R1, '10.77.0.100', 5_000); // VI_1's own link is fine: the group moved it
    // its log line comes through a pipe, and may arrive after the VIP has gone
    await until(() => stateOf(a, 'VI_1') === 'FAULT', 3_000, 'VI_1 logged in FAULT');
    lab.exec(R1.ns, 'ip link set kt-vr-t9 up');
    await vipMovesTo(R1, R2, '10.77.0.100', 5_000);
    await vipMovesTo(R1, R2, '10.77.0.101', 5_000);
    lab.exec(R1.ns, 'ip link del kt-vr-t9');
  });

  it('track_script failing demotes the master below the backup, recovering wins it back', async () => {
    const flag = join(dir, 'fail-flag');
    rmSync(flag, { force: true });
    const scripts = `vrrp_script chk {\n  script "/bin/sh -c '! test -e ${flag}'"\n  interval 1\n  weight -60\n}\n`;
    const a = await start(R1, scripts + instance({ prio: 150, extra: '  track_script {\n    chk\n  }' }));
    await start(R2, instance({ prio: 100 }));
    await vipMovesTo(R1, R2, '10.77.0.100', 10_000);
    writeFileSync(flag, '');
    await vipMovesTo(R2, R1, '10.77.0.100', 6_000);
    await until(() => adverts.some((x) => x.src === R1.ip && x.prio === 90) || stateOf(a) === 'BACKUP', 3_000, 'r1 at 90');
    rmSync(flag);
    await vipMovesTo(R1, R2, '10.77.0.100', 6_000);
  });

  it('track_file: a value written to the file moves the priority (value x weight)', async () => {
    const file = join(dir, 'track-value');
    writeFileSync(file, '0\n');
    const tf = `track_file tf {\n  file ${file}\n  weight -60\n}\n`;
    await start(R1, tf + instance({ prio: 150, extra: '  track_file {\n    tf\n  }' }));
    await start(R2, instance({ prio: 100 }));
    await vipMovesTo(R1, R2, '10.77.0.100', 10_000);
    writeFileSync(file, '1\n'); // 150 - 60 = 90 < 100
    await vipMovesTo(R2, R1, '10.77.0.100', 5_000);
    // while still MASTER, r1 advertised its lowered priority: that is what let r2 preempt
    expect(adverts.some((x) => x.src === R1.ip && x.prio === 90)).toBe(true);
    writeFileSync(file, '0\n');
    await vipMovesTo(R1, R2, '10.77.0.100', 5_000);
  });

  it('interface down puts the master in FAULT (VIP released, backup takes over); back up, it returns', async () => {
    const a = await start(R1, instance({ prio: 150 }));
    await start(R2, instance({ prio: 100 }));
    await vipMovesTo(R1, R2, '10.77.0.100', 10_000);
    lab.exec(R1.ns, 'ip link set eth0 down');
    await until(() => stateOf(a) === 'FAULT', 3_000, 'r1 FAULT');
    expect(hasAddr(R1, '10.77.0.100')).toBe(false);
    await until(() => hasAddr(R2, '10.77.0.100'), 5_000, 'r2 takes over');
    lab.exec(R1.ns, 'ip link set eth0 up');
    await vipMovesTo(R1, R2, '10.77.0.100', 8_000);
    await until(() => stateOf(a) === 'MASTER', 2_000, 'r1 MASTER again');
  });

  it('reload keeps a MASTER in state and only edits its VIPs; a VIP deleted by hand comes back; notify FIFO; -V keeps VIPs on stop', async () => {
    const fifo = join(dir, 'notify.fifo');
    const globals = `global_defs {\n  router_id kt-vr\n  vrrp_notify_fifo ${fifo}\n}\n`;
    const excluded = '  virtual_ipaddress_excluded {\n    10.77.0.150/24\n  }';
    const a = await start(R1, globals + instance({ prio: 150, vips: ['10.77.0.100/24 brd 10.77.0.255 label eth0:vip'], extra: excluded }), [
      '--dont-release-vrrp',
    ]);
    const fifoLines: string[] = [];
    const reader = lab.spawn(R1.ns, ['cat', fifo]);
    reader.stdout!.on('data', (d: Buffer) => fifoLines.push(...d.toString().split('\n').filter(Boolean)));
    await until(() => hasAddr(R1, '10.77.0.100') && stateOf(a) === 'MASTER', 10_000, 'r1 MASTER');
    await until(() => fifoLines.includes('INSTANCE "VI_1" MASTER 150'), 3_000, 'fifo line for MASTER');
    // label and broadcast as configured; the excluded VIP is installed but never advertised
    expect(lab.exec(R1.ns, 'ip -o -4 addr show dev eth0')).toMatch(/inet 10\.77\.0\.100\/24 brd 10\.77\.0\.255 scope global secondary eth0:vip/);
    expect(hasAddr(R1, '10.77.0.150')).toBe(true);
    await until(() => adverts.some((x) => x.src === R1.ip && x.vrid === 51), 2_000, 'adverts from r1');
    expect(adverts.filter((x) => x.src === R1.ip && x.vrid === 51).every((x) => JSON.stringify(x.addrs) === '["10.77.0.100"]')).toBe(true);

    lab.exec(R1.ns, 'ip addr del 10.77.0.100/24 dev eth0');
    await until(() => hasAddr(R1, '10.77.0.100'), 3_000, 'VIP re-added');

    // every address change on r1 from now on
    const monitor = lab.spawn(R1.ns, ['ip', '-o', 'monitor', 'address']);
    const events: string[] = [];
    monitor.stdout!.on('data', (d: Buffer) => events.push(...d.toString().split('\n').filter(Boolean)));
    await sleep(300);
    const transitions = () => a.logs.filter((l) => l.to).length;
    const before = transitions();
    writeConf(globals + instance({ prio: 150, vips: ['10.77.0.100/24', '10.77.0.101/24'] }), a.conf);
    a.proc.kill('SIGHUP');
    await until(() => hasAddr(R1, '10.77.0.101'), 5_000, 'new VIP added by reload');
    expect(hasAddr(R1, '10.77.0.100')).toBe(true);
    writeConf(globals + instance({ prio: 150, vips: ['10.77.0.101/24'] }), a.conf);
    a.proc.kill('SIGHUP');
    await until(() => !hasAddr(R1, '10.77.0.100'), 5_000, 'dropped VIP removed by reload');
    expect(hasAddr(R1, '10.77.0.101')).toBe(true);
    await sleep(300);
    expect(transitions()).toBe(before); // no state change: still the same MASTER
    expect(events.filter((e) => /^Deleted/.test(e) && e.includes('10.77.0.100/')).length).toBe(1);
    expect(events.some((e) => /^Deleted/.test(e) && e.includes('10.77.0.101/'))).toBe(false);
    monitor.kill();

    expect(await stop(a, 'SIGTERM')).toBe(0);
    expect(hasAddr(R1, '10.77.0.101')).toBe(true); // -V: left in place
    reader.kill();
  });

  it('an advert that fails the receive checks is counted and logged once per reason, not per packet', async () => {
    // same VRID, different VIP list: keepalived drops such adverts, so both end up MASTER
    const a = await start(R1, instance({ prio: 150, vips: ['10.77.0.100/24'] }));
    await start(R2, instance({ prio: 100, vips: ['10.77.0.101/24'] }));
    await until(() => hasAddr(R1, '10.77.0.100') && hasAddr(R2, '10.77.0.101'), 10_000, 'both MASTER');
    await sleep(1_000); // ~10 adverts from r2
    const rejections = a.logs.filter((l) => /advert rejected/.test(l.msg ?? ''));
    expect(rejections.length).toBe(1);
    expect(rejections[0]).toMatchObject({ reason: 'address-list-mismatch', src: R2.ip });
  });

  it('under the watchdog: ready, reload answered over IPC (refused on a bad config), shutdown message stops it cleanly', async () => {
    const conf = writeConf(instance({ prio: 150 }));
    // --metrics: what the parent passes with its status endpoint on (prom-client metrics kept)
    const child = spawn('ip', ['netns', 'exec', R1.ns, 'node', MAIN, '--config', conf, '--config-from-parent', '--log-json', '--metrics'], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    serveConfig(child, conf);
    running.push({ conf, router: R1, proc: child, logs: jsonLines(child, flatLogLine) as Running['logs'] });
    const msgs: { t: string; ok?: boolean; code?: number }[] = [];
    child.on('message', (m) => msgs.push(m as { t: string }));
    await until(() => msgs.some((m) => m.t === 'ready'), 30_000, 'ready');
    await until(() => msgs.filter((m) => m.t === 'heartbeat').length >= 2, 5_000, 'heartbeats');
    await until(() => hasAddr(R1, '10.77.0.100'), 10_000, 'MASTER alone');

    // the status endpoint's scrape: metrics and status from the engine
    child.send({ t: 'collect', id: 7 });
    await until(() => msgs.some((m) => m.t === 'snapshot'), 5_000, 'snapshot');
    const snap = msgs.find((m) => m.t === 'snapshot') as unknown as {
      id: number;
      status: { instances: { name: string; state: string; advertsSent: number }[] };
      metrics: { name: string; values: { value: number; labels: Record<string, string> }[] }[];
    };
    expect(snap.id).toBe(7);
    expect(snap.status.instances[0]).toMatchObject({ name: 'VI_1', state: 'MASTER' });
    expect(snap.status.instances[0]!.advertsSent).toBeGreaterThan(0);
    const state = snap.metrics.find((m) => m.name === 'keepalived_vrrp_state')!;
    expect(state.values).toContainEqual(expect.objectContaining({ value: 2, labels: { instance: 'VI_1', interface: 'eth0', vrid: '51' } }));

    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'vrrp_instance X {\n  interface eth0\n  priority 100\n}\n'); // no virtual_router_id
    // the parent never sends a config it refused; the child refuses one all the same
    sendReload(child, bad, 2);
    await until(() => msgs.some((m) => m.t === 'reloaded'), 10_000, 'reload answer');
    expect(msgs.find((m) => m.t === 'reloaded')).toMatchObject({ ok: false });
    expect(hasAddr(R1, '10.77.0.100')).toBe(true);

    sendReload(child, writeConf(instance({ prio: 150, vips: ['10.77.0.101/24'] })), 3);
    await until(() => msgs.filter((m) => m.t === 'reloaded').length === 2, 10_000, 'second reload answer');
    expect(msgs.filter((m) => m.t === 'reloaded')[1]).toMatchObject({ ok: true });
    await until(() => hasAddr(R1, '10.77.0.101') && !hasAddr(R1, '10.77.0.100'), 5_000, 'VIPs swapped');

    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    running.find((r) => r.proc === child)!.stopped = true;
    child.send({ t: 'shutdown' });
    expect(await exited).toBe(0);
    expect(hasAddr(R1, '10.77.0.101')).toBe(false);

    // a config error at start: the parent hears why before the child exits with EXIT_CONFIG
    const broken = spawn('ip', ['netns', 'exec', R1.ns, 'node', MAIN, '--config', bad, '--config-from-parent'], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    serveConfig(broken, bad);
    const fatal: { t: string; code?: number }[] = [];
    broken.on('message', (m) => fatal.push(m as { t: string }));
    const code = await new Promise<number | null>((res) => broken.once('exit', (c) => res(c)));
    expect(code).toBe(4);
    expect(fatal).toContainEqual(expect.objectContaining({ t: 'fatal', code: 4 }));
  });

  it('with dynamic_interfaces, an interface missing at start (or deleted and re-created) is FAULT until it exists, then its socket is opened', async () => {
    // without dynamic_interfaces keepalived (and ours) refuse to start on a missing interface
    const lt = (prio: number, iface: string) => `global_defs {\n  dynamic_interfaces\n}\n${instance({ prio, vrid: 60, iface, vips: ['10.78.0.100/24'] })}`;
    const has = (r: Router, dev: string) => lab.exec(r.ns, `ip -o addr show dev ${dev} 2>/dev/null || true`).includes(' 10.78.0.100/');
    const createLink = () => {
      lab.exec(R1.ns, `ip link add kt-vr-lt type veth peer name kt-vr-ltp netns ${R2.ns}`);
      lab.exec(R1.ns, 'ip addr add 10.78.0.1/24 dev kt-vr-lt && ip link set kt-vr-lt up');
      lab.exec(R2.ns, 'ip addr add 10.78.0.2/24 dev kt-vr-ltp && ip link set kt-vr-ltp up');
    };
    const a = await start(R1, lt(150, 'kt-vr-lt'));
    const b = await start(R2, lt(100, 'kt-vr-ltp'));
    await until(() => stateOf(a) === 'FAULT' && stateOf(b) === 'FAULT', 5_000, 'both FAULT without their interface');
    createLink();
    await until(() => has(R1, 'kt-vr-lt') && stateOf(b) === 'BACKUP', 10_000, 'r1 MASTER, r2 BACKUP on the new link');
    await sleep(1_000); // r2 hears r1 over the freshly opened sockets, or it would take over
    expect(has(R2, 'kt-vr-ltp')).toBe(false);
    expect(stateOf(b)).toBe('BACKUP');

    lab.exec(R1.ns, 'ip link del kt-vr-lt');
    await until(() => stateOf(a) === 'FAULT' && stateOf(b) === 'FAULT', 5_000, 'both FAULT after the link is deleted');
    createLink();
    await until(() => has(R1, 'kt-vr-lt') && stateOf(a) === 'MASTER' && stateOf(b) === 'BACKUP', 10_000, 'back after re-creation');
    await sleep(1_000);
    expect(has(R2, 'kt-vr-ltp')).toBe(false);
    lab.exec(R1.ns, 'ip link del kt-vr-lt');
  });
});
