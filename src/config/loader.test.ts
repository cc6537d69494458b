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
import type { KeepalivedConfig } from './model.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SAMPLES = '/usr/share/doc/keepalived/samples';
const dirFiles = (dir: string, keep: (f: string) => boolean) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter(keep)
        .sort()
        .map((f) => join(dir, f))
    : [];
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
    writeFileSync(
      file,
      `virtual_server 10.0.0.1 25 {
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
`,
    );
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
  const INSTANCE = (body: string) =>
    `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n${body}\n  virtual_ipaddress {\n    10.0.0.10/24\n  }\n}\n`;

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

  it('leaves out a keyword with a refused value, the default standing; reads the first words of a longer line, as keepalived', () => {
    const { tolerant } = both(INSTANCE('  priority 300\n  state Master\n  advert_int 2 3\n  nopreempt maybe'));
    // keepalived's nopreempt reads no word: `nopreempt maybe` sets it (a warning says so)
    expect(tolerant.config!.vrrpInstances[0]).toMatchObject({ priority: 100, state: 'BACKUP', advertIntMs: 2000, nopreempt: true });
    expect(errors(tolerant).map((d) => [d.code, d.ignored ?? false, d.tolerated ?? false])).toEqual([
      ['bad-argument', true, false],
      ['bad-argument', true, false],
      ['extra-argument', true, true],
    ]);
    expect(tolerant.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.code)).toEqual(['flag-value']);
  });

  it('starts where keepalived logs and goes on: a bad VIP, an undefined track_script, a duplicate instance', () => {
    const cases: [string, (c: KeepalivedConfig) => void][] = [
      [
        INSTANCE('  virtual_ipaddress {\n    10.0.0.300\n  }'),
        (c) => expect(c.vrrpInstances[0]!.virtualIpaddresses.map((v) => v.address)).toEqual(['10.0.0.10']),
      ],
      [INSTANCE('  track_script {\n    nothere\n  }'), (c) => expect(c.vrrpInstances[0]!.trackScripts).toEqual([])],
      [INSTANCE('  track_process {\n    nothere\n  }'), (c) => expect(c.vrrpInstances[0]!.trackProcesses).toEqual([])],
      [
        `${INSTANCE('  priority 90')}${INSTANCE('  priority 80').replace('virtual_router_id 51', 'virtual_router_id 52')}`,
        (c) => expect(c.vrrpInstances.map((i) => i.priority)).toEqual([90]),
      ],
    ];
    for (const [text, check] of cases) {
      const { strict, tolerant } = both(text);
      expect(strict.config, text).toBeNull();
      expect(tolerant.config, text).not.toBeNull();
      check(tolerant.config!);
    }
  });

  it('leaves out a misspelt block, and a block in the wrong place', () => {
    const { tolerant } = both(`${INSTANCE('')}vrrp_instanse VI_2 {\n  virtual_router_id 52\n}\nreal_server 10.0.0.1 80 {\n}\n`);
    expect(tolerant.config!.vrrpInstances.map((i) => i.name)).toEqual(['VI_1']);
    expect(tolerant.config!.virtualServers).toEqual([]);
    expect(errors(tolerant).map((d) => d.code)).toEqual(['unknown-keyword', 'wrong-block']);
  });

  it('still refuses a required keyword whose value was left out: it counts as missing', () => {
    const { file, strict, tolerant } = both('vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n  virtual_ipaddress {\n    10.0.0.10\n  }\n}\n');
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
      `includem ${join(tmp, 'no-such-*.conf')}\n${INSTANCE('')}`, // strict include without a match
      `${INSTANCE('')}${INSTANCE('').replace('VI_1', 'VI_2')}`, // duplicate VRID
      INSTANCE('  priority 90 {\n  }'), // a value keyword with a block
      INSTANCE('  priorty 1').replace('eth0', 'eth9'), // interface not on the host, besides a skippable error
    ];
    for (const text of cases) {
      const { tolerant } = both(text);
      expect(tolerant.config, text).toBeNull();
      expect(
        tolerant.diagnostics.some((d) => d.ignored),
        text,
      ).toBe(false);
    }
  });

  it('reads on past a missing `}` and an undefined $NAME, as keepalived does', () => {
    // keepalived reads the open block to the end of the file, closes it there and starts;
    // an undefined $NAME stays as written (here it makes a word the schema refuses)
    const { file, strict, tolerant } = both(`${INSTANCE('  priority $PRIO\n  advert_int 3').replace(/}\n$/, '')}`);
    expect(strict.config).toBeNull();
    expect(tolerant.config!.vrrpInstances[0]).toMatchObject({ priority: 100, advertIntMs: 3000, virtualIpaddresses: [{ address: '10.0.0.10' }] });
    expect(errors(tolerant).map(formatDiagnostic)).toEqual([
      `${file}:1:20: error: block 'vrrp_instance VI_1' opened here is never closed; keepalived reads it to the end of the file and closes it there`,
      `${file}:4:12: error: macro 'PRIO' is not defined; keepalived keeps it as written`,
      `${file}:4:12: error: \`priority\` expects an integer 1-255, got \`$PRIO\``,
    ]);
    expect(errors(tolerant).map((d) => d.tolerated ?? false)).toEqual([true, true, false]);
  });

  it("refuses, as keepalived's VRRP process, a missing interface it looks up while reading; starts on the others", () => {
    const at = (text: string, present: string[]) => {
      const file = write(text);
      return loadConfig(file, { hostname: 'testhost', configId: 'testhost', tolerant: true, hostInterfaces: new Set(present) });
    };
    const noInterface = (r: ReturnType<typeof loadConfig>) =>
      r.diagnostics.filter((d) => d.code === 'no-interface').map((d) => `${d.pos.line}: ${d.severity}${d.ignored ? ' ignored' : ''}`);
    // the instance's interface, a tracked interface, a VIP's dev: "Non-existent interface specified", exit
    const tracked = INSTANCE('  track_interface {\n    eth9\n  }');
    const vipDev = INSTANCE('').replace('10.0.0.10/24', '10.0.0.10/24 dev eth9');
    for (const text of [INSTANCE(''), tracked, vipDev]) {
      const r = at(text, text === INSTANCE('') ? ['lo', 'eth1'] : ['lo', 'eth0']);
      expect(r.config, text).toBeNull();
      expect(noInterface(r), text).toHaveLength(1);
    }
    // dynamic_interfaces: they may appear later (a warning)
    const dynamic = at(`global_defs {\n  dynamic_interfaces\n}\n${tracked}`, ['lo', 'eth0']);
    expect(dynamic.config).not.toBeNull();
    expect(noInterface(dynamic)).toEqual(['8: warning']);
    // default_interface and the IPVS sync daemon's interface are not looked up while reading
    const later = at(`global_defs {\n  default_interface eth9\n  lvs_sync_daemon eth8\n}\n${INSTANCE('')}`, ['lo', 'eth0']);
    expect(later.config).not.toBeNull();
    expect(noInterface(later)).toEqual(['2: error ignored', '3: error ignored']);
    // no VRRP instance: keepalived's VRRP process does not run
    const lvsOnly = at('global_defs {\n  lvs_sync_daemon eth8\n}\nvirtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.1.1 80 {\n  }\n}\n', ['lo']);
    expect(lvsOnly.config).not.toBeNull();
    // -t (strict) refuses each of them
    expect(
      loadConfig(write(`global_defs {\n  default_interface eth9\n}\n${INSTANCE('')}`), { hostname: 'testhost', hostInterfaces: new Set(['lo', 'eth0']) })
        .config,
    ).toBeNull();
  });

  it("checks the start-up reading against this host's interfaces unless told which", () => {
    const file = write(INSTANCE('').replace('interface eth0', 'interface kt-no-such-if0'));
    expect(loadConfig(file, { hostname: 'testhost', tolerant: true }).config).toBeNull();
    expect(loadConfig(file, { hostname: 'testhost', tolerant: true, hostInterfaces: null }).config).not.toBeNull();
    // the strict reading checks them only when given
    expect(loadConfig(file, { hostname: 'testhost' }).config).not.toBeNull();
  });

  it('changes nothing on a clean config', () => {
    const { strict, tolerant } = both(INSTANCE('  priority 90'));
    expect(tolerant).toEqual(strict);
  });

  it("refuses exactly the broken fixtures keepalived 2.2.7's daemon refuses", () => {
    const dir = join(ROOT, 'test/fixtures/broken');
    const refused = readdirSync(dir)
      .filter((f) => f.endsWith('.conf'))
      .sort()
      .filter((f) => loadConfig(join(dir, f), { tolerant: true, hostname: 'testhost', configId: 'testhost', hostInterfaces: HOST }).config === null);
    // the same verdicts as keepalived 2.2.7's daemon on these files, checked live by
    // test/config/compat.test.ts (value-keyword-with-block: a listed difference there)
    expect(refused).toEqual([
      'block-keyword-without-block.conf',
      'duplicate-vrid.conf',
      'interface-missing.conf',
      'interface-not-on-host.conf',
      'lvs-sync-daemon-instance-undefined.conf',
      'priority-missing-value.conf',
      'unicast-peer-other-family.conf',
      'value-keyword-with-block.conf',
      'vrid-256.conf',
      'vrid-missing.conf',
      'vrrp-script-without-script.conf',
    ]);
  });
});
