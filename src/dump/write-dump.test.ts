import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { writeDumpFile } from './write-dump.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-dump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeDumpFile', () => {
  it('writes mode 0600 and replaces a longer previous dump entirely', () => {
    const p = join(dir, 'keepalived.stats');
    writeFileSync(p, 'x'.repeat(100), { mode: 0o644 });
    writeDumpFile(p, 'short\n');
    expect(readFileSync(p, 'utf8')).toBe('short\n');
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it('refuses a symlink planted at the path and leaves its target alone', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'precious');
    const link = join(dir, 'keepalived.json');
    symlinkSync(target, link);
    expect(() => writeDumpFile(link, 'dump')).toThrow(/ELOOP/);
    expect(readFileSync(target, 'utf8')).toBe('precious');
  });
});
