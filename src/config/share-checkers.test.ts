import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './index.js';
import type { KeepalivedConfig } from './model.js';
import { shareIdenticalCheckers } from './share-checkers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'kt-share-checkers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function load(text: string): KeepalivedConfig {
  const file = join(tmp, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, text);
  const r = loadConfig(file, { hostname: 'test' });
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.config;
}

/** The model as values: what sharing must not change (positions aside). */
const values = (c: unknown): string => JSON.stringify(c, (k, v: unknown) => (k === 'pos' ? undefined : v));

const rs = (addr: string, checkers: string) => `  real_server ${addr} 80 {\n    weight 1\n${checkers}  }\n`;
const tcp = (timeout = 3) => `    TCP_CHECK {\n      connect_timeout ${timeout}\n    }\n`;
const http = (digest: string) => `    HTTP_GET {\n      url {\n        path /\n        digest ${digest}\n      }\n    }\n`;
const vs = (body: string) => `virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  protocol TCP\n${body}}\n`;

describe('shareIdenticalCheckers', () => {
  it('gives real servers with checker blocks written alike one checker object and one list', () => {
    const cfg = load(vs(rs('10.1.0.1', tcp()) + rs('10.1.0.2', tcp()) + rs('10.1.0.3', tcp(5)) + rs('10.1.0.4', tcp())));
    const [a, b, c, d] = cfg.virtualServers[0]!.realServers;
    const firstPos = a!.checkers[0]!.pos;
    expect(b!.checkers[0]).not.toBe(a!.checkers[0]);
    expect(shareIdenticalCheckers(cfg)).toBe(2);
    expect(b!.checkers).toBe(a!.checkers);
    expect(d!.checkers).toBe(a!.checkers);
    expect(c!.checkers).not.toBe(a!.checkers); // connect_timeout 5
    expect(c!.checkers[0]!.connectTimeoutMs).toBe(5000);
    expect(a!.checkers[0]!.pos).toEqual(firstPos); // the first block written so
  });

  it('shares across virtual servers, and shares checkers of lists that differ', () => {
    const both = tcp() + http('0123456789abcdef0123456789abcdef');
    const cfg = load(vs(rs('10.1.0.1', both) + rs('10.1.0.2', tcp())) + vs(rs('10.1.0.1', both)).replace('80 {', '81 {'));
    const [one, two] = cfg.virtualServers;
    shareIdenticalCheckers(cfg);
    expect(two!.realServers[0]!.checkers).toBe(one!.realServers[0]!.checkers);
    expect(one!.realServers[1]!.checkers).not.toBe(one!.realServers[0]!.checkers);
    expect(one!.realServers[1]!.checkers[0]).toBe(one!.realServers[0]!.checkers[0]);
  });

  it('keeps checkers apart that differ only deep inside (a url digest)', () => {
    const cfg = load(vs(rs('10.1.0.1', http('0123456789abcdef0123456789abcdef')) + rs('10.1.0.2', http('fedcba9876543210fedcba9876543210'))));
    expect(shareIdenticalCheckers(cfg)).toBe(2);
    const [a, b] = cfg.virtualServers[0]!.realServers;
    expect(a!.checkers[0]).not.toBe(b!.checkers[0]);
  });

  it('changes no value of any sample or example config', () => {
    const dirs = ['/usr/share/doc/keepalived/samples', join(ROOT, 'examples')].filter(existsSync);
    const files = dirs.flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.includes('keepalived.conf') || f.endsWith('.conf'))
        .map((f) => join(d, f)),
    );
    expect(files.length).toBeGreaterThan(5);
    let checked = 0;
    for (const file of files) {
      const cfg = loadConfig(file, { hostname: 'test' }).config;
      if (!cfg) continue;
      const before = values(cfg);
      shareIdenticalCheckers(cfg);
      expect(values(cfg), file).toBe(before);
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });
});
