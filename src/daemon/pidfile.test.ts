import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimPidFile, releasePidFile, runningPid } from './pidfile.js';

const dir = () => mkdtempSync(join(tmpdir(), 'kts-pid-'));

describe('pid files', () => {
  it('claims, then releases only its own file', () => {
    const f = join(dir(), 'sub', 'k.pid');
    claimPidFile(f);
    expect(readFileSync(f, 'utf8')).toBe(`${process.pid}\n`);
    releasePidFile(f, process.pid + 1);
    expect(existsSync(f)).toBe(true);
    releasePidFile(f);
    expect(existsSync(f)).toBe(false);
  });

  it('refuses to start over a live process and names it', async () => {
    const f = join(dir(), 'k.pid');
    const other = spawn('sleep', ['5']);
    await new Promise((r) => other.once('spawn', r));
    writeFileSync(f, `${other.pid}\n`);
    try {
      expect(runningPid(f)).toBe(other.pid);
      expect(() => claimPidFile(f)).toThrow(`names running process ${other.pid}`);
    } finally {
      other.kill();
    }
  });

  it('takes over a stale file whose process is gone', async () => {
    const f = join(dir(), 'k.pid');
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(f, `${gone.pid}\n`);
    expect(runningPid(f)).toBeNull();
    claimPidFile(f);
    expect(readFileSync(f, 'utf8')).toBe(`${process.pid}\n`);
  });
});
