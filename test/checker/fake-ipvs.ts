// An in-memory kernel IPVS table behind the shape the engine uses. It refuses what the
// kernel refuses (adding what exists, deleting or editing what does not) so an engine that
// replays instead of reconciling fails here as it would on a real kernel, and it counts
// writes the way IpvsClient does: one per apply batch, one per dump request.
import type { IpvsOp } from '../../src/ipvs/diff.js';
import {
  type Destination,
  type Service,
  type ServiceEntry,
  type SyncDaemon,
  type SyncState,
  type Timeouts,
  destinationId,
  serviceId,
} from '../../src/ipvs/model.js';
import type { IpvsPort } from '../../src/checker/engine.js';

export class FakeIpvs implements IpvsPort {
  writes = 0;
  /** Operations applied, in order, as short strings: what tests assert on. */
  log: string[] = [];
  timeouts: Timeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  flushes = 0;
  /** Refuse this many apply() calls (as a kernel missing a scheduler module would). */
  refuseApplies = 0;
  /** While set, apply() waits for it (a kernel write still in flight). */
  hold: Promise<void> | null = null;
  private readonly services = new Map<string, { service: Service; dests: Map<string, Destination> }>();

  table(): Promise<ServiceEntry[]> {
    this.writes += 1 + this.services.size;
    return Promise.resolve(
      [...this.services.values()].map((s) => ({
        service: structuredClone(s.service),
        destinations: [...s.dests.values()].map((d) => structuredClone(d)),
      })),
    );
  }

  async apply(ops: readonly IpvsOp[]): Promise<void> {
    if (this.hold) await this.hold;
    return this.applyNow(ops);
  }

  private applyNow(ops: readonly IpvsOp[]): Promise<void> {
    this.writes += Math.ceil(ops.length / 200);
    if (this.refuseApplies > 0) {
      this.refuseApplies--;
      return Promise.reject(new Error('ENOENT scheduler module not found'));
    }
    for (const op of ops) {
      this.log.push(`${op.op} ${serviceId(op.service)}${'destination' in op ? ` ${destinationId(op.destination)} w${op.destination.weight}` : ''}`);
      const id = serviceId(op.service);
      const svc = this.services.get(id);
      switch (op.op) {
        case 'add-service':
          if (svc) return Promise.reject(new Error(`EEXIST service ${id}`));
          this.services.set(id, { service: structuredClone(op.service), dests: new Map() });
          break;
        case 'edit-service':
          if (!svc) return Promise.reject(new Error(`ESRCH service ${id}`));
          svc.service = structuredClone(op.service);
          break;
        case 'delete-service':
          if (!svc) return Promise.reject(new Error(`ESRCH service ${id}`));
          this.services.delete(id);
          break;
        default: {
          if (!svc) return Promise.reject(new Error(`ESRCH service ${id}`));
          const did = destinationId(op.destination);
          const has = svc.dests.has(did);
          if (op.op === 'add-destination' && has) return Promise.reject(new Error(`EEXIST destination ${did}`));
          if (op.op !== 'add-destination' && !has) return Promise.reject(new Error(`ENOENT destination ${did}`));
          if (op.op === 'delete-destination') svc.dests.delete(did);
          else svc.dests.set(did, structuredClone(op.destination));
        }
      }
    }
    return Promise.resolve();
  }

  setTimeouts(t: Timeouts): Promise<void> {
    this.writes++;
    this.timeouts = { tcp: t.tcp || this.timeouts.tcp, tcpFin: t.tcpFin || this.timeouts.tcpFin, udp: t.udp || this.timeouts.udp };
    return Promise.resolve();
  }

  flush(): Promise<void> {
    this.writes++;
    this.flushes++;
    this.services.clear();
    return Promise.resolve();
  }

  /** Sync daemons the kernel runs; one of each state at most, as the kernel allows. */
  daemons = new Map<SyncState, SyncDaemon>();

  startDaemon(d: SyncDaemon): Promise<void> {
    this.writes++;
    this.log.push(`start-daemon ${d.state} ${d.interface} id ${d.syncId}`);
    if (this.daemons.has(d.state)) return Promise.reject(Object.assign(new Error(`EEXIST ${d.state} daemon`), { code: 'EEXIST' }));
    this.daemons.set(d.state, structuredClone(d));
    return Promise.resolve();
  }

  stopDaemon(state: SyncState): Promise<void> {
    this.writes++;
    if (!this.daemons.delete(state)) return Promise.reject(Object.assign(new Error(`ESRCH no ${state} daemon`), { code: 'ESRCH' }));
    this.log.push(`stop-daemon ${state}`);
    return Promise.resolve();
  }

  // ---- test helpers: act as the operator with ipvsadm ------------------------------------

  /** Add a service as someone else would (not counted as our write). */
  seed(entry: ServiceEntry): void {
    this.services.set(serviceId(entry.service), {
      service: structuredClone(entry.service),
      dests: new Map(entry.destinations.map((d) => [destinationId(d), structuredClone(d)])),
    });
  }

  removeDestinationByHand(service: string, dest: string): void {
    this.services.get(service)?.dests.delete(dest);
  }

  /** `ipvsadm -Sn`-like text: one line per service and destination, sorted. */
  dump(): string[] {
    const out: string[] = [];
    for (const [id, s] of [...this.services].sort(([a], [b]) => a.localeCompare(b))) {
      out.push(`${id} ${s.service.scheduler}`);
      for (const [did, d] of [...s.dests].sort(([a], [b]) => a.localeCompare(b))) out.push(`  ${did} ${d.forwarding} w${d.weight}`);
    }
    return out;
  }
}
