/**
 * IPVS client over generic netlink, shaped like moby/ipvs: resolve the "IPVS" family once,
 * then one method per kernel command, speaking the model (model.ts) through the codec
 * (codec.ts). The request/ACK exchange, dumps and batches are the shared netlink layer's
 * (src/netlink/socket.ts, genl.ts); this file adds what IPVS means by them: `apply()` packs
 * a diff's operations into batched writes, which is what makes a bulk load cheaper than one
 * write per command, and kernel errors become IpvsErrors that say what failed and why.
 */
import { NetlinkError, NetlinkTransportError } from '../netlink/errors.js';
import { GenlFamily, genlAttrs, resolveGenlFamily } from '../netlink/genl.js';
import { NetlinkSocket, type Transport, openTransport } from '../netlink/socket.js';
import { type Attrs, type NlMessage, NETLINK_GENERIC, decodeAttrs } from '../netlink/wire.js';
import {
  type OperationKind,
  IpvsError,
  decodeDaemon,
  decodeDestination,
  decodeInfo,
  decodeService,
  decodeTimeouts,
  encodeDaemon,
  encodeDaemonState,
  encodeDestination,
  encodeService,
  encodeTimeouts,
  ipvsError,
} from './codec.js';
import { IPVS_CMD, IPVS_CMD_ATTR, IPVS_GENL_NAME, IPVS_GENL_VERSION } from './constants.js';
import { type IpvsOp, keyOf } from './diff.js';
import {
  type Destination,
  type Info,
  type Service,
  type ServiceEntry,
  type ServiceKey,
  type SyncDaemon,
  type SyncState,
  type Timeouts,
  destinationId,
} from './model.js';

/** The kernel has no IPVS, or it cannot be reached. */
export class IpvsUnavailableError extends Error {
  override readonly name = 'IpvsUnavailableError';
  readonly errno: number;
  readonly code: string;
  constructor(errno: number, code: string, message: string) {
    super(message);
    this.errno = errno;
    this.code = code;
  }
}

interface Request {
  cmd: number;
  attrs: Buffer[];
  kind: OperationKind;
  /** Only formatted when the request fails: building strings for 11,000 operations costs. */
  describe: () => string;
  detail?: { scheduler?: string; pe?: string | null };
}

export interface IpvsClientOptions {
  /** The netlink connection (default: a NETLINK_GENERIC socket in this network namespace). */
  transport?: Transport;
  /**
   * Messages per write in apply() (default 200). Every failure in a write is answered
   * with a copy of the request, and all of them must fit the socket's receive buffer.
   */
  batchSize?: number;
  /** Milliseconds before a request with no answer is failed. */
  timeoutMs?: number;
}

export class IpvsClient {
  private readonly batchSize: number;

  private constructor(
    private readonly ipvs: GenlFamily,
    opts: IpvsClientOptions,
  ) {
    this.batchSize = opts.batchSize ?? 200;
  }

  /** Number of netlink writes so far (one per datagram sent): read by tests and the bench. */
  get writes(): number {
    return this.ipvs.socket.writes;
  }

  /** Resolve the "IPVS" family; fails with a sentence naming the fix when the kernel lacks it. */
  static async open(opts: IpvsClientOptions = {}): Promise<IpvsClient> {
    let transport: Transport;
    try {
      transport = opts.transport ?? openTransport(NETLINK_GENERIC, { recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    } catch (e) {
      const err = e as { errno?: number; code?: string; message: string };
      throw new IpvsUnavailableError(err.errno ?? 0, err.code ?? 'EUNKNOWN', `Cannot open a generic netlink socket: ${err.message}`);
    }
    const socket = new NetlinkSocket(transport, { timeoutMs: opts.timeoutMs ?? 30_000 });
    let family;
    try {
      family = await resolveGenlFamily(socket, IPVS_GENL_NAME, 'resolve the IPVS generic netlink family');
    } catch (e) {
      socket.close();
      const err = ipvsFailure(e, requestOf(0, [], 'family', 'resolve the IPVS generic netlink family'));
      if (err instanceof IpvsError && err.code === 'ENOENT') {
        throw new IpvsUnavailableError(
          err.errno,
          err.code,
          'The kernel has no IPVS (generic netlink family "IPVS" not found). Load it with `modprobe ip_vs`; ' +
            'in a container, load ip_vs on the host, since containers share the host kernel and cannot load modules.',
        );
      }
      throw err;
    }
    if (family.version !== null && family.version < IPVS_GENL_VERSION) {
      socket.close();
      throw new IpvsUnavailableError(0, 'EPROTO', `The kernel's IPVS netlink interface is version ${family.version}; version ${IPVS_GENL_VERSION} is needed.`);
    }
    return new IpvsClient(new GenlFamily(socket, family.id, IPVS_GENL_VERSION), opts);
  }

  close(): void {
    this.ipvs.socket.close();
  }

  // ---- services ----------------------------------------------------------------------

  addService(s: Service): Promise<void> {
    return this.exec(this.serviceRequest('add', s));
  }
  editService(s: Service): Promise<void> {
    return this.exec(this.serviceRequest('edit', s));
  }
  deleteService(k: ServiceKey): Promise<void> {
    return this.exec(this.serviceRequest('delete', k));
  }

  /** One service, or null when the kernel has no such service. */
  async getService(k: ServiceKey): Promise<Service | null> {
    try {
      const r = await this.ask(requestOf(IPVS_CMD.GET_SERVICE, [encodeService(keyOf(k), false)], 'service', `get service ${describeService(k)}`));
      return r[0] ? decodeService(need(attrsOf(r[0]).get(IPVS_CMD_ATTR.SERVICE))) : null;
    } catch (e) {
      if (e instanceof IpvsError && e.code === 'ESRCH') return null;
      throw e;
    }
  }

  async listServices(): Promise<Service[]> {
    const msgs = await this.dump(IPVS_CMD.GET_SERVICE, [], 'list services');
    return msgs.map((m) => decodeService(need(attrsOf(m).get(IPVS_CMD_ATTR.SERVICE))));
  }

  // ---- destinations ------------------------------------------------------------------

  addDestination(k: ServiceKey, d: Destination): Promise<void> {
    return this.exec(this.destinationRequest('add', k, d));
  }
  editDestination(k: ServiceKey, d: Destination): Promise<void> {
    return this.exec(this.destinationRequest('edit', k, d));
  }
  deleteDestination(k: ServiceKey, d: Pick<Destination, 'family' | 'address' | 'port'>): Promise<void> {
    return this.exec(this.destinationRequest('delete', k, d as Destination));
  }

  async listDestinations(k: ServiceKey): Promise<Destination[]> {
    const msgs = await this.dump(IPVS_CMD.GET_DEST, [encodeService(keyOf(k), false)], `list destinations of ${describeService(k)}`);
    return msgs.map((m) => decodeDestination(need(attrsOf(m).get(IPVS_CMD_ATTR.DEST)), k.family));
  }

  /** Every service with its destinations: the `actual` side of diff(). */
  async table(): Promise<ServiceEntry[]> {
    const services = await this.listServices();
    const entries: ServiceEntry[] = [];
    for (const service of services) entries.push({ service, destinations: await this.listDestinations(service) });
    return entries;
  }

  // ---- timeouts, daemons, info, zero, flush -------------------------------------------

  async getTimeouts(): Promise<Timeouts> {
    const r = await this.ask(requestOf(IPVS_CMD.GET_CONFIG, [], 'config', 'get timeouts'));
    return decodeTimeouts(genlAttrs(need(r[0])));
  }
  /** 0 leaves a timeout unchanged (the kernel's convention). */
  setTimeouts(t: Timeouts): Promise<void> {
    return this.exec(requestOf(IPVS_CMD.SET_CONFIG, [encodeTimeouts(t)], 'config', 'set timeouts'));
  }

  startDaemon(d: SyncDaemon): Promise<void> {
    return this.exec(requestOf(IPVS_CMD.NEW_DAEMON, [encodeDaemon(d)], 'daemon', `start ${d.state} sync daemon on ${d.interface}`));
  }
  stopDaemon(state: SyncState): Promise<void> {
    return this.exec(requestOf(IPVS_CMD.DEL_DAEMON, [encodeDaemonState(state)], 'daemon', `stop ${state} sync daemon`));
  }
  async listDaemons(): Promise<SyncDaemon[]> {
    const msgs = await this.dump(IPVS_CMD.GET_DAEMON, [], 'list sync daemons');
    return msgs.map((m) => decodeDaemon(need(attrsOf(m).get(IPVS_CMD_ATTR.DAEMON))));
  }

  async info(): Promise<Info> {
    const r = await this.ask(requestOf(IPVS_CMD.GET_INFO, [], 'other', 'get IPVS info'));
    return decodeInfo(genlAttrs(need(r[0])));
  }

  /** Zero the counters of one service, or of everything. */
  zero(k?: ServiceKey): Promise<void> {
    return this.exec(
      requestOf(IPVS_CMD.ZERO, k ? [encodeService(keyOf(k), false)] : [], 'service', k ? `zero counters of ${describeService(k)}` : 'zero all counters'),
    );
  }
  flush(): Promise<void> {
    return this.exec(requestOf(IPVS_CMD.FLUSH, [], 'other', 'flush the IPVS table'));
  }

  /**
   * Execute a diff's operations in order, `batchSize` messages per write. The kernel
   * carries on after a failed message within a write, so the whole batch is awaited; its
   * first failure is then thrown and later batches are not sent.
   */
  async apply(ops: readonly IpvsOp[]): Promise<void> {
    // each batch encoded just before it is sent: the kernel starts on the first while the
    // rest are still operations, and the event loop runs between batches
    for (let i = 0; i < ops.length; i += this.batchSize) {
      await this.askBatch(ops.slice(i, i + this.batchSize).map((op) => this.opRequest(op)));
    }
  }

  // ---- request building --------------------------------------------------------------

  private opRequest(op: IpvsOp): Request {
    switch (op.op) {
      case 'add-service':
        return this.serviceRequest('add', op.service);
      case 'edit-service':
        return this.serviceRequest('edit', op.service);
      case 'delete-service':
        return this.serviceRequest('delete', op.service);
      case 'add-destination':
        return this.destinationRequest('add', op.service, op.destination);
      case 'edit-destination':
        return this.destinationRequest('edit', op.service, op.destination);
      case 'delete-destination':
        return this.destinationRequest('delete', op.service, op.destination);
    }
  }

  private serviceRequest(verb: 'add' | 'edit' | 'delete', s: ServiceKey | Service): Request {
    const cmd = { add: IPVS_CMD.NEW_SERVICE, edit: IPVS_CMD.SET_SERVICE, delete: IPVS_CMD.DEL_SERVICE }[verb];
    const full = verb !== 'delete';
    const req = requestOf(cmd, [encodeService(full ? s : keyOf(s), full)], 'service', () => `${verb} service ${describeService(s)}`);
    if (full) req.detail = { scheduler: (s as Service).scheduler, pe: (s as Service).pe };
    return req;
  }

  /**
   * The parent service's key attribute, encoded once per run of operations on one service
   * object: a diff lists a service's destinations together, under one key object.
   */
  private lastKey: { key: ServiceKey; encoded: Buffer } | null = null;
  private serviceKey(k: ServiceKey): Buffer {
    if (this.lastKey?.key !== k) this.lastKey = { key: k, encoded: encodeService(keyOf(k), false) };
    return this.lastKey.encoded;
  }

  private destinationRequest(verb: 'add' | 'edit' | 'delete', k: ServiceKey, d: Destination): Request {
    const cmd = { add: IPVS_CMD.NEW_DEST, edit: IPVS_CMD.SET_DEST, delete: IPVS_CMD.DEL_DEST }[verb];
    return requestOf(
      cmd,
      [this.serviceKey(k), encodeDestination(d, verb !== 'delete')],
      'destination',
      () => `${verb} destination ${destinationId(d)} of ${describeService(k)}`,
    );
  }

  // ---- exchanges -------------------------------------------------------------------

  private async exec(r: Request): Promise<void> {
    await this.ask(r);
  }

  /** One command in its own write; resolves with the replies before its ACK. */
  private async ask(r: Request): Promise<NlMessage[]> {
    try {
      return await this.ipvs.request(r.cmd, r.attrs, r.describe());
    } catch (e) {
      throw ipvsFailure(e, r);
    }
  }

  /** A dump: multipart replies ended by DONE (the socket runs one at a time). */
  private async dump(cmd: number, attrs: Buffer[], operation: string): Promise<NlMessage[]> {
    try {
      return await this.ipvs.dump(cmd, attrs, operation);
    } catch (e) {
      throw ipvsFailure(e, requestOf(cmd, attrs, 'other', operation));
    }
  }

  /** Many commands in one write; resolves when the last is acknowledged, throws the first failure. */
  private async askBatch(requests: Request[]): Promise<void> {
    const failure = await this.ipvs.requestBatch(requests, (i) => requests[i]!.describe());
    if (failure) throw ipvsFailure(failure.error, requests[failure.index]!);
  }
}

function requestOf(cmd: number, attrs: Buffer[], kind: OperationKind, describe: string | (() => string)): Request {
  return { cmd, attrs, kind, describe: typeof describe === 'string' ? () => describe : describe };
}

/** A netlink failure in IPVS words: the kernel's errno explained, or the socket's fate. */
function ipvsFailure(e: unknown, r: Request): Error {
  if (e instanceof NetlinkError) return ipvsError(e.errno, r.kind, r.describe(), r.detail);
  if (e instanceof NetlinkTransportError) {
    return e.errno === null ? new Error(`IPVS client closed before "${r.describe()}" was answered`) : ipvsError(e.errno, r.kind, r.describe(), r.detail);
  }
  return e as Error;
}

const attrsOf = (m: NlMessage): Attrs => decodeAttrs(genlAttrs(m));

export function describeService(k: ServiceKey): string {
  if ('fwmark' in k) return `fwmark ${k.fwmark}${k.family === 'inet6' ? ' (IPv6)' : ''}`;
  return k.family === 'inet6' ? `${k.protocol} [${k.address}]:${k.port}` : `${k.protocol} ${k.address}:${k.port}`;
}

function need<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('IPVS reply lacks an expected attribute');
  return v;
}
