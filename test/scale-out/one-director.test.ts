/**
 * The smallest routed fabric: FRR upstream, one director running keepalived-ts beside FRR,
 * VRRP over L3 (`follow vrrp`). The upstream's FIB gets the VIP through the director while
 * its instance is MASTER, with the priority in the MED, and loses it when the daemon stops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaleOutLab, scaleOutLabUnavailable, vrrpL3Conf, type Director } from './lab.js';

const why = scaleOutLabUnavailable();
if (why) console.warn(`test/scale-out/one-director.test.ts SKIPPED: ${why}`);

describe.skipIf(why !== null)('one director, FRR, VRRP over L3', () => {
  const lab = new ScaleOutLab('kso1');
  let d1: Director;
  beforeAll(async () => {
    await lab.setup(['frr']);
    d1 = lab.directors[0]!;
    await lab.startRouting(d1);
  });
  afterAll(() => lab.cleanup());

  it('the MASTER announces the VIP with its priority in the MED; a stop withdraws it', { timeout: 90_000 }, async () => {
    const daemon = await lab.startDaemon(d1, 'ours', vrrpL3Conf({ instance: 'VI_1', vrid: 51, priority: 200, state: 'MASTER' }), /entering MASTER state/);
    await lab.waitNextHops([d1.ip], 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${lab.describe()}`);
    });
    expect(lab.upstreamMeds()).toEqual({ [d1.ip]: 55 });
    await daemon.stop();
    await lab.waitNextHops([], 10_000);
    expect(lab.nextHops()).toEqual([]);
  });
});
