/**
 * use_ipvlan and use_vmac on a real Debian kernel (the host's has no ipvlan), ours beside
 * keepalived 2.2.7 on the same file. Two routers, namespaces A and B, each with eth0 on one
 * bridge (the ipvlan segment) and eth1 on another (the VMAC segment: an ipvlan and a macvlan
 * cannot share a parent, both take the parent's receive hook). One config per router, two
 * instances: VI_IPVLAN (vrid 51, `use_ipvlan ADDRESS/24 private` on eth0) and VI_VMAC
 * (vrid 52, `use_vmac` on eth1). tcpdump on both bridges records every advert.
 *
 *   1. keepalived alone on A: its ipvlan and macvlan (`ip -d link`), where the VIPs go (the
 *      macvlan's on it; the ipvlan's stay on eth0: keepalived moves VIPs only for use_vmac),
 *      the sysctls, and what a stop leaves.
 *   2. keepalived on B at priority 150 (MASTER), ours on A with A's file (priority 100):
 *      ours makes the same links keepalived made on A, hears keepalived's adverts through
 *      them and stays BACKUP.
 *   3. keepalived stops: ours takes both VIPs, placed as keepalived placed them on A;
 *      keepalived's links in B are gone. Then ours is SIGKILLed: its links stay, and ours
 *      started again takes them over (the ipvlan known by its address) and resumes MASTER.
 *   4. keepalived back on B at priority 50: it hears ours and stays BACKUP.
 *   5. ours stops: keepalived takes both VIPs; ours' links in A are gone.
 *   Adverts: each router's from its ipvlan's address with its eth0's MAC (an L2 ipvlan
 *   shares its parent's MAC) and from its eth1's address with the VRRP MAC on the VMAC.
 *
 * Waiting polls the daemons' log files in-process (a spawn per poll starves a start-up in
 * the one-vCPU guest); the namespaces are read with one shell per observation.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive, readIfExists, scenarioProgress, sleep, type Scenario, type ScenarioContext } from '../scenario.js';

const NAME = 'ipvlan';
const DIR = '/tmp/kt-ipv';
const here = dirname(fileURLToPath(import.meta.url)); // dist/test/kernel/scenarios
const PROJECT = join(here, '..', '..', '..', '..');
const BIN = join(PROJECT, 'bin', 'keepalived-ts');
const TAG = 'kt-ipv';
const BRIDGES = [`${TAG}-br0`, `${TAG}-br1`];
const VIP_IPVLAN = '10.95.0.100';
const VIP_VMAC = '10.95.1.100';
const VMAC = '00:00:5e:00:01:34';

interface Router {
  name: 'A' | 'B';
  ns: string;
  /** eth0's and eth1's addresses. */
  eth0: string;
  eth1: string;
  /** The address use_ipvlan puts on the ipvlan (the source of its adverts). */
  ipvlan: string;
}
const A: Router = { name: 'A', ns: `${TAG}-a`, eth0: '10.95.0.2', eth1: '10.95.1.2', ipvlan: '10.95.0.11' };
const B: Router = { name: 'B', ns: `${TAG}-b`, eth0: '10.95.0.3', eth1: '10.95.1.3', ipvlan: '10.95.0.12' };

const config = (r: Router, priority: number) => `global_defs {
  router_id kt_ipv_${r.name}
}
vrrp_instance VI_IPVLAN {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  use_ipvlan ${r.ipvlan}/24 private
  virtual_ipaddress {
    ${VIP_IPVLAN}/24
  }
}
vrrp_instance VI_VMAC {
  state BACKUP
  interface eth1
  virtual_router_id 52
  priority ${priority}
  advert_int 1
  use_vmac
  virtual_ipaddress {
    ${VIP_VMAC}/24
  }
}
`;

const setupCommands = (): string =>
  [
    ...BRIDGES.flatMap((br) => [`ip link add ${br} type bridge mcast_snooping 0`, `ip link set ${br} up`]),
    ...[A, B].flatMap((r) => [
      `ip netns add ${r.ns}`,
      `ip -n ${r.ns} link set lo up`,
      ...[0, 1].flatMap((i) => {
        const host = `${r.ns}${i}`;
        return [
          `ip link add ${host} type veth peer name eth${i} netns ${r.ns}`,
          `ip link set ${host} master ${BRIDGES[i]} up`,
          `ip -n ${r.ns} addr add ${i === 0 ? r.eth0 : r.eth1}/24 dev eth${i}`,
          `ip -n ${r.ns} link set eth${i} up`,
        ];
      }),
    ]),
  ].join(' && ');

const cleanupCommands = (): string =>
  [...[A, B].flatMap((r) => [`ip netns del ${r.ns}`, `ip link del ${r.ns}0`, `ip link del ${r.ns}1`]), ...BRIDGES.map((br) => `ip link del ${br}`)]
    .map((c) => `${c} 2>/dev/null`)
    .join('; ');

type Impl = 'ours' | 'keepalived';
interface Daemon {
  impl: Impl;
  router: Router;
  pid: number;
  log: string;
  /** The VRRP child's pid file. */
  vrrpPid: string;
}

let runs = 0;
async function start(ctx: ScenarioContext, impl: Impl, r: Router, priority: number): Promise<Daemon> {
  const n = ++runs;
  const conf = `${DIR}/${impl}-${r.name}-${n}.conf`;
  const log = `${DIR}/${impl}-${r.name}-${n}.log`;
  const vrrpPid = `${DIR}/${impl}-${n}-vrrp.pid`;
  const pids = `-p ${DIR}/${impl}-${n}.pid -r ${vrrpPid} -c ${DIR}/${impl}-${n}-checker.pid`;
  writeFileSync(conf, config(r, priority));
  // exec all the way down, so $! is the daemon's own pid (ip netns exec execs it)
  const cmd =
    impl === 'ours'
      ? `cd ${PROJECT} && exec ip netns exec ${r.ns} ${BIN} -n -l -P -f ${conf} ${pids} --child-start-timeout=120`
      : `exec ip netns exec ${r.ns} keepalived -n -l -P -f ${conf} ${pids}`;
  const pid = Number((await ctx.shOk(`(${cmd}) > ${log} 2>&1 & echo $!`)).trim());
  scenarioProgress(ctx, NAME, `${impl} started on ${r.name} at priority ${priority} (pid ${pid})`);
  return { impl, router: r, pid, log, vrrpPid };
}

const logOf = (d: Daemon): string => readIfExists(d.log);
const entered = (d: Daemon, instance: string, state: 'MASTER' | 'BACKUP'): boolean => logOf(d).includes(`(${instance}) Entering ${state} STATE`);
const bothEntered = (d: Daemon, state: 'MASTER' | 'BACKUP') => entered(d, 'VI_IPVLAN', state) && entered(d, 'VI_VMAC', state);

/** Polls `cond` in-process; the milliseconds it took, or throws with the daemons' logs. */
async function waitFor(ctx: ScenarioContext, what: string, cond: () => boolean, ms: number, daemons: Daemon[]): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (cond()) {
      const took = Date.now() - started;
      scenarioProgress(ctx, NAME, `${what}: after ${took} ms`);
      return took;
    }
    // a daemon gone, or an instance in FAULT (its link or socket failed), will not get there
    if (daemons.some((d) => !processAlive(d.pid) || logOf(d).includes('Entering FAULT STATE'))) break;
    await sleep(250);
  }
  const logs = daemons.map((d) => `--- ${d.impl} on ${d.router.name}${processAlive(d.pid) ? '' : ' (exited)'}:\n${logOf(d).split('\n').slice(-40).join('\n')}`);
  throw new Error(`${what}: not reached within ${ms} ms\n${logs.join('\n')}`);
}

/** SIGTERM, then waits for the process to go (a graceful stop: priority 0 adverts, links deleted). */
async function stop(ctx: ScenarioContext, d: Daemon): Promise<number> {
  const sent = Date.now();
  try {
    process.kill(d.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  for (const until = Date.now() + 60_000; Date.now() < until && processAlive(d.pid);) await sleep(100);
  if (processAlive(d.pid)) {
    process.kill(d.pid, 'SIGKILL');
    throw new Error(`${d.impl} on ${d.router.name} did not stop within 60 s of SIGTERM:\n${logOf(d).split('\n').slice(-40).join('\n')}`);
  }
  scenarioProgress(ctx, NAME, `${d.impl} on ${d.router.name} stopped ${Date.now() - sent} ms after SIGTERM`);
  return Date.now() - sent;
}

const SYSCTLS = [
  'ipv6/conf/vrrp.51/disable_ipv6',
  'ipv4/conf/vrrp.51/arp_ignore',
  'ipv4/conf/eth0/arp_ignore',
  'ipv4/conf/eth0/arp_filter',
  'ipv6/conf/vrrp.52/disable_ipv6',
  'ipv4/conf/vrrp.52/arp_ignore',
  'ipv4/conf/vrrp.52/accept_local',
  'ipv4/conf/eth1/arp_ignore',
  'ipv4/conf/eth1/arp_filter',
];

interface Links {
  /** `ip -d link` of vrrp.51 and vrrp.52 reduced to what identifies them (no index, no counters); null: absent. */
  ipvlan: string | null;
  vmac: string | null;
  /** Which interface holds each VIP (null: none). */
  vipIpvlan: string | null;
  vipVmac: string | null;
  /** The ipvlan's own address (use_ipvlan's). */
  ipvlanAddress: string | null;
  sysctls: Record<string, string>;
}

/** One shell in the router's namespace: its links, addresses and sysctls. */
async function observe(ctx: ScenarioContext, r: Router): Promise<Links & { eth0Mac: string }> {
  const out = await ctx.shOk(
    `ip netns exec ${r.ns} sh -c 'ip -d -o link show; echo ===; ip -o -4 addr show; echo ===; ` +
      `for s in ${SYSCTLS.join(' ')}; do echo "$s=$(cat /proc/sys/net/$s 2>/dev/null || echo absent)"; done'`,
  );
  const [links = '', addrs = '', sysctlText = ''] = out.split('===\n');
  const linkLine = (name: string) => links.split('\n').find((l) => new RegExp(`^\\d+: ${name.replace('.', '\\.')}[@:]`).test(l)) ?? null;
  const reduce = (line: string | null): string | null => {
    if (!line) return null;
    const name = /^\d+: ([^@:]+)/.exec(line)?.[1];
    const parent = /^\d+: [^@:]+@([^:]+):/.exec(line)?.[1];
    const flags = /<([^>]*)>/.exec(line)?.[1];
    const mac = /link\/ether ([0-9a-f:]+)/.exec(line)?.[1];
    const kind = /\b(ipvlan\s+mode \S+ \S+|macvlan mode \S+)/.exec(line)?.[1]?.replace(/\s+/g, ' ');
    const gen = /addrgenmode (\S+)/.exec(line)?.[1];
    return `${name}@${parent} <${flags}> ${mac} ${kind} addrgenmode ${gen}`;
  };
  const eth0Mac = /link\/ether ([0-9a-f:]+)/.exec(linkLine('eth0') ?? '')?.[1] ?? '';
  const holder = (ip: string) => /^\d+: ([^\s@]+)\S*\s+inet /.exec(addrs.split('\n').find((l) => l.includes(` inet ${ip}/`)) ?? '')?.[1] ?? null;
  const ipvlanAddress = /inet (\S+)/.exec(addrs.split('\n').find((l) => /^\d+: vrrp\.51\s/.test(l) && !l.includes(` ${VIP_IPVLAN}/`)) ?? '')?.[1] ?? null;
  const sysctls: Record<string, string> = {};
  for (const line of sysctlText.split('\n')) {
    const m = /^(\S+)=(\S+)$/.exec(line);
    if (m) sysctls[m[1]!] = m[2]!;
  }
  // the ipvlan's MAC is its parent's: named so the two routers' reductions compare
  const ipvlan = reduce(linkLine('vrrp.51'))?.replace(eth0Mac, 'ETH0-MAC') ?? null;
  return { ipvlan, vmac: reduce(linkLine('vrrp.52')), vipIpvlan: holder(VIP_IPVLAN), vipVmac: holder(VIP_VMAC), ipvlanAddress, sysctls, eth0Mac };
}

/** Base interfaces back to the kernel's defaults, so each daemon's own changes show. */
const resetBase = (ctx: ScenarioContext, r: Router) =>
  ctx.shOk(
    `ip netns exec ${r.ns} sysctl -qw ${['eth0', 'eth1'].flatMap((i) => [`net.ipv4.conf.${i}.arp_ignore=0`, `net.ipv4.conf.${i}.arp_filter=0`]).join(' ')}`,
  );

interface Advert {
  t: number;
  bridge: number;
  srcMac: string;
  src: string;
  vrid: number;
  prio: number;
}

/** `tcpdump -l -e -n -tt` lines of VRRP adverts. */
function adverts(bridge: number): Advert[] {
  const out: Advert[] = [];
  for (const line of readIfExists(`${DIR}/br${bridge}.txt`).split('\n')) {
    const m = /^(\d+\.\d+) ([0-9a-f:]+) > [0-9a-f:]+, .*?: (\S+) > 224\.0\.0\.18: VRRPv\d, Advertisement, vrid (\d+), prio (\d+)/.exec(line);
    if (m) out.push({ t: Number(m[1]) * 1000, bridge, srcMac: m[2]!, src: m[3]!, vrid: Number(m[4]), prio: Number(m[5]) });
  }
  return out;
}
/** The distinct (vrid, source address, source MAC, priority) of adverts within [from, to). */
const senders = (list: Advert[], from: number, to: number): string[] =>
  [...new Set(list.filter((a) => a.t >= from && a.t < to).map((a) => `vrid ${a.vrid} from ${a.src} ${a.srcMac} prio ${a.prio}`))].sort();

const scenario: Scenario = {
  name: NAME,
  timeoutMs: 360_000,
  async run(ctx) {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    await ctx.sh(cleanupCommands());
    const daemons: Daemon[] = [];
    const captures: number[] = [];
    try {
      // an ipvlan needs its module (no ipvlan without it: the reason this runs in the VM)
      await ctx.shOk('modprobe -a ipvlan macvlan');
      await ctx.shOk(setupCommands());
      for (const i of [0, 1]) {
        const pid = (await ctx.shOk(`(exec tcpdump -l -e -n -tt -i ${BRIDGES[i]} 'ip proto 112' > ${DIR}/br${i}.txt 2>${DIR}/br${i}.err) & echo $!`)).trim();
        captures.push(Number(pid));
      }

      // 1. keepalived alone on A
      await resetBase(ctx, A);
      const k1 = await start(ctx, 'keepalived', A, 100);
      daemons.push(k1);
      await waitFor(ctx, 'keepalived alone on A: MASTER on both', () => bothEntered(k1, 'MASTER'), 60_000, [k1]);
      await sleep(1_000);
      const theirs = await observe(ctx, A);
      await stop(ctx, k1);
      const theirsAfter = await observe(ctx, A);
      ctx.log(`keepalived on A: ${JSON.stringify(theirs)}; after its stop: ${JSON.stringify(theirsAfter)}`);
      ctx.check(
        'keepalived 2.2.7 on A: an L2 private ipvlan vrrp.51 on eth0 (its MAC) with the use_ipvlan address, the ipvlan VIP left on eth0; a private macvlan vrrp.52 on eth1 with the VRRP MAC holding its VIP',
        { ipvlan: theirs.ipvlan, vmac: theirs.vmac, vipIpvlan: theirs.vipIpvlan, vipVmac: theirs.vipVmac, ipvlanAddress: theirs.ipvlanAddress },
        {
          ipvlan: 'vrrp.51@eth0 <BROADCAST,MULTICAST,UP,LOWER_UP> ETH0-MAC ipvlan mode l2 private addrgenmode eui64',
          vmac: `vrrp.52@eth1 <BROADCAST,MULTICAST,UP,LOWER_UP> ${VMAC} macvlan mode private addrgenmode none`,
          vipIpvlan: 'eth0',
          vipVmac: 'vrrp.52',
          ipvlanAddress: `${A.ipvlan}/24`,
        },
      );

      // 2. keepalived MASTER on B, ours on A with A's file: the same links, BACKUP
      const k2 = await start(ctx, 'keepalived', B, 150);
      daemons.push(k2);
      await waitFor(ctx, 'keepalived on B: MASTER on both', () => bothEntered(k2, 'MASTER'), 60_000, [k2]);
      await resetBase(ctx, A);
      const ours = await start(ctx, 'ours', A, 100);
      daemons.push(ours);
      await waitFor(ctx, 'ours on A: BACKUP on both', () => bothEntered(ours, 'BACKUP'), 240_000, [ours, k2]);
      // past the master-down interval (3 x 1 s + skew): a BACKUP that heard nothing would be MASTER by now
      await sleep(6_000);
      const oursBackup = await observe(ctx, A);
      const oursBackupAt = Date.now();
      ctx.check(
        'ours on A, keepalived MASTER on B: still BACKUP on both after 6 s (it hears keepalived through the ipvlan and the VMAC)',
        {
          ipvlanMaster: entered(ours, 'VI_IPVLAN', 'MASTER'),
          vmacMaster: entered(ours, 'VI_VMAC', 'MASTER'),
          vips: [oursBackup.vipIpvlan, oursBackup.vipVmac],
        },
        { ipvlanMaster: false, vmacMaster: false, vips: [null, null] },
      );

      // 3. keepalived stops: ours takes over
      const stoppedK2 = Date.now();
      await stop(ctx, k2);
      const failover = await waitFor(ctx, 'ours on A: MASTER on both after keepalived stopped', () => bothEntered(ours, 'MASTER'), 60_000, [ours]);
      const failoverFromTerm = Date.now() - stoppedK2;
      await sleep(1_500);
      const oursMaster = await observe(ctx, A);
      const bGone = await observe(ctx, B);
      console.log(
        `${NAME}: FIGURE ours MASTER on both at most ${failoverFromTerm} ms after SIGTERM to keepalived 2.2.7 (seen ${failover} ms after it had exited; 250 ms polls)`,
      );
      ctx.check(
        'ours on A as MASTER: the same links, VIP placement, ipvlan address and sysctls as keepalived 2.2.7 on A with the same file',
        { ...oursMaster, eth0Mac: undefined },
        { ...theirs, eth0Mac: undefined },
      );
      ctx.check('keepalived stopped on B: its ipvlan and macvlan are gone', [bGone.ipvlan, bGone.vmac], [null, null]);

      // 3b. ours crashes (its parent frozen first, so it neither respawns nor stops the child,
      // then both SIGKILLed): the links stay; a new start takes both over, the ipvlan known by
      // its use_ipvlan address, and resumes MASTER
      const child = Number(readIfExists(ours.vrrpPid).trim());
      process.kill(ours.pid, 'SIGSTOP');
      if (child) process.kill(child, 'SIGKILL');
      process.kill(ours.pid, 'SIGKILL');
      await waitFor(ctx, 'ours on A killed', () => !processAlive(ours.pid) && !(child && processAlive(child)), 20_000, []);
      const leftByCrash = await observe(ctx, A);
      const again = await start(ctx, 'ours', A, 100);
      daemons.push(again);
      await waitFor(ctx, 'ours restarted on A: MASTER on both', () => bothEntered(again, 'MASTER'), 240_000, [again]);
      await sleep(1_000);
      const adopted = await observe(ctx, A);
      ctx.check(
        'ours SIGKILLed: its ipvlan and macvlan stay; restarted on the same file it takes both over (no second link) and is MASTER with the VIPs as before',
        {
          leftByCrash: [leftByCrash.ipvlan, leftByCrash.vmac],
          takenOver: ['(VI_IPVLAN) Found matching interface vrrp.51', '(VI_VMAC) Found matching interface vrrp.52'].map((l) => logOf(again).includes(l)),
          links: adopted,
        },
        { leftByCrash: [oursMaster.ipvlan, oursMaster.vmac], takenOver: [true, true], links: oursMaster },
      );

      // 4. keepalived back on B below ours: it hears ours and stays BACKUP
      const k3 = await start(ctx, 'keepalived', B, 50);
      daemons.push(k3);
      await waitFor(ctx, 'keepalived on B at priority 50: BACKUP on both', () => bothEntered(k3, 'BACKUP'), 60_000, [k3, again]);
      await sleep(6_000);
      const k3Backup = await observe(ctx, B);
      ctx.check(
        'keepalived 2.2.7 on B at priority 50 beside ours MASTER: still BACKUP after 6 s (it hears ours through its ipvlan and VMAC)',
        { ipvlanMaster: entered(k3, 'VI_IPVLAN', 'MASTER'), vmacMaster: entered(k3, 'VI_VMAC', 'MASTER'), vips: [k3Backup.vipIpvlan, k3Backup.vipVmac] },
        { ipvlanMaster: false, vmacMaster: false, vips: [null, null] },
      );

      // 5. ours stops: keepalived takes over, ours' links go
      const oursStoppedAt = Date.now();
      await stop(ctx, again);
      const takeover = await waitFor(ctx, 'keepalived on B: MASTER on both after ours stopped', () => bothEntered(k3, 'MASTER'), 60_000, [k3]);
      const takeoverFromTerm = Date.now() - oursStoppedAt;
      const oursAfter = await observe(ctx, A);
      await sleep(1_500);
      const k3Master = await observe(ctx, B);
      console.log(
        `${NAME}: FIGURE keepalived 2.2.7 MASTER on both at most ${takeoverFromTerm} ms after SIGTERM to ours (seen ${takeover} ms after it had exited; 250 ms polls)`,
      );
      ctx.check(
        'ours stopped: its ipvlan and macvlan are gone from A, as keepalived left A after its own stop',
        { ipvlan: oursAfter.ipvlan, vmac: oursAfter.vmac, vips: [oursAfter.vipIpvlan, oursAfter.vipVmac], sysctls: oursAfter.sysctls },
        { ipvlan: null, vmac: null, vips: [null, null], sysctls: theirsAfter.sysctls },
      );
      ctx.check(
        'keepalived on B after ours stopped: both VIPs, the ipvlan one on eth0, the other on its VMAC',
        [k3Master.vipIpvlan, k3Master.vipVmac],
        ['eth0', 'vrrp.52'],
      );
      await stop(ctx, k3);
      await sleep(500);

      // adverts, by phase (tcpdump's timestamps are the guest's wall clock, as Date.now())
      const on0 = adverts(0);
      const on1 = adverts(1);
      console.log(`${NAME}: FIGURE adverts captured: ${on0.length} on the ipvlan segment, ${on1.length} on the VMAC segment`);
      const [aMac, bMac] = [oursMaster.eth0Mac, bGone.eth0Mac];
      const backupPhase = [oursBackupAt - 5_000, oursBackupAt] as const;
      ctx.check(
        'adverts while keepalived on B was MASTER and ours BACKUP: only keepalived, from its ipvlan address with eth0 MAC, and from eth1 with the VRRP MAC',
        [...senders(on0, ...backupPhase), ...senders(on1, ...backupPhase)],
        [`vrid 51 from ${B.ipvlan} ${bMac} prio 150`, `vrid 52 from ${B.eth1} ${VMAC} prio 150`],
      );
      const masterPhase = [oursStoppedAt - 5_000, oursStoppedAt] as const;
      ctx.check(
        'adverts while ours on A was MASTER: only ours, the same shape as keepalived, from its ipvlan address and from the VMAC',
        [...senders(on0, ...masterPhase), ...senders(on1, ...masterPhase)],
        [`vrid 51 from ${A.ipvlan} ${aMac} prio 100`, `vrid 52 from ${A.eth1} ${VMAC} prio 100`],
      );
      const stopAdverts = (list: Advert[], src: string, from: number) => list.some((a) => a.t >= from && a.src === src && a.prio === 0);
      ctx.check(
        'a graceful stop sends priority 0 from the ipvlan and the VMAC: keepalived on B, then ours on A',
        {
          keepalived: [stopAdverts(on0, B.ipvlan, stoppedK2), stopAdverts(on1, B.eth1, stoppedK2)],
          ours: [stopAdverts(on0, A.ipvlan, oursStoppedAt), stopAdverts(on1, A.eth1, oursStoppedAt)],
        },
        { keepalived: [true, true], ours: [true, true] },
      );
    } finally {
      for (const d of daemons) if (processAlive(d.pid)) process.kill(d.pid, 'SIGKILL');
      for (const pid of captures) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      await ctx.sh(cleanupCommands());
    }
  },
};

export default scenario;
