// Real processes: the supervisor forks stand-in children that use the real child link.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Supervisor, type SupervisorOptions } from './supervisor.js';
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
afterEach(async () => { await sup?.stop(); sup = null; });

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
  const log = recording((r) => { if (r.level === 'warn') events.push(`warn ${JSON.stringify(r.fields)}`); });
  sup = new Supervisor({
    children: [{ role: 'vrrp', modulePath: childJs, args: [], env: { CHILD_MODE: mode, CHILD_MARK: mark } }],
    log,
    onChildStart: (role, pid) => events.push(`${role} start ${pid} ${Date.now()}`),
    heartbeatTimeoutMs: 600,
    onChildExit: (role, code, signal) => events.push(`${role} exit ${code} ${signal}`),
    onDaemonStop: (reason, code) => events.push(`daemon stop ${code}: ${reason}`),
    ...extra,
  });
  sup.start();
  return { mark, events };
}

describe('supervisor', () => {
  it('restarts a SIGKILLed child at once when it had run longer than its backoff step', async () => {
    const { mark, events } = make('normal');
    await until(() => ready(mark) === 1);
    const first = sup!.pid('vrrp')!;
    await new Promise((r) => setTimeout(r, 1100));
    const killedAt = Date.now();
    process.kill(first, 'SIGKILL');
    await until(() => ready(mark) === 2);
    expect(sup!.pid('vrrp')).not.toBe(first);
    expect(sup!.restarts('vrrp')).toBe(1);
    // The respawn was decided with no hold-back, and the fork followed at once.
    expect(events.find((e) => e.startsWith('warn'))).toContain('"delayMs":0');
    const respawnedAt = Number(events.filter((e) => e.startsWith('vrrp start'))[1]!.split(' ')[3]);
    expect(respawnedAt - killedAt).toBeLessThan(1000);
  });

  it('kills and respawns a child whose event loop is stuck', async () => {
    const { mark, events } = make('stuck');
    await until(() => events.some((e) => e.includes('SIGKILL')));
    await until(() => marks(mark).filter((l) => l.endsWith('start')).length >= 2);
    expect(marks(mark).some((l) => l.endsWith('stuck'))).toBe(true);
  });

  it('signals only children past their start-up: a dump signal must not kill one still loading', async () => {
    const { mark, events } = make('loading');
    await until(() => marks(mark).some((l) => l.endsWith(' start')));
    sup!.signalChildren('SIGUSR2'); // the stand-in has no USR2 handler: delivered, it would die of it
    await until(() => ready(mark) === 1);
    await new Promise((r) => setTimeout(r, 300)); // its first heartbeat
    expect(events.filter((e) => e.startsWith('vrrp exit'))).toEqual([]);
    sup!.signalChildren('SIGUSR2'); // running now: delivered
    await until(() => events.some((e) => e.startsWith('vrrp exit')));
    expect(events).toContain('vrrp exit null SIGUSR2');
  });

  it('gives a child killed for a slow start twice the allowance next time, until it starts', async () => {
    // the stand-in loads for 1.5 s; allowances 500 -> 1000 -> 2000 ms (how many kills it takes
    // depends on how loaded the machine is: the growth is what is asserted)
    const kills: { silentMs: number; nextAllowanceMs: number }[] = [];
    const log = recording((r) => { if (r.level === 'error' && r.fields && 'nextAllowanceMs' in r.fields) kills.push(r.fields as never); });
    const { mark } = make('loading', { startupTimeoutMs: 500, log });
    await until(() => ready(mark) === 1, 30_000);
    expect(kills.length).toBeGreaterThanOrEqual(1);
    let allowance = 500;
    for (const k of kills) {
      expect(k.silentMs).toBeGreaterThan(allowance);
      expect(k.nextAllowanceMs).toBe(allowance * 2);
      allowance *= 2;
    }
    expect(marks(mark).filter((l) => l.endsWith(' start')).length).toBe(kills.length + 1);
    await new Promise((r) => setTimeout(r, 1000)); // running now: heartbeats keep it alive
    expect(marks(mark).filter((l) => l.endsWith(' start')).length).toBe(kills.length + 1);
  });

  it('stops the daemon when a child exits with a config error code', async () => {
    const { events } = make('fatal');
    await until(() => events.some((e) => e.startsWith('daemon stop')));
    expect(events).toContain('vrrp exit 4 null');
    expect(events.find((e) => e.startsWith('daemon stop'))).toMatch(/^daemon stop 4: vrrp child exited with code 4/);
    await new Promise((r) => setTimeout(r, 1200));
    expect(events.filter((e) => e.startsWith('vrrp exit')).length).toBe(1);
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
    await until(() => { try { process.kill(childPid, 0); return false; } catch { return true; } });
  });
});
