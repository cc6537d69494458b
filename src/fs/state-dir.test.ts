import { mkdtempSync, rmSync, statSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeStateDir } from './state-dir.js';

const modeOf = (p: string) => statSync(p).mode & 0o7777;

describe('makeStateDir', () => {
  let root: string;
  let savedUmask: number;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kt-statedir-'));
    // keepalived's default umask, the one the daemon runs with
    savedUmask = process.umask(0o177);
  });
  afterEach(() => {
    process.umask(savedUmask);
    rmSync(root, { recursive: true, force: true });
  });

  it('gives every directory it creates rwxr-xr-x under umask 0177', () => {
    const dir = join(root, 'run', 'keepalived-ts');
    makeStateDir(dir);
    expect(modeOf(join(root, 'run')).toString(8)).toBe('755');
    expect(modeOf(dir).toString(8)).toBe('755');
  });

  it('takes another mode when asked', () => {
    const dir = join(root, 'private');
    makeStateDir(dir, 0o700);
    expect(modeOf(dir).toString(8)).toBe('700');
  });

  it('leaves an existing directory, and the parents it did not create, as they were', () => {
    const parent = join(root, 'mine');
    mkdirSync(parent);
    chmodSync(parent, 0o711);
    makeStateDir(parent);
    expect(modeOf(parent).toString(8)).toBe('711');
    makeStateDir(join(parent, 'child'));
    expect(modeOf(parent).toString(8)).toBe('711');
    expect(modeOf(join(parent, 'child')).toString(8)).toBe('755');
  });
});
