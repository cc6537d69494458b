// Drop-in on real configs: every file of test/fixtures/corpus (keepalived.conf files from
// public projects, sources in its SOURCES), test/fixtures/compat (one construct of issue 12
// each) and test/fixtures/broken, run by keepalived 2.2.7 and by keepalived-ts in the same
// kind of network namespace (see compat-harness.ts). keepalived's verdict is taken live:
// - our VRRP daemon comes up exactly where keepalived's does, with the same instances;
// - our checker accepts the virtual servers exactly where keepalived's does;
// - our `-t` reports something at every line keepalived's `-t` logs a problem for.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { netnsUnavailable } from './netns.js';
import { KEEPALIVED, blockSpans, compareOnFile, inBatches, keepalivedLineMessages, ourLines, type CompatRun } from './compat-harness.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures');
const list = (dir: string) => readdirSync(join(FIXTURES, dir)).filter((f) => f.endsWith('.conf')).sort().map((f) => join(FIXTURES, dir, f));
const corpus = list('corpus');
const files = [...corpus, ...list('compat'), ...list('broken')];

const why = netnsUnavailable()
  ?? (existsSync(KEEPALIVED) ? null : `keepalived 2.2.7 (${KEEPALIVED}) is not installed`)
  ?? (existsSync(join(ROOT, 'dist/src/cli/main.js')) ? null : 'dist/ is not built (npm run build)');
if (why) console.warn(`compat.test: skipped: ${why}`);

/**
 * keepalived messages at a line that are not about what is written there, with why ours
 * need not point at that line.
 */
const NOT_ABOUT_THE_LINE: [RegExp, string][] = [
  // the end of a block: keepalived logs the whole instance's checks at its closing line
  [/No VIP specified; at least one is sensible/, 'a remark on the instance as a whole, logged at its last line'],
];

const results = new Map<string, CompatRun>();

describe.skipIf(why !== null)('keepalived 2.2.7 and keepalived-ts on the same files', () => {
  beforeAll(async () => {
    const runs = await inBatches(files, 6, compareOnFile);
    for (const r of runs) results.set(r.file, r);
  }, 900_000);

  it('has at least 60 real configs, each naming its source', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    const sources = readFileSync(join(FIXTURES, 'corpus/SOURCES'), 'utf8');
    for (const f of corpus) {
      const name = f.split('/').pop()!;
      expect(readFileSync(f, 'utf8')).toMatch(/^# corpus: \S+\/\S+ \S+ \(commit [0-9a-f]{12}\)\n/);
      expect(sources).toContain(`${name}\t`);
    }
  });

  for (const file of files) {
    const name = file.slice(FIXTURES.length + 1);
    it(name, () => {
      const r = results.get(file)!;
      if (r.theirs.vrrp) {
        expect({ up: r.ours.vrrp!.up }, `VRRP daemon start\n--- keepalived:\n${r.theirs.vrrp.log.slice(-3000)}\n--- ours:\n${r.ours.vrrp!.log.slice(-3000)}`).toEqual({ up: r.theirs.vrrp.up });
        if (r.theirs.vrrp.up) expect(r.ours.vrrp!.instances, 'the instances that run').toEqual(r.theirs.vrrp.instances);
      }
      if (r.theirs.checker !== null) expect(r.ours.checker, 'checker accepts the virtual servers').toBe(r.theirs.checker);
      // every line keepalived -t logs a problem at, ours -t reports at too
      const text = readFileSync(file, 'utf8');
      const ours = ourLines(r.ours.testOutput, file);
      const spans = blockSpans(text);
      const covered = (n: number) => ours.has(n) || [...ours].some((o) => (spans.get(o) ?? o) >= n && o < n);
      const missed = keepalivedLineMessages(r.theirs.testOutput, file)
        .filter(([n, msg]) => !covered(n) && !NOT_ABOUT_THE_LINE.some(([re]) => re.test(msg)));
      expect(missed, `keepalived -t:\n${r.theirs.testOutput}\n--- ours -t:\n${r.ours.testOutput}`).toEqual([]);
    });
  }
});
