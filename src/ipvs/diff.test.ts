import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type IpvsOp, diff } from './diff.js';
import { type Destination, type Service, type ServiceEntry, destinationEqual, destinationId, serviceEqual, serviceId } from './model.js';

const noFlags = { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false };
const svc = (address: string, more: Partial<Service> = {}): Service => ({
  family: 'inet',
  protocol: 'tcp',
  address,
  port: 80,
  scheduler: 'wrr',
  flags: noFlags,
  timeout: 0,
  prefix: 32,
  pe: null,
  ...more,
});
const dst = (address: string, weight = 1, more: Partial<Destination> = {}): Destination => ({
  family: 'inet',
  address,
  port: 80,
  forwarding: 'masquerade',
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunnel: null,
  ...more,
});
const key = (s: Service) => ({ family: s.family, protocol: 'tcp' as const, address: (s as { address: string }).address, port: 80 });

/** Apply ops to a table in memory, enforcing the kernel's preconditions (so order matters). */
function simulate(table: ServiceEntry[], ops: IpvsOp[]): ServiceEntry[] {
  const t = new Map(table.map((e) => [serviceId(e.service), { service: e.service, destinations: [...e.destinations] }]));
  for (const op of ops) {
    const id = serviceId(op.service);
    const e = t.get(id);
    switch (op.op) {
      case 'add-service':
        if (e) throw new Error('EEXIST');
        t.set(id, { service: op.service, destinations: [] });
        break;
      case 'edit-service':
        if (!e) throw new Error('ESRCH');
        e.service = op.service;
        break;
      case 'delete-service':
        if (!e) throw new Error('ESRCH');
        t.delete(id);
        break;
      default: {
        if (!e) throw new Error('ESRCH');
        const i = e.destinations.findIndex((d) => destinationId(d) === destinationId(op.destination));
        if (op.op === 'add-destination') {
          if (i >= 0) throw new Error('EEXIST');
          e.destinations.push(op.destination);
        } else if (i < 0) throw new Error('ENOENT');
        else if (op.op === 'edit-destination') e.destinations[i] = op.destination;
        else e.destinations.splice(i, 1);
      }
    }
  }
  return [...t.values()];
}

function sameTable(a: ServiceEntry[], b: ServiceEntry[]): boolean {
  if (a.length !== b.length) return false;
  const m = new Map(b.map((e) => [serviceId(e.service), e]));
  return a.every((e) => {
    const o = m.get(serviceId(e.service));
    if (!o || !serviceEqual(e.service, o.service) || o.destinations.length !== e.destinations.length) return false;
    const dm = new Map(o.destinations.map((d) => [destinationId(d), d]));
    return e.destinations.every((d) => dm.has(destinationId(d)) && destinationEqual(d, dm.get(destinationId(d))!));
  });
}

describe('diff', () => {
  const a = svc('10.0.0.1'),
    b = svc('10.0.0.2');

  it('is empty when the tables match (counters, stats and HASHED do not matter)', () => {
    const actual = [{ service: { ...a, stats: { conns: 5n } as never }, destinations: [{ ...dst('10.1.0.1'), activeConns: 3 }] }];
    expect(diff([{ service: a, destinations: [dst('10.1.0.1')] }], actual)).toEqual([]);
  });
  it('adds a new service before its destinations', () => {
    expect(diff([{ service: a, destinations: [dst('10.1.0.1'), dst('10.1.0.2')] }], [])).toEqual([
      { op: 'add-service', service: a },
      { op: 'add-destination', service: key(a), destination: dst('10.1.0.1') },
      { op: 'add-destination', service: key(a), destination: dst('10.1.0.2') },
    ]);
  });
  it('deletes a stale service with one operation (its destinations go with it), first', () => {
    expect(diff([{ service: b, destinations: [] }], [{ service: a, destinations: [dst('10.1.0.1'), dst('10.1.0.2')] }])).toEqual([
      { op: 'delete-service', service: key(a) },
      { op: 'add-service', service: b },
    ]);
  });
  it('changing one weight is exactly one edit', () => {
    const actual = [{ service: a, destinations: [dst('10.1.0.1'), dst('10.1.0.2')] }];
    expect(diff([{ service: a, destinations: [dst('10.1.0.1'), dst('10.1.0.2', 0)] }], actual)).toEqual([
      { op: 'edit-destination', service: key(a), destination: dst('10.1.0.2', 0) },
    ]);
  });
  it('edits the service in place when only its settings change', () => {
    const changed = svc('10.0.0.1', { scheduler: 'sh', flags: { ...noFlags, schedPort: true } });
    expect(diff([{ service: changed, destinations: [] }], [{ service: a, destinations: [] }])).toEqual([{ op: 'edit-service', service: changed }]);
  });
  it('within a service: delete, then edit, then add', () => {
    const actual = [{ service: a, destinations: [dst('10.1.0.1'), dst('10.1.0.2')] }];
    const ops = diff([{ service: a, destinations: [dst('10.1.0.2', 5), dst('10.1.0.3')] }], actual);
    expect(ops.map((o) => `${o.op} ${'destination' in o ? o.destination.address : ''}`)).toEqual([
      'delete-destination 10.1.0.1',
      'edit-destination 10.1.0.2',
      'add-destination 10.1.0.3',
    ]);
  });
  it('treats address spellings as the same service', () => {
    const v6 = svc('2001:db8::1', { family: 'inet6', prefix: 128 });
    expect(diff([{ service: v6, destinations: [] }], [{ service: { ...v6, address: '2001:DB8:0:0::1' }, destinations: [] }])).toEqual([]);
  });
  it('changing forwarding method or tunnel settings is an edit', () => {
    const actual = [{ service: a, destinations: [dst('10.1.0.1', 1, { forwarding: 'tunnel', tunnel: { type: 'ipip', port: 0, flags: 0 } })] }];
    const want = dst('10.1.0.1', 1, { forwarding: 'tunnel', tunnel: { type: 'gue', port: 6080, flags: 0 } });
    expect(diff([{ service: a, destinations: [want] }], actual)).toEqual([{ op: 'edit-destination', service: key(a), destination: want }]);
  });
  it('refuses a desired table that lists a service or destination twice', () => {
    expect(() =>
      diff(
        [
          { service: a, destinations: [] },
          { service: a, destinations: [] },
        ],
        [],
      ),
    ).toThrow(/twice/);
    expect(() => diff([{ service: a, destinations: [dst('10.1.0.1'), dst('10.1.0.1', 2)] }], [])).toThrow(/twice/);
  });

  // property: for random desired/actual tables, applying the diff to actual gives desired,
  // every op is valid in order, and nothing is touched that did not need to change
  const arbDest = fc
    .record({ n: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 0, max: 3 }), fwd: fc.constantFrom('masquerade' as const, 'route' as const) })
    .map(({ n, w, fwd }) => dst(`10.1.0.${n}`, w, { forwarding: fwd }));
  const arbEntry = fc
    .record({
      n: fc.integer({ min: 1, max: 5 }),
      sched: fc.constantFrom('rr', 'wrr'),
      dests: fc.uniqueArray(arbDest, { selector: (d) => d.address, maxLength: 4 }),
    })
    .map(({ n, sched, dests }) => ({ service: svc(`10.0.0.${n}`, { scheduler: sched }), destinations: dests }));
  const arbTable = fc.uniqueArray(arbEntry, { selector: (e) => serviceId(e.service), maxLength: 4 });

  it('property: applying the diff reaches the desired table with valid, minimal operations', () => {
    fc.assert(
      fc.property(arbTable, arbTable, (desired, actual) => {
        const ops = diff(desired, actual);
        expect(sameTable(simulate(actual, ops), desired)).toBe(true);
        expect(diff(desired, simulate(actual, ops))).toEqual([]);
        const actualIds = new Set(actual.map((e) => serviceId(e.service)));
        const desiredIds = new Set(desired.map((e) => serviceId(e.service)));
        for (const op of ops) {
          if (op.op === 'delete-service') expect(desiredIds.has(serviceId(op.service))).toBe(false);
          if (op.op === 'add-service') expect(actualIds.has(serviceId(op.service))).toBe(false);
          if (op.op === 'delete-destination') expect(desiredIds.has(serviceId(op.service))).toBe(true); // never before a service delete
        }
      }),
      { numRuns: 500 },
    );
  });
});
