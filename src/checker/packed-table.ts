/**
 * The last IPVS table the checker wrote, kept in columns. Between reconciles the engine holds
 * that table to diff the next desired one against, for every real server of the config. As
 * Destination objects (a header, a property each, an array slot) it was the checker's largest
 * per-server cost; here one destination is a reference to its (shared) address string and
 * 16 bytes of typed columns outside the V8 heap, about a quarter of the memory (bench/README.md,
 * "Memory-tuned structures"). PURE: no I/O, no timers.
 *
 * Exact for everything `diff()` compares and every field of Service and Destination, except
 * the counters only the kernel reports (a destination's activeConns, inactiveConns,
 * persistentConns and stats): a table we wrote never has them, so they are dropped. Services
 * are few and are kept as the objects given (their stats, if any, included); so are tunnels.
 */
import type { Destination, Family, ForwardingMethod, Service, ServiceEntry, Tunnel } from '../ipvs/model.js';

// The string unions as small codes. Records, so a new member of a union fails to compile here.
const FAMILY_CODE: Record<Family, number> = { inet: 0, inet6: 1 };
const FORWARDING_CODE: Record<ForwardingMethod, number> = { masquerade: 0, route: 1, tunnel: 2, local: 3, bypass: 4 };

/** The way back: the union member of each code. */
const byCode = <T extends string>(codes: Record<T, number>): T[] => {
  const out: T[] = [];
  for (const [name, code] of Object.entries(codes) as [T, number][]) out[code] = name;
  return out;
};
const FAMILY_OF_CODE = byCode(FAMILY_CODE);
const FORWARDING_OF_CODE = byCode(FORWARDING_CODE);

export class PackedTable {
  /** Few: kept as references. */
  private readonly services: Service[];
  /** Service i's destinations are indexes first[i] up to first[i + 1]. */
  private readonly first: Int32Array;

  // ---- destinations, by index (in service order, then in each service's order) ----
  /** References to the strings given, not copies: the config holds them anyway. */
  private readonly address: string[];
  private readonly port: Uint16Array;
  /** Signed: IPVS's weight is an `int` (the kernel refuses a negative one, but that is its call). */
  private readonly weight: Int32Array;
  /** u32 in the kernel (ip_vs_dest.u_threshold, l_threshold): 0 to 4,294,967,295. */
  private readonly upperThreshold: Uint32Array;
  private readonly lowerThreshold: Uint32Array;
  private readonly family: Uint8Array;
  private readonly forwarding: Uint8Array;
  /** Rare: the destinations with a tunnel object, ascending, and those objects. */
  private readonly tunnelAt: Int32Array;
  private readonly tunnels: Tunnel[];

  private constructor(services: Service[], destinationCount: number, tunnelCount: number) {
    const n = destinationCount;
    this.services = services;
    this.first = new Int32Array(services.length + 1);
    this.address = new Array<string>(n);
    this.port = new Uint16Array(n);
    this.weight = new Int32Array(n);
    this.upperThreshold = new Uint32Array(n);
    this.lowerThreshold = new Uint32Array(n);
    this.family = new Uint8Array(n);
    this.forwarding = new Uint8Array(n);
    this.tunnelAt = new Int32Array(tunnelCount);
    this.tunnels = new Array<Tunnel>(tunnelCount);
  }

  /**
   * Packs `entries` (not kept: only the services and the address strings and tunnels are
   * referenced). Throws a RangeError on a value its column cannot hold exactly (a port
   * outside 0-65535, a weight outside int32, a threshold outside u32, a non-integer, an
   * unknown family or forwarding method): the kernel could not hold it either.
   */
  static of(entries: readonly ServiceEntry[]): PackedTable {
    let destinationCount = 0,
      tunnelCount = 0;
    for (const e of entries) {
      destinationCount += e.destinations.length;
      for (const d of e.destinations) if (d.tunnel) tunnelCount++;
    }
    const t = new PackedTable(
      entries.map((e) => e.service),
      destinationCount,
      tunnelCount,
    );
    let i = 0,
      tunnel = 0;
    for (let s = 0; s < entries.length; s++) {
      t.first[s] = i;
      for (const d of entries[s]!.destinations) {
        t.address[i] = d.address;
        store(t.port, i, d.port, 'port', d);
        store(t.weight, i, d.weight, 'weight', d);
        store(t.upperThreshold, i, d.upperThreshold, 'upperThreshold', d);
        store(t.lowerThreshold, i, d.lowerThreshold, 'lowerThreshold', d);
        store(t.family, i, FAMILY_CODE[d.family], 'family', d);
        store(t.forwarding, i, FORWARDING_CODE[d.forwarding], 'forwarding', d);
        if (d.tunnel) {
          t.tunnelAt[tunnel] = i;
          t.tunnels[tunnel++] = d.tunnel;
        }
        i++;
      }
    }
    t.first[entries.length] = i;
    return t;
  }

  /** The table again: new entry and destination objects, the same services, strings and tunnels. */
  entries(): ServiceEntry[] {
    const out = new Array<ServiceEntry>(this.services.length);
    let tunnel = 0;
    for (let s = 0; s < this.services.length; s++) {
      const end = this.first[s + 1]!;
      const destinations = new Array<Destination>(end - this.first[s]!);
      for (let i = this.first[s]!, k = 0; i < end; i++, k++) {
        let t: Tunnel | null = null;
        if (tunnel < this.tunnelAt.length && this.tunnelAt[tunnel] === i) t = this.tunnels[tunnel++]!;
        // the key order of desired.ts's destinations: one object shape for diff to see
        destinations[k] = {
          family: FAMILY_OF_CODE[this.family[i]!]!,
          address: this.address[i]!,
          port: this.port[i]!,
          forwarding: FORWARDING_OF_CODE[this.forwarding[i]!]!,
          weight: this.weight[i]!,
          upperThreshold: this.upperThreshold[i]!,
          lowerThreshold: this.lowerThreshold[i]!,
          tunnel: t,
        };
      }
      out[s] = { service: this.services[s]!, destinations };
    }
    return out;
  }

  get serviceCount(): number {
    return this.services.length;
  }
  get destinationCount(): number {
    return this.address.length;
  }
}

type Column = Uint8Array | Uint16Array | Int32Array | Uint32Array;

/** Stores `value` at `i`, or throws if the column would change it (wrap, truncate, NaN). */
function store(column: Column, i: number, value: number | undefined, field: string, d: Destination): void {
  column[i] = value ?? NaN;
  if (column[i] !== value) {
    throw new RangeError(
      `packed IPVS table: destination [${d.address}]:${d.port} ${field} ${String((d as unknown as Record<string, unknown>)[field])} does not fit its column`,
    );
  }
}
