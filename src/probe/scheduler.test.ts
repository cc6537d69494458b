import { describe, expect, it } from 'vitest';
import { FakeClock } from '../clock/fake-clock.js';
import { miscCheck, tcpCheck } from '../../test/probe/fixtures.js';
import { realServer } from '../../test/probe/fixtures-rs.js';
import type { HealthCheck } from '../config/model.js';
import type { CheckOutcome, CheckTarget } from './outcome.js';
import { CheckScheduler, startOffset, type CheckerEvent, type RealServerEvent } from './scheduler.js';

/** A deterministic RNG (mulberry32) so warmup offsets are reproducible. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A runner whose answer per real server can be flipped by the test; records every call. */
function scripted(clock: FakeClock) {
  const upByPort = new Map<number, CheckOutcome>();
  const calls: { port: number; at: number; type: HealthCheck['type'] }[] = [];
  const run = async (checker: HealthCheck, target: CheckTarget): Promise<CheckOutcome> => {
    calls.push({ port: target.port, at: clock.now(), type: checker.type });
    return upByPort.get(target.port) ?? { up: true, reason: 'ok' };
  };
  return { run, calls, set: (port: number, o: CheckOutcome) => upByPort.set(port, o) };
}

describe('start offsets', () => {
  it('put checker i of N inside the i-th slice of the warmup window', () => {
    const rng = seeded(1);
    const offsets = Array.from({ length: 50 }, (_, i) => startOffset(i, 50, 5000, rng));
    offsets.forEach((o, i) => {
      expect(o).toBeGreaterThanOrEqual(i * 100);
      expect(o).toBeLessThan((i + 1) * 100);
    });
    expect(startOffset(3, 10, 0, rng)).toBe(0); // warmup 0 disables the delay
  });
});

describe('CheckScheduler on virtual time', () => {
  it('spreads 100 first checks over the warmup window: at most one per 10 ms slice', async () => {
    const clock = new FakeClock(0);
    const s = scripted(clock);
    const sched = new CheckScheduler({}, { clock, rng: seeded(7), run: s.run });
    for (let p = 1; p <= 100; p++) sched.add(realServer([tcpCheck({ warmupMs: 1000, delayLoopMs: 1000 })], { port: p }));
    sched.start();
    await clock.advance(999);
    expect(s.calls).toHaveLength(100);
    const slices = new Set(s.calls.map((c) => Math.floor(c.at / 10)));
    expect(slices.size).toBe(100);
    sched.stop();
  });

  it('counts retries: 1 + retry failures spaced by delay_before_retry take the server down; one success brings it back', async () => {
    const clock = new FakeClock(0);
    const s = scripted(clock);
    const checkerEvents: CheckerEvent[] = [];
    const rsEvents: RealServerEvent[] = [];
    const sched = new CheckScheduler(
      {
        onCheckerChange: (e) => checkerEvents.push(e),
        onRealServerChange: (e) => rsEvents.push(e),
      },
      { clock, run: s.run },
    );
    sched.add(realServer([tcpCheck({ retry: 2, delayBeforeRetryMs: 30, delayLoopMs: 1000, warmupMs: 0 })], { port: 80, weight: 5 }));
    sched.start();
    await clock.advance(1500); // attempts at 0 and 1000, both up
    expect(s.calls.map((c) => c.at)).toEqual([0, 1000]);
    s.set(80, { up: false, reason: 'ECONNREFUSED connect' });
    await clock.advance(1000); // attempt at 2000 fails; retries at 2030, 2060 -> down
    expect(s.calls.map((c) => c.at)).toEqual([0, 1000, 2000, 2030, 2060]);
    expect(checkerEvents).toMatchObject([{ realServer: '127.0.0.1:80', transition: 'down', reason: 'ECONNREFUSED connect' }]);
    expect(rsEvents).toMatchObject([{ health: { up: false, weight: 5 }, previous: { up: true, weight: 5 } }]);
    expect(clock.pending()).toEqual([3060]); // while down: back to delay_loop, no retries
    s.set(80, { up: true, reason: 'ok' });
    await clock.advance(600);
    expect(s.calls.at(-1)!.at).toBe(3060);
    expect(sched.health('127.0.0.1:80')).toEqual({ up: true, weight: 5 });
    expect(checkerEvents.map((e) => e.transition)).toEqual(['down', 'up']);
    sched.stop();
  });

  it('a real server is up only while all its checkers are; none means always up', async () => {
    const clock = new FakeClock(0);
    const sched = new CheckScheduler(
      {},
      {
        clock,
        run: async (c) => ({ up: c.type === 'TCP_CHECK', reason: c.type }),
      },
    );
    sched.add(realServer([tcpCheck({ retry: 0, warmupMs: 0 }), miscCheck(['/bin/false'], { retry: 0, warmupMs: 0 })], { port: 1 }));
    sched.add(realServer([], { port: 2 }));
    sched.start();
    await clock.advance(10);
    expect(sched.health('127.0.0.1:1')!.up).toBe(false);
    expect(sched.health('127.0.0.1:2')).toEqual({ up: true, weight: 1 });
    expect(sched.checkerStates('127.0.0.1:1').map((s) => s.up)).toEqual([true, false]);
    sched.stop();
  });

  it('alpha real servers start down and come up on the first success', async () => {
    const clock = new FakeClock(0);
    const sched = new CheckScheduler({}, { clock, run: async () => ({ up: true, reason: 'ok' }) });
    sched.add(realServer([tcpCheck({ warmupMs: 500 })], { alpha: true }));
    expect(sched.health('127.0.0.1:80')!.up).toBe(false);
    sched.start();
    await clock.advance(500);
    expect(sched.health('127.0.0.1:80')!.up).toBe(true);
    sched.stop();
  });

  it('applies misc_dynamic weights as they change', async () => {
    const clock = new FakeClock(0);
    let code = 12;
    const events: RealServerEvent[] = [];
    const sched = new CheckScheduler(
      { onRealServerChange: (e) => events.push(e) },
      {
        clock,
        run: async () => ({ up: true, reason: `exit ${code}`, weight: code - 2, weightMode: 'set' }),
      },
    );
    sched.add(realServer([miscCheck(['x'], { miscDynamic: true, delayLoopMs: 100, warmupMs: 0 })], { weight: 1 }));
    sched.start();
    await clock.advance(50);
    code = 22;
    await clock.advance(100);
    expect(events.map((e) => e.health.weight)).toEqual([10, 20]);
    sched.stop();
  });

  it("honours each checker's own delay_loop", async () => {
    const clock = new FakeClock(0);
    const s = scripted(clock);
    const sched = new CheckScheduler({}, { clock, run: s.run });
    sched.add(realServer([tcpCheck({ delayLoopMs: 100, warmupMs: 0 }), miscCheck(['x'], { delayLoopMs: 300, warmupMs: 0 })]));
    sched.start();
    await clock.advance(1199);
    expect(s.calls.filter((c) => c.type === 'TCP_CHECK')).toHaveLength(12);
    expect(s.calls.filter((c) => c.type === 'MISC_CHECK')).toHaveLength(4);
    sched.stop();
  });

  it('stop() cancels timers and aborts in-flight checks without further events', async () => {
    const clock = new FakeClock(0);
    let aborted = false;
    const attempts: number[] = [];
    const sched = new CheckScheduler(
      { onAttempt: (e) => attempts.push(e.at) },
      {
        clock,
        run: (_c, _t, ctx) =>
          new Promise((resolve) => {
            ctx.signal!.addEventListener('abort', () => {
              aborted = true;
              resolve({ up: false, reason: 'aborted' });
            });
          }),
      },
    );
    sched.add(realServer([tcpCheck({ warmupMs: 0 })]));
    sched.start();
    await clock.advance(10);
    sched.stop();
    await clock.advance(10_000);
    expect(aborted).toBe(true);
    expect(attempts).toEqual([]);
    expect(clock.pending()).toEqual([]);
  });

  it("remove() stops one real server's checks, including an attempt in flight", async () => {
    const clock = new FakeClock(0);
    const attempts: string[] = [];
    let release: (() => void) | null = null;
    const sched = new CheckScheduler(
      { onAttempt: (e) => attempts.push(e.realServer) },
      {
        clock,
        run: (_c, t) =>
          t.port === 2 && !release
            ? new Promise((resolve) => {
                release = () => resolve({ up: true, reason: 'late' });
              })
            : Promise.resolve({ up: true, reason: 'ok' }),
      },
    );
    sched.add(realServer([tcpCheck({ warmupMs: 0, delayLoopMs: 100 })], { port: 1 }));
    sched.add(realServer([tcpCheck({ warmupMs: 0, delayLoopMs: 100 })], { port: 2 }));
    sched.start();
    await clock.advance(10);
    expect(sched.remove('127.0.0.1:2')).toBe(true);
    release!();
    await clock.advance(300);
    expect(attempts.filter((k) => k.endsWith(':2'))).toEqual([]);
    expect(attempts.filter((k) => k.endsWith(':1'))).toHaveLength(4);
    expect(sched.health('127.0.0.1:2')).toBeUndefined();
    expect(sched.remove('127.0.0.1:2')).toBe(false);
    sched.stop();
  });

  it('a real server added after a removal reuses its ids without inheriting its state or its late answer', async () => {
    const clock = new FakeClock(0);
    const events: RealServerEvent[] = [];
    let release: (() => void) | null = null;
    const sched = new CheckScheduler(
      { onRealServerChange: (e) => events.push(e) },
      {
        clock,
        rng: () => 0.99, // port 3's first attempt at the end of its 1 s warmup, not at a random point
        run: (_c, t) => {
          if (t.port === 2 && !release)
            return new Promise((resolve) => {
              release = () => resolve({ up: false, reason: 'late failure of the removed server' });
            });
          return Promise.resolve(t.port === 2 ? { up: false, reason: 'refused' } : { up: true, reason: 'ok' });
        },
      },
    );
    sched.add(realServer([tcpCheck({ warmupMs: 0, delayLoopMs: 100, retry: 0 })], { port: 2 }));
    sched.start();
    await clock.advance(10); // port 2's first attempt is in flight
    sched.remove('127.0.0.1:2');
    sched.add(realServer([tcpCheck({ warmupMs: 1000, delayLoopMs: 100, alpha: false })], { port: 3, weight: 7 }));
    release!(); // the removed server's answer arrives after its ids went to port 3
    await clock.advance(500); // before port 3's first attempt (warmup 1 s)
    expect(events).toEqual([]);
    expect(sched.health('127.0.0.1:3')).toEqual({ up: true, weight: 7 });
    expect(sched.checkerStates('127.0.0.1:3')).toMatchObject([{ up: true, hasRun: false, retryIt: 0 }]);
    await clock.advance(1000);
    expect(sched.checkerStates('127.0.0.1:3')).toMatchObject([{ up: true, hasRun: true, lastReason: 'ok' }]);
    sched.stop();
  });
});
