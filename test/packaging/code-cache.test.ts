// The bundle's code caches (tools/bundle.mjs) as the processes meet them: each entry's cache
// is taken by a Node started with that process's own V8 flags (a cache made with other flags
// would be refused at every start, silently slower), and the command starts normally when a
// cache is damaged, stale or missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHILD_NODE_FLAGS, PARENT_NODE_FLAGS } from '../../src/daemon/node-flags.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = join(ROOT, 'dist/bundle');

const ENTRIES: Record<string, readonly string[]> = {
  'keepalived-ts': PARENT_NODE_FLAGS,
  vrrp: CHILD_NODE_FLAGS.vrrp,
  checker: CHILD_NODE_FLAGS.checker,
  'config-load-worker': PARENT_NODE_FLAGS,
};

/** What loading `entry` of the bundle in `dir` did with its cache, in a Node with `flags`. */
function cacheUse(dir: string, entry: string, flags: readonly string[]): string {
  const load = `const r = require(${JSON.stringify(join(dir, 'load.cjs'))}).loadEntry(${JSON.stringify(join(dir, `${entry}.code.cjs`))}, ${JSON.stringify(join(dir, `${entry}.code.cache`))}); console.log(r.cache)`;
  return execFileSync(process.execPath, [...flags, '-e', load], { encoding: 'utf8' }).trim();
}

describe('the bundle code caches', () => {
  // a copy beside dist/bundle (npm packages and the addons are found from it as from the
  // original) whose caches these tests damage
  let copy: string;
  beforeAll(() => {
    if (!existsSync(join(BUNDLE, 'keepalived-ts.code.cache'))) throw new Error('run `npm run build` first (npm test does)');
    copy = mkdtempSync(join(ROOT, 'dist/bundle-cache-test-'));
    cpSync(BUNDLE, copy, { recursive: true });
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it.each(Object.entries(ENTRIES))('%s: taken by a Node with the flags that process runs with', (entry, flags) => {
    expect(cacheUse(BUNDLE, entry, flags)).toBe('used');
  });

  /** `keepalived-ts -t` of a config through the copy, as bin/keepalived-ts runs it. */
  const checkConfig = () => {
    const conf = join(copy, 'test.conf');
    writeFileSync(conf, 'global_defs {\n  router_id "code cache"\n}\n');
    return spawnSync(process.execPath, [...PARENT_NODE_FLAGS, join(copy, 'keepalived-ts.cjs'), '-t', '-f', conf], { encoding: 'utf8' });
  };

  it('the command checks a config as usual with its cache damaged, replaced, emptied or gone', () => {
    const cache = join(copy, 'keepalived-ts.code.cache');
    const good = readFileSync(cache);
    const damaged = Buffer.from(good);
    for (let i = Math.floor(good.length / 2); i < good.length / 2 + 256; i++) damaged[i]! ^= 0xff;
    const other = readFileSync(join(copy, 'vrrp.code.cache'));
    for (const [what, bytes, use] of [
      ['damaged', damaged, 'rejected'],
      ['of another entry', other, 'stale'],
      ['empty', Buffer.alloc(0), 'stale'],
      ['gone', null, 'absent'],
    ] as const) {
      if (bytes) writeFileSync(cache, bytes);
      else rmSync(cache);
      expect(cacheUse(copy, 'keepalived-ts', PARENT_NODE_FLAGS), what).toBe(use);
      const r = checkConfig();
      expect({ what, status: r.status, stderr: r.stderr }).toEqual({ what, status: 0, stderr: '' });
    }
  });
});
