// track_process beside keepalived 2.2.7: one config file, run by our VRRP child on r1 and by
// keepalived on r2, both routers in the same VRID. The tracked process (weight 0) is a
// `sleep` whose argv[0] is a name unique to this run, matched with its parameter.
//
// The kernel's process events (the proc connector) exist only in the initial network
// namespace, and both daemons run inside the lab's namespaces. There keepalived 2.2.7's
// subscription is refused ("Failed to set/clear process event listen - errno 111"), it never
// scans /proc, and the instance stays in FAULT whatever runs (Debian's build has no
// `net_namespace`, keepalived's own way around this). Ours finds no process events either,
// says so, and polls /proc: FAULT without the process, MASTER once it runs (keepalived, in
// FAULT, does not contend), FAULT again once it is killed. The event path itself is proven
// against this kernel in src/netlink/connector/proc-events.test.ts and through the engine on
// fakes in src/vrrp/engine.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUnavailable, RouterLab, until } from './lab.js';

const why = labUnavailable();
if (why) console.warn(`track_process namespace test skipped: ${why}`);

const lab = new RouterLab('kt-tp', 66);
const VIP = lab.vip(101);
const MARKER = `kt-tp-${process.pid}`;

const CONFIG = `
global_defs {
  router_id kt_tp
}
vrrp_track_process marker {
  process ${MARKER} 600
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 66
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
  track_process {
    marker
  }
}
`;

let tracked: ChildProcess | null = null;

beforeAll(async () => {
  if (why) return;
  await lab.setup();
});

afterAll(async () => {
  tracked?.kill('SIGKILL');
  await lab.cleanup();
});

const count = (log: string, re: RegExp) => log.split('\n').filter((l) => re.test(l)).length;

describe.skipIf(why)('track_process, ours beside keepalived 2.2.7 on the same file', () => {
  it('FAULT without the process, MASTER once it runs, FAULT again once it is killed (keepalived: FAULT throughout)', async () => {
    const ours = await lab.start('ours', lab.r1, CONFIG);
    const kad = await lab.start('keepalived', lab.r2, CONFIG);

    // no such process: both hold the instance in FAULT
    await until(() => /Entering FAULT STATE/.test(ours.log), 20_000, 'ours in FAULT');
    await until(() => /entering FAULT state \(tracked process marker quorum not achieved\)/.test(kad.log), 20_000, 'keepalived in FAULT');
    expect(ours.log).toMatch(/no kernel process events here, polling \/proc/);
    expect(kad.log).toMatch(/Failed to set\/clear process event listen - errno 111/);

    // a process with the name but another parameter does not count
    const other = spawn('sleep', ['599'], { argv0: MARKER, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 3000));
    other.kill('SIGKILL');
    expect(ours.log).not.toMatch(/Quorum gained/);
    expect(lab.hasAddr(lab.r1, VIP) || lab.hasAddr(lab.r2, VIP)).toBe(false);

    // the process: ours gains quorum and, alone in the VRID, becomes MASTER
    tracked = spawn('sleep', ['600'], { argv0: MARKER, stdio: 'ignore' });
    await until(() => /Quorum gained for tracked process marker/.test(ours.log), 20_000, 'ours gained quorum');
    await until(() => lab.hasAddr(lab.r1, VIP), 20_000, 'the VIP on r1 (ours MASTER)');
    await until(() => /\(VI_1\) Entering MASTER STATE/.test(ours.log), 20_000, 'ours MASTER in its log');
    expect(kad.log).not.toMatch(/Quorum gained|Entering (BACKUP|MASTER) STATE/);
    expect(lab.hasAddr(lab.r2, VIP)).toBe(false);

    // killed: FAULT again, the VIP leaves
    const faultsBefore = count(ours.log, /Entering FAULT STATE/);
    tracked.kill('SIGKILL');
    tracked = null;
    await until(() => /Quorum lost for tracked process marker/.test(ours.log), 20_000, 'ours lost quorum');
    await until(() => count(ours.log, /Entering FAULT STATE/) > faultsBefore, 20_000, 'ours in FAULT again');
    await until(() => !lab.hasAddr(lab.r1, VIP), 20_000, 'the VIP gone from r1');
    expect(kad.log).not.toMatch(/Quorum gained|Entering (BACKUP|MASTER) STATE/);
  }, 180_000);
});
