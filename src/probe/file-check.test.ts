import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileCheck, pos } from '../../test/probe/fixtures.js';
import type { TrackFile } from '../config/model.js';
import { judgeFileValue, parseTrackedValue, runFileCheck } from './file-check.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-chk-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rs = { address: '127.0.0.1', port: 80, family: 4 as const };
const tf = (name: string, weight: number, weightReverse = false): TrackFile => ({ name, file: join(dir, name), weight, weightReverse, initFile: null, pos });

describe('tracked value', () => {
  it('reads the leading integer; anything else is 0', () => {
    expect(parseTrackedValue(' 42\n')).toBe(42);
    expect(parseTrackedValue('-3 trailing')).toBe(-3);
    expect(parseTrackedValue('abc')).toBe(0);
    expect(parseTrackedValue('')).toBe(0);
  });
  it('weight 0: down on non-zero; otherwise up with value x weight (reverse negates)', () => {
    expect(judgeFileValue(0, 0, false).up).toBe(true);
    expect(judgeFileValue(2, 0, false).up).toBe(false);
    expect(judgeFileValue(3, 5, false)).toMatchObject({ up: true, weight: 15, weightMode: 'add' });
    expect(judgeFileValue(3, 5, true)).toMatchObject({ up: true, weight: -15 });
  });
});

describe('FILE_CHECK reading real files', () => {
  it('follows the file as it changes (down, then recovery)', async () => {
    const files = [tf('state', 0)];
    writeFileSync(files[0]!.file, '1\n');
    expect(await runFileCheck(fileCheck('state'), rs, { trackFiles: files })).toMatchObject({ up: false, reason: 'value 1' });
    writeFileSync(files[0]!.file, '0\n');
    expect(await runFileCheck(fileCheck('state'), rs, { trackFiles: files })).toMatchObject({ up: true });
  });

  it('uses the checker weight over the track_file weight, and a missing file reads as 0', async () => {
    const files = [tf('w', 2), tf('absent', 0)];
    writeFileSync(files[0]!.file, '4');
    expect(await runFileCheck(fileCheck('w'), rs, { trackFiles: files })).toMatchObject({ weight: 8 });
    expect(await runFileCheck(fileCheck('w', { weight: -1, reverse: true }), rs, { trackFiles: files })).toMatchObject({ weight: 4 });
    expect((await runFileCheck(fileCheck('absent'), rs, { trackFiles: files })).up).toBe(true);
    expect(await runFileCheck(fileCheck('nope'), rs, { trackFiles: files })).toMatchObject({ up: false, reason: 'track_file nope not defined' });
  });
});
