/**
 * IPVS client over generic netlink, shaped like moby/ipvs: resolve the "IPVS" family once,
 * then one method per kernel command. Requests are written raw (netlink 0.3.0's
 * RawNetlinkSocket) so the kernel's errno reaches the caller, and so `apply()` can pack
 * many operations into one write: the kernel handles the messages of a write in order and
 * acknowledges each, which is what makes a bulk load cheaper than one write per command.
 */
// the package index also loads nl80211/rt/wg codecs (1.5 MB, ~0.3 s here, 10 s in a TCG guest):
// only the raw socket is used
import { RawNetlinkSocket } from 'netlink/dist/raw.js';
import {
  CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_VERSION, CTRL_CMD_GETFAMILY, GENL_ID_CTRL,
  IPVS_CMD, IPVS_CMD_ATTR, IPVS_GENL_NAME, IPVS_GENL_VERSION, NETLINK_GENERIC, NLM_F_ACK, NLM_F_DUMP,
  NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR,
} from './constants.js';
import {
  type NetlinkMessage, type OperationKind, IpvsError, decodeDaemon, decodeDestination, decodeInfo,
  decodeService, decodeTimeouts, encodeDaemon, encodeDaemonState, encodeDestination, encodeService, genlBatch,
  encodeTimeouts, errorOf, genlAttrs, genlMessage, ipvsError, isDone, parseAttrs, parseMessages, str,
} from './codec.js';
import { type IpvsOp, keyOf } from './diff.js';
import {
  type Destination, type Info, type Service, type ServiceEntry, type ServiceKey, type SyncDaemon,
  type SyncState, type Timeouts, destinationId,
} from './model.js';

/** What the client needs from a netlink socket; the real one wraps RawNetlinkSocket. */
export interface Transport {
  send(datagram: Buffer): void;
  onMessage(handler: (datagram: Buffer) => void): void;
  /** Socket errors, e.g. ENOBUFS when answers overflowed the receive buffer. */
  onError?(handler: (errno: number) => void): void;
  /** Keep the process alive while requests are in flight. */
  hold(busy: boolean): void;
  close(): void;
}

export function rawTransport(): Transport {
  const sock = new RawNetlinkSocket(NETLINK_GENERIC, { recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
  sock.unref();
  let handler: (b: Buffer) => void = () => {};
  let onError: (errno: number) => void = () => {};
  sock.on('message', (b: Buffer) => handler(b));
  sock.on('error', (e: { errno?: number }) => onError(Math.abs(e.errno ?? 5)));
  return {
    send: (d) => sock.send(d, {}, (err) => { if (err) onError(Math.abs(err.errno ?? 5)); }),
    onMessage: (h) => { handler = h; },
    onError: (h) => { onError = h; },
    hold: (busy) => (busy ? sock.ref() : sock.unref()),
    close: () => sock.close(),
  };
}

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

/** A request waiting for its own answer (ACK, reply + ACK, or a dump's parts + DONE). */
interface Pending {
  replies: NetlinkMessage[];
  settle(errno: number, replies: NetlinkMessage[]): void;
}

/**
 * apply()'s batch: only its last message asks for an ACK. The kernel processes a write's
 * messages in order and reports every failure even unasked, so when the last message is
 * answered every earlier failure has already arrived, and silence means success. One
 * datagram back per batch instead of one per operation.
 */
interface Batch {
  firstSeq: number;
  lastSeq: number;
  requests: Request[];
  failures: { index: number; errno: number }[];
  done(): void;
}

export interface IpvsClientOptions {
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
  /** Number of netlink writes so far (one per datagram sent): read by tests and the bench. */
  writes = 0;
  private seq = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly batches = new Set<Batch>();
  /** Both the controller and IPVS speak version 1. */
  private readonly version = IPVS_GENL_VERSION;
  private dumpQueue: Promise<unknown> = Promise.resolve();
  private readonly batchSize: number;
  private readonly timeoutMs: number;

  private constructor(private readonly transport: Transport, private readonly family: number, opts: IpvsClientOptions) {
    this.batchSize = opts.batchSize ?? 200;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Resolve the "IPVS" family; fails with a sentence naming the fix when the kernel lacks it. */
  static async open(opts: IpvsClientOptions = {}): Promise<IpvsClient> {
    let transport: Transport;
    try {
      transport = opts.transport ?? rawTransport();
    } catch (e) {
      const err = e as { errno?: number; code?: string; message: string };
      throw new IpvsUnavailableError(err.errno ?? 0, err.code ?? 'EUNKNOWN', `Cannot open a generic netlink socket: ${err.message}`);
    }
    const boot = new IpvsClient(transport, GENL_ID_CTRL, opts);
    transport.onMessage((d) => boot.receive(d));
    let replies: NetlinkMessage[];
    try {
      replies = await boot.ask(boot.request(CTRL_CMD_GETFAMILY, [str(CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME)], 'family',
        'resolve the IPVS generic netlink family'), false);
    } catch (e) {
      transport.close();
      if (e instanceof IpvsError && e.code === 'ENOENT') {
        throw new IpvsUnavailableError(e.errno, e.code,
          'The kernel has no IPVS (generic netlink family "IPVS" not found). Load it with `modprobe ip_vs`; '
          + 'in a container, load ip_vs on the host, since containers share the host kernel and cannot load modules.');
      }
      throw e;
    }
    const attrs = parseAttrs(genlAttrs(replies[0]!));
    const id = attrs.get(CTRL_ATTR_FAMILY_ID)?.readUInt16LE(0);
    const version = attrs.get(CTRL_ATTR_VERSION)?.readUInt32LE(0);
    if (id === undefined) {
      transport.close();
      throw new Error('generic netlink controller answered without a family id');
    }
    if (version !== undefined && version < IPVS_GENL_VERSION) {
      transport.close();
      throw new IpvsUnavailableError(0, 'EPROTO', `The kernel's IPVS netlink interface is version ${version}; version ${IPVS_GENL_VERSION} is needed.`);
    }
    const client = new IpvsClient(transport, id, opts);
    client.writes = boot.writes;
    transport.onMessage((d) => client.receive(d));
    transport.onError?.((errno) => client.failAll(errno));
    return client;
  }

  close(): void {
    this.failAll(-1);
    this.transport.close();
  }

  /** A socket error loses answers we cannot attribute: fail everything in flight with it. */
  private failAll(errno: number): void {
    for (const p of [...this.pending.values()]) p.settle(errno, []);
    for (const b of [...this.batches]) { b.failures.unshift({ index: b.requests.length - 1, errno }); b.done(); }
  }

  // ---- services ----------------------------------------------------------------------

  addService(s: Service): Promise<void> { return this.exec(this.serviceRequest('add', s)); }
  editService(s: Service): Promise<void> { return this.exec(this.serviceRequest('edit', s)); }
  deleteService(k: ServiceKey): Promise<void> { return this.exec(this.serviceRequest('delete', k)); }

  /** One service, or null when the kernel has no such service. */
  async getService(k: ServiceKey): Promise<Service | null> {
    try {
      const r = await this.ask(this.request(IPVS_CMD.GET_SERVICE, [encodeService(keyOf(k), false)], 'service', `get service ${describeService(k)}`), false);
      const m = r.find((x) => !isDone(x));
      return m ? decodeService(need(parseAttrs(genlAttrs(m)).get(IPVS_CMD_ATTR.SERVICE))) : null;
    } catch (e) {
      if (e instanceof IpvsError && e.code === 'ESRCH') return null;
      throw e;
    }
  }

  async listServices(): Promise<Service[]> {
    const msgs = await this.dump(IPVS_CMD.GET_SERVICE, [], 'list services');
    return msgs.map((m) => decodeService(need(parseAttrs(genlAttrs(m)).get(IPVS_CMD_ATTR.SERVICE))));
  }

  // ---- destinations ------------------------------------------------------------------

  addDestination(k: ServiceKey, d: Destination): Promise<void> { return this.exec(this.destinationRequest('add', k, d)); }
  editDestination(k: ServiceKey, d: Destination): Promise<void> { return this.exec(this.destinationRequest('edit', k, d)); }
  deleteDestination(k: ServiceKey, d: Pick<Destination, 'family' | 'address' | 'port'>): Promise<void> {
    return this.exec(this.destinationRequest('delete', k, d as Destination));
  }

  async listDestinations(k: ServiceKey): Promise<Destination[]> {
    const msgs = await this.dump(IPVS_CMD.GET_DEST, [encodeService(keyOf(k), false)], `list destinations of ${describeService(k)}`);
    return msgs.map((m) => decodeDestination(need(parseAttrs(genlAttrs(m)).get(IPVS_CMD_ATTR.DEST)), k.family));
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
    const r = await this.ask(this.request(IPVS_CMD.GET_CONFIG, [], 'config', 'get timeouts'), false);
    return decodeTimeouts(genlAttrs(need(r.find((m) => !isDone(m)))));
  }
  /** 0 leaves a timeout unchanged (the kernel's convention). */
  setTimeouts(t: Timeouts): Promise<void> {
    return this.exec(this.request(IPVS_CMD.SET_CONFIG, encodeTimeouts(t), 'config', 'set timeouts'));
  }

  startDaemon(d: SyncDaemon): Promise<void> {
    return this.exec(this.request(IPVS_CMD.NEW_DAEMON, [encodeDaemon(d)], 'daemon', `start ${d.state} sync daemon on ${d.interface}`));
  }
  stopDaemon(state: SyncState): Promise<void> {
    return this.exec(this.request(IPVS_CMD.DEL_DAEMON, [encodeDaemonState(state)], 'daemon', `stop ${state} sync daemon`));
  }
  async listDaemons(): Promise<SyncDaemon[]> {
    const msgs = await this.dump(IPVS_CMD.GET_DAEMON, [], 'list sync daemons');
    return msgs.map((m) => decodeDaemon(need(parseAttrs(genlAttrs(m)).get(IPVS_CMD_ATTR.DAEMON))));
  }

  async info(): Promise<Info> {
    const r = await this.ask(this.request(IPVS_CMD.GET_INFO, [], 'other', 'get IPVS info'), false);
    return decodeInfo(genlAttrs(need(r.find((m) => !isDone(m)))));
  }

  /** Zero the counters of one service, or of everything. */
  zero(k?: ServiceKey): Promise<void> {
    return this.exec(this.request(IPVS_CMD.ZERO, k ? [encodeService(keyOf(k), false)] : [], 'service',
      k ? `zero counters of ${describeService(k)}` : 'zero all counters'));
  }
  flush(): Promise<void> { return this.exec(this.request(IPVS_CMD.FLUSH, [], 'other', 'flush the IPVS table')); }

  /**
   * Execute a diff's operations in order, `batchSize` messages per write. The kernel
   * carries on after a failed message within a write, so the whole batch is awaited; its
   * first failure is then thrown and later batches are not sent.
   */
  async apply(ops: readonly IpvsOp[]): Promise<void> {
    const requests = ops.map((op) => this.opRequest(op));
    for (let i = 0; i < requests.length; i += this.batchSize) {
      await this.askBatch(requests.slice(i, i + this.batchSize));
    }
  }

  // ---- request building --------------------------------------------------------------

  private opRequest(op: IpvsOp): Request {
    switch (op.op) {
      case 'add-service': return this.serviceRequest('add', op.service);
      case 'edit-service': return this.serviceRequest('edit', op.service);
      case 'delete-service': return this.serviceRequest('delete', op.service);
      case 'add-destination': return this.destinationRequest('add', op.service, op.destination);
      case 'edit-destination': return this.destinationRequest('edit', op.service, op.destination);
      case 'delete-destination': return this.destinationRequest('delete', op.service, op.destination);
    }
  }

  private serviceRequest(verb: 'add' | 'edit' | 'delete', s: ServiceKey | Service): Request {
    const cmd = { add: IPVS_CMD.NEW_SERVICE, edit: IPVS_CMD.SET_SERVICE, delete: IPVS_CMD.DEL_SERVICE }[verb];
    const full = verb !== 'delete';
    const req = this.request(cmd, [encodeService(full ? s : keyOf(s), full)], 'service', () => `${verb} service ${describeService(s)}`);
    if (full) req.detail = { scheduler: (s as Service).scheduler, pe: (s as Service).pe };
    return req;
  }

  /** The parent service's key attribute, encoded once per service object (a diff reuses it for all its destinations). */
  private readonly keyCache = new WeakMap<ServiceKey, Buffer>();
  private serviceKey(k: ServiceKey): Buffer {
    let b = this.keyCache.get(k);
    if (!b) { b = encodeService(keyOf(k), false); this.keyCache.set(k, b); }
    return b;
  }

  private destinationRequest(verb: 'add' | 'edit' | 'delete', k: ServiceKey, d: Destination): Request {
    const cmd = { add: IPVS_CMD.NEW_DEST, edit: IPVS_CMD.SET_DEST, delete: IPVS_CMD.DEL_DEST }[verb];
    return this.request(cmd, [this.serviceKey(k), encodeDestination(d, verb !== 'delete')], 'destination',
      () => `${verb} destination ${destinationId(d)} of ${describeService(k)}`);
  }

  private request(cmd: number, attrs: Buffer[], kind: OperationKind, describe: string | (() => string)): Request {
    return { cmd, attrs, kind, describe: typeof describe === 'string' ? () => describe : describe };
  }

  // ---- transport ---------------------------------------------------------------------

  private nextSeq(): number {
    const s = this.seq;
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    return s;
  }

  /** Reserve n consecutive sequence numbers (never wrapping inside a batch). */
  private seqRange(n: number): number {
    if (this.seq + n > 0x7fffffff) this.seq = 1;
    const first = this.seq;
    this.seq += n;
    return first;
  }

  private async exec(r: Request): Promise<void> { await this.ask(r, false); }

  /**
   * Dumps are answered with multipart messages and DONE, never an ACK. A netlink socket
   * runs one dump at a time (a second one gets EBUSY), so they queue here.
   */
  private dump(cmd: number, attrs: Buffer[], operation: string): Promise<NetlinkMessage[]> {
    const run = (): Promise<NetlinkMessage[]> =>
      this.ask(this.request(cmd, attrs, 'other', operation), true).then((r) => r.filter((m) => !isDone(m)));
    const result = this.dumpQueue.then(run, run);
    this.dumpQueue = result.catch(() => undefined);
    return result;
  }

  /** One request in its own write, answered by ACK (after any reply) or, for a dump, DONE. */
  private ask(r: Request, dump: boolean): Promise<NetlinkMessage[]> {
    const seq = this.nextSeq();
    const message = genlMessage(this.family, NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK), seq, r.cmd, this.version, r.attrs);
    return new Promise<NetlinkMessage[]>((resolve, reject) => {
      const timer = setTimeout(() => this.pending.get(seq)?.settle(110 /* ETIMEDOUT */, []), this.timeoutMs);
      timer.unref();
      this.pending.set(seq, {
        replies: [],
        settle: (errno, replies) => {
          clearTimeout(timer);
          this.pending.delete(seq);
          this.idle();
          if (errno === 0) resolve(replies);
          else if (errno < 0) reject(new Error(`IPVS client closed before "${r.describe()}" was answered`));
          else reject(ipvsError(errno, r.kind, r.describe(), r.detail));
        },
      });
      this.send(message);
    });
  }

  /** Many requests in one write; resolves when the last is acknowledged, throws the first failure. */
  private askBatch(requests: Request[]): Promise<void> {
    const first = this.seqRange(requests.length);
    const last = first + requests.length - 1;
    const message = genlBatch(this.family, this.version, requests.map((r, i) => ({
      seq: first + i, cmd: r.cmd, attrs: r.attrs,
      flags: NLM_F_REQUEST | (i === requests.length - 1 ? NLM_F_ACK : 0),
    })));
    return new Promise<void>((resolve, reject) => {
      const batch: Batch = {
        firstSeq: first, lastSeq: last, requests, failures: [],
        done: () => {
          clearTimeout(timer);
          this.batches.delete(batch);
          this.idle();
          const f = batch.failures[0];
          if (!f) resolve();
          else if (f.errno < 0) reject(new Error(`IPVS client closed before "${requests[f.index]!.describe()}" was answered`));
          else reject(ipvsError(f.errno, requests[f.index]!.kind, requests[f.index]!.describe(), requests[f.index]!.detail));
        },
      };
      const timer = setTimeout(() => { batch.failures.push({ index: requests.length - 1, errno: 110 }); batch.done(); }, this.timeoutMs);
      timer.unref();
      this.batches.add(batch);
      this.send(message);
    });
  }

  private send(datagram: Buffer): void {
    this.transport.hold(true);
    this.writes++;
    this.transport.send(datagram);
  }

  private idle(): void {
    if (this.pending.size === 0 && this.batches.size === 0) this.transport.hold(false);
  }

  private receive(datagram: Buffer): void {
    let off = 0;
    while (off + 16 <= datagram.length) {
      const len = datagram.readUInt32LE(off);
      if (len < 16 || off + len > datagram.length) return; // malformed: drop the rest
      const type = datagram.readUInt16LE(off + 4);
      const seq = datagram.readUInt32LE(off + 8);
      const p = this.pending.get(seq);
      if (p) this.deliver(p, datagram, off, len, type);
      else if (type === NLMSG_ERROR) {
        for (const b of this.batches) {
          if (seq < b.firstSeq || seq > b.lastSeq) continue;
          const errno = 0 - datagram.readInt32LE(off + 16) || 0;
          if (errno !== 0) b.failures.push({ index: seq - b.firstSeq, errno });
          if (seq === b.lastSeq) b.done();
          break;
        }
      }
      off += (len + 3) & ~3;
    }
  }

  private deliver(p: Pending, datagram: Buffer, off: number, len: number, type: number): void {
    const [m] = parseMessages(datagram.subarray(off, off + len));
    const errno = errorOf(m!);
    if (errno !== null) { p.settle(errno, p.replies); return; }
    if (type === NLMSG_DONE) {
      // a failed dump reports its errno in DONE's payload
      const err = m!.payload.length >= 4 ? 0 - m!.payload.readInt32LE(0) : 0;
      p.settle(err > 0 ? err : 0, p.replies);
      return;
    }
    p.replies.push(m!); // a dump part, or a reply that an ACK will follow
  }
}

export function describeService(k: ServiceKey): string {
  if ('fwmark' in k) return `fwmark ${k.fwmark}${k.family === 'inet6' ? ' (IPv6)' : ''}`;
  return k.family === 'inet6' ? `${k.protocol} [${k.address}]:${k.port}` : `${k.protocol} ${k.address}:${k.port}`;
}

function need<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('IPVS reply lacks an expected attribute');
  return v;
}
