import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileOwnedStore, ownedOnly } from './owned.js';

describe('fileOwnedStore', () => {
  it('round-trips, starts empty without a file, and tolerates a torn file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-ce-owned-'));
    try {
      const path = join(dir, 'sub', 'owned.json');
      const store = fileOwnedStore(path);
      expect(store.load()).toEqual(new Set());
      store.save(['b', 'a']);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ services: ['a', 'b'] });
      expect(store.load()).toEqual(new Set(['a', 'b']));
      writeFileSync(path, '{"services": ["a"');
      expect(store.load()).toEqual(new Set());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ownedOnly keeps the owned services of a dump', () => {
    const svc = (port: number) => ({
      service: {
        family: 'inet' as const,
        protocol: 'tcp' as const,
        address: '10.0.0.1',
        port,
        scheduler: 'rr',
        flags: { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false },
        timeout: 0,
        prefix: 32,
        pe: null,
      },
      destinations: [],
    });
    expect(ownedOnly([svc(80), svc(81)], new Set(['tcp:inet:[10.0.0.1]:81'])).map((e) => 'port' in e.service && e.service.port)).toEqual([81]);
  });
});
