import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCheck } from '../probe/run-check.js';
import { FakeClock } from '../clock/fake-clock.js';
import { systemClock } from '../clock/index.js';
import { FakeIpvs } from '../../test/checker/fake-ipvs.js';
import { config, group, pos, realServer, tcpCheck, virtualServer } from '../../test/checker/model-kit.js';
import { miscCheck } from '../../test/probe/fixtures.js';
import { groupMembers, processGroupOf } from '../../test/helpers/proc.js';
import type { CheckOutcome, CheckTarget } from '../probe/outcome.js';
import type { CheckerState } from '../probe/checker-state.js';
import type { HealthCheck, RealServer, ScriptSpec, TcpCheck, VirtualServer } from '../config/model.js';
import { createLogger } from '../log/logger.js';
import { type CheckerConfig, CheckerEngine } from './engine.js';
import { AddressBook } from './local-addresses.js';
import { memoryOwnedStore } from './owned.js';

const VS = 'tcp:inet:[10.0.0.1]:80';
const fast = (over: Partial<TcpCheck> = {}) => [tcpCheck({ delayLoopMs: 25, warmupMs: 0, retry: 0, delayBeforeRetryMs: 5, ...over })] as HealthCheck[];
const script = (name: string): ScriptSpec => ({ command: name, argv: [name], user: null, group: null });

function web(over: Partial<VirtualServer> = {}, rsOver: Parameters<typeof realServer>[2] = {}): VirtualServer {
  return virtualServer('10.0.0.1', 80, {
    delayLoopMs: 25,
    realServers: [realServer('10.1.0.1', 80, { checkers: fast(), ...rsOver }), realServer('10.1.0.2', 80, { checkers: fast(), ...rsOver })],
    ...over,
  });
}

/** Real servers whose checks answer from a table the test flips. */
class Servers {
  status = new Map<string, boolean>();
  calls = new Map<string, number>();
  run = (_c: HealthCheck, t: CheckTarget): Promise<CheckOutcome> => {
    const id = `${t.address}:${t.port}`;
    this.calls.set(id, (this.calls.get(id) ?? 0) + 1);
    const up = this.status.get(id) ?? true;
    return Promise.resolve({ up, reason: up ? 'connected' : 'ECONNREFUSED connect' });
  };
}

/** For the tests that wait on real I/O (scripts, sockets); the rest drive a FakeClock. */
async function waitFor(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const engines: CheckerEngine[] = [];
const tempDirs: string[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop().catch(() => {});
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A shell script in a directory of its own, removed after the test. */
function tempScript(body: string, mode = 0o755): string {
  const dir = mkdtempSync(join(tmpdir(), 'kt-ce-script-'));
  tempDirs.push(dir);
  const path = join(dir, 'script.sh');
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

/** An engine that runs the checks for real (MISC_CHECK scripts) on the system clock, its log lines kept. */
function realChecks() {
  const ipvs = new FakeIpvs();
  const lines: string[] = [];
  const e = new CheckerEngine({
    ipvs,
    owned: memoryOwnedStore(),
    runCheck,
    log: createLogger({ proc: 'checker', write: (l) => lines.push(l) }),
    rereadIntervalMs: 60_000,
    random: () => 0,
  });
  engines.push(e);
  return { e, ipvs, lines };
}

/**
 * An engine on a FakeClock (time 0 at start): with warmup 0 and `random` 0 the first check
 * round falls due at 0, then every delay_loop (25 ms in `fast`), so `clock.advance` steps
 * from one round to the next.
 */
function engine(
  ipvs: FakeIpvs,
  servers: Servers,
  extra: Partial<Omit<ConstructorParameters<typeof CheckerEngine>[0], 'owned'>> & { owned?: ReturnType<typeof memoryOwnedStore> } = {},
) {
  const owned = extra.owned ?? memoryOwnedStore();
  const clock = new FakeClock(0);
  const scripts: string[] = [];
  const e = new CheckerEngine({
    ipvs,
    owned,
    runCheck: servers.run,
    log: createLogger({ proc: 'checker', write: () => {} }),
    runScript: (s, why) => scripts.push(`${why}:${s.command}`),
    rereadIntervalMs: 60_000,
    random: () => 0,
    clock,
    ...extra,
  });
  engines.push(e);
  return { e, owned, scripts, clock };
}

describe('CheckerEngine against an in-memory kernel', () => {
  it('programs an empty kernel in one write, and owns what it added', async () => {
    const ipvs = new FakeIpvs();
    const { e, owned } = engine(ipvs, new Servers());
    await e.start(config([web()]));
    expect(ipvs.dump()).toEqual([`${VS} rr`, '  [10.1.0.1]:80 masquerade w1', '  [10.1.0.2]:80 masquerade w1']);
    expect(e.stats.applyWrites).toBe(1);
    expect(owned.ids).toEqual(new Set([VS]));
  });

  it('a restarted checker adopts the live table with zero writes', async () => {
    const ipvs = new FakeIpvs();
    const store = memoryOwnedStore();
    const first = engine(ipvs, new Servers(), { owned: store, dontReleaseIpvs: true });
    await first.e.start(config([web()]));
    await first.e.stop();
    const table = ipvs.dump();
    const opsBefore = ipvs.log.length;

    const servers = new Servers();
    const second = engine(ipvs, servers, { owned: store });
    await second.e.start(config([web()]));
    await second.clock.advance(120); // check rounds at 0, 25, 50, 75, 100, all up
    await second.e.settled();
    expect([...servers.calls.values()]).toEqual([5, 5]);
    expect(second.e.stats.applyWrites).toBe(0);
    expect(ipvs.log.length).toBe(opsBefore);
    expect(ipvs.dump()).toEqual(table);
  });

  it('a restart also adopts a table it does not fully agree with by editing, not re-adding', async () => {
    const ipvs = new FakeIpvs();
    const store = memoryOwnedStore();
    const first = engine(ipvs, new Servers(), { owned: store, dontReleaseIpvs: true });
    await first.e.start(config([web()]));
    await first.e.stop();
    ipvs.log = [];
    const second = engine(ipvs, new Servers(), { owned: store });
    await second.e.start(config([web({ lbAlgo: 'wlc' }, { weight: 5 })]));
    expect(ipvs.log).toEqual([`edit-service ${VS}`, `edit-destination ${VS} [10.1.0.1]:80 w5`, `edit-destination ${VS} [10.1.0.2]:80 w5`]);
    expect(second.e.stats.applyWrites).toBe(1);
  });

  it('an owned list it cannot read or write is logged, and the table is programmed and kept up to date all the same', async () => {
    const ipvs = new FakeIpvs();
    const lines: string[] = [];
    const denied = () => {
      throw Object.assign(new Error("EACCES: permission denied, open '/run/keepalived-ts/ipvs-owned.json.1.tmp'"), { code: 'EACCES' });
    };
    const e = new CheckerEngine({
      ipvs,
      owned: { load: denied, save: denied },
      runCheck: new Servers().run,
      log: createLogger({ proc: 'checker', write: (l) => lines.push(l) }),
      rereadIntervalMs: 60_000,
      random: () => 0,
    });
    engines.push(e);
    await e.start(config([web()]));
    expect(ipvs.dump()).toEqual([`${VS} rr`, '  [10.1.0.1]:80 masquerade w1', '  [10.1.0.2]:80 masquerade w1']);
    expect(lines.filter((l) => l.includes('cannot read the list of IPVS services'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('cannot save the list of IPVS services'))).toHaveLength(1);
    expect(lines.join('\n')).toContain('EACCES');
    await e.reload(config([web({ lbAlgo: 'wlc' })]));
    await e.settled();
    expect(ipvs.dump()[0]).toBe(`${VS} wlc`);
  });

  it('one real server going down costs exactly one write; coming back, one more', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const { e, scripts, clock } = engine(ipvs, servers);
    const cfg = config([web({}, { notifyUp: script('/bin/up'), notifyDown: script('/bin/down') })]);
    await e.start(cfg);
    await clock.advance(0); // the first round: both up
    const base = e.stats.applyWrites;
    ipvs.log = [];

    servers.status.set('10.1.0.2:80', false);
    await clock.advance(24);
    expect(ipvs.log).toEqual([]); // the next round is at 25
    await clock.advance(1);
    await e.settled();
    expect(ipvs.log).toEqual([`delete-destination ${VS} [10.1.0.2]:80 w1`]);
    expect(e.stats.applyWrites - base).toBe(1);
    expect(scripts).toEqual(['notify_down:/bin/down']);

    servers.status.set('10.1.0.2:80', true);
    await clock.advance(25);
    await e.settled();
    expect(ipvs.log).toEqual([`delete-destination ${VS} [10.1.0.2]:80 w1`, `add-destination ${VS} [10.1.0.2]:80 w1`]);
    expect(e.stats.applyWrites - base).toBe(2);
    expect(scripts).toEqual(['notify_down:/bin/down', 'notify_up:/bin/up']);
  });

  it('retry: a server that was up goes down only after retry further failed attempts', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const { e, clock } = engine(ipvs, servers);
    const cfg = config([
      virtualServer('10.0.0.1', 80, { realServers: [realServer('10.1.0.1', 80, { checkers: fast({ retry: 3, delayBeforeRetryMs: 5, delayLoopMs: 1000 }) })] }),
    ]);
    await e.start(cfg);
    const removed = () => ipvs.log.some((l) => l.startsWith('delete-destination'));
    await clock.advance(0);
    expect(servers.calls.get('10.1.0.1:80')).toBe(1);
    servers.status.set('10.1.0.1:80', false);
    await clock.advance(999);
    expect(servers.calls.get('10.1.0.1:80')).toBe(1); // delay_loop: the next attempt is at 1000
    // the failed attempt at 1000, retries at 1005, 1010 and (the last, which takes it down) 1015
    await clock.advance(15);
    expect(servers.calls.get('10.1.0.1:80')).toBe(4);
    expect(removed()).toBe(false);
    await clock.advance(1);
    await e.settled();
    expect(servers.calls.get('10.1.0.1:80')).toBe(5);
    expect(removed()).toBe(true);
    // down: back to delay_loop, no more retries
    await clock.advance(999);
    expect(servers.calls.get('10.1.0.1:80')).toBe(5);
    await clock.advance(1);
    expect(servers.calls.get('10.1.0.1:80')).toBe(6);
  });

  it('a server refused at its very first check goes down at once, retries or not (keepalived: one failure is enough initially)', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const { e, clock } = engine(ipvs, servers);
    const cfg = config([
      virtualServer('10.0.0.1', 80, { realServers: [realServer('10.1.0.1', 80, { checkers: fast({ retry: 3, delayBeforeRetryMs: 5, delayLoopMs: 1000 }) })] }),
    ]);
    servers.status.set('10.1.0.1:80', false);
    await e.start(cfg);
    await clock.advance(0);
    await e.settled();
    expect(ipvs.log.some((l) => l.startsWith('delete-destination'))).toBe(true);
    await clock.advance(999); // no retry at 5, 10, 15: the next attempt is delay_loop's
    expect(servers.calls.get('10.1.0.1:80')).toBe(1);
    await clock.advance(1);
    expect(servers.calls.get('10.1.0.1:80')).toBe(2);
  });

  it('inhibit_on_failure: down is one edit to weight 0', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const { e, clock } = engine(ipvs, servers);
    await e.start(config([web({}, { inhibitOnFailure: true, weight: 4 })]));
    await clock.advance(0);
    ipvs.log = [];
    servers.status.set('10.1.0.1:80', false);
    await clock.advance(25);
    await e.settled();
    expect(ipvs.log).toEqual([`edit-destination ${VS} [10.1.0.1]:80 w0`]);
  });

  it('repairs a destination deleted by hand on the next re-read', async () => {
    const ipvs = new FakeIpvs();
    const { e } = engine(ipvs, new Servers());
    await e.start(config([web()]));
    ipvs.removeDestinationByHand(VS, '[10.1.0.1]:80');
    ipvs.log = [];
    e.requestReread();
    await e.settled();
    expect(ipvs.log).toEqual([`add-destination ${VS} [10.1.0.1]:80 w1`]);
    expect(e.stats.repairs).toBe(1);
  });

  it('re-reads on its own timer', async () => {
    const ipvs = new FakeIpvs();
    const { e, clock } = engine(ipvs, new Servers(), { rereadIntervalMs: 30 });
    await e.start(config([web()]));
    ipvs.removeDestinationByHand(VS, '[10.1.0.2]:80');
    await clock.advance(29); // check rounds at 0 and 25 change nothing: no pass reads the kernel
    expect(ipvs.dump()).toHaveLength(2);
    expect(e.stats.repairs).toBe(0);
    await clock.advance(1);
    await e.settled();
    expect(ipvs.dump()).toHaveLength(3);
    expect(e.stats.repairs).toBe(1);
    ipvs.removeDestinationByHand(VS, '[10.1.0.1]:80');
    await clock.advance(30); // and again at 60
    await e.settled();
    expect(ipvs.dump()).toHaveLength(3);
    expect(e.stats.repairs).toBe(2);
  });

  it('never touches foreign services, and releases only its own on stop', async () => {
    const ipvs = new FakeIpvs();
    const foreign = {
      service: {
        family: 'inet' as const,
        protocol: 'tcp' as const,
        address: '192.0.2.1',
        port: 22,
        scheduler: 'wlc',
        flags: { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false },
        timeout: 0,
        prefix: 32,
        pe: null,
      },
      destinations: [
        {
          family: 'inet' as const,
          address: '192.0.2.10',
          port: 22,
          forwarding: 'route' as const,
          weight: 1,
          upperThreshold: 0,
          lowerThreshold: 0,
          tunnel: null,
        },
      ],
    };
    ipvs.seed(foreign);
    const { e, owned } = engine(ipvs, new Servers());
    await e.start(config([web()]));
    e.requestReread();
    await e.settled();
    expect(ipvs.log.filter((l) => l.includes('192.0.2.1'))).toEqual([]);
    await e.stop();
    expect(ipvs.dump()).toEqual(['tcp:inet:[192.0.2.1]:22 wlc', '  [192.0.2.10]:22 route w1']);
    expect(owned.ids.size).toBe(0);
  });

  it('removes a service an earlier run owned that the config no longer has', async () => {
    const ipvs = new FakeIpvs();
    const old = { ...web(), key: { kind: 'ip' as const, address: '10.0.0.9', port: 80, family: 4 as const } };
    const store = memoryOwnedStore();
    const first = engine(ipvs, new Servers(), { owned: store, dontReleaseIpvs: true });
    await first.e.start(config([old, web()]));
    await first.e.stop();
    ipvs.log = [];
    const second = engine(ipvs, new Servers(), { owned: store });
    await second.e.start(config([web()]));
    expect(ipvs.log).toEqual(['delete-service tcp:inet:[10.0.0.9]:80']);
    expect(store.ids).toEqual(new Set([VS]));
  });

  it('sorry server when all real servers are down, quorum scripts on the transitions', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const { e, scripts, clock } = engine(ipvs, servers);
    await e.start(
      config([
        web({ sorryServer: { address: '10.9.9.9', port: 80, family: 4, lbKind: null }, quorumUp: script('/bin/qup'), quorumDown: script('/bin/qdown') }),
      ]),
    );
    await clock.advance(0);
    servers.status.set('10.1.0.1:80', false);
    servers.status.set('10.1.0.2:80', false);
    await clock.advance(25);
    await e.settled();
    expect(ipvs.dump()).toEqual([`${VS} rr`, '  [10.9.9.9]:80 masquerade w1']);
    expect(scripts).toEqual(['quorum_down:/bin/qdown']);
    servers.status.set('10.1.0.1:80', true);
    await clock.advance(25);
    await e.settled();
    expect(ipvs.dump()).toEqual([`${VS} rr`, '  [10.1.0.1]:80 masquerade w1']);
    expect(scripts).toEqual(['quorum_down:/bin/qdown', 'quorum_up:/bin/qup']);
  });

  it('alpha: starts without the server, adds it after the first success', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { e, clock } = engine(ipvs, servers, {
      runCheck: async (c, t) => {
        await gate;
        return servers.run(c, t);
      },
    });
    await e.start(config([web({}, { alpha: true })]));
    await clock.advance(0); // the first round is in flight
    expect(ipvs.dump()).toEqual([`${VS} rr`]);
    release();
    await clock.settle();
    await e.settled();
    expect(ipvs.dump()).toHaveLength(3);
  });

  it('reload keeps the health of servers that still exist and swaps the rest', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const { e, clock } = engine(ipvs, servers);
    await e.start(config([web()]));
    servers.status.set('10.1.0.2:80', false);
    await clock.advance(0);
    await e.settled();
    expect(ipvs.dump()).toHaveLength(2);
    ipvs.log = [];
    // new config: 10.1.0.1 stays, 10.1.0.2 stays (still down: must not come back), 10.1.0.3 is new
    const next = web({ lbAlgo: 'rr' });
    next.realServers.push(realServer('10.1.0.3', 80, { checkers: fast() }));
    await e.reload(config([next]));
    expect(ipvs.log).toEqual([`add-destination ${VS} [10.1.0.3]:80 w1`]);
    // a config without the service: it is removed, and no longer owned
    await e.reload(config([{ ...web(), key: { kind: 'ip', address: '10.0.0.2', port: 80, family: 4 } }]));
    expect(ipvs.log.slice(1)).toEqual([
      `delete-service ${VS}`,
      'add-service tcp:inet:[10.0.0.2]:80',
      'add-destination tcp:inet:[10.0.0.2]:80 [10.1.0.1]:80 w1',
      'add-destination tcp:inet:[10.0.0.2]:80 [10.1.0.2]:80 w1',
    ]);
  });

  it('a real server listed twice is checked once, as its first listing, and both listings follow its health', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const { e, clock } = engine(ipvs, servers);
    const vs = web();
    const again = realServer('10.1.0.2', 80, { checkers: fast({ retry: 7 }) }); // its checkers are not run
    vs.realServers.push(again);
    await e.start(config([vs]));
    expect(ipvs.dump()).toEqual([`${VS} rr`, '  [10.1.0.1]:80 masquerade w1', '  [10.1.0.2]:80 masquerade w1']);
    expect(e.healthSnapshot().size).toBe(2);
    servers.status.set('10.1.0.2:80', false);
    await clock.advance(0);
    await e.settled();
    expect(ipvs.dump()).toHaveLength(2); // retry 0 (the first listing's): down at the first failure
    expect(e.checkerStates(again)).toEqual(e.checkerStates(vs.realServers[1]!));
    expect(e.checkerStates(again)[0]).toMatchObject({ up: false });
    // a reload carries the state by address, whichever object lists it now
    await e.reload(config([web()]));
    await e.settled();
    expect(ipvs.dump()).toEqual([`${VS} rr`, '  [10.1.0.1]:80 masquerade w1']);
  });

  it('a reload the engine cannot express is refused and changes nothing', async () => {
    const ipvs = new FakeIpvs();
    const { e } = engine(ipvs, new Servers());
    await e.start(config([web()]));
    const before = ipvs.dump();
    await expect(e.reload(config([virtualServer('x', 0, { key: { kind: 'group', group: 'missing' } })]))).rejects.toThrow(/missing/);
    expect(ipvs.dump()).toEqual(before);
  });

  it('virtual_server_group: one change reaches every member service in one write', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const { e, clock } = engine(ipvs, servers);
    const g = group('web', [{ kind: 'range', address: '10.0.0.1', rangeEnd: 3, port: 80, family: 4, pos }]);
    await e.start(config([web({ key: { kind: 'group', group: 'web' } })], [g]));
    expect(ipvs.dump()).toHaveLength(9);
    await clock.advance(0);
    const base = e.stats.applyWrites;
    ipvs.log = [];
    servers.status.set('10.1.0.1:80', false);
    await clock.advance(25);
    await e.settled();
    expect(ipvs.log).toHaveLength(3);
    expect(e.stats.applyWrites - base).toBe(1);
  });

  it('lvs_timeouts and lvs_flush at start; lvs_flush_onstop at stop', async () => {
    const ipvs = new FakeIpvs();
    ipvs.seed({
      service: {
        family: 'inet',
        fwmark: 1,
        scheduler: 'rr',
        flags: { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false },
        timeout: 0,
        prefix: 32,
        pe: null,
      },
      destinations: [],
    });
    const { e } = engine(ipvs, new Servers());
    const cfg: CheckerConfig = config([web()]);
    cfg.globalDefs = { ...cfg.globalDefs, lvsFlush: true, lvsFlushOnStop: 'full', lvsTimeouts: { tcpS: 7200, tcpfinS: null, udpS: 60 } };
    await e.start(cfg);
    expect(ipvs.flushes).toBe(1);
    expect(ipvs.timeouts).toEqual({ tcp: 7200, tcpFin: 120, udp: 60 });
    expect(ipvs.dump()[0]).toBe(`${VS} rr`);
    await e.stop();
    expect(ipvs.flushes).toBe(2);
  });

  it('lvs_flush_on_stop VS deletes only the owned services; -I keeps the table even with lvs_flush_on_stop', async () => {
    const foreign = {
      service: {
        family: 'inet' as const,
        fwmark: 1,
        scheduler: 'rr',
        flags: { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false },
        timeout: 0,
        prefix: 32,
        pe: null,
      },
      destinations: [],
    };
    const vsMode = new FakeIpvs();
    vsMode.seed(foreign);
    const a = engine(vsMode, new Servers()).e;
    const cfg: CheckerConfig = config([web()]);
    cfg.globalDefs = { ...cfg.globalDefs, lvsFlushOnStop: 'vs' };
    await a.start(cfg);
    await a.settled();
    expect(vsMode.dump().filter((l) => !l.startsWith(' ')).length).toBe(2);
    vsMode.log = [];
    await a.stop();
    expect(vsMode.flushes).toBe(0);
    expect(vsMode.log.every((l) => l.startsWith('delete-service'))).toBe(true);
    expect(vsMode.dump()).toEqual(['fwmark:inet:1 rr']);

    const kept = new FakeIpvs();
    const b = engine(kept, new Servers(), { dontReleaseIpvs: true }).e;
    cfg.globalDefs = { ...cfg.globalDefs, lvsFlushOnStop: 'full' };
    await b.start(cfg);
    await b.settled();
    const before = kept.dump();
    await b.stop();
    expect(kept.flushes).toBe(0);
    expect(kept.dump()).toEqual(before);
  });

  it('ha_suspend: no checks while the VIP is elsewhere', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const addresses = new AddressBook();
    const { e, clock } = engine(ipvs, servers, { addresses });
    await e.start(config([web({ haSuspend: true })]));
    await clock.advance(80); // rounds at 0, 25, 50, 75 skipped
    expect(servers.calls.size).toBe(0);
    addresses.add('10.0.0.1', 1);
    await clock.advance(19);
    expect(servers.calls.size).toBe(0);
    await clock.advance(1); // the next round, at 100, runs
    expect([...servers.calls.values()]).toEqual([1, 1]);
  });

  it('onAttemptDone: every attempt with its duration and the checker state after it', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const seen: { rs: RealServer; up: boolean; ms: number; state: CheckerState; retryIt: number }[] = [];
    const { e, clock } = engine(ipvs, servers, {
      // the state is valid during the call only: copied here
      onAttemptDone: (rs, i, _c, o, ms, state) => {
        if (i === 0) seen.push({ rs, up: o.up, ms, state: { ...state }, retryIt: state.retryIt });
      },
    });
    const vs = virtualServer('10.0.0.1', 80, {
      realServers: [realServer('10.1.0.1', 80, { checkers: fast({ retry: 1, delayBeforeRetryMs: 5, delayLoopMs: 1000 }) })],
    });
    await e.start(config([vs]));
    const rs = vs.realServers[0]!;
    await clock.advance(0);
    expect(seen).toHaveLength(1);
    servers.status.set('10.1.0.1:80', false);
    await clock.advance(1000);
    expect(seen).toHaveLength(2);
    await clock.advance(5); // delay_before_retry
    expect(seen).toHaveLength(3);
    expect(seen.slice(0, 3).map((x) => [x.up, x.retryIt])).toEqual([
      [true, 0],
      [false, 1],
      [false, 0],
    ]);
    expect(seen.every((x) => x.ms >= 0 && x.rs === rs)).toBe(true); // the installed config's object
    expect(seen[2]!.state).toEqual(e.checkerStates(rs)[0]); // what the scheduler keeps after it
    expect(e.checkerStates(rs)[0]).toMatchObject({ up: false, hasRun: true });
  });

  it('omega: notify_down and quorum_down run at shutdown', async () => {
    const ipvs = new FakeIpvs();
    const { e, scripts } = engine(ipvs, new Servers());
    await e.start(config([web({ omega: true, quorumDown: script('/bin/qdown') }, { notifyDown: script('/bin/down') })]));
    await e.stop();
    expect(scripts).toEqual(['notify_down (omega):/bin/down', 'notify_down (omega):/bin/down', 'quorum_down (omega):/bin/qdown']);
  });

  it('misc_dynamic weight reaches the kernel', async () => {
    const ipvs = new FakeIpvs();
    const { e, clock } = engine(ipvs, new Servers(), {
      runCheck: (_c, t) =>
        Promise.resolve(t.address === '10.1.0.1' ? { up: true, reason: 'exit 7', weight: 5, weightMode: 'set' } : { up: true, reason: 'ok' }),
    });
    await e.start(config([web()]));
    await clock.advance(0);
    await e.settled();
    expect(ipvs.dump()).toContain('  [10.1.0.1]:80 masquerade w5');
  });

  it('a kernel refusing an update does not block start; the engine retries and converges', async () => {
    const ipvs = new FakeIpvs();
    ipvs.refuseApplies = 1;
    const { e, clock } = engine(ipvs, new Servers());
    await e.start(config([web()]));
    expect(ipvs.dump()).toEqual([]);
    await clock.advance(999);
    expect(ipvs.dump()).toEqual([]);
    await clock.advance(1); // the retry, 1 s after the refusal
    await e.settled();
    expect(ipvs.dump()).toHaveLength(3);
  });

  it('with the real TCP_CHECK against loopback listeners: a closed listener leaves, a reopened one returns', async () => {
    const listen = (port: number) =>
      new Promise<net.Server>((resolve, reject) => {
        const srv = net.createServer((sock) => sock.destroy());
        srv.once('error', reject);
        srv.listen(port, '127.0.0.1', () => resolve(srv));
      });
    const a = await listen(0);
    const b = await listen(0);
    const pa = (a.address() as net.AddressInfo).port;
    const pb = (b.address() as net.AddressInfo).port;
    const ipvs = new FakeIpvs();
    const { e } = engine(ipvs, new Servers(), { runCheck, clock: systemClock }); // real sockets: real time
    const vs = virtualServer('10.0.0.1', 80, {
      realServers: [
        realServer('127.0.0.1', pa, { checkers: fast({ connectTimeoutMs: 500 }) }),
        realServer('127.0.0.1', pb, { checkers: fast({ connectTimeoutMs: 500 }) }),
      ],
    });
    let reopened: net.Server | null = null;
    try {
      await e.start(config([vs]));
      expect(ipvs.dump()).toHaveLength(3);
      await new Promise<void>((r) => a.close(() => r()));
      await waitFor('closed listener removed', () => ipvs.dump().length === 2);
      expect(ipvs.dump()[1]).toBe(`  [127.0.0.1]:${pb} masquerade w1`);
      reopened = await listen(pa);
      await waitFor('reopened listener back', () => ipvs.dump().length === 3);
    } finally {
      b.close();
      reopened?.close();
    }
  });

  it('a check still in flight when a reload lands does not report into the new state', async () => {
    const ipvs = new FakeIpvs();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const { e, clock } = engine(ipvs, new Servers(), {
      runCheck: async () => {
        calls++;
        if (calls === 1) {
          await gate;
          return { up: false, reason: 'stale' };
        }
        return { up: true, reason: 'ok' };
      },
    });
    const one = () => config([virtualServer('10.0.0.1', 80, { realServers: [realServer('10.1.0.1', 80, { checkers: fast({ delayLoopMs: 10_000 }) })] })]);
    await e.start(one());
    await clock.advance(0);
    expect(calls).toBe(1); // in flight
    await e.reload(one());
    release();
    await clock.settle(); // the stale result lands; no new round has run
    await e.settled();
    expect(calls).toBe(1);
    expect(ipvs.dump()).toEqual([`${VS} rr`, '  [10.1.0.1]:80 masquerade w1']);
  });

  it('runs notify scripts itself: argv without a shell; enable_script_security refuses a world-writable one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-ce-notify-'));
    try {
      const marker = join(dir, 'ran');
      const good = join(dir, 'notify.sh');
      writeFileSync(good, `#!/bin/sh\necho "$@" > ${marker}\n`);
      chmodSync(good, 0o755);
      const ipvs = new FakeIpvs();
      const servers = new Servers();
      const e = new CheckerEngine({
        ipvs,
        owned: memoryOwnedStore(),
        runCheck: servers.run,
        log: createLogger({ proc: 'checker', write: () => {} }),
        rereadIntervalMs: 60_000,
        random: () => 0,
      });
      engines.push(e);
      const spec = { command: `${good} down "two words"`, argv: [good, 'down', 'two words'], user: null, group: null };
      await e.start(config([web({}, { notifyDown: spec })]));
      servers.status.set('10.1.0.1:80', false);
      await waitFor('script ran', () => existsSync(marker) && readFileSync(marker, 'utf8').length > 0);
      expect(readFileSync(marker, 'utf8')).toBe('down two words\n');
      await e.stop();

      rmSync(marker);
      chmodSync(good, 0o777);
      const secure = config([web({}, { notifyDown: spec })]);
      secure.globalDefs = { ...secure.globalDefs, enableScriptSecurity: true };
      const servers2 = new Servers();
      const lines: string[] = [];
      const e2 = new CheckerEngine({
        ipvs: new FakeIpvs(),
        owned: memoryOwnedStore(),
        runCheck: servers2.run,
        log: createLogger({ proc: 'checker', write: (l) => lines.push(l) }),
        rereadIntervalMs: 60_000,
        random: () => 0,
      });
      engines.push(e2);
      await e2.start(secure);
      servers2.status.set('10.1.0.1:80', false);
      await waitFor('refusal logged', () => lines.some((l) => l.includes('enable_script_security')));
      await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('enable_script_security disables an insecure MISC_CHECK (its real server is judged without it), not fails it', async () => {
    const insecure = tempScript('exit 1', 0o777);
    const failing = tempScript('exit 1');
    const quick = { delayLoopMs: 25, warmupMs: 0, retry: 0, delayBeforeRetryMs: 5 };
    const cfg = config([
      virtualServer('10.0.0.1', 80, {
        delayLoopMs: 25,
        realServers: [
          realServer('10.1.0.1', 80, { checkers: [miscCheck([insecure], quick)] }),
          realServer('10.1.0.2', 80, { checkers: [miscCheck([failing], quick)] }),
        ],
      }),
    ]);
    cfg.globalDefs = { ...cfg.globalDefs, enableScriptSecurity: true, scriptUser: { user: 'root', group: null } };
    const { e, ipvs, lines } = realChecks();
    await e.start(cfg);
    expect(lines.some((l) => l.includes('Disabling MISC_CHECK of real server 10.1.0.1:80 due to insecure'))).toBe(true);
    // the secure failing script does run: its server leaves the table
    await waitFor('10.1.0.2 down', () => !ipvs.dump().some((l) => l.includes('10.1.0.2')), 5000);
    await e.settled();
    expect(ipvs.dump()).toEqual([`${VS} rr`, '  [10.1.0.1]:80 masquerade w1']);
  });

  it('stop ends a MISC_CHECK still running and what it started', async () => {
    const hang = tempScript('sleep 300 & echo $! > "$0.pid"\nwait');
    const pidFile = `${hang}.pid`;
    const { e } = realChecks();
    await e.start(
      config([
        virtualServer('10.0.0.1', 80, {
          delayLoopMs: 25,
          realServers: [realServer('10.1.0.1', 80, { checkers: [miscCheck([hang], { delayLoopMs: 25, warmupMs: 0, miscTimeoutMs: 300_000 })] })],
        }),
      ]),
    );
    await waitFor('MISC_CHECK started', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 5000);
    const pgid = processGroupOf(Number(readFileSync(pidFile, 'utf8')))!;
    expect(groupMembers(pgid).length).toBe(2);
    await e.stop();
    expect(groupMembers(pgid)).toEqual([]);
  });
});

describe('announceReadiness (bgp_announce follow quorum)', () => {
  it('settles once every real server has a verdict, follows quorum, and an IPVS refusal counts as not installed', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    let changes = 0;
    const { e, clock } = engine(ipvs, servers, {
      onReadinessChange: () => {
        changes++;
      },
    });
    const vs = web({ quorum: 2 });
    await e.start(config([vs]));
    // programmed, quorum assumed up until the checks say otherwise, verdicts not in yet
    expect(e.announceReadiness(vs)).toMatchObject({ installed: true, quorum: true, settled: false });
    await clock.advance(0);
    expect(e.announceReadiness(vs).settled).toBe(true);
    expect(changes).toBeGreaterThan(0);

    servers.status.set('10.1.0.2:80', false);
    await clock.advance(25);
    expect(e.announceReadiness(vs).quorum).toBe(false);
    servers.status.set('10.1.0.2:80', true);
    await clock.advance(25);
    expect(e.announceReadiness(vs).quorum).toBe(true);

    ipvs.refuseApplies = 1;
    servers.status.set('10.1.0.1:80', false);
    await clock.advance(25); // the refusal at 75
    expect(e.announceReadiness(vs).installed).toBe(false);
    await clock.advance(999);
    expect(e.announceReadiness(vs).installed).toBe(false);
    await clock.advance(1); // the retry at 1075
    await e.settled();
    expect(e.announceReadiness(vs).installed).toBe(true);
    await e.stop();
    expect(e.announceReadiness(vs).installed).toBe(false);
  });

  it('a verdict not yet written to the kernel is not `written` (the tables of the directors would differ); a pass with no new verdict leaves it so', async () => {
    const ipvs = new FakeIpvs();
    const servers = new Servers();
    const { e, clock } = engine(ipvs, servers);
    const vs = web();
    await e.start(config([vs]));
    await clock.advance(0);
    expect(e.announceReadiness(vs)).toMatchObject({ installed: true, quorum: true, settled: true, written: true });
    e.requestReread(); // a pass that brings no verdict
    expect(e.announceReadiness(vs).written).toBe(true);
    await e.settled();

    let release!: () => void;
    ipvs.hold = new Promise((r) => {
      release = r;
    });
    servers.status.set('10.1.0.2:80', false);
    await clock.advance(25); // the verdict is in; its weight is on its way to the kernel
    expect(e.announceReadiness(vs)).toMatchObject({ installed: true, settled: true, written: false });
    ipvs.hold = null;
    release();
    await e.settled();
    expect(e.announceReadiness(vs).written).toBe(true);
    await e.stop();
  });
});
