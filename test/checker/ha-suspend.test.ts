/**
 * ha_suspend and lvs_sync_daemon's instance against real rtnetlink address events: inside a
 * namespace this file creates, the checker watches the host's addresses; a TCP listener
 * counts the checks it receives while the virtual server's address is added and removed
 * with `ip addr`, and the sync daemon's role follows the instance's VIP.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/probe/run-check.js';
import { CheckerEngine } from '../../src/checker/engine.js';
import { type LocalAddresses, watchLocalAddresses } from '../../src/checker/local-addresses.js';
import { memoryOwnedStore } from '../../src/checker/owned.js';
import type { KeepalivedConfig, VrrpInstance } from '../../src/config/model.js';
import { createLogger } from '../../src/log/logger.js';
import { Namespaces, enterNamespace, ipn, netnsUnavailableReason } from '../netlink/netns.js';
import { FakeIpvs } from './fake-ipvs.js';
import { config, realServer, tcpCheck, virtualServer } from './model-kit.js';

const unavailable = netnsUnavailableReason();
if (unavailable) console.warn(`test/checker/ha-suspend.test.ts SKIPPED: ${unavailable}`);

const VIP = '10.98.60.1';

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(unavailable !== null)('checker and the host addresses (namespace)', () => {
  const namespaces = new Namespaces();
  let ns = '';
  let leave: (() => void) | null = null;
  let addresses: LocalAddresses;
  let listener: net.Server;
  let port = 0;
  let hits = 0;
  const engines: CheckerEngine[] = [];

  beforeAll(async () => {
    ns = namespaces.create('ce');
    leave = enterNamespace(ns);
    listener = net.createServer((s) => {
      hits++;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    port = (listener.address() as net.AddressInfo).port;
    addresses = await watchLocalAddresses();
  });

  afterAll(async () => {
    for (const e of engines) await e.stop().catch(() => {});
    addresses?.close();
    listener?.close();
    leave?.();
    namespaces.deleteAll();
  });

  const engine = (ipvs = new FakeIpvs()) => {
    const e = new CheckerEngine({
      ipvs,
      owned: memoryOwnedStore(),
      runCheck,
      addresses,
      log: createLogger({ proc: 'checker', write: () => {} }),
      runScript: () => {},
      rereadIntervalMs: 60_000,
      random: () => 0,
    });
    engines.push(e);
    return e;
  };

  it('ha_suspend: no checks while the virtual server address is absent; they follow `ip addr add` and `ip addr del`', async () => {
    const vs = virtualServer(VIP, 80, {
      haSuspend: true,
      realServers: [realServer('127.0.0.1', port, { checkers: [tcpCheck({ delayLoopMs: 40, warmupMs: 0, connectTimeoutMs: 500 })] })],
    });
    const e = engine();
    await e.start(config([vs]));
    await sleep(250);
    expect(hits).toBe(0);

    ipn(ns, 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
    await until('the book sees the address', () => addresses.has(VIP));
    await until('checks resume', () => hits >= 3);

    ipn(ns, 'addr', 'del', `${VIP}/32`, 'dev', 'lo');
    await until('the book sees it gone', () => !addresses.has(VIP));
    await sleep(60); // a check already started may still land
    const atRemoval = hits;
    await sleep(250);
    expect(hits).toBe(atRemoval);
    // the real server kept the health it had: suspended checks change nothing
    expect([...e.healthSnapshot().values()].map((h) => h.up)).toEqual([true]);
    await e.stop();
  });

  it('a virtual server without ha_suspend is checked whatever the addresses', async () => {
    const before = hits;
    const vs = virtualServer('10.98.60.2', 80, { realServers: [realServer('127.0.0.1', port, { checkers: [tcpCheck({ delayLoopMs: 40, warmupMs: 0 })] })] });
    const e = engine();
    await e.start(config([vs]));
    await until('checks run', () => hits >= before + 3);
    await e.stop();
  });

  it('lvs_sync_daemon with an instance: backup while its VIP is elsewhere, master while it is here', async () => {
    const ipvs = new FakeIpvs();
    const cfg = config([]) as Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups' | 'globalDefs' | 'vrrpInstances'>;
    cfg.globalDefs = { ...cfg.globalDefs, lvsSyncDaemon: { interface: 'lo', instance: 'VI_1', syncId: 51, maxlen: null, port: 8848, ttl: null, group: null } };
    cfg.vrrpInstances = [{ name: 'VI_1', virtualIpaddresses: [{ address: VIP }] } as unknown as VrrpInstance];
    const e = engine(ipvs);
    await e.start(cfg);
    expect([...ipvs.daemons.keys()]).toEqual(['backup']);
    expect(ipvs.daemons.get('backup')).toMatchObject({ interface: 'lo', syncId: 51 });

    ipn(ns, 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
    await until('master daemon', () => ipvs.daemons.has('master') && !ipvs.daemons.has('backup'));
    ipn(ns, 'addr', 'del', `${VIP}/32`, 'dev', 'lo');
    await until('backup daemon again', () => ipvs.daemons.has('backup') && !ipvs.daemons.has('master'));
    await e.stop();
    expect(ipvs.daemons.size).toBe(0);
  });
});
