// The keyword schema covers keepalived's manual: every keyword `man keepalived.conf` shows
// at the start of a syntax line, and that the keepalived binary knows, is in the schema
// (implemented, or accepted as parsed-not-implemented), so a valid keepalived config never
// fails on a keyword.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BLOCKS } from '../../grammar/keywords.js';
import { formatKeywords } from '../cli/keywords.js';

function manText(): string | null {
  const r = spawnSync('man', ['keepalived.conf'], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '200', MANPAGER: 'cat', PAGER: 'cat' } });
  return r.status === 0 && r.stdout.length > 10_000 ? r.stdout.replace(/.\x08/g, '') : null;
}
const man = manText();
const BINARY = '/usr/sbin/keepalived';
const why = !man ? '`man keepalived.conf` is not installed' : !existsSync(BINARY) ? `${BINARY} is not installed` : null;
if (why) console.warn(`schema.test: manual coverage skipped: ${why}`);

/** Words at the start of syntax lines that are not keywords of a checked block. */
const NOT_KEYWORDS = new Set([
  // contents of blocks we accept without checking (routes, rules, BFD, track_process, SSL)
  'scope',
  'advmss',
  'window',
  'bird',
  'hoplimit',
  'reordering',
  'initrwnd',
  'preference',
  'uidrange',
  'blackhole',
  'param_match',
  'quorum_max',
  'fork_delay',
  'terminate_delay',
  'full_command',
  'neighbor_ip',
  'source_ip',
  'min_rx',
  'min_tx',
  'idle_tx',
  'passive',
  'max_hops',
  'password',
  'certificate',
  // prose and example values
  'Keepalived',
  'eth0',
  'virtual',
]);

describe('keyword schema', () => {
  it.skipIf(why !== null)('knows every keyword of man keepalived.conf that keepalived knows', () => {
    const strings = new Set(spawnSync('strings', [BINARY], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout.split('\n'));
    const known = new Set<string>();
    for (const b of BLOCKS.values()) for (const k of b.keywords) [k.name, ...(k.aliases ?? [])].forEach((n) => known.add(n));
    const lines = man!.split('\n');
    const start = lines.findIndex((l) => l.startsWith('GLOBAL CONFIGURATION'));
    const end = lines.findIndex((l) => l.startsWith('ADVANCED CONFIGURATION'));
    expect(start).toBeGreaterThan(0);
    const missing = new Set<string>();
    for (const l of lines.slice(start, end)) {
      const m = /^\s+([a-zA-Z_][a-zA-Z0-9_-]+)\b/.exec(l);
      if (m && strings.has(m[1]!) && !known.has(m[1]!) && !NOT_KEYWORDS.has(m[1]!)) missing.add(m[1]!);
    }
    expect([...missing]).toEqual([]);
    expect(known.size).toBeGreaterThan(250);
  });

  it('has every sub-block it refers to', () => {
    for (const b of BLOCKS.values()) {
      for (const k of b.keywords) {
        if (k.block && k.block !== 'list' && k.block !== 'any') expect(BLOCKS.has(k.block), `${b.name}.${k.name}`).toBe(true);
      }
    }
  });

  it('prints the block tree with shapes and defaults for --keywords', () => {
    const text = formatKeywords();
    expect(text).toMatch(/^ {2}priority <priority> +# priority: an integer 1-255; default 100$/m);
    expect(text).toMatch(/^ {2}lvs_sched <scheduler> +# scheduler: one of rr\|wrr.*; default wlc; old spelling lb_algo$/m);
    expect(text).toMatch(/^ {4}TCP_CHECK \{ \.\.\. \}/m);
    expect(text).toMatch(/^ {2}enable_snmp_vrrp \.\.\. \(\*\)$/m);
  });
});
