/**
 * VRRP over L3 (`follow vrrp`): two directors run one VRRP instance and only its MASTER
 * announces the VIP, with the priority in the MED, so a split brain still prefers one.
 *
 *   - ours + ours: the MASTER's next hop only; a failover moves it; a split brain (VRRP
 *     blocked between them, both MASTER) keeps the upstream on the higher priority;
 *   - ours + keepalived 2.2.7 on the VRRP side: keepalived announces through its own
 *     virtual_routes (same device name, table and protocol, so the same FRR snippet exports
 *     it); the route follows the MASTER both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/netns.js';
import { ScaleOutLab, VIP, scaleOutLabUnavailable, vrrpL3Conf, type Director } from './lab.js';

const why = scaleOutLabUnavailable(true);
if (why) console.warn(`test/scale-out/vrrp-l3.test.ts SKIPPED: ${why}`);

const ours = (priority: number) => vrrpL3Conf({ instance: 'VI_L3', vrid: 60, priority });
/** keepalived 2.2.7: the announcement as virtual_routes (a route per state, no liveness). */
const keepalivedConf = (priority: number) =>
  `${vrrpL3Conf({ instance: 'VI_L3', vrid: 60, priority, announce: false }).replace(
    /}\n$/,
    `  virtual_routes {
    local ${VIP}/32 dev lo table local
    ${VIP}/32 dev kt-vrrp protocol 249 metric ${255 - priority}
  }
}
`,
  )}`;

describe.skipIf(why !== null)('VRRP over L3: the MASTER announces', { timeout: 120_000 }, () => {
  const lab = new ScaleOutLab('ksol');
  let d1: Director;
  let d2: Director;
  beforeAll(async () => {
    await lab.setup(['frr', 'frr']);
    [d1, d2] = lab.directors as [Director, Director];
    for (const d of lab.directors) await lab.startRouting(d);
  });
  afterAll(() => lab.cleanup());

  it('only the MASTER is a next hop; a failover moves the route; a split brain prefers the higher priority', async () => {
    await lab.startDaemon(d1, 'ours', ours(200), /Entering (MASTER|BACKUP) STATE/);
    await lab.startDaemon(d2, 'ours', ours(100), /Entering (MASTER|BACKUP) STATE/);
    await lab.waitNextHops([d1.ip], 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${lab.describe()}`);
    });
    // A BACKUP starved at its start (a loaded machine) may have been MASTER for a moment and
    // announced: its route must be withdrawn, leaving the MASTER's alone.
    const onlyD1 = () => JSON.stringify(lab.upstreamMeds()) === JSON.stringify({ [d1.ip]: 55 });
    await until(onlyD1, 10_000, `only ${d1.ip} announces`).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(lab.upstreamMeds())}\n${lab.describe()}`);
    });

    // split brain: neither hears the other, both are MASTER and announce
    for (const d of [d1, d2])
      lab.net.exec(
        d.ns,
        'nft add table inet kso && nft add chain inet kso in "{ type filter hook input priority 0; }" && nft add rule inet kso in ip protocol vrrp drop',
      );
    await d2.daemon!.waitLog(/Entering MASTER STATE/, 20_000);
    const announced = () => Object.keys(lab.upstreamMeds()).length === 2;
    for (let i = 0; i < 100 && !announced(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(lab.upstreamMeds()).toEqual({ [d1.ip]: 55, [d2.ip]: 155 });
    expect(lab.nextHops()).toEqual([d1.ip]);
    for (const d of [d1, d2]) lab.net.exec(d.ns, 'nft delete table inet kso');
    await lab.waitNextHops([d1.ip], 20_000);

    // failover: the MASTER stops, the BACKUP takes the route
    await d1.daemon!.stop();
    await lab.waitNextHops([d2.ip], 20_000);
    expect(lab.upstreamMeds()).toEqual({ [d2.ip]: 155 });
    await d2.daemon!.stop();
    await lab.waitNextHops([], 20_000);
  });

  it('a mixed pair with keepalived 2.2.7 on the VRRP side: the route follows the MASTER both ways', async () => {
    // keepalived has no device of its own: a veth end named like ours stands in
    lab.net.exec(d2.ns, 'ip link add kt-vrrp type veth peer name kt-vrrp-peer && ip link set kt-vrrp up && ip link set kt-vrrp-peer up');
    const k = await lab.startDaemon(d2, 'keepalived', keepalivedConf(100), /Entering (MASTER|BACKUP) STATE/);
    await k.waitLog(/Entering MASTER STATE/, 20_000);
    await lab.waitNextHops([d2.ip], 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${lab.describe()}`);
    });
    const o = await lab.startDaemon(d1, 'ours', ours(200), /Entering (MASTER|BACKUP) STATE/);
    await o.waitLog(/Entering MASTER STATE/, 20_000);
    await lab.waitNextHops([d1.ip], 20_000);
    expect(lab.upstreamMeds()).toEqual({ [d1.ip]: 55 });
    await o.stop();
    await lab.waitNextHops([d2.ip], 20_000);
    await k.stop();
    await lab.waitNextHops([], 20_000);
  });
});
