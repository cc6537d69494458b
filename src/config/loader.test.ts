// loadConfig hands each top-level block to the builder as soon as the front end completes
// it; these tests check that this gives exactly what building from the whole syntax tree
// gives (model and diagnostics), on every sample, example and broken fixture.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAndValidate } from './build-pipeline.js';
import { formatDiagnostic, loadConfig } from './index.js';
import { parseConfigFile } from './parser.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SAMPLES = '/usr/share/doc/keepalived/samples';
const dirFiles = (dir: string, keep: (f: string) => boolean) =>
  existsSync(dir) ? readdirSync(dir).filter(keep).sort().map((f) => join(dir, f)) : [];
const files = [
  ...dirFiles(SAMPLES, (f) => f.startsWith('keepalived.conf.')),
  ...dirFiles(join(ROOT, 'examples'), (f) => f.endsWith('.conf')),
  ...dirFiles(join(ROOT, 'test/fixtures/broken'), (f) => f.endsWith('.conf')),
];
const HOST = new Set(['lo', 'eth0', 'eth1']);

const tmp = mkdtempSync(join(tmpdir(), 'kt-cfg-loader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The whole-tree path: parse everything, then build. */
function wholeTree(file: string) {
  const parsed = parseConfigFile(file, { configId: 'testhost' });
  return buildAndValidate(parsed.statements, parsed.files, parsed.diagnostics, 'testhost', HOST);
}

describe('loadConfig building block by block', () => {
  it('has files to compare', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  for (const file of files) {
    it(`matches the whole-tree build on ${file.split('/').slice(-2).join('/')}`, () => {
      const streamed = loadConfig(file, { hostname: 'testhost', configId: 'testhost', hostInterfaces: HOST });
      const whole = wholeTree(file);
      expect(streamed.diagnostics.map(formatDiagnostic)).toEqual(whole.diagnostics.map(formatDiagnostic));
      expect(streamed.config).toEqual(whole.config);
    });
  }

  it('applies a global_defs written after the blocks that read it', () => {
    const file = join(tmp, 'late-globals.conf');
    writeFileSync(file, `virtual_server 10.0.0.1 25 {
  protocol TCP
  real_server 10.0.0.2 25 {
    SMTP_CHECK {
      host {
        connect_ip 10.0.0.2
      }
    }
    SMTP_CHECK {
      helo_name mine
    }
  }
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 5
  virtual_ipaddress {
    10.0.0.9
  }
}
global_defs {
  smtp_helo_name late.example
  vrrp_garp_master_repeat 2
  vrrp_strict
}
`);
    const r = loadConfig(file, { hostname: 'testhost', configId: 'testhost' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const checkers = r.config!.virtualServers[0]!.realServers[0]!.checkers;
    expect(checkers.map((c) => (c as { heloName: string }).heloName)).toEqual(['late.example', 'mine']);
    expect(r.config!.vrrpInstances[0]).toMatchObject({ garpMasterRepeat: 2, strictMode: true, accept: false });
    expect(r.config).toEqual(wholeTree(file).config);
  });
});
