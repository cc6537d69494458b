// Real processes: the supervisor forks stand-in children that use the real child link. The
// tests about deadlines (start-up allowance, respawn delay) run the supervisor on a FakeClock:
// the children are real, the supervisor's time moves only when the test says.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeClock } from '../clock/fake-clock.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';
import { EarlyChild, type ChildSpec } from './fork-child.js';
import { createLogger, type LogRecord } from '../log/logger.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const childJs = join(here, 'testdata/child.mjs');
const recording = (keep: (r: LogRecord) => void) => createLogger({ proc: 'parent', collect: keep });
let dir = '';
let sup: Supervisor | null = null;

beforeAll(() => {
  if (!existsSync(join(here, '../../dist/src/watchdog/child-link.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
});
afterEach(async () => {
  await sup?.stop();
  sup = null;
});

const marks = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : []);
const ready = (f: string) => marks(f).filter((l) => l.endsWith(' ready')).length;
// Generous bounds: these are behaviour checks on a loaded 2-core machine, not timings.
const until = async (cond: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

function make(mode: string, extra: Partial<SupervisorOptions> = {}) {
  dir = mkdtempSync(join(tmpdir(), 'kts-sup-'));
  const mark = join(dir, 'marks');
  const events: string[] = [];
  const heard = { beats: 0 };
  const log = recording((r) => {
    if (r.level === 'warn') events.push(`warn ${JSON.stringify(r.fields)}`);
  });
  sup = new Supervisor({
    children: [{ role: 'vrrp', modulePath: childJs, args: [], env: { CHILD_MODE: mode, CHILD_MARK: mark } }],
    log,
    onChildStart: (role, pid) => events.push(`${role} start ${pid} ${Date.now()}`),
    heartbeatTimeoutMs: 600,
    onChildExit: (role, code, signal) => {
      events.push(`${role} exit ${code} ${signal}`);
    },
    onDaemonStop: (reason, code) => events.push(`daemon stop ${code}: ${reason}`),
    onChildMessage: (_role, m) => {
      if (m.t === 'heartbeat') heard.beats++;
    },
    ...extra,
  });
  sup.start();
  const started = () => events.filter((e) => e.startsWith('vrrp start')).length;
  const exited = () => events.filter((e) => e.startsWith('vrrp exit')).length;
  /** Resolves at the next heartbeat the supervisor hears (real I/O). */
  const nextBeat = () => {
    const n = heard.beats;
    return until(() => heard.beats > n);
  };
  return { mark, events, started, exited, nextBeat };
}

describe('supervisor', () => {
  it('restarts a SIGKILLed child at once when it had run longer than its backoff step', async () => {
    const clock = new FakeClock(0);
    // heartbeats are not what this is about: a timeout the test never reaches
    const { mark, events, started, exited } = make('normal', { clock, heartbeatTimeoutMs: 60_000 });
    await until(() => ready(mark) === 1);
    const first = sup!.pid('vrrp')!;
    await clock.advance(1100); // longer than the first backoff step (1 s)
    process.kill(first, 'SIGKILL');
    await until(() => exited() === 1);
    // The respawn was decided with no hold-back: its timer falls due now, and forks.
    expect(events.find((e) => e.startsWith('warn'))).toContain('"delayMs":0');
    expect(clock.pending()[0]).toBe(1100);
    expect(started()).toBe(1);
    await clock.advance(0);
    expect(started()).toBe(2);
    await until(() => ready(mark) === 2);
    expect(sup!.pid('vrrp')).not.toBe(first);
    expect(sup!.restarts('vrrp')).toBe(1);
  });

  it('kills and respawns a child whose event loop is stuck', async () => {
    const { mark, events } = make('stuck');
    await until(() => events.some((e) => e.includes('SIGKILL')));
    await until(() => marks(mark).filter((l) => l.endsWith('start')).length >= 2);
    expect(marks(mark).some((l) => l.endsWith('stuck'))).toBe(true);
  });

  it("does not charge a child for the parent's own stall: a healthy child survives the parent blocking its loop", async () => {
    const { mark, events } = make('normal');
    await until(() => ready(mark) === 1);
    await new Promise((r) => setTimeout(r, 300));
    const pid = sup!.pid('vrrp');
    // the parent's loop held for more than three heartbeat timeouts (600 ms): the child's
    // heartbeats wait unread meanwhile
    for (const end = Date.now() + 2_000; Date.now() < end;);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(events.filter((e) => e.startsWith('vrrp exit'))).toEqual([]);
    expect(sup!.pid('vrrp')).toBe(pid);
  });

  it('signals only children past their start-up: a dump signal must not kill one still loading', async () => {
    const { mark, events, nextBeat } = make('loading');
    await until(() => marks(mark).some((l) => l.endsWith(' start')));
    sup!.signalChildren('SIGUSR2'); // the stand-in has no USR2 handler: delivered, it would die of it
    await nextBeat(); // its first heartbeat
    expect(events.filter((e) => e.startsWith('vrrp exit'))).toEqual([]);
    sup!.signalChildren('SIGUSR2'); // running now: delivered
    await until(() => events.some((e) => e.startsWith('vrrp exit')));
    expect(events).toContain('vrrp exit null SIGUSR2');
  });

  it('gives a child killed for a slow start twice the allowance next time, until it starts', async () => {
    // The stand-in stays loading (no heartbeat) until the test creates its go file; the
    // supervisor's watch ticks every 120 ms of the FakeClock (heartbeatTimeoutMs 600 / 5).
    const clock = new FakeClock(0);
    const kills: { silentMs: number; nextAllowanceMs: number }[] = [];
    const log = recording((r) => {
      if (r.level === 'error' && r.fields && 'nextAllowanceMs' in r.fields) {
        const f = r.fields as { silentMs: number; nextAllowanceMs: number };
        kills.push({ silentMs: f.silentMs, nextAllowanceMs: f.nextAllowanceMs });
      }
    });
    const { mark, started, exited, nextBeat } = make('gated', { startupTimeoutMs: 500, log, clock });
    await clock.advance(599); // forked at 0; silent 480 ms at the last tick: inside the 500 ms allowance
    expect(kills).toEqual([]);
    await clock.advance(1); // the tick at 600
    expect(kills).toEqual([{ silentMs: 600, nextAllowanceMs: 1000 }]);
    await until(() => exited() === 1);
    // it ran 600 ms: the respawn waits out the rest of the first backoff step, until 1000
    await clock.advance(399);
    expect(started()).toBe(1);
    await clock.advance(1);
    expect(started()).toBe(2);
    await clock.advance(1039); // silent 960 ms at the tick at 1960: inside 1000 ms now
    expect(kills).toHaveLength(1);
    await clock.advance(1); // the tick at 2040
    expect(kills).toEqual([
      { silentMs: 600, nextAllowanceMs: 1000 },
      { silentMs: 1040, nextAllowanceMs: 2000 },
    ]);
    await until(() => exited() === 2);
    await clock.advance(960); // ran 1040 ms of the doubled 2 s step: respawned at 3000
    expect(started()).toBe(3);
    writeFileSync(`${mark}.go`, ''); // this one finishes loading
    await nextBeat();
    // running now: heartbeats keep it alive well past the 2 s start-up allowance
    for (let i = 0; i < 6; i++) {
      await clock.advance(500);
      await nextBeat();
    }
    expect(kills).toHaveLength(2);
    expect(started()).toBe(3);
    expect(ready(mark)).toBe(1);
  });

  it('stops the daemon when a child exits with a config error code', async () => {
    const clock = new FakeClock(0);
    const { events, started } = make('fatal', { clock });
    await until(() => events.some((e) => e.startsWith('daemon stop')));
    expect(events).toContain('vrrp exit 4 null');
    expect(events.find((e) => e.startsWith('daemon stop'))).toMatch(/^daemon stop 4: vrrp child exited with code 4/);
    expect(clock.pending()).toEqual([120]); // the heartbeat watch only: no respawn armed
    await clock.advance(10_000);
    expect(started()).toBe(1);
  });

  it('stop() sends TERM and waits for the child to exit', async () => {
    const { mark } = make('normal');
    await until(() => ready(mark) === 1);
    await sup!.stop();
    expect(marks(mark)[2]).toMatch(/shutdown SIGTERM$/);
    expect(sup!.pid('vrrp')).toBeNull();
  });

  it('children shut down by themselves when the parent is SIGKILLed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-sup-'));
    const mark = join(dir, 'marks');
    // A real parent process running the supervisor, killed hard.
    const parentSrc = `
      import { Supervisor } from ${JSON.stringify(join(here, '../../dist/src/watchdog/supervisor.js'))};
      const s = new Supervisor({ children: [{ role: 'vrrp', modulePath: ${JSON.stringify(childJs)}, args: [],
        env: { CHILD_MODE: 'normal', CHILD_MARK: ${JSON.stringify(mark)} } }],
        log: { info() {}, warn() {}, error() {} } });
      s.start();`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', parentSrc], { stdio: 'ignore' });
    await until(() => ready(mark) === 1);
    parent.kill('SIGKILL');
    await until(() => marks(mark).length === 3);
    expect(marks(mark)[2]).toMatch(/shutdown parent-gone$/);
    const childPid = Number(marks(mark)[0]!.split(' ')[0]);
    await until(() => {
      try {
        process.kill(childPid, 0);
        return false;
      } catch {
        return true;
      }
    });
  });

  describe('children forked early', () => {
    const setUp = () => {
      dir = mkdtempSync(join(tmpdir(), 'kts-sup-'));
      const mark = join(dir, 'marks');
      const spec: ChildSpec = { role: 'vrrp', modulePath: childJs, args: ['--config-from-parent'], env: { CHILD_MARK: mark } };
      const events: string[] = [];
      const options: SupervisorOptions = {
        children: [spec],
        log: recording(() => undefined),
        onChildStart: (role, pid) => events.push(`${role} start ${pid}`),
        onChildMessage: (role, m) => {
          events.push(`${role} ${m.t}`);
          if (m.t === 'config-wanted') sup!.send(role, { t: 'config', generation: 1, snapshot: { path: '/nowhere', configId: null, files: [], globs: [] } });
        },
      };
      return { mark, spec, events, options };
    };

    it('adopts one that runs what its spec asks: the same process, and its config request answered after its start line', async () => {
      const { mark, spec, events, options } = setUp();
      const early = new EarlyChild(spec);
      // it has started and asked for its config before there is a supervisor to hear it
      await until(() => marks(mark).some((l) => l.endsWith(' start')));
      await new Promise((r) => setTimeout(r, 300));
      sup = new Supervisor(options);
      sup.start(new Map([['vrrp', early]]));
      await until(() => ready(mark) === 1);
      expect(sup.pid('vrrp')).toBe(early.proc.pid);
      expect(events.slice(0, 2)).toEqual([`vrrp start ${early.proc.pid}`, 'vrrp config-wanted']);
      expect(marks(mark).filter((l) => l.endsWith(' start'))).toHaveLength(1);
      early.discard(); // adopted: nothing to do
      await new Promise((r) => setTimeout(r, 200));
      expect(sup.running()).toEqual(['vrrp']);
    });

    it('forks its own child when the early one runs another command line, and the early one is killed unheard', async () => {
      const { mark, spec, events, options } = setUp();
      const early = new EarlyChild({ ...spec, args: [...spec.args, '--log-detail'] });
      await until(() => marks(mark).some((l) => l.endsWith(' start')));
      sup = new Supervisor(options);
      sup.start(new Map([['vrrp', early]]));
      early.discard();
      await until(() => ready(mark) === 1);
      expect(sup.pid('vrrp')).not.toBe(early.proc.pid);
      await until(() => early.proc.signalCode !== null);
      expect(early.proc.signalCode).toBe('SIGKILL');
      expect(events.filter((e) => e.startsWith('vrrp start'))).toEqual([`vrrp start ${sup.pid('vrrp')}`]);
      expect(marks(mark).filter((l) => l.startsWith(`${early.proc.pid} `))).toEqual([`${early.proc.pid} start`]);
    });
  });
});
