import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { createMachine, isLowerPriorityRival, step, type InstanceMachine, type InstanceSpec, type TimerName, type VrrpEvent } from './fsm.js';
import { advertDestinations, encodeParamsFromConfig, expectationsFromConfig, instanceSpecFromConfig } from './instance-spec.js';
import { decodeIpv4ForInstance, decodeIpv6ForInstance, encodeAdvert, encodeAhDatagram, encodeIpv4Datagram, type VrrpAdvert } from './packet.js';
import { actionText, specWith } from './replay.js';
import { applyScriptResult, initialScriptCounter, type ScriptCounter } from './script-status.js';
import { createGroup, stepGroup } from './sync-group.js';
import { masterDownMs, skewMs } from './timers.js';
import { computeEffectivePriority, emptyObservations, type TrackingSpec } from './tracking.js';

describe('timer arithmetic', () => {
  it('v2 skew is (256 - prio)/256 s whatever the interval', () => {
    expect(skewMs(2, 100, 1000)).toBe(609.375);
    expect(skewMs(2, 100, 3000)).toBe(609.375);
    expect(masterDownMs(2, 100, 1000)).toBe(3609.375);
    expect(masterDownMs(2, 150, 1000)).toBe(3414.0625);
    expect(skewMs(2, 255, 1000)).toBe(3.90625);
  });
  it('v3 skew scales with the master interval', () => {
    expect(skewMs(3, 100, 100)).toBe(60.9375);
    expect(masterDownMs(3, 100, 100)).toBe(360.9375);
    expect(masterDownMs(3, 100, 1000)).toBe(3609.375);
    expect(masterDownMs(3, 254, 20)).toBe(60.15625);
  });
});

describe('vrrp_script rise/fall', () => {
  const feed = (rf: { rise: number; fall: number; initFail: boolean }, results: boolean[]) => {
    let c: ScriptCounter = initialScriptCounter(rf);
    const statuses: string[] = [];
    for (const r of results) {
      c = applyScriptResult(c, r, rf).next;
      statuses.push(c.status);
    }
    return statuses;
  };
  it('one result decides an undecided script', () => {
    expect(feed({ rise: 3, fall: 2, initFail: false }, [true])).toEqual(['good']);
    expect(feed({ rise: 3, fall: 2, initFail: false }, [false])).toEqual(['bad']);
  });
  it('good needs `fall` consecutive failures to go bad, bad needs `rise` successes', () => {
    const rf = { rise: 3, fall: 2, initFail: false };
    expect(feed(rf, [true, false, true, false, false, true, true, false, true, true, true])).toEqual([
      'good',
      'good',
      'good',
      'good',
      'bad',
      'bad',
      'bad',
      'bad',
      'bad',
      'bad',
      'good',
    ]);
  });
  it('init_fail starts bad and needs rise successes', () => {
    expect(feed({ rise: 2, fall: 1, initFail: true }, [true, true, false])).toEqual(['bad', 'good', 'bad']);
  });
  it('reports a change only when the status changes', () => {
    const rf = { rise: 1, fall: 1, initFail: false };
    const a = applyScriptResult(initialScriptCounter(rf), true, rf);
    expect(a.changedTo).toBe('good');
    expect(applyScriptResult(a.next, true, rf).changedTo).toBeNull();
    expect(applyScriptResult(a.next, false, rf).changedTo).toBe('bad');
  });
  it('property: status is always good iff counter >= rise, counter stays in 0..rise+fall-1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.boolean(), { maxLength: 40 }), (rise, fall, rs) => {
        const rf = { rise, fall, initFail: false };
        let c = initialScriptCounter(rf);
        for (const r of rs) {
          c = applyScriptResult(c, r, rf).next;
          if (c.counter < 0 || c.counter > rise + fall - 1) return false;
          if ((c.status === 'good') !== c.counter >= rise) return false;
        }
        return true;
      }),
    );
  });
});

describe('effective priority from tracking', () => {
  const spec = (over: Partial<TrackingSpec>): TrackingSpec => ({ interfaces: [], scripts: [], files: [], processes: [], ...over });
  const obs = () => emptyObservations();
  it('positive weight adds while up, negative subtracts while down; reverse flips', () => {
    const s = spec({
      interfaces: [
        { name: 'a', weight: 10, reverse: false },
        { name: 'b', weight: -20, reverse: false },
        { name: 'c', weight: 5, reverse: true },
        { name: 'd', weight: -7, reverse: true },
      ],
    });
    const o = obs();
    expect(computeEffectivePriority(100, s, o).priority).toBe(100 + 10 - 5);
    o.interfaces = { a: false, b: false, c: false, d: false };
    expect(computeEffectivePriority(100, s, o).priority).toBe(100 - 20 + 7);
  });
  it('weight 0 faults on failure, and with reverse on success', () => {
    const s = spec({
      scripts: [
        { name: 's', weight: 0, reverse: false },
        { name: 'r', weight: 0, reverse: true },
      ],
    });
    const o = obs();
    o.scripts = { s: 'good', r: 'bad' };
    expect(computeEffectivePriority(100, s, o)).toMatchObject({ fault: false, pending: false });
    o.scripts = { s: 'bad', r: 'bad' };
    expect(computeEffectivePriority(100, s, o)).toMatchObject({ fault: true, faultBy: ['script s'] });
    o.scripts = { s: 'good', r: 'good' };
    expect(computeEffectivePriority(100, s, o)).toMatchObject({ fault: true, faultBy: ['script r'] });
  });
  it('a script without a result holds the instance back (pending)', () => {
    const s = spec({ scripts: [{ name: 's', weight: 10, reverse: false }] });
    expect(computeEffectivePriority(100, s, obs())).toMatchObject({ pending: true, priority: 100 });
  });
  it('track_file: value x weight; weight 0 faults on non-zero; below -253 faults', () => {
    const s = spec({
      files: [
        { name: 'f', weight: 2, reverse: false },
        { name: 'z', weight: 0, reverse: false },
      ],
    });
    const o = obs();
    o.files = { f: -10, z: 0 };
    expect(computeEffectivePriority(100, s, o)).toMatchObject({ priority: 80, fault: false });
    o.files = { f: -127, z: 0 };
    expect(computeEffectivePriority(100, s, o)).toMatchObject({ fault: true, faultBy: ['file f'] });
    o.files = { f: 0, z: 1 };
    expect(computeEffectivePriority(100, s, o)).toMatchObject({ fault: true, faultBy: ['file z'] });
  });
  it('clamps to 1..254, and never changes an address owner', () => {
    const s = spec({
      interfaces: [
        { name: 'a', weight: 200, reverse: false },
        { name: 'b', weight: -250, reverse: false },
      ],
    });
    const o = obs();
    expect(computeEffectivePriority(100, s, o).priority).toBe(254); // 100 + 200
    o.interfaces = { a: false, b: false };
    expect(computeEffectivePriority(100, s, o).priority).toBe(1);
    expect(computeEffectivePriority(255, s, o).priority).toBe(255);
  });
});

// ---------------------------------------------------------------------------------------
// Invariants over random event sequences

const events: fc.Arbitrary<VrrpEvent> = fc.oneof(
  fc.constant<VrrpEvent>({ type: 'start' }),
  fc.constant<VrrpEvent>({ type: 'shutdown' }),
  fc.constantFrom<TimerName>('master-down', 'advert', 'garp-delay', 'garp-refresh', 'garp-lower-prio').map((name): VrrpEvent => ({ type: 'timer', name })),
  fc.record({ p: fc.integer({ min: 0, max: 255 }), src: fc.constantFrom('10.0.0.0', '10.0.0.2', '9.0.0.1') }).map(({ p, src }): VrrpEvent => ({
    type: 'advert',
    src,
    advert: { version: 2, family: 4, vrid: 51, priority: p, advertIntMs: 1000, authType: 0, authData: null, addresses: ['10.0.0.100'], checksum: 0 },
  })),
  fc.record({ name: fc.constantFrom('eth0', 'eth1'), up: fc.boolean() }).map((x): VrrpEvent => ({ type: 'interface', ...x })),
  fc.record({ name: fc.constant('chk'), status: fc.constantFrom('good' as const, 'bad' as const) }).map((x): VrrpEvent => ({ type: 'script', ...x })),
  fc.integer({ min: 1, max: 255 }).map((p): VrrpEvent => ({ type: 'priority', basePriority: p })),
  fc.constant<VrrpEvent>({ type: 'deleted-behind-back', what: 'virtual route 10.9.0.0/24' }),
);

describe('state machine invariants (random event sequences)', () => {
  it('VIPs are held exactly while MASTER; adverts only as or when leaving MASTER; deadlines never in the past', () => {
    const spec = specWith({
      tracking: {
        interfaces: [
          { name: 'eth0', weight: 0, reverse: false },
          { name: 'eth1', weight: -30, reverse: false },
        ],
        scripts: [{ name: 'chk', weight: 0, reverse: false }],
        files: [],
        processes: [],
      },
      garp: { refreshMs: 7000, refreshRepeat: 1, masterDelayMs: 5000, masterRepeat: 5, lowerPrioDelayMs: 3000, lowerPrioRepeat: 2, intervalMs: 0 },
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(events, fc.integer({ min: 0, max: 5000 })), { maxLength: 60 }), (seq) => {
        let m: InstanceMachine = createMachine(spec);
        let now = 0;
        let vips = false;
        for (const [ev, dt] of seq) {
          now += dt;
          const before = m.state;
          const r = step(m, ev, now);
          for (const a of r.actions) {
            if (a.type === 'add-vips') {
              if (vips) return false;
              vips = true;
            }
            if (a.type === 'remove-vips') {
              if (!vips) return false;
              vips = false;
            }
            if (a.type === 'arm-timer' && a.at < now) return false;
            if (a.type === 'send-advert' && a.priority > 0 && r.machine.state !== 'MASTER' && before !== 'MASTER') return false;
            if (a.type === 'send-advert' && a.priority === 0 && before !== 'MASTER') return false;
          }
          m = r.machine;
          if (vips !== (m.state === 'MASTER')) return false;
          if (m.state === 'STOP' && before !== 'STOP' && r.actions.some((a) => a.type === 'arm-timer')) return false;
        }
        return true;
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('a sync group settles with every member in the same state after each event', () => {
    const a = specWith({ name: 'A', vrid: 1, notify: { master: null, generic: null } });
    const b = specWith({
      name: 'B',
      vrid: 2,
      interface: 'eth1',
      notify: { master: null, generic: null },
      tracking: { interfaces: [{ name: 'eth1', weight: 0, reverse: false }], scripts: [], files: [], processes: [] },
    });
    const groupEvents = fc.tuple(
      fc.constantFrom('A', 'B', '*'),
      events.filter((e) => e.type !== 'script' && e.type !== 'start' && e.type !== 'shutdown'),
      fc.integer({ min: 0, max: 5000 }),
    );
    fc.assert(
      fc.property(fc.array(groupEvents, { maxLength: 40 }), (seq) => {
        let g = createGroup({ name: 'G', members: ['A', 'B'], notify: { master: null, backup: null, fault: null, stop: null, generic: null } }, [
          createMachine(a),
          createMachine(b),
        ]);
        let now = 0;
        g = stepGroup(g, '*', { type: 'start' }, now).machine;
        for (const [to, ev, dt] of seq) {
          now += dt;
          g = stepGroup(g, to, ev, now).machine;
          const sa = g.members.A!.state;
          const sb = g.members.B!.state;
          if (sa !== sb) return false;
          if (sa === 'FAULT' && g.state !== 'FAULT') return false;
          if (sa === 'MASTER' && g.state !== 'MASTER') return false;
        }
        return true;
      }),
      { numRuns: 1500, seed: 11 },
    );
  });
});

describe("a MASTER's periodic advert", () => {
  const spec = specWith({ basePriority: 100, localAddress: '10.0.0.5' });
  const master = step(step(createMachine(spec), { type: 'start' }, 0).machine, { type: 'timer', name: 'master-down' }, 4000).machine;
  const nextAdvert = (r: ReturnType<typeof step>) => r.actions.find((a) => a.type === 'arm-timer' && a.name === 'advert');

  it('is re-armed a period after when its wake-up was due, not after when it ran, and without a burst after a stall', () => {
    // run 3 ms late, or 2 ms early with the adverts due about together (deadlines.ts)
    expect(nextAdvert(step(master, { type: 'timer', name: 'advert', due: 5000 }, 5003))).toEqual({ type: 'arm-timer', name: 'advert', at: 6000 });
    expect(nextAdvert(step(master, { type: 'timer', name: 'advert', due: 4998 }, 4998))).toEqual({ type: 'arm-timer', name: 'advert', at: 5998 });
    // held for longer than a period: one advert now, the next a period later
    expect(nextAdvert(step(master, { type: 'timer', name: 'advert', due: 5000 }, 6500))).toEqual({ type: 'arm-timer', name: 'advert', at: 7500 });
    // no due time given: a period from now
    expect(nextAdvert(step(master, { type: 'timer', name: 'advert' }, 5003))).toEqual({ type: 'arm-timer', name: 'advert', at: 6003 });
  });
});

describe('a VIP, virtual route or rule deleted behind a MASTER (keepalived set_vrrp_backup)', () => {
  const spec = specWith({ basePriority: 100, localAddress: '10.0.0.5' });
  const master = step(step(createMachine(spec), { type: 'start' }, 0).machine, { type: 'timer', name: 'master-down' }, 4000).machine;
  const lost: VrrpEvent = { type: 'deleted-behind-back', what: 'virtual route 10.9.0.0/24' };

  it('a MASTER sends priority 0, drops to BACKUP and takes MASTER back after the skew time alone', () => {
    expect(master.state).toBe('MASTER');
    const r = step(master, lost, 5000);
    expect(r.machine.state).toBe('BACKUP');
    expect(r.actions.map(actionText)).toEqual(expect.arrayContaining(['advert 0', 'remove-vips', 'state MASTER->BACKUP']));
    const armed = r.actions.find((a) => a.type === 'arm-timer' && a.name === 'master-down');
    expect(armed).toEqual({ type: 'arm-timer', name: 'master-down', at: 5000 + skewMs(2, 100, 1000) });
    const back = step(r.machine, { type: 'timer', name: 'master-down' }, 5000 + skewMs(2, 100, 1000));
    expect(back.machine.state).toBe('MASTER');
    expect(back.actions.some((a) => a.type === 'add-vips')).toBe(true);
  });

  it('in a sync group every MASTER member leaves the same way (priority 0, back after its own skew time), not after Master_Down', () => {
    const a = specWith({ name: 'A', vrid: 1, basePriority: 100, localAddress: '10.0.0.5' });
    const b = specWith({ name: 'B', vrid: 2, basePriority: 200, localAddress: '10.0.0.5' });
    let g = createGroup({ name: 'G', members: ['A', 'B'], notify: { master: null, backup: null, fault: null, stop: null, generic: null } }, [
      createMachine(a),
      createMachine(b),
    ]);
    g = stepGroup(g, '*', { type: 'start' }, 0).machine;
    // the first to time out waits for the other (keepalived takes a group to MASTER together)
    g = stepGroup(g, 'A', { type: 'timer', name: 'master-down' }, 4000).machine;
    g = stepGroup(g, 'B', { type: 'timer', name: 'master-down' }, 4000).machine;
    expect([g.members.A!.state, g.members.B!.state, g.state]).toEqual(['MASTER', 'MASTER', 'MASTER']);
    const r = stepGroup(g, 'A', lost, 5000);
    expect([r.machine.members.A!.state, r.machine.members.B!.state, r.machine.state]).toEqual(['BACKUP', 'BACKUP', 'BACKUP']);
    const of = (name: string) => r.actions.filter((x) => x.instance === name).map((x) => x.action);
    expect(of('B').map(actionText)).toEqual(expect.arrayContaining(['advert 0', 'remove-vips', 'state MASTER->BACKUP']));
    expect(of('A').find((x) => x.type === 'arm-timer' && x.name === 'master-down')).toMatchObject({ at: 5000 + skewMs(2, 100, 1000) });
    expect(of('B').find((x) => x.type === 'arm-timer' && x.name === 'master-down')).toMatchObject({ at: 5000 + skewMs(2, 200, 1000) });
    // back together once the later skew has passed
    let back = stepGroup(r.machine, 'B', { type: 'timer', name: 'master-down' }, 5000 + skewMs(2, 200, 1000)).machine;
    back = stepGroup(back, 'A', { type: 'timer', name: 'master-down' }, 5000 + skewMs(2, 100, 1000)).machine;
    expect([back.members.A!.state, back.members.B!.state, back.state]).toEqual(['MASTER', 'MASTER', 'MASTER']);
  });

  it('is ignored outside MASTER', () => {
    const backup = step(createMachine(spec), { type: 'start' }, 0).machine;
    const r = step(backup, lost, 100);
    expect(r.machine).toEqual(backup);
    expect(r.actions).toEqual([]);
  });
});

describe('lower-priority rivals of a MASTER (keepalived resynchronises its AH counter on them)', () => {
  const spec = specWith({ basePriority: 100, localAddress: '10.0.0.5' });
  let master = createMachine(spec);
  master = step(master, { type: 'start' }, 0).machine;
  master = step(master, { type: 'timer', name: 'master-down' }, 4000).machine;
  const advert = (priority: number): VrrpAdvert => ({
    version: 2,
    family: 4,
    vrid: spec.vrid,
    priority,
    advertIntMs: 1000,
    authType: 0,
    authData: null,
    addresses: spec.vips,
    checksum: 0,
  });
  it('is exactly the advert a MASTER answers and keeps MASTER over', () => {
    expect(master.state).toBe('MASTER');
    const cases: [number, string, boolean][] = [
      [99, '10.0.0.9', true],
      [100, '10.0.0.4', true], // equal priority, lower address
      [100, '10.0.0.6', false], // equal priority, higher address: it wins
      [101, '10.0.0.1', false],
      [0, '10.0.0.1', false], // a master leaving
      [50, '10.0.0.5', false], // our own, looped back
    ];
    for (const [prio, src, lower] of cases) {
      expect(isLowerPriorityRival(master, advert(prio), src), `${prio} from ${src}`).toBe(lower);
      const r = step(master, { type: 'advert', advert: advert(prio), src }, 4100);
      const answered = r.machine.state === 'MASTER' && r.actions.some((a) => a.type === 'send-garp');
      expect(answered, `${prio} from ${src}: answered with a GARP burst as a lower-priority rival`).toBe(lower);
    }
  });
  it('is never true outside MASTER', () => {
    const backup = step(createMachine(spec), { type: 'start' }, 0).machine;
    expect(backup.state).toBe('BACKUP');
    expect(isLowerPriorityRival(backup, advert(1), '10.0.0.9')).toBe(false);
  });
});

describe('an instance a reload removes (keepalived clear_diff_vrrp)', () => {
  const scripts = {
    master: null,
    backup: null,
    fault: { argv: ['/bin/fault'], user: null, group: null },
    stop: { argv: ['/bin/stop'], user: null, group: null },
    generic: { argv: ['/bin/notify'], user: null, group: null },
    deleted: { argv: ['/bin/deleted'], user: null, group: null },
  };
  const running = (spec: InstanceSpec, state: 'BACKUP' | 'MASTER' | 'FAULT') => {
    let m = step(createMachine(spec), { type: 'start' }, 0).machine;
    if (state === 'MASTER') m = step(m, { type: 'timer', name: 'master-down' }, 4000).machine;
    if (state === 'FAULT') m = step(m, { type: 'interface', name: spec.interface, up: false }, 100).machine;
    expect(m.state).toBe(state);
    return m;
  };
  const deleted = (m: InstanceMachine) => {
    const r = step(m, { type: 'delete' }, 5000);
    expect(r.machine.state).toBe('STOP');
    // no transition is logged for it: keepalived logs none
    expect(r.actions.some((a) => a.type === 'state-changed')).toBe(false);
    return r.actions.filter((a) => a.type !== 'cancel-timer').map(actionText);
  };

  it('is announced FAULT by default (the fault script, the generic one, the FIFO): a MASTER first says priority 0 and drops its VIPs', () => {
    const spec = specWith({ notify: scripts });
    expect(deleted(running(spec, 'MASTER'))).toEqual([
      'advert 0',
      'remove-vips',
      'notify /bin/fault',
      'notify /bin/notify INSTANCE VI_1 FAULT 100',
      'deleted FAULT',
    ]);
    expect(deleted(running(spec, 'BACKUP'))).toEqual(['notify /bin/fault', 'notify /bin/notify INSTANCE VI_1 FAULT 100', 'deleted FAULT']);
  });

  it('says nothing for an instance already in FAULT, unless notify_deleted', () => {
    expect(deleted(running(specWith({ notify: scripts }), 'FAULT'))).toEqual([]);
    expect(deleted(running(specWith({ notify: scripts, notifyDeleted: true }), 'FAULT'))).toEqual([
      'notify /bin/deleted',
      'notify /bin/notify INSTANCE VI_1 DELETED 100',
      'deleted DELETED',
    ]);
  });

  it('with notify_deleted is announced DELETED through its own script', () => {
    expect(deleted(running(specWith({ notify: scripts, notifyDeleted: true }), 'BACKUP'))).toEqual([
      'notify /bin/deleted',
      'notify /bin/notify INSTANCE VI_1 DELETED 100',
      'deleted DELETED',
    ]);
  });
});

// ---------------------------------------------------------------------------------------
// Config model -> domain types, end to end with the parser and the captured adverts

describe('converter from the config model', () => {
  const dir = new URL('./testdata/', import.meta.url);
  const captures = JSON.parse(readFileSync(new URL('keepalived-2.2.7-captures.json', dir), 'utf8')) as {
    vrid: number;
    prio0: boolean;
    family: 4 | 6;
    src: string;
    dst: string;
    ipPacketHex?: string;
    payloadHex?: string;
    hopLimit?: number;
  }[];

  for (const conf of ['keepalived-2.2.7-captures-multicast.conf', 'keepalived-2.2.7-captures-unicast.conf', 'keepalived-2.2.7-captures-ah.conf']) {
    it(`${conf}: parsed config -> spec -> encoder gives keepalived's bytes, and the decoder accepts them`, () => {
      const r = loadConfig(new URL(conf, dir).pathname, { hostname: 'test' });
      expect(r.config, JSON.stringify(r.diagnostics)).not.toBeNull();
      const cfg = r.config!;
      let compared = 0;
      for (const inst of cfg.vrrpInstances) {
        const cap = captures.find((c) => c.vrid === inst.virtualRouterId && !c.prio0);
        if (!cap || inst.virtualRouterId === 57) continue; // 57: old_unicast_checksum is not in the model
        const spec = instanceSpecFromConfig(inst, cfg, { localAddress: cap.src });
        const exp = expectationsFromConfig(inst, cfg.globalDefs);
        const dst = advertDestinations(inst, cfg.globalDefs)[0]!;
        expect(dst).toBe(cap.dst);
        const payload = encodeAdvert({ ...encodeParamsFromConfig(inst, { localAddress: cap.src }, dst), priority: spec.basePriority });
        const id = cap.ipPacketHex ? Buffer.from(cap.ipPacketHex, 'hex').readUInt16BE(4) : 0;
        if (cap.family === 6) {
          expect(payload.toString('hex')).toBe(cap.payloadHex);
          expect(decodeIpv6ForInstance(payload, { src: cap.src, dst, hopLimit: 255 }, exp).ok).toBe(true);
        } else if (exp.auth?.type === 'AH') {
          const seq = Buffer.from(cap.ipPacketHex!, 'hex').readUInt32BE(28);
          const whole = encodeAhDatagram(payload, { src: cap.src, dst, id, seq, pass: exp.auth.pass, unicast: inst.unicastPeers.length > 0 });
          expect(whole.toString('hex')).toBe(cap.ipPacketHex);
          expect(decodeIpv4ForInstance(whole, exp).ok).toBe(true);
        } else {
          const whole = encodeIpv4Datagram(payload, { src: cap.src, dst, id });
          expect(whole.toString('hex')).toBe(cap.ipPacketHex);
          expect(decodeIpv4ForInstance(whole, exp).ok).toBe(true);
        }
        compared++;
      }
      // the multicast file also holds V3UNI (54), captured in the unicast run with the same lines
      expect(compared).toBe(conf.includes('multicast') ? 6 : conf.includes('ah') ? 2 : 1);
    });
  }

  it('tracking, notify, garp defaults and sync group membership come through', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kt-vrrp-'));
    try {
      const path = join(tmp, 'k.conf');
      writeFileSync(
        path,
        `
global_defs {
  vrrp_garp_master_delay 7
  vrrp_lower_prio_no_advert
}
vrrp_script chk_web {
  script "/usr/bin/true"
  interval 1
  weight -30
  rise 2
  fall 3
}
vrrp_sync_group G {
  group {
    VI_A
    VI_B
  }
  sync_group_tracking_weight
  track_interface {
    eth9 weight 5
  }
}
vrrp_instance VI_A {
  state BACKUP
  interface eth0
  virtual_router_id 10
  priority 120
  advert_int 1
  track_interface {
    eth1
    eth2 weight -10 reverse
  }
  track_script {
    chk_web
  }
  notify "/bin/notify.sh arg1"
  notify_master /bin/master.sh
  virtual_ipaddress {
    192.0.2.10/24
  }
}
vrrp_instance VI_B {
  interface eth0
  virtual_router_id 11
  priority 100
  dont_track_primary
  virtual_ipaddress {
    2001:db8::10/64
  }
}
`,
      );
      const r = loadConfig(path, { hostname: 'test' });
      expect(r.config, JSON.stringify(r.diagnostics)).not.toBeNull();
      const cfg = r.config!;
      const a = cfg.vrrpInstances.find((i) => i.name === 'VI_A')!;
      const b = cfg.vrrpInstances.find((i) => i.name === 'VI_B')!;
      const sa = instanceSpecFromConfig(a, cfg, { localAddress: '192.0.2.1' });
      const sb = instanceSpecFromConfig(b, cfg, { localAddress: 'FE80::0001' });
      expect(sa.tracking.interfaces).toEqual([
        { name: 'eth0', weight: 0, reverse: false },
        { name: 'eth1', weight: 0, reverse: false },
        { name: 'eth2', weight: -10, reverse: true },
        { name: 'eth9', weight: 5, reverse: false },
      ]);
      expect(sa.tracking.scripts).toEqual([{ name: 'chk_web', weight: -30, reverse: false }]);
      expect(sa.notify.generic?.argv).toEqual(['/bin/notify.sh', 'arg1']);
      expect(sa.notify.master?.argv).toEqual(['/bin/master.sh']);
      expect(sa.garp.masterDelayMs).toBe(7000);
      expect(sa.garp.lowerPrioDelayMs).toBe(7000);
      expect(sa.lowerPrioNoAdvert).toBe(true);
      expect(sa.vips).toEqual(['192.0.2.10']);
      // dont_track_primary: no implicit eth0; the group's eth9 still applies
      expect(sb.tracking.interfaces).toEqual([{ name: 'eth9', weight: 5, reverse: false }]);
      expect(sb.family).toBe(6);
      expect(sb.localAddress).toBe('fe80::1');
      expect(sb.vips).toEqual(['2001:db8::10']);
      // the spec drives a machine: the script must report before VI_A leaves INIT
      let m = createMachine(sa);
      m = step(m, { type: 'start' }, 0).machine;
      expect(m.state).toBe('INIT');
      const r2 = step(m, { type: 'script', name: 'chk_web', status: 'bad' }, 5);
      expect(r2.machine.state).toBe('BACKUP');
      expect(r2.machine.effective.priority).toBe(120 - 30 + 5);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('start of a restarted VRRP child whose VIPs are still on the host (resume)', () => {
  const types = (actions: { type: string }[]) => actions.map((a) => a.type);

  it('takes MASTER back at once: advert, VIPs, GARP; no Master_Down wait', () => {
    const r = step(createMachine(specWith({ basePriority: 200 })), { type: 'start', resume: true }, 0);
    expect(r.machine.state).toBe('MASTER');
    // the advert first, then the transition (keepalived vrrp.c vrrp_state_master_tx)
    expect(r.actions[0]).toEqual({ type: 'send-advert', priority: 200 });
    expect(r.actions[1]).toMatchObject({ type: 'state-changed', from: 'INIT', to: 'MASTER' });
    expect(types(r.actions)).toContain('add-vips');
    expect(types(r.actions)).toContain('send-garp');
    expect(r.actions.some((a) => a.type === 'arm-timer' && a.name === 'master-down')).toBe(false);
  });

  it('without resume (or a plain start) waits Master_Down in BACKUP as keepalived does', () => {
    const r = step(createMachine(specWith({ basePriority: 200 })), { type: 'start' }, 0);
    expect(r.machine.state).toBe('BACKUP');
    expect(r.actions).toContainEqual({ type: 'arm-timer', name: 'master-down', at: masterDownMs(2, 200, 1000) });
  });

  it('honours nopreempt: waits in BACKUP', () => {
    const r = step(createMachine(specWith({ basePriority: 200, nopreempt: true, initialState: 'BACKUP' })), { type: 'start', resume: true }, 0);
    expect(r.machine.state).toBe('BACKUP');
  });

  it('a FAULT at start wins over resume', () => {
    const spec = specWith({
      basePriority: 200,
      tracking: { interfaces: [{ name: 'eth1', weight: 0, reverse: false }], scripts: [], files: [], processes: [] },
    });
    let m = step(createMachine(spec), { type: 'interface', name: 'eth1', up: false }, 0).machine;
    m = step(m, { type: 'start', resume: true }, 0).machine;
    expect(m.state).toBe('FAULT');
  });

  it('kept while tracked scripts hold the instance in INIT, used when they report', () => {
    const spec = specWith({
      basePriority: 200,
      tracking: { interfaces: [], scripts: [{ name: 'chk', weight: 10, reverse: false }], files: [], processes: [] },
    });
    let r = step(createMachine(spec), { type: 'start', resume: true }, 0);
    expect(r.machine.state).toBe('INIT');
    r = step(r.machine, { type: 'script', name: 'chk', status: 'good' }, 1500);
    expect(r.machine.state).toBe('MASTER');
    expect(r.actions).toContainEqual({ type: 'send-advert', priority: 210 });
  });

  it('a sync group resumes together', () => {
    const a = specWith({ name: 'A', vrid: 1, basePriority: 200 });
    const b = specWith({ name: 'B', vrid: 2, basePriority: 200 });
    const g = createGroup({ name: 'G', members: ['A', 'B'], notify: { master: null, backup: null, fault: null, stop: null, generic: null } }, [
      createMachine(a),
      createMachine(b),
    ]);
    const r = stepGroup(g, '*', { type: 'start', resume: true }, 0);
    expect(r.machine.state).toBe('MASTER');
    expect(r.machine.members.A!.state).toBe('MASTER');
    expect(r.machine.members.B!.state).toBe('MASTER');
  });
});
