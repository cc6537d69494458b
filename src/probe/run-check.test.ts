// The on-demand checkers: a fresh Node process (compiled dist/) shows which packages are
// loaded, since a test runner's own module graph would hide it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DIST = new URL('../../dist/src/probe/run-check.js', import.meta.url).pathname;
const ROOT = new URL('../../package.json', import.meta.url).pathname;

describe('runCheck loads what a config uses', () => {
  it('no HTTP client package for HTTP_GET/SSL_GET, dns-packet only for DNS_CHECK once preloadCheckers sees it', () => {
    if (!existsSync(DIST)) throw new Error('run `npm run build` first (npm test does)');
    const script = `
      import { createRequire } from 'node:module';
      const req = createRequire(${JSON.stringify(ROOT)});
      const { preloadCheckers } = await import(${JSON.stringify(DIST)});
      const loaded = () => ['undici', 'dns-packet'].filter((p) => Object.keys(req.cache).some((k) => k.includes('/node_modules/' + p + '/')));
      const cfg = (type) => ({ virtualServers: [{ realServers: [{ checkers: [{ type }] }] }] });
      const r = { start: loaded() };
      await preloadCheckers(cfg('TCP_CHECK')); r.tcp = loaded();
      await preloadCheckers(cfg('SSL_GET')); r.ssl = loaded();
      await preloadCheckers(cfg('DNS_CHECK')); r.dns = loaded();
      console.log(JSON.stringify(r));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    expect(out).toEqual({ start: [], tcp: [], ssl: [], dns: ['dns-packet'] });
  });
});
