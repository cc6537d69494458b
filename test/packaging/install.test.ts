// Installing as a user would, without the network for Node's headers (HOME is empty, so
// node-gyp has no cache, and nodejs.org is not reachable here):
//  - tools/node-gyp.mjs (this package's install script) builds the addon against the headers of
//    the Node running it when they sit in the official tarball / nvm / node image layout
//    (PREFIX/bin/node beside PREFIX/include/node), with Debian's /usr/include/node hidden;
//  - `npm pack` then `npm install -g` of the tarball (no nodedir given) into a temporary
//    prefix gives a `keepalived-ts` command that answers -v and checks a config, with the
//    man pages.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findNodeDir } from '../../tools/node-headers/find-node-dir.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'kt-pkg-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const skip = (() => {
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) return 'dist/ is not built (npm run build)';
  if (!existsSync('/usr/include/node/node_version.h')) return 'this host has no /usr/include/node to lay out as a Node tarball';
  if (spawnSync('unshare', ['-m', 'true']).status !== 0) return 'unshare -m is not permitted here';
  return null;
})();
if (skip) console.warn(`test/packaging/install.test.ts skipped: ${skip}`);

describe('findNodeDir', () => {
  const headers = (v: string) =>
    `#define NODE_MAJOR_VERSION ${v.split('.')[0]}\n#define NODE_MINOR_VERSION ${v.split('.')[1]}\n#define NODE_PATCH_VERSION ${v.split('.')[2]}\n`;
  it("prefers the running binary's prefix, then /usr, and only headers of the same version", () => {
    const files: Record<string, string> = { '/opt/node/include/node/node_version.h': headers('20.1.2'), '/usr/include/node/node_version.h': headers('20.1.2') };
    const read = (p: string) => {
      if (!(p in files)) throw new Error('ENOENT');
      return files[p]!;
    };
    expect(findNodeDir('/opt/node/bin/node', 'v20.1.2', read as never)).toBe('/opt/node');
    expect(findNodeDir('/home/u/.nvm/versions/node/v20.1.2/bin/node', 'v20.1.2', read as never)).toBe('/usr');
    expect(findNodeDir('/opt/node/bin/node', 'v20.9.9', read as never)).toBeNull();
  });
});

describe.skipIf(skip)('installing without downloading headers', () => {
  it('node-gyp through tools/node-gyp.mjs uses PREFIX/include/node of a tarball-laid Node', () => {
    const prefix = join(work, 'node-v20-linux-x64');
    mkdirSync(join(prefix, 'bin'), { recursive: true });
    cpSync(process.execPath, join(prefix, 'bin', 'node'));
    cpSync('/usr/include/node', join(prefix, 'include', 'node'), { recursive: true });
    const proj = join(work, 'addon');
    mkdirSync(proj);
    cpSync(join(ROOT, 'binding.gyp'), join(proj, 'binding.gyp'));
    cpSync(join(ROOT, 'native'), join(proj, 'native'), { recursive: true });
    const home = join(work, 'home');
    mkdirSync(home);
    // Debian's headers hidden: only the tarball's can be used, and nothing can be fetched
    const script = `mount --bind ${join(work, 'home')} /usr/include/node && cd ${proj} && ${join(prefix, 'bin', 'node')} ${join(ROOT, 'tools/node-gyp.mjs')} rebuild`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
      encoding: 'utf8',
      env: { ...process.env, HOME: home, npm_execpath: '' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`--nodedir=${prefix}`);
    expect(existsSync(join(proj, 'build/Release/keepalived_native.node'))).toBe(true);
    expect(readdirSync(home)).toEqual([]); // no node-gyp cache: nothing was downloaded
  }, 300_000);

  it('npm pack, then npm install -g of the tarball, gives a working keepalived-ts', () => {
    const out = join(work, 'pack');
    mkdirSync(out);
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', out], { cwd: ROOT, stdio: 'ignore' });
    const tgz = join(
      out,
      readdirSync(out).find((f) => f.endsWith('.tgz'))!,
    );
    const listing = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).split('\n');
    // what a user needs, and none of the sources, tests or benches
    expect(listing).toContain('package/bin/keepalived-ts');
    expect(listing).toContain('package/dist/bundle/keepalived-ts.cjs'); // what bin/keepalived-ts runs
    expect(listing).toContain('package/dist/bundle/keepalived-ts.code.cache'); // and its code cache
    expect(listing).toContain('package/man/keepalived-ts.8');
    expect(listing.filter((f) => /^package\/(src|test|bench)\//.test(f) || /^package\/dist\/(test|bench)\//.test(f))).toEqual([]);
    const prefix = join(work, 'prefix');
    const home = join(work, 'home-install');
    mkdirSync(home);
    // no nodedir anywhere (HOME has no .npmrc, none is passed): the bundled
    // tools/node-headers links this Node's headers for node-gyp before the addons build
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k)));
    const r = spawnSync('npm', ['install', '-g', '--offline', '--prefix', prefix, tgz], { encoding: 'utf8', env: { ...env, HOME: home } });
    expect(r.status, r.stderr).toBe(0);
    const bin = join(prefix, 'bin', 'keepalived-ts');
    const v = spawnSync(bin, ['-v'], { encoding: 'utf8' });
    expect(v.stderr.split('\n')[0]).toBe('Keepalived v2.2.7 (01/16,2022)');
    const conf = join(work, 'k.conf');
    writeFileSync(
      conf,
      'global_defs {\n  dynamic_interfaces\n}\nvrrp_instance VI_1 {\n  interface kt-pkg0\n  virtual_router_id 7\n  priority 100\n  virtual_ipaddress {\n    192.0.2.7/32\n  }\n}\n',
    );
    expect(spawnSync(bin, ['-t', '-f', conf], { encoding: 'utf8' }).status).toBe(0);
    writeFileSync(conf, 'vrrp_instance VI_1 {\n  virtual_router_id 300\n}\n');
    const bad = spawnSync(bin, ['-t', '-f', conf], { encoding: 'utf8' });
    // keepalived's -t exit code for a file the daemon would not start: 4
    expect([bad.status, bad.stderr.includes(`${conf}:2:21: error:`)]).toEqual([4, true]);
    expect(existsSync(join(prefix, 'share/man/man8/keepalived-ts.8'))).toBe(true);
  }, 600_000);
});
