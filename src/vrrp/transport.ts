// The one place VRRP touches the network: raw IP sockets, one per interface, family and IP
// protocol (112 VRRP; 51 for IPsec AH, which keepalived's VRRPv2 `auth_type AH` sends), shared
// by the instances that use them. Sends multicast to the VRRP group or unicast to peers;
// delivers every received packet with what the IP layer knew about it. Knows nothing about
// VRRP semantics.
//
// Sends go through raw-socket; receives through the native RawReceiver (recvmmsg), for two
// reasons. raw-socket reads with recvfrom(), which loses the IPv6 header's hop limit that
// RFC 5798 7.1 makes a receiver check, and the destination. And it reads one packet per
// event-loop turn, through several JS calls and an epoll_wait each: under a flood of
// forged adverts that costs the child most of a core, and what it cannot read the kernel
// drops, the peer's real adverts among them. RawReceiver reads a bounded batch per turn
// (so timers still run, see raw-receiver.ts). The raw-socket socket only sends: its own
// receive side is shut off.
//
// Two receiving sockets: one takes only the sources given to prioritise() (the current
// masters, the unicast peers: socket-filter.ts in the kernel), the other everyone else.
// A flood fills the second one's queue; the first keeps the adverts that matter. IPv4 datagrams arrive with their IP header (TTL, destination
// are in the packet); IPv6 ones without, the hop limit and destination beside them.
// Each socket is bound to its device, which is how the arrival interface is known.
import raw from 'raw-socket';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { IPPROTO_VRRP } from './checksum.js';
import { parseAddress } from './addr.js';
import { encodeIpMreqn, RawReceiver, READ_BUDGET as READ_BUDGET_PER_EVENT, type ReceivedDatagram } from '../netlink/raw-receiver.js';
import { encodeFilter, FILTER_MAX_SOURCES, sourceFilterProgram, type Instruction } from '../netlink/socket-filter.js';

/** raw-socket's internals the immediate send uses (raw-socket 1.8: index.js and src/raw.cc). */
interface RawSocketQueue {
  requests: unknown[];
  wrap: { send(buf: Buffer, offset: number, length: number, address: string, sent: (bytes: number) => void): void };
}

// Linux socket option numbers (raw-socket takes raw numbers).
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_BINDTODEVICE = 25;
const SO_RCVBUFFORCE = 33;
const IPPROTO_IP = 0;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_MULTICAST_ALL = 49;
const IPPROTO_IPV6 = 41;
const IPV6_CHECKSUM = 7;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_MULTICAST_ALL = 29;
const IPV6_PKTINFO = 50;
const IPV6_TCLASS = 67;
/**
 * Each receiving socket's queue (root may exceed net.core.rmem_max; the kernel doubles it).
 * Under a flood a process that is not scheduled for a few tens of ms would otherwise lose
 * the peer's adverts with the rest; and the known peers' own queue holds a second of the
 * adverts of hundreds of instances at 0.1 s, where the default would overflow after a
 * scheduling stall shorter than Master_Down.
 */
const RECEIVE_QUEUE_BYTES = 1 << 20;
/**
 * What readPending() takes from the known peers' queue: more than a readable event's batch
 * (all of it, short of a flood that only a known source could send), since every advert
 * left there may be the one that moves a deadline about to be acted on.
 */
const PENDING_BUDGET = 4 * READ_BUDGET_PER_EVENT;
/** DSCP CS6, the class keepalived marks its adverts with (IPv4 TOS and IPv6 traffic class). */
const CS6 = 0xc0;
/** Offset of the checksum in a VRRP header: the kernel fills it for IPv6 (RFC 5798 5.2.8). */
const VRRP_CHECKSUM_OFFSET = 6;

export interface TransportOptions {
  family: 4 | 6;
  ifname: string;
  ifindex: number;
  /**
   * IPv6 only: the source for adverts, the interface's link-local address (RFC 5798
   * 5.1.2.1), or '::' to let the kernel choose. (IPv4 sources are in the datagram's header.)
   */
  srcAddress: string;
  /** Multicast group to join and send to; null for unicast-only instances. */
  group: string | null;
  /** For IPv6, let the kernel compute the VRRPv3 checksum (it knows the real source). */
  kernelChecksum6?: boolean;
  /** IP protocol: 112 (VRRP, the default) or 51 (IPsec AH around VRRPv2, IPv4 only). */
  protocol?: number;
  /**
   * IPv6 only: the hop limit to send with, 255 unless a test plays a peer the receiver must
   * ignore. (IPv4 has its TTL in the datagram the caller builds.)
   */
  hopLimit?: number;
}

export interface ReceivedPacket {
  /**
   * IPv4: the whole IP packet (header included). IPv6: the VRRP payload only. In the
   * receiver's buffer: valid during the 'packet' event only.
   */
  payload: Buffer;
  source: string;
  /** The packet's destination (the group, or our unicast address); IPv4 has it in the header too. */
  destination: string | null;
  /** The hop limit (IPv6) or TTL (IPv4, also in the header) it arrived with. */
  hopLimit: number | null;
  /** `source` and `destination` as bytes. */
  sourceBytes: Buffer;
  destinationBytes: Buffer | null;
}

/**
 * raw-socket closes a socket's fd in the native destructor, and nothing in raw-socket keeps
 * the JS object alive: a socket that only a finished module scope refers to is garbage
 * collected and silently stops receiving. Open transports are pinned here until close().
 */
const pinned = new Set<VrrpTransport>();

const sentNow = (): void => undefined;

export class VrrpTransport extends EventEmitter<{ packet: [ReceivedPacket]; error: [Error] }> {
  private readonly sock: ReturnType<typeof raw.createSocket>;
  /** The receiving sockets (the raw-socket one only sends): the known peers' (prioritise()), everyone else's. */
  private readonly priority!: RawReceiver;
  private readonly receiver!: RawReceiver;
  private closed = false;

  constructor(private readonly opts: TransportOptions) {
    super();
    const v6 = opts.family === 6;
    const protocol = opts.protocol ?? IPPROTO_VRRP;
    if (v6 && protocol !== IPPROTO_VRRP) throw new Error(`IPv6 VRRP runs over protocol ${IPPROTO_VRRP} only, not ${protocol}`);
    this.sock = raw.createSocket({
      protocol,
      addressFamily: v6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4,
    });
    try {
      const dev = Buffer.from(`${opts.ifname}\0`);
      this.sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
      if (v6) {
        this.sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, opts.hopLimit ?? 255);
        this.sock.setOption(IPPROTO_IPV6, IPV6_UNICAST_HOPS, opts.hopLimit ?? 255);
        this.sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
        this.sock.setOption(IPPROTO_IPV6, IPV6_TCLASS, CS6);
        const ifidx = Buffer.alloc(4);
        ifidx.writeUInt32LE(opts.ifindex);
        this.sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_IF, ifidx, 4);
        if (opts.kernelChecksum6 ?? true) this.sock.setOption(IPPROTO_IPV6, IPV6_CHECKSUM, VRRP_CHECKSUM_OFFSET);
        // No bind() in raw-socket: a sticky IPV6_PKTINFO (RFC 3542) fixes the source address
        // instead, or the kernel would pick a global address for ff02::12.
        const src = parseAddress(opts.srcAddress, 6);
        if (src && !src.equals(Buffer.alloc(16))) {
          const info = Buffer.alloc(20); // struct in6_pktinfo { in6_addr addr; int ifindex; }
          src.copy(info, 0);
          info.writeInt32LE(opts.ifindex, 16);
          this.sock.setOption(IPPROTO_IPV6, IPV6_PKTINFO, info, info.length);
        }
        this.sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
      } else {
        this.sock.setOption(IPPROTO_IP, IP_HDRINCL, 1);
        this.sock.setOption(IPPROTO_IP, IP_MULTICAST_TTL, 255);
        this.sock.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
        const m = encodeIpMreqn('0.0.0.0', opts.ifindex);
        this.sock.setOption(IPPROTO_IP, IP_MULTICAST_IF, m, m.length);
        this.sock.setOption(IPPROTO_IP, IP_MULTICAST_ALL, 0);
      }
      // send only: no multicast it did not join, a minimal queue for the unicast that still
      // lands on it, and never read
      this.sock.setOption(SOL_SOCKET, SO_RCVBUF, 1);
      this.sock.pauseRecv();
      this.priority = this.openReceiver({ filter: sourceFilterProgram(opts.family, [], 'only'), queueBytes: RECEIVE_QUEUE_BYTES });
      this.receiver = this.openReceiver({ queueBytes: RECEIVE_QUEUE_BYTES });
      if (opts.group) this.membership(true);
    } catch (err) {
      this.sock.close();
      this.receiver?.close();
      this.priority?.close();
      throw err;
    }
    this.sock.on('error', (err: Error) => this.emit('error', err));
    pinned.add(this);
  }

  private openReceiver(o: { filter?: Instruction[]; queueBytes?: number }): RawReceiver {
    const r = RawReceiver.open(this.opts.family, this.opts.protocol ?? IPPROTO_VRRP);
    try {
      if (o.filter) r.attachFilter(encodeFilter(o.filter));
      r.bindToDevice(this.opts.ifname);
      if (o.queueBytes) {
        try {
          r.setOption(SOL_SOCKET, SO_RCVBUFFORCE, o.queueBytes);
        } catch {
          r.setOption(SOL_SOCKET, SO_RCVBUF, o.queueBytes); // without CAP_NET_ADMIN: up to rmem_max
        }
      }
    } catch (err) {
      r.close();
      throw err;
    }
    r.onDatagram((d: ReceivedDatagram) => {
      if (!d.truncated) this.emit('packet', d); // a ReceivedPacket, and more
    });
    r.onError((err) => this.emit('error', err));
    return r;
  }

  /** Both receiving sockets join; the sending one needs no membership to send. */
  private membership(join: boolean): void {
    for (const r of [this.receiver, this.priority]) {
      if (join) r.joinGroup(this.opts.group!, this.opts.ifindex);
      else r.leaveGroup(this.opts.group!, this.opts.ifindex);
    }
  }

  /**
   * Packets from `sources` (the current masters, the configured unicast peers) get a receive
   * queue of their own, so a flood from other addresses cannot crowd them out of a full one.
   * At most FILTER_MAX_SOURCES; the rest share the common queue.
   */
  prioritise(sources: readonly string[]): void {
    const known = sources.slice(0, FILTER_MAX_SOURCES);
    // the common queue lets go first: a packet that arrives in between is missed, not read twice
    this.receiver.attachFilter(encodeFilter(sourceFilterProgram(this.opts.family, known, 'others')));
    this.priority.attachFilter(encodeFilter(sourceFilterProgram(this.opts.family, known, 'only')));
  }

  /**
   * Delivers at once what is queued on the receiving sockets (the known peers' first), not on
   * the next readable event: a caller about to act on a deadline (Master_Down) lets a queued
   * advert move it first. libuv runs due timers before it polls, and after a stall of the
   * process one readable event's batch is less than hundreds of instances' adverts.
   */
  readPending(): void {
    if (this.closed) return;
    this.priority.readQueued(PENDING_BUDGET);
    this.receiver.readQueued(READ_BUDGET_PER_EVENT);
  }

  /**
   * Sends one packet to `dst` (the group or a unicast peer). IPv4: a whole datagram, IP
   * header included (IP_HDRINCL: build it with packet.ts `encodeIpv4Datagram`, which keeps
   * keepalived's header fields and per-instance IP id). IPv6: the VRRP payload only.
   * Null when it went out at once (nearly always); else a promise of the queued send, which
   * has its own copy of `packet`.
   */
  send(packet: Buffer, dst: string): Promise<void> | null {
    if (this.closed) return Promise.reject(new Error('transport closed'));
    // raw-socket queues every send until libuv next reports the socket writable: one more
    // event-loop turn between the decision (a master-down timer) and the advert on the
    // wire, longer on a loaded host. A raw socket is nearly always writable, so the
    // sendto is tried at once (raw-socket's wrap calls it synchronously and throws its
    // error); only when that fails (or sends are already queued, to keep their order) does
    // the packet take raw-socket's queue, which also reports the error.
    const now = this.sock as unknown as RawSocketQueue;
    if (now.requests.length === 0 && this.isLiteral(dst)) {
      try {
        now.wrap.send(packet, 0, packet.length, dst, sentNow);
        return null;
      } catch {
        /* EAGAIN, ENOBUFS ...: queued below */
      }
    }
    // the caller may change its buffer once this returns (the next advert's IP id)
    const copy = Buffer.from(packet);
    return new Promise((resolve, reject) => {
      this.sock.send(copy, 0, copy.length, dst, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  /** The destinations are a few addresses sent to over and over: each is checked once. */
  private readonly literals = new Set<string>();
  private isLiteral(dst: string): boolean {
    if (this.literals.has(dst)) return true;
    if (!isIP(dst)) return false;
    this.literals.add(dst);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    pinned.delete(this);
    try {
      if (this.opts.group) this.membership(false);
    } catch {
      /* the interface may be gone already */
    }
    this.sock.close();
    this.receiver.close();
    this.priority.close();
  }
}
