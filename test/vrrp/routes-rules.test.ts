// virtual_routes, virtual_rules, static_ipaddress, static_routes and static_rules beside
// keepalived 2.2.7: the same file on r1, run once by keepalived and once by ours (the whole
// daemon), through the same steps: r1 alone becomes MASTER; a higher-priority keepalived on
// r2 takes the VRID (r1 BACKUP); r2 stops and r1 is MASTER again; r1 stops. After each step
// r1's `ip route show table all`, `ip -6 route show table all`, `ip rule` and `ip -6 rule`
// must be what keepalived left in the same step. The routes cover via, dev, src (the VIP),
// table, metric, blackhole/unreachable/prohibit/throw, multipath with weights, metrics with
// lock, a protocol of its own (no_track), IPv6; the rules from/to/table/priority, fwmark/mask,
// iif, not, goto, an action, ipproto/dport, IPv6 and one without a preference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUnavailable, RouterLab, instanceConf, sleep, until, type Impl } from './lab.js';

const why = labUnavailable();
if (why) console.warn(`routes and rules tests skipped: ${why}`);

const lab = new RouterLab('kt-rr', 93);
const S = lab.subnet;
const VIP = lab.vip(100);

beforeAll(async () => {
  if (why) return;
  await lab.setup();
  await lab.addLan('eth1', 1);
}, 120_000);

afterAll(async () => {
  await lab.cleanup();
});

const r1Config = `global_defs {
  router_id kt_rr
}
static_ipaddress {
  10.${S}.5.1/24 dev eth0
}
static_routes {
  10.${S}.60.0/24 via 10.${S}.0.9 dev eth0
  blackhole 10.${S}.61.0/24
  10.${S}.62.0/24 dev eth0 table 100 metric 20
  fd${S}:60::/64 via fd${S}::9 dev eth0
}
static_rules {
  from 10.${S}.0.0/24 table 100 priority 200
  from fd${S}::/64 table 100 priority 200
}
${instanceConf({
  vrid: 61,
  prio: 100,
  version: 3,
  advertInt: '0.2',
  vips: [`${VIP}/24`],
  extra: [
    'virtual_routes {',
    `  10.${S}.70.0/24 via 10.${S}.0.9 dev eth0`,
    `  src ${VIP} 10.${S}.71.0/24 via 10.${S}.0.9 dev eth0 metric 5`,
    `  10.${S}.72.0/24 dev eth0 table 101`,
    `  unreachable 10.${S}.73.0/24 table 101`,
    `  prohibit 10.${S}.74.0/24`,
    `  throw 10.${S}.75.0/24 table 101`,
    `  10.${S}.76.0/24 nexthop via 10.${S}.0.9 dev eth0 weight 2 nexthop via 10.${S}.1.9 dev eth1`,
    `  10.${S}.77.0/24 via 10.${S}.0.9 dev eth0 mtu lock 1400 advmss 1300 protocol static no_track`,
    `  fd${S}:70::/64 via fd${S}::9 dev eth0 metric 1024`,
    `  blackhole fd${S}:71::/64`,
    '}',
    'virtual_rules {',
    `  from 10.${S}.0.0/24 to 10.${S}.70.0/24 table 101 priority 300`,
    '  fwmark 0x10/0xff table 101 priority 301',
    '  iif eth1 table 101 priority 302',
    `  to 10.${S}.80.0/24 blackhole priority 303`,
    `  not from 10.${S}.0.0/16 goto 310 priority 304`,
    // a single port is refused by keepalived 2.2.7 (the rule stands without it)
    '  ipproto tcp dport 80 sport 1024-65000 table 101 priority 310',
    `  from fd${S}::/64 table 101 priority 305`,
    // keepalived 2.2.7 skips the word after inet6: this rule is dropped by both
    `  inet6 from fd${S}:1::/64 table 101 priority 306`,
    `  to 10.${S}.81.0/24 table 101`,
    '}',
  ],
})}`;

/** r2: the same VRID at a higher priority, nothing else. */
const r2Config = `global_defs {
  router_id kt_rr2
}
${instanceConf({ vrid: 61, prio: 200, version: 3, advertInt: '0.2', vips: [`${VIP}/24`] })}`;

/** What r1's kernel routes by: every table, both families, and the rules. */
function routing(): string {
  const show = (cmd: string) => `# ${cmd}\n${lab.exec(lab.r1.ns, cmd).trim()}`;
  return [show('ip route show table all'), show('ip -6 route show table all'), show('ip rule show'), show('ip -6 rule show')].join('\n');
}

/** The snapshots of one run, by step. */
type Run = Record<'master' | 'backup' | 'masterAgain' | 'stopped', string>;

async function run(impl: Impl): Promise<Run> {
  const out = {} as Run;
  const r1 = await lab.start(impl, lab.r1, r1Config, { wholeDaemon: true });
  await until(() => lab.hasAddr(lab.r1, VIP), 30_000, `${impl}: r1 MASTER with the VIP`);
  // routes and rules follow the VIPs; leave them a moment to land
  await until(() => routing().includes(`10.${S}.81.0/24`), 10_000, `${impl}: virtual rules in place`);
  await sleep(500);
  out.master = routing();
  const r2 = await lab.start('keepalived', lab.r2, r2Config);
  await until(() => !lab.hasAddr(lab.r1, VIP), 30_000, `${impl}: r1 gives the VIP up to r2`);
  await sleep(1000);
  out.backup = routing();
  await r2.stop();
  await until(() => lab.hasAddr(lab.r1, VIP), 30_000, `${impl}: r1 MASTER again`);
  await until(() => routing().includes(`10.${S}.81.0/24`), 10_000, `${impl}: virtual rules back`);
  await sleep(500);
  out.masterAgain = routing();
  await r1.stop();
  await sleep(300);
  out.stopped = routing();
  return out;
}

describe.skipIf(why !== null)('virtual/static routes and rules beside keepalived 2.2.7', () => {
  let theirs: Run;
  let ours: Run;
  beforeAll(async () => {
    const before = routing();
    theirs = await run('keepalived');
    // keepalived cleans up after itself: each run starts from the same kernel state
    expect(routing()).toBe(before);
    ours = await run('ours');
  }, 240_000);

  it('MASTER: the same routes and rules as keepalived, virtual and static', () => {
    expect(ours.master).toBe(theirs.master);
    // and they are really there (not two empty tables compared)
    for (const line of [
      `10.${S}.70.0/24 via 10.${S}.0.9 dev eth0 proto keepalived`,
      `10.${S}.71.0/24 via 10.${S}.0.9 dev eth0 proto keepalived src ${VIP} metric 5`,
      `unreachable 10.${S}.73.0/24 table 101 proto keepalived`,
      `nexthop via 10.${S}.0.9 dev eth0 weight 2`,
      `10.${S}.77.0/24 via 10.${S}.0.9 dev eth0 proto static mtu lock 1400 advmss 1300`,
      `blackhole 10.${S}.61.0/24 proto keepalived`,
      `fd${S}:70::/64 via fd${S}::9 dev eth0 proto keepalived metric 1024`,
      `300:\tfrom 10.${S}.0.0/24 to 10.${S}.70.0/24 lookup 101 proto keepalived`,
      '301:\tfrom all fwmark 0x10/0xff lookup 101 proto keepalived',
      `304:\tnot from 10.${S}.0.0/16 goto 310 proto keepalived`,
      'ipproto tcp sport 1024-65000 lookup 101 proto keepalived',
      `16384:\tfrom all to 10.${S}.81.0/24 lookup 101 proto keepalived`,
      `305:\tfrom fd${S}::/64 lookup 101 proto keepalived`,
      `200:\tfrom 10.${S}.0.0/24 lookup 100 proto keepalived`,
    ]) {
      expect(ours.master).toContain(line);
    }
  });

  it('BACKUP: the virtual ones gone, the static ones kept, as keepalived', () => {
    expect(ours.backup).toBe(theirs.backup);
    expect(ours.backup).not.toContain(`10.${S}.70.0/24`);
    expect(ours.backup).not.toContain('lookup 101');
    expect(ours.backup).toContain(`10.${S}.60.0/24 via 10.${S}.0.9 dev eth0 proto keepalived`);
    expect(ours.backup).toContain(`10.${S}.5.1`);
  });

  it('MASTER again: all back', () => {
    expect(ours.masterAgain).toBe(theirs.masterAgain);
    expect(ours.masterAgain).toBe(ours.master);
  });

  it('stopped: nothing of the config left, as keepalived', () => {
    expect(ours.stopped).toBe(theirs.stopped);
    expect(ours.stopped).not.toContain('proto keepalived');
    expect(ours.stopped).not.toContain(`10.${S}.5.1`); // the static address too
  });
});
