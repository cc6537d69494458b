import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findAddonPath, loadProbeAddon } from './index.js';

describe('native addon lookup', () => {
  it('walks up from the module directory to build/Release', () => {
    const present = new Set(['/p/build/Release/keepalived_native.node']);
    expect(findAddonPath('/p/dist/src/native', (p) => present.has(p))).toBe('/p/build/Release/keepalived_native.node');
    expect(findAddonPath('/p/src/native', (p) => present.has(p))).toBe('/p/build/Release/keepalived_native.node');
    expect(findAddonPath('/q/src', () => false)).toBeNull();
  });
  it('finds the probe addon beside it, and loads both from build/Release', () => {
    const present = new Set(['/p/build/Release/keepalived_probe.node']);
    expect(findAddonPath('/p/dist/src/native', (p) => present.has(p), 'keepalived_probe.node')).toBe('/p/build/Release/keepalived_probe.node');
    expect(typeof loadProbeAddon()?.connect).toBe('function');
  });
});

describe('releaseFreedMemory', () => {
  // In a child with --expose-gc: 40 MB of malloc'd buffers freed below one live buffer stay
  // resident (glibc trims only the top of its heap) until malloc_trim hands them back.
  it('returns memory malloc holds free to the kernel', () => {
    const addon = findAddonPath(dirname(fileURLToPath(import.meta.url)));
    expect(addon).not.toBeNull();
    const script = `
      const { readFileSync } = require('node:fs');
      const addon = require(${JSON.stringify(addon)});
      const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
      let bufs = [];
      for (let i = 0; i < 40000; i++) bufs.push(Buffer.alloc(1000, 1));
      const keep = Buffer.alloc(1000, 1);
      bufs = null; gc(); gc();
      const before = anon();
      const released = addon.releaseFreedMemory();
      console.log(JSON.stringify({ released, freedKb: before - anon(), keep: keep.length }));`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--single-threaded', '-e', script], { encoding: 'utf8' });
    const r = JSON.parse(out) as { released: boolean; freedKb: number };
    expect(r.released).toBe(true);
    expect(r.freedKb).toBeGreaterThan(20_000);
  });
});

describe('keepLargeBlocksApart', () => {
  // Two children with --expose-gc run the same allocations: an 8 MB block freed (glibc then
  // raises its mmap threshold to 8 MB), then 32 blocks of 256 KiB, each followed by a small
  // block that stays. Freeing the large ones gives their pages back only when they had
  // mappings of their own, which the call keeps them to.
  const run = (pin: boolean): number => {
    const addon = findAddonPath(dirname(fileURLToPath(import.meta.url)));
    expect(addon).not.toBeNull();
    const script = `
      const { readFileSync } = require('node:fs');
      const addon = require(${JSON.stringify(addon)});
      const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
      if (${pin}) { if (!addon.keepLargeBlocksApart()) throw new Error('mallopt refused'); }
      let big = Buffer.alloc(8 << 20, 1); big = null; gc(); gc();
      let larges = []; const smalls = [];
      for (let i = 0; i < 32; i++) { larges.push(Buffer.alloc(256 << 10, 1)); smalls.push(Buffer.alloc(2000, 1)); }
      const before = anon();
      larges = null; gc(); gc();
      console.log(JSON.stringify({ freedKb: before - anon(), smalls: smalls.length }));`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--single-threaded', '-e', script], { encoding: 'utf8' });
    return (JSON.parse(out) as { freedKb: number }).freedKb;
  };

  it('gives freed large blocks back to the kernel even after a larger one was freed', () => {
    expect(run(false)).toBeLessThan(2_000); // glibc's default: the 8 MB of freed blocks stay resident
    expect(run(true)).toBeGreaterThan(6_000);
  });
});
