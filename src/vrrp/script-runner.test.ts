import { afterAll, describe, expect, it } from 'vitest';
import { running } from '../../test/helpers/proc.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { VrrpScript } from '../config/model.js';
import { createLogger } from '../log/logger.js';
import { ScriptHost } from '../script/index.js';
import { runScriptOnce, VrrpScriptRunner } from './script-runner.js';
import type { ScriptStatus } from './script-status.js';

const dir = mkdtempSync('/tmp/kt-vr-script-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ proc: 'vrrp', write: () => undefined });
const policy = new ScriptHost({ log });

function script(argv: string[], o: Partial<VrrpScript> = {}): VrrpScript {
  return {
    name: 'chk',
    script: { command: argv.join(' '), argv, user: null, group: null },
    intervalMs: 50,
    timeoutMs: 2_000,
    weight: -10,
    weightReverse: false,
    rise: 1,
    fall: 1,
    user: null,
    group: null,
    initFail: false,
    pos: { file: 't', line: 1, column: 1 },
    ...o,
  };
}

describe('one vrrp_script run', () => {
  it('exit 0 is success, anything else failure', async () => {
    expect((await runScriptOnce(script(['/bin/true']), policy)).success).toBe(true);
    expect(await runScriptOnce(script(['/bin/sh', '-c', 'exit 3']), policy)).toEqual({ success: false, why: 'exit 3', exit: { kind: 'exit', code: 3 } });
    expect((await runScriptOnce(script(['/no/such/script']), policy)).success).toBe(false);
  });

  it('a timeout is a failure and kills the whole process group, grandchildren included', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const s = script(['/bin/sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 300 });
    const t0 = Date.now();
    const r = await runScriptOnce(s, policy);
    expect(r).toEqual({ success: false, why: 'timeout after 300 ms', exit: { kind: 'timeout' } });
    expect(Date.now() - t0).toBeLessThan(5_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((res) => setTimeout(res, 200));
    expect(running(pid)).toBe(false);
  });
});

describe('VrrpScriptRunner rise/fall', () => {
  it('reports good/bad only after rise successes / fall failures', async () => {
    const flag = join(dir, 'ok');
    writeFileSync(flag, '');
    const seen: ScriptStatus[] = [];
    const r = new VrrpScriptRunner(script(['/bin/sh', '-c', `test -e ${flag}`], { rise: 2, fall: 3, intervalMs: 40 }), policy, (_n, st) => seen.push(st), log);
    r.start();
    const until = async (cond: () => boolean) => {
      const end = Date.now() + 10_000;
      while (!cond()) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((res) => setTimeout(res, 10));
      }
    };
    // undecided: the first success decides (keepalived starts such a script at rise-1)
    await until(() => seen.length === 1);
    expect(seen).toEqual(['good']);
    rmSync(flag);
    await until(() => seen.length === 2);
    expect(seen).toEqual(['good', 'bad']);
    expect(r.status).toBe('bad');
    writeFileSync(flag, '');
    await until(() => seen.length === 3);
    expect(seen).toEqual(['good', 'bad', 'good']);
    r.stop();
    expect(existsSync(flag)).toBe(true);
  });

  it('init_fail reports bad at once, before any run', () => {
    const seen: ScriptStatus[] = [];
    const r = new VrrpScriptRunner(script(['/bin/sleep', '5'], { initFail: true, intervalMs: 10_000 }), policy, (_n, st) => seen.push(st), log);
    r.start();
    expect(seen).toEqual(['bad']);
    r.stop();
  });
});
