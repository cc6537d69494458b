/**
 * TCP_CHECK deadlines on the scheduler's batched path, inside a namespace this file creates:
 * a veth pair with an address on one end only, so a connect to another address of that
 * subnet waits for an ARP answer that never comes (nothing leaves the namespace). The
 * checker must go down at connect_timeout (spaced by delay_before_retry while it retries),
 * leave no probe in flight, and a listener on loopback in the same namespace stays up.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckScheduler, type CheckerEvent } from '../../src/probe/scheduler.js';
import { TcpProbes } from '../../src/probe/tcp-probe.js';
import { Namespaces, enterNamespace, ipn, netnsUnavailableReason } from '../netlink/netns.js';
import { tcpCheck } from './fixtures.js';
import { realServer } from './fixtures-rs.js';

const unavailable = netnsUnavailableReason() ?? (TcpProbes.shared() ? null : 'the native probe addon is not built');
if (unavailable) console.warn(`test/probe/tcp-probe-netns.test.ts SKIPPED: ${unavailable}`);
const SILENT = '10.98.70.99';
const SILENT_PORT = 80;

describe.skipIf(unavailable !== null)('TCP_CHECK deadlines on the native probe (namespace)', () => {
  const namespaces = new Namespaces();
  let leave: (() => void) | null = null;
  let srv: net.Server;
  let port = 0;

  beforeAll(async () => {
    const ns = namespaces.create('cep');
    ipn(ns, 'link', 'add', 'kt-ce-pa', 'type', 'veth', 'peer', 'name', 'kt-ce-pb');
    ipn(ns, 'addr', 'add', '10.98.70.1/24', 'dev', 'kt-ce-pa');
    ipn(ns, 'link', 'set', 'kt-ce-pa', 'up');
    ipn(ns, 'link', 'set', 'kt-ce-pb', 'up');
    leave = enterNamespace(ns);
    srv = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    port = (srv.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    srv?.close();
    leave?.();
    namespaces.deleteAll();
  });

  it('a silent server goes down at its first connect_timeout (one failure is enough initially), is tried again after delay_loop; a listening one stays up; nothing stays in flight', async () => {
    const events: (CheckerEvent & { at: number })[] = [];
    const attempts: { address: string; reason: string; at: number }[] = [];
    const t0 = performance.now();
    const sched = new CheckScheduler({
      onCheckerChange: (e) => events.push({ ...e, at: performance.now() - t0 }),
      onAttempt: (e) => attempts.push({ address: e.realServer.split(':')[0]!, reason: e.outcome.reason, at: performance.now() - t0 }),
    });
    const check = { connectTimeoutMs: 200, retry: 1, delayBeforeRetryMs: 50, delayLoopMs: 400, warmupMs: 0 };
    sched.add(realServer([tcpCheck(check)], { address: SILENT, port: SILENT_PORT }));
    sched.add(realServer([tcpCheck(check)], { port }));
    sched.start();
    try {
      await new Promise((r) => setTimeout(r, 900));
    } finally {
      sched.stop();
    }
    const silent = attempts.filter((a) => a.address === SILENT);
    expect(silent.slice(0, 2).map((a) => a.reason)).toEqual(['connect timeout after 200 ms', 'connect timeout after 200 ms']);
    // first attempt at 0 ends at 200 and decides (no retry at start); being down, the next
    // starts delay_loop (400 ms) later, not delay_before_retry (50), and ends at 800
    expect(silent[0]!.at).toBeGreaterThanOrEqual(195);
    expect(silent[1]!.at - silent[0]!.at).toBeGreaterThanOrEqual(595);
    expect(events).toMatchObject([{ realServer: `${SILENT}:${SILENT_PORT}`, transition: 'down', reason: 'connect timeout after 200 ms' }]);
    expect(events[0]!.at).toBeGreaterThanOrEqual(195);
    expect(events[0]!.at).toBeLessThan(400);
    const live = attempts.filter((a) => a.address === '127.0.0.1');
    expect(live.length).toBeGreaterThan(0);
    expect(live.every((a) => a.reason === 'connected')).toBe(true);
    expect(sched.health(`127.0.0.1:${port}`)!.up).toBe(true);
    expect(TcpProbes.shared()!.inFlight()).toBe(0);
  });
});
