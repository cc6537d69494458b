import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrackFile } from '../config/model.js';
import { parseTrackFileValue, readTrackFile, TrackFileWatcher } from './engine-track-file.js';

const dir = mkdtempSync('/tmp/kt-vr-tf-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const def = (file: string, o: Partial<TrackFile> = {}): TrackFile => ({
  name: 'tf',
  file,
  weight: 1,
  weightReverse: false,
  initFile: null,
  pos: { file: 't', line: 1, column: 1 },
  ...o,
});

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('track_file values', () => {
  it('the leading integer counts; anything else, and a missing file, read as 0', () => {
    expect(parseTrackFileValue('42\n')).toBe(42);
    expect(parseTrackFileValue('  -7 trailing')).toBe(-7);
    expect(parseTrackFileValue('abc')).toBe(0);
    expect(parseTrackFileValue('')).toBe(0);
    expect(readTrackFile(join(dir, 'missing'))).toBe(0);
  });

  it('init_file creates a missing file, and overwrites only when told to', () => {
    const p = join(dir, 'init');
    expect(new TrackFileWatcher(def(p, { initFile: { value: 5, overwrite: false } }), () => undefined).current).toBe(5);
    writeFileSync(p, '9\n');
    expect(new TrackFileWatcher(def(p, { initFile: { value: 5, overwrite: false } }), () => undefined).current).toBe(9);
    new TrackFileWatcher(def(p, { initFile: { value: 3, overwrite: true } }), () => undefined);
    expect(readFileSync(p, 'utf8').trim()).toBe('3');
  });

  it('reports changes, written in place or renamed over, and not unchanged rewrites', async () => {
    const p = join(dir, 'watched');
    writeFileSync(p, '1\n');
    const seen: number[] = [];
    const w = new TrackFileWatcher(def(p), (_n, v) => seen.push(v));
    w.start();
    writeFileSync(p, '1\n');
    writeFileSync(p, '20\n');
    await until(() => seen.includes(20));
    writeFileSync(join(dir, 'tmp'), '-3\n');
    renameSync(join(dir, 'tmp'), p);
    await until(() => seen.includes(-3));
    rmSync(p);
    await until(() => seen.includes(0));
    w.stop();
    expect(seen).toEqual([20, -3, 0]);
  });
});
