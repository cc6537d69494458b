// Route tracking beside keepalived 2.2.7: the same file on r1, run once by keepalived and
// once by ours (the whole daemon). r1 is MASTER alone; then, one at a time, something of
// its config is deleted from outside (`ip route del`, `ip rule del`, `ip addr del`) and
// what the daemon does about it is observed: the states its notify script is run with,
// and whether the entry is back. keepalived: a tracked virtual route, a virtual rule or a
// VIP of a MASTER deleted -> BACKUP, then MASTER again after the skew time (putting it
// back); a static route, rule or address deleted -> added again, but a static route only
// in a family it listens to (here IPv4, because of the virtual routes; not IPv6); a
// `no_track` virtual route, VIP or static address -> nothing.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUnavailable, RouterLab, instanceConf, sleep, until, type Impl } from './lab.js';

const why = labUnavailable();
if (why) console.warn(`route tracking tests skipped: ${why}`);

const lab = new RouterLab('kt-rtk', 64);
const S = lab.subnet;
const VIP = lab.vip(100);
const VIP_NO_TRACK = lab.vip(101);

beforeAll(async () => {
  if (why) return;
  await lab.setup();
}, 120_000);

afterAll(async () => {
  await lab.cleanup();
});

function config(impl: Impl): string {
  const script = join(lab.dir, `notify-${impl}.sh`);
  writeFileSync(script, `#!/bin/sh\necho "$3" >> ${lab.dir}/states-${impl}.txt\n`);
  chmodSync(script, 0o755);
  return `global_defs {
  router_id kt_rtk
}
static_ipaddress {
  10.${S}.5.1/24 dev eth0
  10.${S}.6.2/24 dev eth0 no_track
}
static_routes {
  10.${S}.60.0/24 via 10.${S}.0.9 dev eth0
  fd${S}:60::/64 via fd${S}::9 dev eth0
}
static_rules {
  from 10.${S}.0.0/24 table 100 priority 200
}
${instanceConf({
  vrid: 64,
  prio: 100,
  version: 3,
  advertInt: '0.2',
  vips: [`${VIP}/24`, `${VIP_NO_TRACK}/24 no_track`],
  extra: [
    `notify ${script}`,
    'virtual_routes {',
    `  10.${S}.70.0/24 via 10.${S}.0.9 dev eth0`,
    `  10.${S}.77.0/24 via 10.${S}.0.9 dev eth0 no_track`,
    '}',
    'virtual_rules {',
    `  from 10.${S}.0.0/24 to 10.${S}.70.0/24 table 101 priority 300`,
    '}',
  ],
})}`;
}

interface Step {
  name: string;
  /** The command that deletes it. */
  del: string;
  /** Whether it is on r1 now. */
  present: () => boolean;
}

const show = (cmd: string) => lab.exec(lab.r1.ns, cmd);
const steps: Step[] = [
  { name: 'virtual route', del: `ip route del 10.${S}.70.0/24 dev eth0`, present: () => show('ip route').includes(`10.${S}.70.0/24 via`) },
  { name: 'virtual rule', del: 'ip rule del priority 300', present: () => /^300:/m.test(show('ip rule')) },
  { name: 'VIP', del: `ip addr del ${VIP}/24 dev eth0`, present: () => lab.hasAddr(lab.r1, VIP) },
  { name: 'static route', del: `ip route del 10.${S}.60.0/24 dev eth0`, present: () => show('ip route').includes(`10.${S}.60.0/24 via`) },
  { name: 'static rule', del: 'ip rule del priority 200', present: () => /^200:/m.test(show('ip rule')) },
  { name: 'static address', del: `ip addr del 10.${S}.5.1/24 dev eth0`, present: () => lab.hasAddr(lab.r1, `10.${S}.5.1`) },
  { name: 'no_track virtual route', del: `ip route del 10.${S}.77.0/24 dev eth0`, present: () => show('ip route').includes(`10.${S}.77.0/24 via`) },
  { name: 'no_track VIP', del: `ip addr del ${VIP_NO_TRACK}/24 dev eth0`, present: () => lab.hasAddr(lab.r1, VIP_NO_TRACK) },
  // in a subnet of its own: deleting 10.S.5.1 above takes that subnet's secondaries with it
  { name: 'no_track static address', del: `ip addr del 10.${S}.6.2/24 dev eth0`, present: () => lab.hasAddr(lab.r1, `10.${S}.6.2`) },
  { name: 'IPv6 static route', del: `ip -6 route del fd${S}:60::/64 dev eth0`, present: () => show('ip -6 route').includes(`fd${S}:60::/64 via`) },
];

/** Per step: the notify states it caused and whether the entry came back. */
type Outcome = Record<string, { states: string[]; back: boolean }>;

async function run(impl: Impl): Promise<Outcome> {
  const statesFile = join(lab.dir, `states-${impl}.txt`);
  const states = () => (existsSync(statesFile) ? readFileSync(statesFile, 'utf8').trim().split('\n') : []);
  const r1 = await lab.start(impl, lab.r1, config(impl), { wholeDaemon: true });
  await until(() => states().at(-1) === 'MASTER' && steps.every((s) => s.present()), 30_000, `${impl}: r1 MASTER with everything in place`);
  const out: Outcome = {};
  for (const step of steps) {
    const seen = states().length;
    // fails (throws) unless the entry was there and is deleted; a daemon may put it back at once
    show(step.del);
    // back within the time a BACKUP takes to skew back to MASTER and re-add (0.12 s at
    // priority 100 and 0.2 s adverts), with room for this loaded machine; then a moment
    // more so a late transition would still be counted
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !(step.present() && states().at(-1) === 'MASTER')) await sleep(100);
    await sleep(500);
    out[step.name] = { states: states().slice(seen), back: step.present() };
  }
  await r1.stop();
  return out;
}

describe.skipIf(why !== null)('route, rule and address tracking beside keepalived 2.2.7', () => {
  let theirs: Outcome;
  let ours: Outcome;
  beforeAll(async () => {
    theirs = await run('keepalived');
    ours = await run('ours');
  }, 240_000);

  it("a MASTER's virtual route, rule or VIP deleted: BACKUP, then MASTER again with it back, as keepalived", () => {
    for (const name of ['virtual route', 'virtual rule', 'VIP']) {
      expect(ours[name], name).toEqual(theirs[name]);
      expect(ours[name], name).toEqual({ states: ['BACKUP', 'MASTER'], back: true });
    }
  });

  it('a static route, rule or address deleted: added again, the instance untouched, as keepalived', () => {
    for (const name of ['static route', 'static rule', 'static address']) {
      expect(ours[name], name).toEqual(theirs[name]);
      expect(ours[name], name).toEqual({ states: [], back: true });
    }
  });

  it('a no_track virtual route, VIP or static address, or a static route of a family nothing listens to: left deleted, as keepalived', () => {
    for (const name of ['no_track virtual route', 'no_track VIP', 'no_track static address', 'IPv6 static route']) {
      expect(ours[name], name).toEqual(theirs[name]);
      expect(ours[name], name).toEqual({ states: [], back: false });
    }
  });
});
