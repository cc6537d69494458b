// The scheduler on the real clock against real servers: retries are counted by the server
// itself (requests it saw), and recovery is observed end to end.
import http from 'node:http';
import net from 'node:net';
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckScheduler, type CheckerEvent } from '../../src/probe/scheduler.js';
import { fileCheck, httpCheck, miscCheck, pos, tcpCheck, url } from './fixtures.js';
import { realServer } from './fixtures-rs.js';

let srv: http.Server;
let port = 0;
let status = 200;
const hits: number[] = [];
let dir: string;

beforeAll(async () => {
  srv = http.createServer((_req, res) => {
    hits.push(performance.now());
    res.statusCode = status;
    res.end('x');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  port = (srv.address() as net.AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), 'kt-chk-sched-'));
});
afterAll(async () => {
  srv.closeAllConnections();
  await new Promise((r) => srv.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const until = async (cond: () => boolean, ms = 3000) => {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('scheduler against real servers', () => {
  it('HTTP_GET: 1 + retry failing requests spaced by delay_before_retry, then down; recovers on one 200', async () => {
    const events: (CheckerEvent & { at: number; hits: number })[] = [];
    const sched = new CheckScheduler({ onCheckerChange: (e) => events.push({ ...e, at: performance.now(), hits: hits.length }) });
    sched.add(realServer([httpCheck({ retry: 2, delayBeforeRetryMs: 60, delayLoopMs: 150, warmupMs: 0, urls: [url({ path: '/' })] })], { port }));
    sched.start();
    try {
      await until(() => hits.length >= 2);
      status = 500;
      const firstBad = hits.length; // the next request is the first failing one
      await until(() => events.length === 1);
      expect(events[0]).toMatchObject({ transition: 'down', reason: '/: status 500' });
      const failing = hits.slice(firstBad, events[0]!.hits);
      expect(failing).toHaveLength(3);
      expect(failing[1]! - failing[0]!).toBeGreaterThanOrEqual(55);
      expect(failing[2]! - failing[1]!).toBeGreaterThanOrEqual(55);
      status = 200;
      await until(() => events.length === 2);
      expect(events[1]).toMatchObject({ transition: 'up' });
      expect(events[1]!.hits - events[0]!.hits).toBeLessThanOrEqual(2); // one good answer suffices
    } finally {
      sched.stop();
      status = 200;
    }
  });

  it('TCP_CHECK and MISC_CHECK on one real server: down while either fails', async () => {
    const flag = join(dir, 'healthy');
    const script = join(dir, 'check.sh');
    writeFileSync(script, `#!/bin/sh\ntest -e ${flag}\n`);
    chmodSync(script, 0o755);
    writeFileSync(flag, '');
    const states: boolean[] = [];
    const sched = new CheckScheduler({ onRealServerChange: (e) => states.push(e.health.up) });
    sched.add(
      realServer(
        [tcpCheck({ retry: 0, delayLoopMs: 50, warmupMs: 0 }), miscCheck([script], { retry: 1, delayBeforeRetryMs: 20, delayLoopMs: 50, warmupMs: 0 })],
        { port },
      ),
    );
    sched.start();
    try {
      await new Promise((r) => setTimeout(r, 120));
      expect(sched.health(`127.0.0.1:${port}`)!.up).toBe(true);
      rmSync(flag);
      await until(() => states.length === 1);
      expect(states).toEqual([false]);
      writeFileSync(flag, '');
      await until(() => states.length === 2);
      expect(states).toEqual([false, true]);
    } finally {
      sched.stop();
    }
  });

  it('FILE_CHECK follows the tracked file at once (inotify), not at delay_loop', async () => {
    const file = join(dir, 'weight');
    writeFileSync(file, '0\n');
    const trackFiles = [{ name: 'tf', file, weight: 0, weightReverse: false, initFile: null, pos }];
    const states: boolean[] = [];
    const sched = new CheckScheduler({ onRealServerChange: (e) => states.push(e.health.up) }, { ctx: { trackFiles } });
    sched.add(realServer([fileCheck('tf', { delayLoopMs: 60_000, warmupMs: 0, retry: 0 })], { port }));
    sched.start();
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(sched.health(`127.0.0.1:${port}`)!.up).toBe(true);
      writeFileSync(file, '1\n');
      await until(() => states.length === 1, 1000);
      writeFileSync(`${file}.new`, '0\n');
      rmSync(file);
      // replaced by rename, as editors and atomic writers do
      renameSync(`${file}.new`, file);
      await until(() => states.length === 2, 1000);
      expect(states).toEqual([false, true]);
    } finally {
      sched.stop();
    }
  });
});
