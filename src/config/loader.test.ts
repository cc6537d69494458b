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

/** Paths to objects in `x` that are not plain objects or arrays. */
function notPlain(x: unknown, path = '$', out: string[] = []): string[] {
  if (x === null || typeof x !== 'object') return out;
  const proto: unknown = Object.getPrototypeOf(x);
  if (proto !== Object.prototype && proto !== Array.prototype) out.push(path);
  for (const [k, v] of Object.entries(x)) notPlain(v, `${path}.${k}`, out);
  return out;
}

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
      // plain data only (it crosses to workers and into -d): no syntax-tree object, whose
      // position is computed on access, leaks into the model
      expect(notPlain(streamed.config)).toEqual([]);
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

describe('tolerant load (keepalived start-up reading)', () => {
  let n = 0;
  const write = (text: string) => {
    const file = join(tmp, `tolerant-${n++}.conf`);
    writeFileSync(file, text);
    return file;
  };
  const both = (text: string) => {
    const file = write(text);
    const opts = { hostname: 'testhost', configId: 'testhost', hostInterfaces: HOST };
    return { file, strict: loadConfig(file, opts), tolerant: loadConfig(file, { ...opts, tolerant: true }) };
  };
  const errors = (r: ReturnType<typeof loadConfig>) => r.diagnostics.filter((d) => d.severity === 'error');
  const INSTANCE = (body: string) => `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n${body}\n  virtual_ipaddress {\n    10.0.0.10/24\n  }\n}\n`;

  it('leaves out an unknown keyword, reports it with a suggestion, and builds the rest', () => {
    const { file, strict, tolerant } = both(INSTANCE('  priorty 150\n  advert_int 2'));
    expect(strict.config).toBeNull();
    expect(tolerant.config).not.toBeNull();
    expect(tolerant.config!.vrrpInstances[0]).toMatchObject({ priority: 100, advertIntMs: 2000, virtualRouterId: 51 });
    // same diagnostic, same words, as -t gives, marked as skipped
    expect(errors(tolerant).map(formatDiagnostic)).toEqual([`${file}:4:3: error: unknown keyword \`priorty\` in vrrp_instance; did you mean \`priority\`?`]);
    expect(errors(tolerant).map(formatDiagnostic)).toEqual(errors(strict).map(formatDiagnostic));
    expect(errors(tolerant)[0]!.ignored).toBe(true);
    expect(errors(strict)[0]!.ignored).toBeUndefined();
  });

  it('leaves out a keyword with a refused value, the default standing', () => {
    const { tolerant } = both(INSTANCE('  priority 300\n  state Master\n  advert_int 2 3\n  nopreempt maybe'));
    expect(tolerant.config!.vrrpInstances[0]).toMatchObject({ priority: 100, state: 'BACKUP', advertIntMs: 1000, nopreempt: false });
    expect(errors(tolerant).map((d) => [d.code, d.ignored])).toEqual([
      ['bad-argument', true], ['bad-argument', true], ['extra-argument', true], ['bad-argument', true],
    ]);
  });

  it('leaves out a misspelt block, and a block in the wrong place', () => {
    const { tolerant } = both(`${INSTANCE('')}vrrp_instanse VI_2 {\n  virtual_router_id 52\n}\nreal_server 10.0.0.1 80 {\n}\n`);
    expect(tolerant.config!.vrrpInstances.map((i) => i.name)).toEqual(['VI_1']);
    expect(tolerant.config!.virtualServers).toEqual([]);
    expect(errors(tolerant).map((d) => d.code)).toEqual(['unknown-keyword', 'wrong-block']);
  });

  it('still refuses a required keyword whose value was left out: it counts as missing', () => {
    const { file, strict, tolerant } = both('vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n}\n');
    expect(strict.config).toBeNull();
    expect(errors(strict).map((d) => d.code)).toEqual(['bad-argument']);
    expect(tolerant.config).toBeNull();
    expect(errors(tolerant).map(formatDiagnostic)).toEqual([
      `${file}:1:1: error: vrrp_instance VI_1 has no \`virtual_router_id\` (required, 1-255)`,
      `${file}:3:21: error: \`virtual_router_id\` expects an integer 1-255, got \`300\``,
    ]);
  });

  it('still refuses structural errors, objects refused as a whole and failed cross-checks', () => {
    const cases = [
      INSTANCE('  priority 90').replace(/}\n$/, ''), // unclosed brace
      `includem ${join(tmp, 'no-such-*.conf')}\n${INSTANCE('')}`, // strict include without a match
      INSTANCE('  virtual_ipaddress {\n    10.0.0.300\n  }'), // a VIP refused
      `${INSTANCE('')}${INSTANCE('').replace('VI_1', 'VI_2')}`, // duplicate VRID
      INSTANCE('  track_script {\n    nothere\n  }'), // undefined reference
      INSTANCE('  priority 90 {\n  }'), // a value keyword with a block
      INSTANCE('  priorty 1').replace('eth0', 'eth9'), // interface not on the host, besides a skippable error
    ];
    for (const text of cases) {
      const { tolerant } = both(text);
      expect(tolerant.config, text).toBeNull();
      expect(tolerant.diagnostics.some((d) => d.ignored), text).toBe(false);
    }
  });

  it('changes nothing on a clean config', () => {
    const { strict, tolerant } = both(INSTANCE('  priority 90'));
    expect(tolerant).toEqual(strict);
  });

  it('builds exactly the broken fixtures whose only errors are skippable statements', () => {
    const dir = join(ROOT, 'test/fixtures/broken');
    const built = readdirSync(dir).filter((f) => f.endsWith('.conf')).sort().filter((f) =>
      loadConfig(join(dir, f), { tolerant: true, hostname: 'testhost', configId: 'testhost', hostInterfaces: HOST }).config !== null);
    expect(built).toEqual([
      'advert-int-0.conf', 'flag-bad-bool.conf', 'mcast-group4-is-ipv6.conf', 'mcast-src-ip-bad.conf',
      'misspelt-block-vrrp-instanse.conf', 'nb-get-retry-in-tcp-check.conf', 'priority-0.conf', 'priority-300.conf',
      'priority-extra-value.conf', 'priority-missing-value.conf', 'protocol-unknown.conf', 'real-server-at-top-level.conf',
      'real-server-port-99999.conf', 'real-server-weight-negative.conf', 'scheduler-unknown.conf',
      'smtp-server-port-99999.conf', 'state-capitalised.conf', 'sync-group-members-without-group.conf',
      'unknown-keyword-priorty.conf', 'vrid-in-global-defs.conf',
    ]);
  });
});
