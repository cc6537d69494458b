/**
 * The checker child process as the watchdog parent sees it (forked with an IPC channel):
 * compiled JS from dist/, so run `npm run build` first. This host has no kernel IPVS, which
 * is exactly the case these tests cover: the child must say how to fix it and keep running
 * (VRRP must not go down with it), still answer reloads and stop cleanly.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partOf, sendReload, serveConfig } from '../helpers/parent-channel.js';
import type { KeepalivedConfig } from '../../src/config/model.js';

const project = fileURLToPath(new URL('../..', import.meta.url));
const main = join(project, 'dist', 'src', 'checker', 'main.js');
const hostHasIpvs = existsSync('/proc/net/ip_vs');
if (hostHasIpvs) console.warn('test/checker/main.test.ts: this host has kernel IPVS (/proc/net/ip_vs); the "IPVS missing" tests are SKIPPED');

const good = `virtual_server 10.0.0.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 1 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;

let dir = '';
beforeAll(() => {
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  dir = mkdtempSync(join(tmpdir(), 'kt-ce-main-'));
  writeFileSync(join(dir, 'good.conf'), good);
  // what no start can get past: a block that never closes
  // an unterminated quote: a front-end error, which a start refuses (a missing `}` is not
  // one any more: keepalived reads on to the end of the file)
  writeFileSync(
    join(dir, 'broken.conf'),
    'virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 127.0.0.1 1 {\n    MISC_CHECK {\n      misc_path "/bin/true\n    }\n  }\n}\n',
  );
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Child {
  proc: ChildProcess;
  out: string[];
  messages: { t: string; [k: string]: unknown }[];
  exit: Promise<number | null>;
}

/** Forked as the parent forks it: the config comes over the channel, `conf` recorded (with `model`, the checker's part, when given). */
function start(conf: string, model?: KeepalivedConfig): Child {
  const proc = fork(main, ['--config', join(dir, conf), '--config-from-parent', '--owned-state', join(dir, 'owned.json'), '--log-console'], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  serveConfig(proc, join(dir, conf), model);
  const c: Child = { proc, out: [], messages: [], exit: new Promise((r) => proc.on('exit', (code) => r(code))) };
  proc.stdout!.on('data', (d: Buffer) => c.out.push(...d.toString().split('\n').filter(Boolean)));
  proc.stderr!.on('data', (d: Buffer) => c.out.push(...d.toString().split('\n').filter(Boolean)));
  proc.on('message', (m) => c.messages.push(m as Child['messages'][number]));
  return c;
}

async function until(what: string, cond: () => boolean, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('checker child process', () => {
  it('a config with errors: exit 4 (EXIT_CONFIG) after telling the parent why', async () => {
    const c = start('broken.conf');
    expect(await c.exit).toBe(4);
    expect(c.messages.find((m) => m.t === 'fatal')).toMatchObject({ t: 'fatal', code: 4 });
    expect(c.out.join('\n')).toMatch(/broken\.conf:\d+:\d+/);
  });

  it.skipIf(hostHasIpvs)('no kernel IPVS: names the fix, keeps heartbeating, answers reloads, stops on shutdown', async () => {
    const c = start('good.conf');
    try {
      await until('the IPVS error', () => c.out.some((l) => l.includes('modprobe ip_vs')));
      const beats = c.messages.filter((m) => m.t === 'heartbeat').length;
      await until('more heartbeats', () => c.messages.filter((m) => m.t === 'heartbeat').length > beats + 1);
      expect(c.proc.exitCode).toBeNull();

      // /status and /metrics say why nothing is checked
      c.proc.send({ t: 'collect', id: 7 });
      await until('a snapshot', () => c.messages.some((m) => m.t === 'snapshot'));
      const snap = c.messages.find((m) => m.t === 'snapshot') as unknown as {
        status: Record<string, unknown>;
        metrics: { name: string; values: { labels: Record<string, string>; value: number }[] }[];
      };
      expect(snap.status).toMatchObject({ state: 'paused', reason: 'ipvs-unavailable', running: false });
      expect(String(snap.status.detail)).toContain('modprobe ip_vs');
      expect(snap.metrics.find((m) => m.name === 'keepalived_checker_paused')?.values).toEqual([{ labels: { reason: 'ipvs-unavailable' }, value: 1 }]);

      // the parent never sends a config it refused; the child refuses one all the same
      sendReload(c.proc, join(dir, 'broken.conf'), 2);
      await until('reload refused', () => c.messages.some((m) => m.t === 'reloaded'));
      expect(c.messages.find((m) => m.t === 'reloaded')).toMatchObject({ ok: false });
      sendReload(c.proc, join(dir, 'good.conf'), 3);
      await until('reload accepted', () => c.messages.filter((m) => m.t === 'reloaded').length === 2);
      expect(c.messages.filter((m) => m.t === 'reloaded')[1]).toMatchObject({ ok: true });

      c.proc.send({ t: 'shutdown' });
      expect(await c.exit).toBe(0);
    } finally {
      if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    }
  });

  it.skipIf(hostHasIpvs)("runs the checker's part of the model the parent sends, never parsing the bytes beside it, at start and on reload", async () => {
    // bytes that would stop a start, beside a good model: only a child that parses them fails
    const model = await partOf(join(dir, 'good.conf'), 'checker');
    const c = start('broken.conf', model);
    try {
      await until('running (IPVS missing)', () => c.out.some((l) => l.includes('modprobe ip_vs')));
      expect(c.messages.some((m) => m.t === 'fatal')).toBe(false);
      sendReload(c.proc, join(dir, 'broken.conf'), 2, model);
      await until('reload answered', () => c.messages.some((m) => m.t === 'reloaded'));
      expect(c.messages.find((m) => m.t === 'reloaded')).toMatchObject({ ok: true, generation: 2 });
      expect(c.out.join('\n')).not.toMatch(/broken\.conf:\d+:\d+/);
      c.proc.send({ t: 'shutdown' });
      expect(await c.exit).toBe(0);
    } finally {
      if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    }
  });

  it.skipIf(hostHasIpvs)('SIGTERM is a graceful stop with exit 0', async () => {
    const c = start('good.conf');
    try {
      await until('started', () => c.out.some((l) => l.includes('modprobe ip_vs')));
      c.proc.kill('SIGTERM');
      expect(await c.exit).toBe(0);
      expect(c.out.some((l) => l.includes('checker stopping'))).toBe(true);
    } finally {
      if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    }
  });
});
