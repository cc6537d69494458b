/**
 * bgp_announce is ours only: keepalived 2.2.7 must still start on a file that has it. Its
 * `-t` may only complain about the block's own lines (unknown keywords, ignored braces),
 * ours passes, and a real keepalived start on the VRRP over L3 example (in a namespace)
 * runs the instance to MASTER while keepalived-ts on the same file announces.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaleOutLab, scaleOutLabUnavailable, type Director } from './lab.js';

const why = scaleOutLabUnavailable(true);
if (why) console.warn(`test/scale-out/keepalived-compat.test.ts SKIPPED: ${why}`);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = ['keepalived-anycast.conf', 'keepalived-vrrp-l3.conf'].map((f) => join(ROOT, 'examples', 'bgp-announce', f));

/** The 1-based line numbers of the bgp_announce block in `text`. */
function blockLines(text: string): Set<number> {
  const lines = text.split('\n');
  const out = new Set<number>();
  let depth = 0;
  lines.forEach((l, i) => {
    const code = l.replace(/#.*$/, '');
    if (depth === 0 && !/^\s*bgp_announce\b/.test(code)) return;
    out.add(i + 1);
    depth += (code.match(/{/g) ?? []).length - (code.match(/}/g) ?? []).length;
  });
  return out;
}

describe.skipIf(why !== null)('keepalived 2.2.7 on a file with bgp_announce', () => {
  it.each(EXAMPLES)('-t: ours passes, keepalived complains only about the block (%s)', (file) => {
    const ours = spawnSync(process.execPath, [join(ROOT, 'bin', 'keepalived-ts'), '-t', '-f', file], { encoding: 'utf8' });
    // the VRRP over L3 example has no VIP by design (its prefix is announced): -t says so, as
    // keepalived's "at least one is sensible", and exits 5 (the daemon would start); nothing else
    const errors = ours.stderr.split('\n').filter((l) => /: error: /.test(l));
    expect(errors.filter((l) => !/has no usable virtual_ipaddress/.test(l))).toEqual([]);
    expect(ours.status).toBe(errors.length === 0 ? 0 : 5);
    const theirs = spawnSync('keepalived', ['-t', '-f', file], { encoding: 'utf8' });
    const complaints = `${theirs.stdout}${theirs.stderr}`.split('\n').filter((l) => /Line \d+/.test(l));
    const inBlock = blockLines(readFileSync(file, 'utf8'));
    expect(complaints.length).toBeGreaterThan(0);
    const elsewhere = complaints.filter((l) => !inBlock.has(Number(/Line (\d+)/.exec(l)![1])) || !/Unknown keyword|Unexpected '\{'/.test(l));
    expect(elsewhere).toEqual([]);
  });

  describe('a real start, VRRP over L3 example', { timeout: 90_000 }, () => {
    const lab = new ScaleOutLab('ksok');
    let d1: Director;
    beforeAll(async () => {
      await lab.setup(['frr']);
      d1 = lab.directors[0]!;
    });
    afterAll(() => lab.cleanup());

    it('keepalived 2.2.7 starts and becomes MASTER despite the block; keepalived-ts on the same file announces', async () => {
      const text = readFileSync(EXAMPLES[1]!, 'utf8'); // two examples, listed above
      const k = await lab.startDaemon(d1, 'keepalived', text, /Entering (MASTER|BACKUP) STATE/);
      await k.waitLog(/Entering MASTER STATE/, 20_000);
      expect(k.log).toMatch(/Unknown keyword 'bgp_announce'/);
      await k.stop();
      const o = await lab.startDaemon(d1, 'ours', text, /bgp_announce: announcing/);
      expect(execFileSync('ip', ['-n', d1.ns, 'route', 'show', 'proto', '249'], { encoding: 'utf8' })).toContain('10.99.0.1 dev kt-vrrp');
      await o.stop();
    });
  });
});
