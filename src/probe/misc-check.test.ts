import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { running } from '../../test/helpers/proc.js';
import { miscCheck } from '../../test/probe/fixtures.js';
import { judgeExit, runMiscCheck } from './misc-check.js';
import { ScriptHost, lookupIds } from '../script/index.js';

const rs = { address: '127.0.0.1', port: 80, family: 4 as const };
const quiet = { info: () => {}, warn: () => {} };
/** A checker's host after loading global_defs `g`. */
function hostWith(g: { scriptUser: { user: string; group: string | null } | null; enableScriptSecurity: boolean }, killGraceMs?: number): ScriptHost {
  const h = new ScriptHost({ log: quiet, ...(killGraceMs === undefined ? {} : { killGraceMs }) });
  h.load(g, []);
  return h;
}
let dir: string;
let out: string;

function script(name: string, body: string, mode = 0o755): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, mode);
  return p;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-chk-misc-'));
  chmodSync(dir, 0o755);
  out = join(dir, 'out');
  mkdirSync(out);
  chmodSync(out, 0o777);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('exit code rule', () => {
  it('0 up, 1 down, 2-255 up with weight code-2 only with misc_dynamic', () => {
    expect(judgeExit(0, true)).toMatchObject({ up: true });
    expect(judgeExit(1, true)).toMatchObject({ up: false });
    expect(judgeExit(12, true)).toMatchObject({ up: true, weight: 10, weightMode: 'set' });
    expect(judgeExit(255, true)).toMatchObject({ up: true, weight: 253 });
    expect(judgeExit(12, false)).toMatchObject({ up: false });
  });
});

describe('MISC_CHECK running real scripts', () => {
  it('passes arguments without a shell and follows the exit code (up, down, recovery)', async () => {
    const s = script('exit-with.sh', 'exit "$1"');
    expect((await runMiscCheck(miscCheck([s, '0']), rs)).up).toBe(true);
    expect(await runMiscCheck(miscCheck([s, '1']), rs)).toMatchObject({ up: false, reason: 'exit 1' });
    expect(await runMiscCheck(miscCheck([s, 'a b; exit 0']), rs)).toMatchObject({ up: false }); // no shell re-parsing
    expect(await runMiscCheck(miscCheck([s, '17'], { miscDynamic: true }), rs)).toMatchObject({ up: true, weight: 15 });
  });

  it('kills the whole process group at misc_timeout', async () => {
    const pidFile = join(out, 'grandchild.pid');
    const s = script('hang.sh', `sleep 30 & echo $! > ${pidFile}; wait`);
    const t0 = performance.now();
    const o = await runMiscCheck(miscCheck([s], { miscTimeoutMs: 300 }), rs, { scripts: hostWith({ scriptUser: null, enableScriptSecurity: false }, 100) });
    expect(o).toMatchObject({ up: false, reason: 'timeout after 300 ms' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(295);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 300));
    expect(running(grandchild)).toBe(false);
  });

  it('is down when the script does not exist', async () => {
    expect(await runMiscCheck(miscCheck([join(dir, 'missing.sh')]), rs)).toMatchObject({ up: false, reason: expect.stringContaining('ENOENT') });
  });

  it('runs as `user` (setuid/setgid)', async () => {
    const nobody = lookupIds({ user: 'nobody', group: null })!;
    const file = join(out, 'ids');
    const s = script('ids.sh', `echo "$(id -u) $(id -g)" > ${file}`);
    expect((await runMiscCheck(miscCheck([s], { user: 'nobody' }), rs)).up).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toBe(`${nobody.uid} ${nobody.gid}`);
    expect(await runMiscCheck(miscCheck([s], { user: 'no-such-user-kt' }), rs)).toMatchObject({
      up: false,
      reason: "disabled: script user 'no-such-user-kt' does not exist",
    });
  });
});

describe('enable_script_security', () => {
  // the rules themselves are tested in src/script/security.test.ts; here: what MISC_CHECK does with them
  it('a world-writable script, one owned by another user or under a world-writable directory is not run as root; a root-owned 0755 one is', async () => {
    const good = script('good.sh', 'exit 0');
    const open = script('open.sh', 'exit 0', 0o777);
    const foreign = script('foreign.sh', 'exit 0');
    chownSync(foreign, lookupIds({ user: 'nobody', group: null })!.uid, 0);
    const badDir = join(dir, 'wdir');
    mkdirSync(badDir);
    chmodSync(badDir, 0o777);
    const inBadDir = join(badDir, 'x.sh');
    writeFileSync(inBadDir, '#!/bin/sh\nexit 0\n', { mode: 0o755 });

    const ctx = { scripts: hostWith({ scriptUser: { user: 'root', group: null }, enableScriptSecurity: true }) };
    expect((await runMiscCheck(miscCheck([good]), rs, ctx)).up).toBe(true);
    for (const s of [open, foreign, inBadDir]) {
      const o = await runMiscCheck(miscCheck([s]), rs, ctx);
      expect(o).toMatchObject({ up: false, reason: expect.stringContaining('unsafe permissions') });
    }
    // bare names are found on PATH: true is root-owned in root-owned directories
    expect((await runMiscCheck(miscCheck(['true']), rs, ctx)).up).toBe(true);
    // without the option keepalived runs it anyway
    expect((await runMiscCheck(miscCheck([open]), rs)).up).toBe(true);
    expect(existsSync(good)).toBe(true);
  });
});
