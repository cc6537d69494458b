/**
 * desired vs actual: the minimal ordered list of operations that turns the kernel's table
 * (a dump) into the wanted one. Pure: the checker calls it on every state change, and
 * `IpvsClient.apply` executes its output.
 *
 * Order: stale services go first (deleting a service drops its destinations with it, so
 * they need no operations of their own); then services present on both sides are edited
 * and their destinations deleted, edited, added; new services come last, each followed by
 * its destinations, so every destination operation finds its service in place.
 */
import { type Destination, type Service, type ServiceEntry, type ServiceKey, destinationEqual, destinationId, serviceEqual, serviceId } from './model.js';

export type IpvsOp =
  | { op: 'add-service'; service: Service }
  | { op: 'edit-service'; service: Service }
  | { op: 'delete-service'; service: ServiceKey }
  | { op: 'add-destination'; service: ServiceKey; destination: Destination }
  | { op: 'edit-destination'; service: ServiceKey; destination: Destination }
  | { op: 'delete-destination'; service: ServiceKey; destination: Destination };

export function diff(desired: readonly ServiceEntry[], actual: readonly ServiceEntry[]): IpvsOp[] {
  const want = indexServices(desired, 'desired');
  const have = indexServices(actual, 'actual');
  const ops: IpvsOp[] = [];

  for (const [id, entry] of have) {
    if (!want.has(id)) ops.push({ op: 'delete-service', service: keyOf(entry.service) });
  }
  for (const [id, entry] of want) {
    const current = have.get(id);
    if (!current) continue;
    if (!serviceEqual(entry.service, current.service)) ops.push({ op: 'edit-service', service: entry.service });
    ops.push(...diffDestinations(keyOf(entry.service), entry.destinations, current.destinations));
  }
  for (const [id, entry] of want) {
    if (have.has(id)) continue;
    ops.push({ op: 'add-service', service: entry.service });
    const key = keyOf(entry.service);
    for (const d of indexDestinations(entry.destinations, id).values()) ops.push({ op: 'add-destination', service: key, destination: d });
  }
  return ops;
}

function diffDestinations(service: ServiceKey, desired: readonly Destination[], actual: readonly Destination[]): IpvsOp[] {
  const want = indexDestinations(desired, serviceId(service));
  const have = new Map(actual.map((d) => [destinationId(d), d]));
  const ops: IpvsOp[] = [];
  for (const [id, d] of have) if (!want.has(id)) ops.push({ op: 'delete-destination', service, destination: d });
  for (const [id, d] of want) {
    const current = have.get(id);
    if (!current) continue;
    if (!destinationEqual(d, current)) ops.push({ op: 'edit-destination', service, destination: d });
  }
  for (const [id, d] of want) if (!have.has(id)) ops.push({ op: 'add-destination', service, destination: d });
  return ops;
}

/** Only the identifying fields: a delete must not carry stale properties along. */
export function keyOf(s: ServiceKey): ServiceKey {
  return 'fwmark' in s ? { family: s.family, fwmark: s.fwmark } : { family: s.family, protocol: s.protocol, address: s.address, port: s.port };
}

function indexServices(entries: readonly ServiceEntry[], side: string): Map<string, ServiceEntry> {
  const m = new Map<string, ServiceEntry>();
  for (const e of entries) {
    const id = serviceId(e.service);
    if (m.has(id)) throw new Error(`${side} table lists service ${id} twice`);
    m.set(id, e);
  }
  return m;
}

function indexDestinations(ds: readonly Destination[], svc: string): Map<string, Destination> {
  const m = new Map<string, Destination>();
  for (const d of ds) {
    const id = destinationId(d);
    if (m.has(id)) throw new Error(`desired service ${svc} lists destination ${id} twice`);
    m.set(id, d);
  }
  return m;
}
