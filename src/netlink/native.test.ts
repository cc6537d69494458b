import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findAddonPath } from './native.js';

describe('native addon lookup', () => {
  it('walks up from the module directory to build/Release', () => {
    const present = new Set(['/p/build/Release/keepalived_native.node']);
    expect(findAddonPath('/p/dist/src/netlink', (p) => present.has(p))).toBe('/p/build/Release/keepalived_native.node');
    expect(findAddonPath('/p/src/netlink', (p) => present.has(p))).toBe('/p/build/Release/keepalived_native.node');
    expect(findAddonPath('/q/src', () => false)).toBeNull();
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
