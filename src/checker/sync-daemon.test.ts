import { describe, expect, it } from 'vitest';
import { FakeIpvs } from '../../test/checker/fake-ipvs.js';
import type { LvsSyncDaemon } from '../config/model.js';
import { createLogger } from '../log/logger.js';
import { SyncDaemonControl, instanceIsMaster, syncDaemonSpec, wantedSyncDaemons } from './sync-daemon.js';

const lsd = (over: Partial<LvsSyncDaemon> = {}): LvsSyncDaemon => ({
  interface: 'eth1',
  instance: '',
  syncId: 7,
  maxlen: null,
  port: 8848,
  ttl: null,
  group: null,
  ...over,
});
const vip = (address: string) => ({ address }) as never;

describe('lvs_sync_daemon', () => {
  it('without an instance both daemons run; with one, master while it is MASTER, else backup', () => {
    expect(wantedSyncDaemons(null, true)).toEqual([]);
    expect(wantedSyncDaemons(lsd(), false)).toEqual(['master', 'backup']);
    expect(wantedSyncDaemons(lsd({ instance: 'VI_1' }), true)).toEqual(['master']);
    expect(wantedSyncDaemons(lsd({ instance: 'VI_1' }), false)).toEqual(['backup']);
  });

  it('an instance is MASTER here when all its VIPs are on this host', () => {
    const inst = { virtualIpaddresses: [vip('10.0.0.1'), vip('10.0.0.2')] };
    expect(instanceIsMaster(inst, (a) => a === '10.0.0.1')).toBe(false);
    expect(instanceIsMaster(inst, () => true)).toBe(true);
    expect(instanceIsMaster({ virtualIpaddresses: [] }, () => true)).toBe(false);
    expect(instanceIsMaster(undefined, () => true)).toBe(false);
  });

  it("passes the model's parameters to the kernel, 0 for the kernel defaults", () => {
    expect(syncDaemonSpec(lsd({ group: '239.1.1.1', maxlen: 1400 }), 'backup')).toEqual({
      state: 'backup',
      interface: 'eth1',
      syncId: 7,
      maxLen: 1400,
      group: '239.1.1.1',
      port: 8848,
      ttl: 0,
    });
  });

  it('control: clears leftovers once, follows role changes with one stop and one start, restarts on new parameters, stops all', async () => {
    const ipvs = new FakeIpvs();
    ipvs.daemons.set('master', syncDaemonSpec(lsd({ syncId: 1 }), 'master')); // left by a checker that died
    const c = new SyncDaemonControl(ipvs, createLogger({ proc: 'checker', write: () => {} }));
    await c.apply(lsd({ instance: 'VI_1' }), ['backup']);
    expect([...ipvs.daemons.keys()]).toEqual(['backup']);
    expect(ipvs.log).toEqual(['stop-daemon master', 'start-daemon backup eth1 id 7']);
    ipvs.log = [];
    await c.apply(lsd({ instance: 'VI_1' }), ['master']);
    expect(ipvs.log).toEqual(['stop-daemon backup', 'start-daemon master eth1 id 7']);
    ipvs.log = [];
    await c.apply(lsd({ instance: 'VI_1' }), ['master']);
    expect(ipvs.log).toEqual([]);
    await c.apply(lsd({ instance: 'VI_1', syncId: 9 }), ['master']);
    expect(ipvs.log).toEqual(['stop-daemon master', 'start-daemon master eth1 id 9']);
    await c.stopAll();
    expect(ipvs.daemons.size).toBe(0);
    expect(c.states()).toEqual([]);
  });

  it('a kernel refusing a start is logged, not thrown', async () => {
    const ipvs = new FakeIpvs();
    ipvs.startDaemon = () => Promise.reject(Object.assign(new Error('ENODEV no such device'), { code: 'ENODEV' }));
    const lines: string[] = [];
    const c = new SyncDaemonControl(ipvs, createLogger({ proc: 'checker', write: (l) => lines.push(l) }));
    await c.apply(lsd(), ['master', 'backup']);
    expect(c.states()).toEqual([]);
    expect(lines.filter((l) => l.includes('cannot start the IPVS sync daemon'))).toHaveLength(2);
  });
});
