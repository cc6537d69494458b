import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { groupMembers, processGroupOf } from '../../test/helpers/proc.js';
import type { ScriptUse } from './config-scripts.js';
import { ScriptHost } from './host.js';

const dir = mkdtempSync('/tmp/kt-script-host-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recorder() {
  const lines: string[] = [];
  const log = {
    info: (o: object, m: string) => lines.push(`${m} ${JSON.stringify(o)}`),
    warn: (o: object, m: string) => lines.push(`${m} ${JSON.stringify(o)}`),
  };
  return { lines, log };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function script(name: string, body: string, mode = 0o755): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, mode);
  return p;
}

const use = (argv: string[], label = 'notify_master of VI_1'): ScriptUse => ({
  kind: 'notify',
  label,
  argv,
  own: null,
  pos: { file: 'k.conf', line: 3, column: 2 },
});
const rootSecure = { scriptUser: { user: 'root', group: null }, enableScriptSecurity: true };
const plain = { scriptUser: null, enableScriptSecurity: false };

describe('notify scripts', () => {
  it('run argv without a shell: arguments with spaces and $ arrive verbatim', async () => {
    const out = join(dir, 'args.out');
    const s = script('args.sh', `for a in "$@"; do echo "[$a]"; done > ${out}`);
    const host = new ScriptHost(recorder());
    host.load(plain, [use([s])]);
    host.notify([s, 'a b', '$HOME', 'INSTANCE'], null, 'notify');
    await until(() => existsSync(out) && readFileSync(out, 'utf8').split('\n').length >= 4, 5000, 'script ran');
    expect(readFileSync(out, 'utf8')).toBe('[a b]\n[$HOME]\n[INSTANCE]\n');
  });

  it('one disabled at load is logged once, with its place, and never run', async () => {
    const marker = join(dir, 'insecure-ran');
    const s = script('insecure.sh', `touch ${marker}`, 0o777);
    const { lines, log } = recorder();
    const host = new ScriptHost({ log });
    host.load(rootSecure, [use([s])]);
    expect(lines).toEqual([
      expect.stringMatching(
        /^Disabling notify_master of VI_1 due to insecure \(enable_script_security\): unsafe permissions found for script '.*insecure.sh': .*insecure.sh is writable by everyone .*"file":"k.conf:3:2"/,
      ),
    ]);
    host.notify([s], null, 'notify');
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(marker)).toBe(false);
    expect(host.groups.live).toEqual([]);
  });

  it('an unknown user refuses the script', () => {
    const { lines, log } = recorder();
    const host = new ScriptHost({ log });
    host.load(plain, [{ ...use(['/bin/true']), own: { user: 'no-such-user-kt', group: null } }]);
    expect(lines[0]).toMatch(/^Disabling notify_master of VI_1: script user 'no-such-user-kt' does not exist/);
  });

  it('a hung one ends with everything it started at the notify timeout', async () => {
    const pidFile = join(dir, 'hung.pid');
    const s = script('hung.sh', `sleep 300 & echo $! > ${pidFile}; wait`);
    const host = new ScriptHost({ ...recorder(), notifyTimeoutMs: 300, killGraceMs: 200 });
    host.load(plain, [use([s])]);
    host.notify([s], null, 'notify');
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 5000, 'started');
    const pgid = processGroupOf(Number(readFileSync(pidFile, 'utf8')))!;
    expect(groupMembers(pgid).length).toBe(2);
    await until(() => groupMembers(pgid).length === 0, 5000, 'hung notify script ended');
  });

  it('stop ends the ones still running', async () => {
    const pidFile = join(dir, 'stop.pid');
    const s = script('stop.sh', `sleep 300 & echo $! > ${pidFile}; wait`);
    const host = new ScriptHost(recorder());
    host.load(plain, [use([s])]);
    host.notify([s], null, 'notify');
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 5000, 'started');
    const pgid = processGroupOf(Number(readFileSync(pidFile, 'utf8')))!;
    await host.stop();
    expect(groupMembers(pgid)).toEqual([]);
  });
});

describe('vetting per load', () => {
  it('a script fixed between two loads runs after the second', () => {
    const s = script('fixed.sh', 'exit 0', 0o777);
    const host = new ScriptHost(recorder());
    host.load(rootSecure, [use([s])]);
    expect(host.verdict(s, null).ok).toBe(false);
    chmodSync(s, 0o755);
    expect(host.verdict(s, null).ok).toBe(false); // the loaded config's verdict stands
    host.load(rootSecure, [use([s])]);
    expect(host.verdict(s, null)).toMatchObject({ ok: true, ids: { uid: 0, gid: 0 } });
  });

  it('warns as keepalived does when scripts run without enable_script_security', () => {
    const { lines, log } = recorder();
    const host = new ScriptHost({ log });
    host.load(plain, [use([script('ok.sh', 'exit 0')])]);
    expect(lines).toEqual([expect.stringMatching(/^SECURITY VIOLATION - scripts are being executed but script_security not enabled\. /)]);
    const loud = recorder();
    const h2 = new ScriptHost({ log: loud.log });
    h2.load(plain, [use([script('open.sh', 'exit 0', 0o777)])]);
    expect(
      loud.lines.some((l) => l.startsWith('SECURITY VIOLATION - scripts are being executed but script_security not enabled. There are insecure scripts.')),
    ).toBe(true);
  });
});
