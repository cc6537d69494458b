// Broken configurations: each fixture in test/fixtures/broken ends with `# expect:` lines
// giving every error keepalived-ts must report for it (line:column and message, in order).
// The whole list must match exactly: no missing error, no extra one, no crash.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadConfig } from '../../src/config/index.js';

const DIR = resolve(import.meta.dirname, '../fixtures/broken');
const fixtures = readdirSync(DIR)
  .filter((f) => f.endsWith('.conf'))
  .sort();
/** The host the fixtures are checked against: interface-not-on-host names eth9. */
const HOST_INTERFACES = new Set(['lo', 'eth0', 'eth1']);

function expectations(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('# expect: '))
    .map((l) => `${file}:${l.slice('# expect: '.length)}`);
}

describe('broken configurations', () => {
  it('has at least 40 fixtures, each with expectations', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
    for (const f of fixtures) expect(expectations(join(DIR, f)).length, f).toBeGreaterThan(0);
  });

  for (const f of fixtures) {
    it(f.replace(/\.conf$/, ''), () => {
      const file = join(DIR, f);
      const r = loadConfig(file, { hostInterfaces: HOST_INTERFACES, hostname: 'testhost', configId: 'testhost' });
      expect(r.config).toBeNull();
      const errors = r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      expect(errors).toEqual(expectations(file));
    });
  }
});

describe('config file itself', () => {
  it('reports a missing config file as an error (keepalived exits 0 there)', () => {
    const r = loadConfig(join(DIR, 'no-such.conf'), { hostInterfaces: HOST_INTERFACES });
    expect(r.config).toBeNull();
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `${join(DIR, 'no-such.conf')}:0:0: error: configuration file \`${join(DIR, 'no-such.conf')}\` does not exist or is not a file`,
    ]);
  });
});
