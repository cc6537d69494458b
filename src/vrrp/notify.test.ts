import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, closeSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../log/logger.js';
import { decideRunAs, fifoLine, NotifyFifo, NotifyRunner, startFifoScript } from './notify.js';

const dir = mkdtempSync('/tmp/kt-vr-notify-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lines: string[] = [];
const log = createLogger({ proc: 'vrrp', write: (l) => lines.push(l) });

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('who a script runs as', () => {
  const secure = () => null;
  it('its own user, else script_user, else root', () => {
    const policy = { scriptUser: { user: 'nobody', group: null }, enableScriptSecurity: false };
    expect(decideRunAs({ argv: ['/bin/true'], user: 'root', group: null }, policy, secure)).toEqual({ ok: true, runAs: { uid: 0, gid: 0 } });
    const nobody = decideRunAs({ argv: ['/bin/true'], user: null, group: null }, policy, secure);
    expect(nobody.ok && nobody.runAs?.uid).toBe(65534);
    expect(decideRunAs({ argv: ['/bin/true'], user: null, group: null }, { scriptUser: null, enableScriptSecurity: false }, secure)).toEqual({ ok: true, runAs: null });
  });

  it('refuses an unknown user, and an insecure script under enable_script_security', () => {
    const policy = { scriptUser: null, enableScriptSecurity: true };
    expect(decideRunAs({ argv: ['/x'], user: 'no-such-user-kt', group: null }, policy, secure).ok).toBe(false);
    const r = decideRunAs({ argv: ['/x'], user: null, group: null }, policy, () => '/x is world-writable');
    expect(r).toEqual({ ok: false, why: 'insecure script (enable_script_security): /x is world-writable' });
    // without script security the same script runs
    expect(decideRunAs({ argv: ['/x'], user: null, group: null }, { scriptUser: null, enableScriptSecurity: false }, () => 'bad').ok).toBe(true);
  });

  it('really checks the file under enable_script_security', () => {
    const script = join(dir, 'ww.sh');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o777);
    const r = decideRunAs({ argv: [script], user: null, group: null }, { scriptUser: null, enableScriptSecurity: true });
    expect(r.ok).toBe(false);
  });
});

describe('NotifyRunner', () => {
  it('runs argv without a shell: arguments with spaces and $ arrive verbatim', async () => {
    const out = join(dir, 'args.out');
    const script = join(dir, 'args.sh');
    writeFileSync(script, `#!/bin/sh\nfor a in "$@"; do echo "[$a]"; done > ${out}\n`);
    chmodSync(script, 0o755);
    new NotifyRunner({ scriptUser: null, enableScriptSecurity: false }, log).run({ argv: [script, 'a b', '$HOME', 'INSTANCE'], user: null, group: null });
    await until(() => existsSync(out) && readFileSync(out, 'utf8').split('\n').length >= 4, 5_000);
    expect(readFileSync(out, 'utf8')).toBe('[a b]\n[$HOME]\n[INSTANCE]\n');
  });

  it('logs a refused script instead of running it', () => {
    new NotifyRunner({ scriptUser: null, enableScriptSecurity: false }, log).run({ argv: ['/bin/true'], user: 'no-such-user-kt', group: null });
    expect(lines.some((l) => l.includes('not running notify script: unknown user no-such-user-kt'))).toBe(true);
  });
});

describe('notify FIFO', () => {
  it('keepalived line formats', () => {
    expect(fifoLine('INSTANCE', 'VI_1', 'MASTER', 150)).toBe('INSTANCE "VI_1" MASTER 150\n');
    expect(fifoLine('GROUP', 'G1', 'BACKUP')).toBe('GROUP "G1" BACKUP\n');
  });

  it('creates the FIFO, never blocks without a reader, and a reader gets the lines', () => {
    const path = join(dir, 'fifo');
    const f = new NotifyFifo(path, log);
    expect(statSync(path).isFIFO()).toBe(true);
    f.write(fifoLine('INSTANCE', 'VI_1', 'BACKUP', 100)); // nobody reading: must not block
    const fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
    f.write(fifoLine('INSTANCE', 'VI_1', 'MASTER', 100));
    const buf = Buffer.alloc(200);
    const n = readSync(fd, buf);
    closeSync(fd);
    f.close();
    expect(buf.subarray(0, n).toString()).toBe('INSTANCE "VI_1" BACKUP 100\nINSTANCE "VI_1" MASTER 100\n');
  });

  it('vrrp_notify_fifo_script gets the FIFO path as its last argument and reads the lines', async () => {
    const path = join(dir, 'fifo2');
    const out = join(dir, 'fifo2.out');
    const f = new NotifyFifo(path, log);
    const reader = startFifoScript({ argv: ['/bin/sh', '-c', `exec cat "$0" > ${out}`], user: null, group: null }, path, { scriptUser: null, enableScriptSecurity: false }, log);
    expect(reader).not.toBeNull();
    f.write(fifoLine('GROUP', 'G1', 'MASTER'));
    await until(() => existsSync(out) && readFileSync(out, 'utf8').includes('GROUP "G1" MASTER'), 5_000);
    reader!.kill('SIGTERM');
    f.close();
  });

  it('refuses a path that is a regular file', () => {
    const path = join(dir, 'plain');
    writeFileSync(path, '');
    expect(() => new NotifyFifo(path, log)).toThrow(/not a FIFO/);
  });
});
