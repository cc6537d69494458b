/**
 * The rtnetlink client: links and addresses of the calling thread's network namespace, in
 * the model's terms. Add and delete are idempotent (an address already present, or already
 * gone, is the state we wanted, not an error).
 */
import { NetlinkError } from '../errors.js';
import { NetlinkSocket } from '../socket.js';
import { NETLINK_ROUTE, NLM_F_CREATE, NLM_F_EXCL } from '../wire.js';
import {
  type IpvlanSpec,
  type MacvlanSpec,
  addressMatches,
  decodeAddress,
  decodeLink,
  encodeAddAddress,
  encodeAddressDump,
  encodeAddrGenModeNone,
  encodeCreateIpvlan,
  encodeCreateMacvlan,
  encodeDeleteAddress,
  encodeDeleteLink,
  encodeGetLink,
  encodeLinkDump,
  encodeSetLinkUp,
  decodeRoute,
  encodeRoute,
  encodeRouteDump,
  encodeFullRoute,
  encodeRule,
  routeAddFlags,
} from './codec.js';
import {
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTM_DELRULE,
  RTM_NEWRULE,
  RTN_LOCAL,
} from './constants.js';
import type {
  AddOutcome,
  AddressSpec,
  DeleteOutcome,
  Family,
  InterfaceAddress,
  KernelRoute,
  Link,
  RouteAddOutcome,
  RouteDeleteOutcome,
  RouteSpec,
  FullRouteSpec,
  RouteAddMode,
  RuleSpec,
} from './model.js';

const ENOENT = 2;
const ESRCH = 3;
const EEXIST = 17;
const ENODEV = 19;
const EADDRNOTAVAIL = 99;

export interface AddressFilter {
  ifindex?: number;
  family?: Family;
}

const describeRoute = (r: RouteSpec): string =>
  `${r.type === RTN_LOCAL ? 'local ' : ''}route ${r.destination}/${r.length} metric ${r.metric} dev ${r.ifindex} table ${r.table}`;
const describe = (spec: AddressSpec): string => `${spec.address}/${spec.prefix} on ifindex ${spec.ifindex}`;

export class RouteNetlink {
  private constructor(private readonly sock: NetlinkSocket) {}

  /** Opens a request socket in the calling thread's current network namespace. */
  static open(options: { timeoutMs?: number } = {}): RouteNetlink {
    return new RouteNetlink(NetlinkSocket.open(NETLINK_ROUTE, { timeoutMs: options.timeoutMs }));
  }

  async addAddress(spec: AddressSpec): Promise<AddOutcome> {
    // EXCL makes "already there" visible as EEXIST instead of a silent replace.
    return this.idempotent(
      this.sock.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, encodeAddAddress(spec), `add address ${describe(spec)}`),
      EEXIST,
      'added',
      'already-present',
    );
  }

  async deleteAddress(spec: AddressSpec): Promise<DeleteOutcome> {
    return this.idempotent(
      this.sock.request(RTM_DELADDR, 0, encodeDeleteAddress(spec), `delete address ${describe(spec)}`),
      EADDRNOTAVAIL,
      'deleted',
      'already-absent',
    );
  }

  async listAddresses(filter: AddressFilter = {}): Promise<InterfaceAddress[]> {
    const replies = await this.sock.dump(RTM_GETADDR, encodeAddressDump(filter.family ?? null), 'list addresses');
    const out: InterfaceAddress[] = [];
    for (const msg of replies) {
      if (msg.type !== RTM_NEWADDR) continue;
      const addr = decodeAddress(msg.payload);
      if (!addr) continue;
      if (filter.ifindex !== undefined && addr.ifindex !== filter.ifindex) continue;
      if (filter.family !== undefined && addr.family !== filter.family) continue;
      out.push(addr);
    }
    return out;
  }

  /** The kernel's record of `spec`'s address, or null when it is not configured. */
  async findAddress(spec: AddressSpec): Promise<InterfaceAddress | null> {
    const all = await this.listAddresses({ ifindex: spec.ifindex, family: spec.family });
    return all.find((a) => addressMatches(a, spec)) ?? null;
  }

  async listLinks(): Promise<Link[]> {
    const replies = await this.sock.dump(RTM_GETLINK, encodeLinkDump(), 'list links');
    return replies.flatMap((msg) => {
      const link = msg.type === RTM_NEWLINK ? decodeLink(msg.payload) : null;
      return link ? [link] : [];
    });
  }

  /** One link by index or name; null when there is no such link. */
  async getLink(which: number | string): Promise<Link | null> {
    const query = typeof which === 'number' ? { index: which } : { name: which };
    try {
      const replies = await this.sock.request(RTM_GETLINK, 0, encodeGetLink(query), `get link ${which}`);
      for (const msg of replies) {
        const link = msg.type === RTM_NEWLINK ? decodeLink(msg.payload) : null;
        if (link) return link;
      }
      return null;
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === ENODEV) return null;
      throw err;
    }
  }

  async linkIndex(name: string): Promise<number> {
    const link = await this.getLink(name);
    if (!link) throw new NetlinkError(`interface ${name}`, ENODEV);
    return link.index;
  }

  async linkName(index: number): Promise<string> {
    const link = await this.getLink(index);
    if (!link) throw new NetlinkError(`interface index ${index}`, ENODEV);
    return link.name;
  }

  /** Sets IFF_UP (ip link set DEV up/down) and nothing else. */
  async setLinkUp(index: number, up: boolean): Promise<void> {
    await this.sock.request(RTM_NEWLINK, 0, encodeSetLinkUp(index, up), `set link ${index} ${up ? 'up' : 'down'}`);
  }

  /** A VRRP virtual MAC interface (use_vmac): macvlan on `parentIndex`, private mode by default. */
  async createMacvlan(spec: MacvlanSpec): Promise<AddOutcome> {
    return this.idempotent(
      this.sock.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, encodeCreateMacvlan(spec), `create macvlan ${spec.name} on ifindex ${spec.parentIndex}`),
      EEXIST,
      'added',
      'already-present',
    );
  }

  /** A layer 2 ipvlan on `parentIndex` (use_ipvlan), created up. */
  async createIpvlan(spec: IpvlanSpec): Promise<AddOutcome> {
    return this.idempotent(
      this.sock.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, encodeCreateIpvlan(spec), `create ipvlan ${spec.name} on ifindex ${spec.parentIndex}`),
      EEXIST,
      'added',
      'already-present',
    );
  }

  /** No automatic IPv6 link-local address on the link (IN6_ADDR_GEN_MODE_NONE). */
  async disableAddrGen(index: number): Promise<void> {
    await this.sock.request(RTM_NEWLINK, 0, encodeAddrGenModeNone(index), `set addrgenmode none on link ${index}`);
  }

  async deleteLink(index: number): Promise<DeleteOutcome> {
    return this.idempotent(this.sock.request(RTM_DELLINK, 0, encodeDeleteLink(index), `delete link ${index}`), ENODEV, 'deleted', 'already-absent');
  }

  /** A route for bgp_announce: idempotent like the address operations. */
  async addRoute(r: RouteSpec): Promise<RouteAddOutcome> {
    return this.idempotent(
      this.sock.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, encodeRoute(r), `add ${describeRoute(r)}`),
      EEXIST,
      'added',
      'already-present',
    );
  }

  async deleteRoute(r: RouteSpec): Promise<RouteDeleteOutcome> {
    return this.idempotent(this.sock.request(RTM_DELROUTE, 0, encodeRoute(r), `delete ${describeRoute(r)}`), ESRCH, 'deleted', 'already-absent');
  }

  /** The routes of one family in one table (the kernel dumps every table; the rest is dropped here). */
  async listRoutes(family: Family, table: number): Promise<KernelRoute[]> {
    const replies = await this.sock.dump(RTM_GETROUTE, encodeRouteDump(family), `list IPv${family} routes`);
    const out: KernelRoute[] = [];
    for (const msg of replies) {
      if (msg.type !== RTM_NEWROUTE) continue;
      const r = decodeRoute(msg.payload);
      if (r && r.table === table) out.push(r);
    }
    return out;
  }

  /** A configured route (virtual_routes, static_routes): `mode` as ip route add/prepend/append. */
  async addFullRoute(r: FullRouteSpec, mode: RouteAddMode): Promise<RouteAddOutcome> {
    return this.idempotent(
      this.sock.request(RTM_NEWROUTE, routeAddFlags(mode), encodeFullRoute(r, 'add'), `add route ${r.destination}/${r.destinationLength} table ${r.table}`),
      EEXIST,
      'added',
      'already-present',
    );
  }

  async deleteFullRoute(r: FullRouteSpec): Promise<RouteDeleteOutcome> {
    return this.idempotent(
      this.sock.request(RTM_DELROUTE, 0, encodeFullRoute(r, 'delete'), `delete route ${r.destination}/${r.destinationLength} table ${r.table}`),
      ESRCH,
      'deleted',
      'already-absent',
    );
  }

  /** A policy rule (virtual_rules, static_rules); EXCL, so an identical rule is reported, not doubled. */
  async addRule(r: RuleSpec): Promise<RouteAddOutcome> {
    return this.idempotent(
      this.sock.request(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, encodeRule(r), `add rule priority ${r.priority}`),
      EEXIST,
      'added',
      'already-present',
    );
  }

  async deleteRule(r: RuleSpec): Promise<RouteDeleteOutcome> {
    return this.idempotent(this.sock.request(RTM_DELRULE, 0, encodeRule(r), `delete rule priority ${r.priority}`), ENOENT, 'deleted', 'already-absent');
  }

  close(): void {
    this.sock.close();
  }

  /** `done`, or `already` when the kernel refuses with `errno`: the wanted state held before. */
  private async idempotent<T extends string>(request: Promise<unknown>, errno: number, done: T, already: T): Promise<T> {
    try {
      await request;
      return done;
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === errno) return already;
      throw err;
    }
  }
}
