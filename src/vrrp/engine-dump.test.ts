import { describe, expect, it } from 'vitest';
import type { InstanceStatus } from './engine.js';
import { formatStateDump, formatStats } from './engine-dump.js';
import { RejectCounter } from './packet.js';

const inst = (o: Partial<InstanceStatus>): InstanceStatus => ({
  name: 'VI_1',
  interface: 'eth0',
  vrid: 51,
  family: 4,
  state: 'BACKUP',
  priority: 90,
  basePriority: 100,
  master: '10.0.0.2',
  source: '10.0.0.1',
  vips: ['10.0.0.100/24'],
  syncGroup: null,
  advertsSent: 3,
  advertsReceived: 40,
  transitions: 2,
  ...o,
});

describe('signal dumps', () => {
  it('USR1: each instance with state, effective and configured priority, master and VIPs', () => {
    const text = formatStateDump([inst({}), inst({ name: 'VI_2', state: 'MASTER', syncGroup: 'G1' })], new Date(0));
    expect(text).toContain(' VRRP Instance = VI_1\n   State = BACKUP\n');
    expect(text).toContain('   Priority = 90 (configured 100)');
    expect(text).toContain('   Master = 10.0.0.2');
    expect(text).toContain('   Virtual IP (1):\n     10.0.0.100/24');
    expect(text).toMatch(/VRRP Instance = VI_2\n   State = MASTER[\s\S]*Master = self\n   Sync group = G1/);
  });

  it('USR2: advert counters per instance and rejections by reason', () => {
    const r = new RejectCounter();
    r.add('bad-ttl');
    r.add('bad-ttl');
    const text = formatStats([inst({})], r);
    expect(text).toContain('VRRP Instance: VI_1\n  Advertisements:\n    Received: 40\n    Sent: 3\n  State transitions: 2');
    expect(text).toContain('  bad-ttl: 2');
    expect(text).toContain('  auth-mismatch: 0');
  });
});
