// Each load runs in a Node process of its own: within one process V8 would find the code in
// its own compilation cache and never look at the cache file.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CACHE_SUFFIX, CODE_SUFFIX, cacheData, cacheFileBytes, keyLine, sourceKey } from './code-cache.js';

const built = fileURLToPath(new URL('../../dist/src/process/code-cache.js', import.meta.url));

/** A bundled entry as tools/bundle.mjs writes it: CommonJS code, then its key line. */
const entryCode = (answer: string, key: string) =>
  `'use strict';\nconst path = require('node:path');\nfunction answer() { return ${answer}; }\n` +
  `module.exports = { main: () => answer(), file: path.basename(__filename), self: this === exports };` +
  keyLine(key);

/** Runs `body` (with loadEntry and writeCache in scope) in a Node of its own; its printed JSON. */
function inNode(body: string, flags: string[] = []): unknown {
  const script = `import { loadEntry, writeCache } from ${JSON.stringify(pathToFileURL(built).href)};\n${body}`;
  return JSON.parse(execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8' })) as unknown;
}

describe('code cache of a bundled entry', () => {
  let dir: string;
  const code = () => join(dir, 'entry' + CODE_SUFFIX);
  const cache = () => join(dir, 'entry' + CACHE_SUFFIX);
  const load = (flags: string[] = []) =>
    inNode(
      `const r = loadEntry(${JSON.stringify(code())}, ${JSON.stringify(cache())});\n` +
        `console.log(JSON.stringify({ cache: r.cache, answer: r.exports.main(), file: r.exports.file, self: r.exports.self }));`,
      flags,
    );
  const write = (flags: string[] = []) => inNode(`writeCache(${JSON.stringify(dir)}, 'entry'); console.log('null');`, flags);

  beforeAll(() => {
    if (!existsSync(built)) throw new Error('run `npm run build` first (npm test does)');
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-code-cache-'));
    writeFileSync(code(), entryCode("'first'", 'k1'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the code as Node runs a CommonJS file when there is no cache', () => {
    expect(load()).toEqual({ cache: 'absent', answer: 'first', file: 'entry.code.cjs', self: true });
  });

  it('compiles from the cache written for it', () => {
    write();
    expect(load()).toEqual({ cache: 'used', answer: 'first', file: 'entry.code.cjs', self: true });
  });

  it('ignores the cache of other code of the same length, and runs the code on disk', () => {
    write();
    writeFileSync(code(), entryCode("'other'", 'k2'));
    expect(load()).toMatchObject({ cache: 'stale', answer: 'other' });
  });

  it('starts without a cache damaged in its body or cut short (V8 would deserialize a damaged one as it is)', () => {
    write();
    const good = readFileSync(cache());
    const damaged = Buffer.from(good);
    for (let i = good.length - 64; i < good.length - 32; i++) damaged[i]! ^= 0x5a;
    writeFileSync(cache(), damaged);
    expect(load()).toMatchObject({ cache: 'rejected', answer: 'first' });
    writeFileSync(cache(), good.subarray(0, good.length - 100));
    expect(load()).toMatchObject({ cache: 'rejected', answer: 'first' });
  });

  it('starts without a cache made under other V8 flags', () => {
    write(['--optimize-for-size']);
    expect(load(['--optimize-for-size'])).toMatchObject({ cache: 'used', answer: 'first' });
    expect(load()).toMatchObject({ cache: 'rejected', answer: 'first' });
  });

  it('takes a file that is not a cache, or an empty one, for stale', () => {
    for (const bytes of [Buffer.from('not a cache at all'), Buffer.alloc(0)]) {
      writeFileSync(cache(), bytes);
      expect(load()).toMatchObject({ cache: 'stale', answer: 'first' });
    }
  });

  it('uses no cache for code without a key line', () => {
    write();
    writeFileSync(code(), "module.exports = { main: () => 'keyless' };");
    expect(load()).toMatchObject({ cache: 'absent', answer: 'keyless' });
  });

  it("leaves the code to Node's loader when source maps are on", () => {
    write();
    expect(load(['--enable-source-maps'])).toMatchObject({ cache: 'bypassed', answer: 'first', file: 'entry.code.cjs' });
  });
});

describe('cache file format', () => {
  it('gives V8 data back only for the key it was written with', () => {
    const file = cacheFileBytes('abc', Buffer.from([1, 2, 3]));
    expect(cacheData(file, 'abc')).toEqual(Buffer.from([1, 2, 3]));
    expect(cacheData(file, 'abd')).toBeNull();
    expect(cacheData(file.subarray(0, 10), 'abc')).toBeNull();
  });

  it('reads the key from the last key line', () => {
    expect(sourceKey('x' + keyLine('k1') + 'y' + keyLine('k2'))).toBe('k2');
    expect(sourceKey('module.exports = 1;')).toBeNull();
  });
});
