// The dump signals against keepalived 2.2.7, process to process. Two identical segments,
// each a keepalived MASTER (r1) and the router under test (r2): keepalived on segment A,
// our daemon on segment B, both with the same config text and so the same state (VI_1
// BACKUP of r1's master, VI_2 and VI_3 MASTER alone, multicast and unicast). Each router is
// sent keepalived's own signals (USR1, USR2, `--signum=JSON`, `--signum=STATS_CLEAR`) and
// the files it writes are compared: the same lines and keys, the same values for
// everything the config and the state decide; advert counters only where timing cannot
// move them (zero on both sides, or non-zero on both).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, DaemonLab, daemonLabUnavailable, sleep, until, vrrpInstance, type RunningDaemon } from './daemon-lab.js';

const skip = daemonLabUnavailable(true);
if (skip) console.warn(`test/daemon/dumps.test.ts skipped: ${skip}`);

const SUBNET = 221;
const net = (n: number) => `10.${SUBNET}.0.${n}`;

const routerConf = [
  'global_defs {',
  '  router_id kt_dmn',
  '}',
  'vrrp_script chk {',
  '  script "/bin/true"',
  '  interval 1',
  '  weight 10',
  '}',
  vrrpInstance({
    name: 'VI_1',
    vrid: 51,
    prio: 100,
    version: 2,
    advertInt: '1',
    vips: [`${net(100)}/24 dev eth0 label eth0:vip`],
    extra: ['authentication {', '  auth_type PASS', '  auth_pass secret', '}', 'track_script {', '  chk', '}'],
  }),
  vrrpInstance({ name: 'VI_2', state: 'MASTER', vrid: 52, prio: 150, version: 3, advertInt: '0.5', vips: [`${net(101)}/24`, net(102)] }),
  vrrpInstance({
    name: 'VI_3',
    vrid: 53,
    prio: 120,
    version: 3,
    advertInt: '1',
    vips: [`${net(103)}/24`],
    extra: [`unicast_src_ip ${net(2)}`, 'unicast_peer {', `  ${net(1)}`, '}'],
  }),
].join('\n');

const masterConf = [
  'global_defs {',
  '  router_id kt_dmn_master',
  '}',
  vrrpInstance({
    name: 'VI_1',
    state: 'MASTER',
    vrid: 51,
    prio: 200,
    version: 2,
    advertInt: '1',
    vips: [`${net(100)}/24 dev eth0 label eth0:vip`],
    extra: ['authentication {', '  auth_type PASS', '  auth_pass secret', '}'],
  }),
].join('\n');

const labs: DaemonLab[] = [];
let theirs: RunningDaemon;
let ours: RunningDaemon;

const signum = (cmd: string, fn: string) => Number(execFileSync(cmd, [`--signum=${fn}`], { encoding: 'utf8' }).trim());

/** Removes the file, signals, and returns the new file once its size has settled. */
async function dump(d: RunningDaemon, file: string, sig: NodeJS.Signals | number): Promise<string> {
  const path = d.tmpFile(file);
  rmSync(path, { force: true });
  d.signal(sig);
  let last = -1;
  await until(
    () => {
      if (!existsSync(path)) return false;
      const size = statSync(path).size;
      const settled = size > 0 && size === last;
      last = size;
      return settled;
    },
    10_000,
    `${d.impl} writes ${file}`,
  );
  return readFileSync(path, 'utf8');
}

/** `Name: 12` / `Name = x` lines with numbers blanked: the shape of a text dump. */
const shape = (text: string) => text.replace(/\d+/g, 'N');

/** Per instance, the counters of a keepalived.stats text. */
function statsOf(text: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  let inst: Map<string, number> | null = null;
  let section = '';
  for (const line of text.split('\n')) {
    const i = /^VRRP Instance: (\S+)$/.exec(line);
    if (i) out.set(i[1]!, (inst = new Map<string, number>()));
    const sec = /^ {2}([^:]+):$/.exec(line);
    if (sec) section = sec[1]!;
    const top = /^ {2}([^:]+): (\d+)$/.exec(line);
    if (top && inst) inst.set(top[1]!, Number(top[2]));
    const sub = /^ {4}([^:]+): (\d+)$/.exec(line);
    if (sub && inst) inst.set(`${section}/${sub[1]}`, Number(sub[2]));
  }
  return out;
}

const TIMED = new Set(['Advertisements/Received', 'Advertisements/Sent', 'advert_rcvd', 'advert_sent']);

function compareCounters(k: Map<string, number>, o: Map<string, number>, where: string): void {
  expect([...o.keys()], where).toEqual([...k.keys()]);
  for (const [key, kv] of k) {
    const ov = o.get(key)!;
    if (TIMED.has(key)) expect(ov > 0, `${where} ${key}: keepalived ${kv}, ours ${ov}`).toBe(kv > 0);
    else expect(ov, `${where} ${key}`).toBe(kv);
  }
}

function keysOf(v: unknown, prefix = ''): string[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [prefix];
  return Object.entries(v).flatMap(([k, x]) => keysOf(x, prefix ? `${prefix}.${k}` : k));
}

/** One `------< NAME >------` section of a keepalived.data. */
function section(text: string, name: string): string[] {
  const lines = text.split('\n');
  const from = lines.indexOf(`------< ${name} >------`);
  if (from < 0) return [];
  const to = lines.findIndex((l, i) => i > from && l.startsWith('------<'));
  return lines.slice(from, to < 0 ? undefined : to).filter((l) => l.length > 0);
}
const topology = (text: string) => section(text, 'VRRP Topology');
const headers = (text: string) => text.split('\n').filter((l) => l.startsWith('------<'));

describe.skipIf(skip)('dump files against keepalived 2.2.7 (same config, same state)', () => {
  beforeAll(async () => {
    const a = new DaemonLab('kt-dmn-da', SUBNET);
    const b = new DaemonLab('kt-dmn-db', SUBNET);
    labs.push(a, b);
    a.setup();
    b.setup();
    const started = await Promise.all([
      a.start('keepalived', a.r1, a.writeConf(masterConf), /\(VI_1\) Entering MASTER STATE/),
      b.start('keepalived', b.r1, b.writeConf(masterConf), /\(VI_1\) Entering MASTER STATE/),
    ]);
    expect(started.every((d) => d.running)).toBe(true);
    [theirs, ours] = await Promise.all([
      a.start('keepalived', a.r2, a.writeConf(routerConf), /\(VI_1\) Entering BACKUP STATE/),
      b.start('ours', b.r2, b.writeConf(routerConf), /VRRP child running/),
    ]);
    // VI_2 (0.5 s adverts) and VI_3 take over after their Master_Down; then a few adverts
    await Promise.all([
      theirs.waitLog(/\(VI_3\) Entering MASTER STATE/, 15_000).then(() => theirs.waitLog(/\(VI_2\) Entering MASTER STATE/, 15_000)),
      ours.waitLog(/\(VI_3\) Entering MASTER STATE/, 15_000).then(() => ours.waitLog(/\(VI_2\) Entering MASTER STATE/, 15_000)),
    ]);
    await sleep(2_500);
  }, 60_000);

  afterAll(async () => {
    for (const l of labs) await l.cleanup();
  });

  it("USR2: keepalived.stats has keepalived's lines and the same counters", async () => {
    const [k, o] = await Promise.all([dump(theirs, 'keepalived.stats', 'SIGUSR2'), dump(ours, 'keepalived.stats', 'SIGUSR2')]);
    expect(shape(o)).toBe(shape(k));
    const ks = statsOf(k);
    const os = statsOf(o);
    expect([...os.keys()]).toEqual(['VI_1', 'VI_2', 'VI_3']);
    for (const name of ks.keys()) compareCounters(ks.get(name)!, os.get(name)!, name);
    // what the state decides, spelled out
    expect(os.get('VI_1')!.get('Advertisements/Received')).toBeGreaterThan(0);
    expect(os.get('VI_1')!.get('Advertisements/Sent')).toBe(0);
    expect(os.get('VI_2')!.get('Became master')).toBe(1);
  });

  it('JSON signal: keepalived.json has the same keys and the same config and state values', async () => {
    const [k, o] = await Promise.all([dump(theirs, 'keepalived.json', signum('keepalived', 'JSON')), dump(ours, 'keepalived.json', signum(BIN, 'JSON'))]);
    if (process.env.KT_DMN_DEBUG) console.log(`${k}\n=====\n${o}`);
    const kj = JSON.parse(k) as { data: Record<string, unknown>; stats: Record<string, number> }[];
    const oj = JSON.parse(o) as typeof kj;
    expect(oj.map((x) => x.data.iname)).toEqual(kj.map((x) => x.data.iname));
    kj.forEach((ki, n) => {
      const oi = oj[n]!;
      const where = String(ki.data.iname);
      expect(keysOf(oi), where).toEqual(keysOf(ki));
      const { last_transition: kt, ...kd } = ki.data;
      const { last_transition: ot, ...od } = oi.data;
      expect(od, where).toEqual(kd);
      expect(Math.abs(Number(ot) - Number(kt)), `${where} last_transition`).toBeLessThan(30);
      compareCounters(new Map(Object.entries(ki.stats)), new Map(Object.entries(oi.stats)), where);
    });
  });

  it("USR1: keepalived.data's VRRP Topology lines (same text, values of the moment aside)", async () => {
    const [k, o] = await Promise.all([dump(theirs, 'keepalived.data', 'SIGUSR1'), dump(ours, 'keepalived.data', 'SIGUSR1')]);
    const kt = topology(k);
    const ot = topology(o);
    if (process.env.KT_DMN_DEBUG) console.log(`${kt.join('\n')}\n=====\n${ot.join('\n')}`);
    // lines that name this run's moments, timers or file descriptors: compare the key only
    const moment = /^ *(Last transition|Read timeout|fd_in)/;
    const key = (l: string) => (moment.test(l) ? moment.exec(l)![0] : l);
    const missing = kt.map(key).filter((l) => !ot.map(key).includes(l));
    const extra = ot.map(key).filter((l) => !kt.map(key).includes(l));
    expect(extra).toEqual([]);
    // keepalived's timer queue and socket numbers have no counterpart here; all else is written
    expect(missing.filter((l) => !/Read timeout|fd_in/.test(l))).toEqual([]);
    expect(ot.map(key)).toEqual(kt.map(key).filter((l) => !/Read timeout|fd_in/.test(l)));
    // every line that exporters read is there, with keepalived's value
    for (const want of [
      'VRRP Instance = VI_1',
      'State = BACKUP',
      'Wantstate = BACKUP',
      'State = MASTER',
      'Interface = eth0',
      `Using src_ip = ${net(2)}`,
      'Multicast address 224.0.0.18',
      'Unicast Peer',
      'Virtual Router ID = 52',
      'Priority = 100',
      'Effective priority = 110',
      'Advert interval = 500 milli-sec',
      'Authentication type = SIMPLE_PASSWORD',
      `${net(100)}/24 dev eth0 scope global label eth0:vip`,
      `${net(101)}/24 dev eth0 scope global set`,
      'chk weight 10',
    ]) {
      expect(
        kt.some((l) => l.includes(want)),
        `keepalived writes ${want}`,
      ).toBe(true);
      expect(
        ot.some((l) => l.includes(want)),
        `we write ${want}`,
      ).toBe(true);
    }
  });

  it("USR1: keepalived.data's other sections: global definitions as keepalived's, the scripts and the interfaces", async () => {
    const [k, o] = await Promise.all([dump(theirs, 'keepalived.data', 'SIGUSR1'), dump(ours, 'keepalived.data', 'SIGUSR1')]);
    expect(headers(o)).toEqual(headers(k));
    expect(section(o, 'Global definitions')).toEqual(section(k, 'Global definitions'));
    // the script's state lines: the same once it has run (Result, Status, tracking)
    expect(section(o, 'VRRP Scripts').filter((l) => !/State = (idle|running)/.test(l))).toEqual(
      section(k, 'VRRP Scripts').filter((l) => !/State = (idle|running)/.test(l)),
    );
    // the interfaces: every one keepalived lists, with its index, addresses, MAC, state and tracking
    const ifaces = (t: string) =>
      section(t, 'Interfaces').filter((l) => /Name =|index =|IPv4 address|IPv6 address|MAC|State =|MTU|HW Type|VI_\d, weight/.test(l));
    // the two segments' eth0 differ in index, MAC and link-local address: those are checked
    // against `ip link` of our router, the rest against keepalived's lines
    const hostValues = (l: string) =>
      l
        .replace(/index = \d+/, 'index = N')
        .replace(/(MAC = )[0-9a-f:]{17}/, '$1M')
        .replace(/fe80::[0-9a-f:]+/, 'fe80::L');
    expect(ifaces(o).map(hostValues)).toEqual(ifaces(k).map(hostValues));
    // `ip link show NAME` fails when the link is absent, so its list has the one entry
    const eth0 = (
      JSON.parse(execFileSync('ip', ['-n', ours.host.ns, '-j', 'link', 'show', 'eth0'], { encoding: 'utf8' })) as { ifindex: number; address: string }[]
    )[0]!;
    const ourEth0 = section(o, 'Interfaces').join('\n').split(' Name = eth0')[1]!;
    expect(ourEth0).toContain(`index = ${eth0.ifindex}\n`);
    expect(ourEth0).toContain(`MAC = ${eth0.address}\n`);
    // the sockpool lists the same sockets (keepalived's socket numbers aside)
    expect(
      section(o, 'VRRP Sockpool')
        .filter((l) => /Interface|Family|Type|vrid/.test(l))
        .sort(),
    ).toEqual(
      section(k, 'VRRP Sockpool')
        .filter((l) => /Interface|Family|Type|vrid/.test(l))
        .sort(),
    );
    const [kn, on] = [k, o].map((t) => t.split('\n').length);
    console.log(`keepalived.data: keepalived ${kn} lines, ours ${on}`);
    expect(statSync(ours.tmpFile('keepalived.data')).mode & 0o777).toBe(0o600);
  });

  it('STATS_CLEAR: writes the counters, then starts them again from zero', async () => {
    const [kBefore, oBefore] = await Promise.all([
      dump(theirs, 'keepalived.stats', signum('keepalived', 'STATS_CLEAR')),
      dump(ours, 'keepalived.stats', signum(BIN, 'STATS_CLEAR')),
    ]);
    expect(statsOf(oBefore).get('VI_2')!.get('Became master')).toBe(1);
    expect(statsOf(kBefore).get('VI_2')!.get('Became master')).toBe(1);
    const [k, o] = await Promise.all([dump(theirs, 'keepalived.stats', 'SIGUSR2'), dump(ours, 'keepalived.stats', 'SIGUSR2')]);
    const ks = statsOf(k);
    const os = statsOf(o);
    for (const name of ['VI_1', 'VI_2', 'VI_3']) {
      expect(os.get(name)!.get('Became master'), name).toBe(0);
      expect(ks.get(name)!.get('Became master'), name).toBe(0);
    }
    // VI_2 (a MASTER at 0.5 s) counts its adverts since the clear, not the whole run's
    const sentBefore = statsOf(oBefore).get('VI_2')!.get('Advertisements/Sent')!;
    expect(sentBefore).toBeGreaterThan(4);
    expect(os.get('VI_2')!.get('Advertisements/Sent')!).toBeLessThan(sentBefore);
  });

  it("keepalived's real-time numbers, sent to the parent or straight to the VRRP child, leave the daemon running", async () => {
    const pids = [ours.pid, ours.vrrpPid()!];
    for (const target of pids) {
      const path = ours.tmpFile('keepalived.json');
      rmSync(path, { force: true });
      process.kill(target, 36);
      await until(() => existsSync(path) && statSync(path).size > 0, 10_000, `kill -36 ${target} writes keepalived.json`);
      process.kill(target, 63);
      await sleep(300);
    }
    // and the numbers earlier versions printed still answer
    expect(JSON.parse(await dump(ours, 'keepalived.json', 'SIGPWR'))).toHaveLength(3);
    expect(ours.running).toBe(true);
    expect([ours.vrrpPid(), ...pids.map((p) => existsSync(`/proc/${p}`))]).toEqual([pids[1], true, true]);
  });
});
