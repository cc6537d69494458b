/**
 * The request/ACK exchange over one netlink socket, for every family: a request is answered
 * by its replies and an ACK (or an error), a dump by its parts and NLMSG_DONE, a batch by an
 * ACK for its last message and an error for each one that failed. Replies are matched by
 * sequence number and our port id; everything else (multicast notifications) goes to
 * listeners. Failures are typed: NetlinkError when the kernel refused (its errno and
 * extended-ack text), NetlinkTransportError when no answer came.
 *
 * Underneath is the netlink package's RawNetlinkSocket, only the socket: it binds, joins
 * groups and reads datagrams through libuv, which is all a socket needs to do; framing,
 * multipart dumps and errnos are ours (its higher layers drop the errno and NLA_F_NESTED,
 * see /work/shared/notes/platform.md). The socket is opened in the network namespace of the
 * calling thread, so a process run under `ip netns exec NS` (or after src/native's
 * enterNamedNetworkNamespace) works there.
 */
// only the raw socket: the package index also loads nl80211/rt/wg codecs, megabytes of code
// whose loading is a visible part of a child's start
import { RawNetlinkSocket } from 'netlink/dist/raw.js';
import { NetlinkError, NetlinkTransportError, errnoName } from './errors.js';
import { Listeners } from './listeners.js';
import {
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  type NlMessage,
  type OutgoingMessage,
  decodeDoneErrno,
  decodeErrorPayload,
  decodeMessages,
  encodeMessages,
} from './wire.js';

const ENOBUFS = 105;
const ETIMEDOUT = 110;
const EIO = 5;
const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_DUMP_ATTEMPTS = 5;
const MAX_SEQ = 0x7fffffff;

/** What the socket needs of a kernel connection; openTransport() gives the real one, tests a fake. */
export interface Transport {
  /** Our port id: the kernel's replies carry it, notifications their sender's. */
  readonly port: number;
  /** Sends one datagram; `failed` hears the errno when the send itself fails, `sent` that it did not. */
  send(datagram: Buffer, failed: (errno: number) => void, sent?: () => void): void;
  onMessage(handler: (datagram: Buffer) => void): void;
  /** Socket errors, e.g. ENOBUFS when the receive buffer overflowed and messages were lost. */
  onError?(handler: (errno: number) => void): void;
  /** Keep the process alive (requests in flight, or a subscription). */
  hold(busy: boolean): void;
  /** Joins (true) or leaves (false) a multicast group while open. */
  membership?(group: number, join: boolean): void;
  close(): void;
}

export interface TransportOptions {
  /** Multicast groups to join (subscriptions). */
  groups?: readonly number[];
  /** SO_RCVBUF; big enough that a burst of answers or notifications does not overrun. */
  recvBufferSize?: number;
  /** SO_SNDBUF; 0 keeps the system default. */
  sendBufferSize?: number;
}

/**
 * The package's native poll handler aborts the process (C++ terminate) if a message arrives
 * while Node tears the environment down. Closing every open socket on 'exit', which runs
 * before the teardown, prevents that whatever way the process ends.
 */
const openSockets = new Set<RawNetlinkSocket>();
let exitHookInstalled = false;
function trackOpenSocket(sock: RawNetlinkSocket): void {
  openSockets.add(sock);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const s of [...openSockets]) s.close();
  });
}

/** A netlink socket of `protocol` (NETLINK_ROUTE, NETLINK_GENERIC) in the calling thread's namespace. */
export function openTransport(protocol: number, options: TransportOptions = {}): Transport {
  const sock = new RawNetlinkSocket(protocol, { recvBufferSize: options.recvBufferSize ?? 1 << 20, sendBufferSize: options.sendBufferSize ?? 0 });
  for (const group of options.groups ?? []) sock.addMembership(group);
  trackOpenSocket(sock);
  let closed = false;
  return {
    port: sock.address().port,
    send: (datagram, failed, sent) =>
      sock.send(datagram, {}, (err) => {
        if (err) failed(Math.abs(err.errno ?? EIO));
        else sent?.();
      }),
    onMessage: (handler) => void sock.on('message', (buf) => handler(buf)),
    onError: (handler) => void sock.on('error', (err) => handler(Math.abs(err.errno ?? EIO))),
    membership: (group, join) => {
      if (closed) return;
      if (join) sock.addMembership(group);
      else sock.dropMembership(group);
    },
    hold: (busy) => {
      if (closed) return;
      if (busy) sock.ref();
      else sock.unref();
    },
    close: () => {
      if (closed) return;
      closed = true;
      openSockets.delete(sock);
      sock.close();
    },
  };
}

/** The message of a batch that failed first, with why. */
export interface BatchFailure {
  index: number;
  error: NetlinkError | NetlinkTransportError;
}

export interface NetlinkSocketOptions {
  /** Milliseconds before a request with no answer fails with ETIMEDOUT (default 5 s). */
  timeoutMs?: number;
  /** Keep the process alive while open (subscriptions); requests always keep it alive. */
  keepAlive?: boolean;
  /**
   * Deliver the kernel's NLMSG_DONE messages as notifications: the connector family
   * (connector/) carries its data in them rather than ending a dump with them.
   */
  doneIsData?: boolean;
}

/** Why no answer will come, told in the words of the request it reaches. */
type Failure = (operation: string) => NetlinkError | NetlinkTransportError;

/** A request, dump or batch waiting for its answer. */
interface Pending {
  /** Replies before the ACK, or a dump's parts. */
  replies: NlMessage[];
  dump: boolean;
  interrupted: boolean;
  /** The answer for `seq` arrived: errno 0 is an ACK (or, for a dump, DONE). */
  answer(seq: number, errno: number, extMessage: string | null): void;
  /** No answer will come: a timeout, a failed send, a socket error or close(). */
  fail(failure: Failure): void;
}

class DumpInterrupted extends NetlinkTransportError {}

export class NetlinkSocket {
  /** Datagrams written so far: one per request, dump or batch (read by tests and benches). */
  writes = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly notificationListeners = new Listeners<[NlMessage]>();
  private readonly overrunListeners = new Listeners<[]>();
  private readonly errorListeners = new Listeners<[Error]>();
  private readonly keepAlive: boolean;
  private readonly doneIsData: boolean;
  private readonly timeoutMs: number;
  private seq = Math.floor(Math.random() * MAX_SEQ) + 1;
  /** A socket runs one dump at a time (a second gets EBUSY): dumps queue here. */
  private dumpQueue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly transport: Transport,
    options: NetlinkSocketOptions = {},
  ) {
    this.keepAlive = options.keepAlive ?? false;
    this.doneIsData = options.doneIsData ?? false;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    transport.onMessage((buf) => this.receive(buf));
    transport.onError?.((errno) => this.socketError(errno));
    this.updateHold();
  }

  static open(protocol: number, options: NetlinkSocketOptions & TransportOptions = {}): NetlinkSocket {
    return new NetlinkSocket(openTransport(protocol, options), options);
  }

  /** A request the kernel ACKs; resolves with any replies it sent before the ACK. */
  request(type: number, flags: number, payload: Uint8Array | readonly Uint8Array[], operation: string): Promise<NlMessage[]> {
    return this.exchange(type, NLM_F_REQUEST | NLM_F_ACK | flags, payload, operation, false);
  }

  /**
   * A dump; resolves with every part once NLMSG_DONE arrives. A dump the kernel flags as
   * interrupted (the table changed under it) is inconsistent, so it is re-run.
   */
  dump(type: number, payload: Uint8Array | readonly Uint8Array[], operation: string): Promise<NlMessage[]> {
    const run = async (): Promise<NlMessage[]> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.exchange(type, NLM_F_REQUEST | NLM_F_DUMP, payload, operation, true);
        } catch (err) {
          if (!(err instanceof DumpInterrupted) || attempt >= MAX_DUMP_ATTEMPTS) throw err;
        }
      }
    };
    const result = this.dumpQueue.then(run, run);
    this.dumpQueue = result.catch(() => undefined);
    return result;
  }

  /**
   * Many requests in one write, in order; only the last asks for an ACK. The kernel carries
   * on after a failed message and reports every failure even unasked, so once the last is
   * answered every earlier failure has arrived and silence means success: one datagram back
   * per batch instead of one per message. Resolves with the first failure, or null.
   * `describe(index)` names a message for its error, and is called only for a failure.
   */
  requestBatch(messages: readonly OutgoingMessage[], describe: (index: number) => string): Promise<BatchFailure | null> {
    if (messages.length === 0) return Promise.resolve(null);
    if (this.closed) return Promise.resolve({ index: 0, error: closed(describe(0)) });
    const first = this.reserveSeqs(messages.length);
    const last = first + messages.length - 1;
    return new Promise<BatchFailure | null>((resolve) => {
      let failure: BatchFailure | null = null;
      const finish = (): void => {
        clearTimeout(timer);
        for (let s = first; s <= last; s++) this.pending.delete(s);
        this.updateHold();
        resolve(failure);
      };
      const pending: Pending = {
        replies: [],
        dump: false,
        interrupted: false,
        answer: (seq, errno, extMessage) => {
          if (errno !== 0 && !failure) failure = { index: seq - first, error: new NetlinkError(describe(seq - first), errno, extMessage) };
          if (seq === last) finish();
        },
        // nothing more will be answered: blamed on the last message, whose ACK is missing
        fail: (why) => {
          failure = { index: messages.length - 1, error: why(describe(messages.length - 1)) };
          finish();
        },
      };
      const timer = setTimeout(() => pending.fail(timedOut(this.timeoutMs)), this.timeoutMs);
      timer.unref();
      for (let s = first; s <= last; s++) this.pending.set(s, pending);
      this.updateHold();
      this.write(encodeMessages(messages, first, this.transport.port, NLM_F_REQUEST, NLM_F_ACK), (errno) => pending.fail(sendFailed(errno)));
    });
  }

  /**
   * One message that nothing answers (the connector's subscription request): resolves once
   * written, rejects with the kernel's refusal of the write (ECONNREFUSED where the family
   * has no kernel side in this network namespace).
   */
  send(type: number, flags: number, payload: Uint8Array, operation: string): Promise<void> {
    if (this.closed) return Promise.reject(closed(operation));
    const seq = this.reserveSeqs(1);
    return new Promise<void>((resolve, reject) => {
      this.write(encodeMessages([{ type, flags, payload: [payload] }], seq, this.transport.port), (errno) => reject(sendFailed(errno)(operation)), resolve);
    });
  }

  /** Joins or leaves a multicast group (a transport that cannot stays as it is). */
  setMembership(group: number, join: boolean): void {
    this.transport.membership?.(group, join);
  }

  onNotification(listener: (msg: NlMessage) => void): () => void {
    return this.notificationListeners.add(listener);
  }

  /** The kernel dropped messages for this socket (receive buffer full). */
  onOverrun(listener: () => void): () => void {
    return this.overrunListeners.add(listener);
  }

  onError(listener: (err: Error) => void): () => void {
    return this.errorListeners.add(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of new Set(this.pending.values())) p.fail(closed);
    this.pending.clear();
    this.transport.close();
  }

  private exchange(type: number, flags: number, payload: Uint8Array | readonly Uint8Array[], operation: string, dump: boolean): Promise<NlMessage[]> {
    if (this.closed) return Promise.reject(closed(operation));
    const seq = this.reserveSeqs(1);
    return new Promise<NlMessage[]>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.pending.delete(seq);
        this.updateHold();
      };
      const pending: Pending = {
        replies: [],
        dump,
        interrupted: false,
        answer: (_seq, errno, extMessage) => {
          done();
          if (errno !== 0) reject(new NetlinkError(operation, errno, extMessage));
          else if (pending.interrupted) reject(new DumpInterrupted(`${operation}: dump interrupted by concurrent changes`));
          else resolve(pending.replies);
        },
        fail: (why) => {
          done();
          reject(why(operation));
        },
      };
      const timer = setTimeout(() => pending.fail(timedOut(this.timeoutMs)), this.timeoutMs);
      timer.unref();
      this.pending.set(seq, pending);
      this.updateHold();
      const parts = payload instanceof Uint8Array ? [payload] : payload;
      this.write(encodeMessages([{ type, flags, payload: parts }], seq, this.transport.port), (errno) => pending.fail(sendFailed(errno)));
    });
  }

  private write(datagram: Buffer, failed: (errno: number) => void, sent?: () => void): void {
    this.writes++;
    this.transport.send(datagram, failed, sent);
  }

  /** `n` consecutive sequence numbers (a batch's never wrap inside it); returns the first. */
  private reserveSeqs(n: number): number {
    if (this.seq + n > MAX_SEQ) this.seq = 1;
    const first = this.seq;
    this.seq += n;
    return first;
  }

  private updateHold(): void {
    if (!this.closed) this.transport.hold(this.keepAlive || this.pending.size > 0);
  }

  /**
   * ENOBUFS: messages for this socket were dropped. Notifications are re-read by whoever
   * listens for overruns; an ACK or error may have been among the dropped, so what waits for
   * one fails. Dump parts are never dropped (the kernel writes them as we read), so dumps go on.
   * Any other socket error fails everything in flight.
   */
  private socketError(errno: number): void {
    const lost: Failure = (operation) => new NetlinkTransportError(`${operation}: answer lost to a socket error (${errnoName(errno)})`, errno);
    for (const p of new Set(this.pending.values())) if (errno !== ENOBUFS || !p.dump) p.fail(lost);
    if (errno === ENOBUFS) this.overrunListeners.emit();
    else this.errorListeners.emit(lost('netlink socket'));
  }

  private receive(buf: Buffer): void {
    let messages: NlMessage[];
    try {
      messages = decodeMessages(buf);
    } catch (err) {
      this.errorListeners.emit(err as Error);
      return;
    }
    for (const msg of messages) {
      // Replies carry our port id; notifications carry the originator's (0 for the kernel).
      const p = msg.pid === this.transport.port ? this.pending.get(msg.seq) : undefined;
      if (!p) {
        if (msg.type === NLMSG_OVERRUN) this.overrunListeners.emit();
        else if (msg.type !== NLMSG_NOOP && msg.type !== NLMSG_ERROR && (msg.type !== NLMSG_DONE || this.doneIsData)) this.notificationListeners.emit(msg);
        continue;
      }
      if (msg.flags & NLM_F_DUMP_INTR) p.interrupted = true;
      if (msg.type === NLMSG_ERROR) {
        const { errno, extMessage } = decodeErrorPayload(msg.payload, msg.flags);
        p.answer(msg.seq, errno, extMessage);
      } else if (msg.type === NLMSG_DONE) {
        p.answer(msg.seq, decodeDoneErrno(msg.payload), null);
      } else {
        p.replies.push(msg);
      }
    }
  }
}

const closed: Failure = (operation) => new NetlinkTransportError(`${operation}: netlink socket closed`);

const timedOut =
  (ms: number): Failure =>
  (operation) =>
    new NetlinkTransportError(`${operation}: no answer from the kernel within ${ms} ms`, ETIMEDOUT);

const sendFailed =
  (errno: number): Failure =>
  (operation) =>
    new NetlinkError(`${operation} (send)`, errno);
