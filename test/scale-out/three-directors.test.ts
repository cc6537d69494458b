/**
 * Three directors announce one VIP to an FRR upstream with ECMP: d1 and d2 beside FRR, d3
 * beside BIRD (the example snippets), each running keepalived-ts with a VRRP instance of its
 * own (so each is MASTER while healthy: anycast following VRRP, no IPVS needed on this host).
 *
 *   - the upstream's FIB holds three next hops and queries spread over the three directors;
 *   - a director whose health fails (its instance tracks a file) withdraws only its own route
 *     and announces again when healthy (quorum loss, the checker's side, needs kernel IPVS:
 *     test/kernel/scenarios/scale-out.ts);
 *   - kill -9 of keepalived-ts alone (the routing daemon lives on): the route goes at once,
 *     with the device that carried it, under FRR and under BIRD; a restart announces again;
 *   - a graceful stop under queries: withdrawn first, answered until drained, so no query is
 *     lost; the restart neither;
 *   - kill -9 of a whole director (keepalived-ts, its routing daemon, its server): BFD drops
 *     the next hop.
 * Waits are hang guards (the 1 s BFD target is a bench figure, not asserted here).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaleOutLab, scaleOutLabUnavailable, vrrpL3Conf, type Director } from './lab.js';

const why = scaleOutLabUnavailable();
if (why) console.warn(`test/scale-out/three-directors.test.ts SKIPPED: ${why}`);

/** Each director's health, as its VRRP instance tracks it (0: healthy). */
const healthFile = (x: Director) => join(x.dir, 'health');
const conf = (x: Director, i: number) => {
  writeFileSync(healthFile(x), '0\n');
  return vrrpL3Conf({ instance: `ANYCAST_${i}`, vrid: 50 + i, priority: 100, state: 'MASTER', trackFile: healthFile(x) });
};
const MASTER = /bgp_announce: announcing/;

describe.skipIf(why !== null)('three directors, FRR and BIRD, ECMP', { timeout: 120_000 }, () => {
  const lab = new ScaleOutLab('kso3');
  let d: Director[] = [];
  const ips = () => d.map((x) => x.ip);
  const director = (i: number): Director => {
    const found = d[i];
    if (!found) throw new Error(`the lab has no director ${i + 1}`);
    return found;
  };
  const start = (x: Director) => lab.startDaemon(x, 'ours', conf(x, d.indexOf(x) + 1), MASTER);

  beforeAll(async () => {
    await lab.setup(['frr', 'frr', 'bird']);
    d = lab.directors;
    for (const x of d) {
      await lab.startRouting(x);
      lab.startNameServer(x);
    }
    await lab.waitNameServers();
    for (const x of d) await start(x);
  });
  afterAll(() => lab.cleanup());

  it('the upstream has three next hops, equal MEDs, and queries spread over all three', async () => {
    await lab.waitNextHops(ips(), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${lab.describe()}`);
    });
    expect(lab.upstreamMeds()).toEqual({ [director(0).ip]: 155, [director(1).ip]: 155, [director(2).ip]: 155 });
    const client = lab.startClient();
    await client.answered(300);
    const s = await client.stop();
    expect(Object.keys(s.byName).sort()).toEqual(['d1', 'd2', 'd3']);
    expect(s.failed).toBe(0);
  });

  it('health loss on d3 (BIRD) withdraws only its route; health back announces it again', async () => {
    const x = director(2);
    writeFileSync(healthFile(x), '1\n');
    await lab.waitNextHops(
      ips().filter((ip) => ip !== x.ip),
      10_000,
    );
    expect(lab.net.exec(x.ns, 'ip route show proto 249')).toBe('');
    writeFileSync(healthFile(x), '0\n');
    await lab.waitNextHops(ips(), 20_000);
  });

  it.each([
    [1, 'FRR'],
    [2, 'BIRD'],
  ])('kill -9 of keepalived-ts alone on d%i (%s stays): its route goes, the others stay; a restart announces again', async (i) => {
    const x = director(i);
    expect(lab.killOurs(x).length).toBeGreaterThan(0);
    await lab.waitNextHops(
      ips().filter((ip) => ip !== x.ip),
      10_000,
    );
    expect(lab.net.exec(x.ns, 'ip route show proto 249')).toBe('');
    await start(x);
    await lab.waitNextHops(ips(), 30_000);
  });

  it('a graceful stop under queries withdraws before it stops answering: no query lost, nor at the restart', async () => {
    const x = director(0);
    const client = lab.startClient();
    await client.answered(100);
    await x.daemon!.stop();
    expect(lab.nextHops()).toEqual(ips().filter((ip) => ip !== x.ip));
    await client.answered(100);
    await start(x);
    await lab.waitNextHops(ips(), 30_000);
    await client.answered(100);
    const s = await client.stop();
    expect(s.failed).toBe(0);
    expect(s.byName.d1).toBeGreaterThan(0);
  });

  it.each([
    [1, 'FRR'],
    [2, 'BIRD'],
  ])('kill -9 of the whole director d%i (%s too): BFD drops its next hop', async (i) => {
    const x = director(i);
    const left = ips().filter((ip) => ip !== x.ip && lab.nextHops().includes(ip));
    lab.killDirector(x);
    await lab.waitNextHops(left, 10_000);
  });
});
