// CheckerEngine.planReload against the in-memory kernel: the plan changes nothing, and the
// reload that follows makes exactly the writes the plan listed.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeIpvs } from '../../test/checker/fake-ipvs.js';
import { config, realServer, tcpCheck, virtualServer } from '../../test/checker/model-kit.js';
import type { CheckOutcome, CheckTarget } from '../probe/outcome.js';
import type { HealthCheck, VirtualServer } from '../config/model.js';
import { createLogger } from '../log/logger.js';
import { CheckerEngine } from './engine.js';
import { memoryOwnedStore } from './owned.js';

const fast = () => [tcpCheck({ delayLoopMs: 25, warmupMs: 0, retry: 0, delayBeforeRetryMs: 5 })] as HealthCheck[];
const web = (address = '10.0.0.1', over: Partial<VirtualServer> = {}) =>
  virtualServer(address, 80, {
    delayLoopMs: 25,
    realServers: [realServer('10.1.0.1', 80, { checkers: fast() }), realServer('10.1.0.2', 80, { checkers: fast() })],
    ...over,
  });

const engines: CheckerEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop().catch(() => {});
});

describe('CheckerEngine.planReload', () => {
  it('writes nothing, keeps a failed server out, and lists what the reload then writes, op for op', async () => {
    const ipvs = new FakeIpvs();
    const down = new Set<string>();
    const run = (_c: HealthCheck, t: CheckTarget): Promise<CheckOutcome> => {
      const up = !down.has(`${t.address}:${t.port}`);
      return Promise.resolve({ up, reason: up ? 'connected' : 'ECONNREFUSED connect' });
    };
    const e = new CheckerEngine({
      ipvs,
      owned: memoryOwnedStore(),
      runCheck: run,
      log: createLogger({ proc: 'checker', write: () => {} }),
      runScript: () => {},
      rereadIntervalMs: 60_000,
      random: () => 0,
    });
    engines.push(e);
    await e.start(config([web()]));
    down.add('10.1.0.2:80');
    for (let i = 0; i < 200 && ipvs.dump().length !== 2; i++) await new Promise((r) => setTimeout(r, 10));
    await e.settled();
    expect(ipvs.dump()).toHaveLength(2); // service + 10.1.0.1: 10.1.0.2 is down

    // the same file: nothing, though the new load's objects are all new
    expect((await e.planReload(config([web()]))).writes).toEqual([]);

    // 10.1.0.2 stays down (not re-added), 10.1.0.3 is new, a second service is added
    const next = web('10.0.0.1', { lbAlgo: 'wrr' });
    next.realServers.push(realServer('10.1.0.3', 80, { checkers: fast() }));
    const nextConfig = config([next, web('10.0.0.2')]);
    ipvs.log = [];
    const before = ipvs.dump();
    const plan = await e.planReload(nextConfig);
    expect(ipvs.log).toEqual([]);
    expect(ipvs.dump()).toEqual(before);
    expect(plan.writes).toEqual([
      'IPVS_CMD_SET_SERVICE TCP 10.0.0.1:80 scheduler wrr',
      'IPVS_CMD_NEW_DEST 10.1.0.3:80 of TCP 10.0.0.1:80 weight 1 masquerade',
      'IPVS_CMD_NEW_SERVICE TCP 10.0.0.2:80 scheduler rr',
      'IPVS_CMD_NEW_DEST 10.1.0.1:80 of TCP 10.0.0.2:80 weight 1 masquerade',
      'IPVS_CMD_NEW_DEST 10.1.0.2:80 of TCP 10.0.0.2:80 weight 1 masquerade',
    ]);

    await e.reload(nextConfig);
    const kind = { 'edit-service': 'IPVS_CMD_SET_SERVICE', 'add-destination': 'IPVS_CMD_NEW_DEST', 'add-service': 'IPVS_CMD_NEW_SERVICE' } as Record<
      string,
      string
    >;
    expect(ipvs.log.map((l) => kind[l.split(' ')[0]!] ?? l)).toEqual(plan.writes.map((w) => w.split(' ')[0]));
    expect(ipvs.log).toEqual([
      'edit-service tcp:inet:[10.0.0.1]:80',
      'add-destination tcp:inet:[10.0.0.1]:80 [10.1.0.3]:80 w1',
      'add-service tcp:inet:[10.0.0.2]:80',
      'add-destination tcp:inet:[10.0.0.2]:80 [10.1.0.1]:80 w1',
      'add-destination tcp:inet:[10.0.0.2]:80 [10.1.0.2]:80 w1',
    ]);
  });

  it('lists an edited weight of a kept real server, with or without checkers, as the reload then writes it', async () => {
    const ipvs = new FakeIpvs();
    const e = new CheckerEngine({
      ipvs,
      owned: memoryOwnedStore(),
      runCheck: () => Promise.resolve({ up: true, reason: 'connected' }),
      log: createLogger({ proc: 'checker', write: () => {} }),
      runScript: () => {},
      rereadIntervalMs: 60_000,
      random: () => 0,
    });
    engines.push(e);
    const vs = (weights: [number, number]) =>
      virtualServer('10.0.0.1', 80, {
        delayLoopMs: 25,
        realServers: [realServer('10.1.0.1', 80, { weight: weights[0], checkers: fast() }), realServer('10.1.0.2', 80, { weight: weights[1] })],
      });
    await e.start(config([vs([1, 1])]));
    for (let i = 0; i < 200 && ipvs.dump().length !== 3; i++) await new Promise((r) => setTimeout(r, 10));
    await e.settled();
    expect(ipvs.dump()).toHaveLength(3);

    const plan = await e.planReload(config([vs([3, 2])]));
    expect(plan.destinationsEdited).toEqual(['10.1.0.1:80 of TCP 10.0.0.1:80', '10.1.0.2:80 of TCP 10.0.0.1:80']);
    ipvs.log = [];
    await e.reload(config([vs([3, 2])]));
    expect(ipvs.log).toEqual(['edit-destination tcp:inet:[10.0.0.1]:80 [10.1.0.1]:80 w3', 'edit-destination tcp:inet:[10.0.0.1]:80 [10.1.0.2]:80 w2']);
  });
});
