/**
 * Thin I/O shell over one NETLINK_ROUTE socket: sends encoded requests, matches replies by
 * sequence number and our port id, and hands everything else (multicast notifications) to
 * listeners. The netlink package provides only the raw socket; framing, multipart dumps and
 * errno extraction are ours (its high-level API drops the errno, see platform notes).
 *
 * The socket is opened in the network namespace of the calling thread at creation time, so
 * a process run under `ip netns exec NS` (or after enterNamedNetworkNamespace) works there.
 */
// only the raw socket: the package index loads every family's codecs (see src/ipvs/client.ts)
import { RawNetlinkSocket } from 'netlink/dist/raw.js';
import { NetlinkError, NetlinkTransportError } from './errors.js';
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
  decodeDoneErrno,
  decodeErrorPayload,
  decodeMessages,
  encodeMessage,
} from './wire.js';

const NETLINK_ROUTE = 0;
const ENOBUFS = 105;
const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_DUMP_ATTEMPTS = 5;

class DumpInterrupted extends NetlinkTransportError {}

/**
 * The netlink package's native poll handler aborts the process (C++ terminate) if a message
 * arrives while Node tears the environment down. Closing every open socket on 'exit', which
 * runs before the teardown, prevents that whatever way the process ends.
 */
const openSockets = new Set<RtnlSocket>();
let exitHookInstalled = false;
function trackOpenSocket(sock: RtnlSocket): void {
  openSockets.add(sock);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const s of [...openSockets]) s.close();
  });
}
/** Big enough that a burst of address/link notifications (a VIP storm) does not overrun. */
const DEFAULT_RECV_BUFFER = 1 << 20;

interface Pending {
  operation: string;
  replies: NlMessage[];
  resolve(replies: NlMessage[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  interrupted: boolean;
}

export interface RtnlSocketOptions {
  /** RTNLGRP_* multicast groups to join (subscriptions). */
  groups?: number[];
  /** Keep the event loop alive while open (subscriptions); requests always keep it alive. */
  keepAlive?: boolean;
  recvBufferSize?: number;
  timeoutMs?: number;
}

export class RtnlSocket {
  private readonly raw: RawNetlinkSocket;
  private readonly port: number;
  private readonly pending = new Map<number, Pending>();
  private readonly notificationListeners = new Set<(msg: NlMessage) => void>();
  private readonly overrunListeners = new Set<() => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();
  private readonly keepAlive: boolean;
  private readonly timeoutMs: number;
  private seq = Math.floor(Math.random() * 0x7fffffff) + 1;
  private closed = false;

  constructor(options: RtnlSocketOptions = {}) {
    const recv = options.recvBufferSize ?? DEFAULT_RECV_BUFFER;
    this.raw = new RawNetlinkSocket(NETLINK_ROUTE, { recvBufferSize: recv, sendBufferSize: 0 });
    this.port = this.raw.address().port;
    this.keepAlive = options.keepAlive ?? false;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    for (const group of options.groups ?? []) this.raw.addMembership(group);
    this.raw.on('message', (buf) => this.receive(buf));
    this.raw.on('error', (err) => {
      if (err.errno === ENOBUFS) {
        for (const l of this.overrunListeners) l();
      } else {
        for (const l of this.errorListeners) l(err);
      }
    });
    this.updateRef();
    trackOpenSocket(this);
  }

  /** A request the kernel ACKs; resolves with any replies it sent before the ACK. */
  request(type: number, flags: number, payload: Buffer, operation: string): Promise<NlMessage[]> {
    return this.send(type, NLM_F_REQUEST | NLM_F_ACK | flags, payload, operation);
  }

  /**
   * A dump request; resolves with every part once NLMSG_DONE arrives. A dump the kernel
   * flags as interrupted (the table changed under it) is inconsistent, so it is re-run.
   */
  async dump(type: number, payload: Buffer, operation: string): Promise<NlMessage[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(type, NLM_F_REQUEST | NLM_F_DUMP, payload, operation);
      } catch (err) {
        if (!(err instanceof DumpInterrupted) || attempt >= MAX_DUMP_ATTEMPTS) throw err;
      }
    }
  }

  onNotification(listener: (msg: NlMessage) => void): () => void {
    this.notificationListeners.add(listener);
    return () => this.notificationListeners.delete(listener);
  }

  /** The kernel dropped notifications for this socket (receive buffer full). */
  onOverrun(listener: () => void): () => void {
    this.overrunListeners.add(listener);
    return () => this.overrunListeners.delete(listener);
  }

  onError(listener: (err: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    openSockets.delete(this);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new NetlinkTransportError(`${p.operation}: netlink socket closed`));
    }
    this.pending.clear();
    this.raw.close();
  }

  private nextSeq(): number {
    this.seq = this.seq >= 0xfffffffe ? 1 : this.seq + 1;
    return this.seq;
  }

  private send(type: number, flags: number, payload: Buffer, operation: string): Promise<NlMessage[]> {
    if (this.closed) return Promise.reject(new NetlinkTransportError(`${operation}: netlink socket closed`));
    const seq = this.nextSeq();
    return new Promise<NlMessage[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.finish(seq);
        reject(new NetlinkTransportError(`${operation}: no answer from the kernel within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(seq, { operation, replies: [], resolve, reject, timer, interrupted: false });
      this.updateRef();
      const bytes = encodeMessage({ type, flags, seq, pid: this.port, payload });
      this.raw.send(bytes, {}, (err) => {
        if (!err) return;
        this.finish(seq);
        reject(new NetlinkError(`${operation} (send)`, err.errno));
      });
    });
  }

  private finish(seq: number): Pending | undefined {
    const p = this.pending.get(seq);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(seq);
    this.updateRef();
    return p;
  }

  private updateRef(): void {
    if (this.closed) return;
    if (this.keepAlive || this.pending.size > 0) this.raw.ref();
    else this.raw.unref();
  }

  private receive(buf: Buffer): void {
    let messages: NlMessage[];
    try {
      messages = decodeMessages(buf);
    } catch (err) {
      for (const l of this.errorListeners) l(err as Error);
      return;
    }
    for (const msg of messages) {
      // Replies carry our port id; notifications carry the originator's (0 for the kernel).
      const p = msg.pid === this.port ? this.pending.get(msg.seq) : undefined;
      if (!p) {
        if (msg.type === NLMSG_OVERRUN) for (const l of this.overrunListeners) l();
        else if (msg.type !== NLMSG_NOOP) for (const l of this.notificationListeners) l(msg);
        continue;
      }
      if (msg.flags & NLM_F_DUMP_INTR) p.interrupted = true;
      if (msg.type === NLMSG_ERROR) {
        const { errno, extMessage } = decodeErrorPayload(msg.payload, msg.flags);
        this.finish(msg.seq);
        if (errno === 0) p.resolve(p.replies);
        else p.reject(new NetlinkError(p.operation, errno, extMessage));
      } else if (msg.type === NLMSG_DONE) {
        const errno = decodeDoneErrno(msg.payload);
        this.finish(msg.seq);
        if (errno !== 0) p.reject(new NetlinkError(p.operation, errno));
        else if (p.interrupted) p.reject(new DumpInterrupted(`${p.operation}: dump interrupted by concurrent changes`));
        else p.resolve(p.replies);
      } else {
        p.replies.push(msg);
      }
    }
  }
}
