/**
 * A raw IP receiver that knows each datagram's hop limit (TTL) and arrival interface.
 * raw-socket reads with recvfrom(), which drops both: VRRPv3 over IPv6 must discard
 * advertisements whose hop limit is not 255 (RFC 5798 5.1.2.3 / 7.1), and a socket per
 * interface is the only other way to learn where a packet came in. This one uses recvmmsg()
 * with IPV6_RECVHOPLIMIT/IPV6_RECVPKTINFO (IP_RECVTTL/IP_PKTINFO for IPv4) in the native
 * addon, a batch of datagrams per system call.
 * Receive only: sending stays with raw-socket (or any socket).
 *
 * IPv6 datagrams arrive without the IPv6 header (payload only); IPv4 ones with it, as raw
 * sockets always deliver them. An open receiver keeps the event loop alive until close().
 *
 * A flood must not hold the event loop: each time the socket is readable, at most
 * READ_BUDGET datagrams are read (reading until the queue is empty never ends while a flood
 * arrives faster than the listeners take it, and the process's timers would never run). The rest stay queued (the kernel drops what overflows
 * the socket's buffer) and libuv, which polls level-triggered, comes back for them on its
 * next turn, after the timers due (a VRRP advert timer) have run.
 */
import { endianness } from 'node:os';
import { bytesToIp, ipv4ToBytes, ipv6ToBytes } from '../ip/address.js';
import { BATCH_MAX, BATCH_RECORD, type NativeAddon, type NativeWatch, loadNativeAddon } from '../native/index.js';

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IPPROTO_IP = 0;
const IP_ADD_MEMBERSHIP = 35;
const IP_DROP_MEMBERSHIP = 36;
const IPPROTO_IPV6 = 41;
const IPV6_ADD_MEMBERSHIP = 20;
const IPV6_DROP_MEMBERSHIP = 21;
/** The largest datagram read whole by default (a VRRP advert is at most 4,088 bytes). */
const DEFAULT_DATAGRAM_SIZE = 4_096;
/** Datagrams read per readable event. */
export const READ_BUDGET = 64;
/** Datagrams per system call. */
const BATCH = Math.min(32, BATCH_MAX);

function writeHostInt32(buf: Buffer, value: number, offset: number): void {
  if (endianness() === 'LE') buf.writeInt32LE(value, offset);
  else buf.writeInt32BE(value, offset);
}

export interface ReceivedDatagram {
  /**
   * The datagram in the receiver's batch buffer, which the next batch overwrites: valid during
   * the listener's call only (copy what must outlive it). Every datagram of a busy socket is
   * read once and dropped, and a copy of each cost more than the rest of the read.
   */
  payload: Buffer;
  source: string;
  /** The packet's destination address (the multicast group, or our unicast address). */
  destination: string | null;
  /** The same two addresses as bytes (4 or 16). */
  sourceBytes: Buffer;
  destinationBytes: Buffer | null;
  /** IPv6 hop limit / IPv4 TTL as received; null if the kernel did not report it. */
  hopLimit: number | null;
  /** Interface the packet arrived on; null if unknown. */
  ifindex: number | null;
  truncated: boolean;
}

/** struct ipv6_mreq: group address, then the interface index (host-order int). */
export function encodeIpv6Mreq(group: string, ifindex: number): Buffer {
  const buf = Buffer.alloc(20);
  ipv6ToBytes(group).copy(buf, 0);
  writeHostInt32(buf, ifindex, 16);
  return buf;
}

/** struct ip_mreqn: group, local address (any), interface index. */
export function encodeIpMreqn(group: string, ifindex: number): Buffer {
  const buf = Buffer.alloc(12);
  ipv4ToBytes(group).copy(buf, 0);
  writeHostInt32(buf, ifindex, 8);
  return buf;
}

interface Address {
  bytes: Buffer;
  text: string;
}

export class RawReceiver {
  /** BATCH slots of `datagramSize` bytes, and a BATCH_RECORD of facts per slot. */
  private readonly slots: Buffer;
  private readonly meta: Buffer;
  private readonly fields: Int32Array;
  private readonly watch: NativeWatch;
  private readonly listeners = new Set<(d: ReceivedDatagram) => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();
  private closed = false;
  private lastSource: Address | null = null;
  private lastDestination: Address | null = null;

  private constructor(
    private readonly addon: NativeAddon,
    readonly family: 4 | 6,
    private readonly fd: number,
    private readonly datagramSize: number,
  ) {
    this.slots = Buffer.alloc(BATCH * datagramSize);
    this.meta = Buffer.alloc(BATCH * BATCH_RECORD.size);
    this.fields = new Int32Array(this.meta.buffer, this.meta.byteOffset, this.meta.length / 4);
    this.watch = addon.watchReadable(fd, (status) => this.drain(status));
  }

  /**
   * Opens a raw socket for `protocol` (112 = VRRP) in the calling thread's network namespace.
   * `datagramSize`: longer datagrams are reported truncated.
   */
  static open(family: 4 | 6, protocol: number, options: { datagramSize?: number; addon?: NativeAddon } = {}): RawReceiver {
    const addon = options.addon ?? loadNativeAddon();
    const fd = addon.openRawSocket(family, protocol);
    return new RawReceiver(addon, family, fd, options.datagramSize ?? DEFAULT_DATAGRAM_SIZE);
  }

  joinGroup(group: string, ifindex: number): void {
    if (this.family === 6) this.addon.setSocketOption(this.fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, encodeIpv6Mreq(group, ifindex));
    else this.addon.setSocketOption(this.fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, encodeIpMreqn(group, ifindex));
  }

  leaveGroup(group: string, ifindex: number): void {
    if (this.family === 6) this.addon.setSocketOption(this.fd, IPPROTO_IPV6, IPV6_DROP_MEMBERSHIP, encodeIpv6Mreq(group, ifindex));
    else this.addon.setSocketOption(this.fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, encodeIpMreqn(group, ifindex));
  }

  /** Receive only what arrives on `ifname` (SO_BINDTODEVICE). */
  bindToDevice(ifname: string): void {
    this.addon.setSocketOption(this.fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`));
  }

  /** Any other socket option, with raw numbers (as raw-socket's setOption). */
  setOption(level: number, name: number, value: number | Buffer): void {
    this.addon.setSocketOption(this.fd, level, name, value);
  }

  /** Which datagrams the socket queues at all: a classic BPF program (socket-filter.ts). */
  attachFilter(program: Buffer): void {
    this.addon.attachFilter(this.fd, program);
  }

  onDatagram(listener: (d: ReceivedDatagram) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onError(listener: (err: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.addon.stopWatching(this.watch);
    this.addon.closeSocket(this.fd);
  }

  /**
   * Reads up to `budget` datagrams queued now, at once (not on the next readable event): for a
   * caller about to act on a deadline that a queued datagram may have moved.
   */
  readQueued(budget: number): void {
    this.drain(0, budget);
  }

  private drain(status: number, budgetLimit = READ_BUDGET): void {
    if (this.closed) return;
    if (status < 0) {
      this.fail(new Error(`raw receiver poll failed (libuv status ${status})`));
      return;
    }
    const addrLen = this.family === 4 ? 4 : 16;
    for (let budget = budgetLimit; budget > 0;) {
      const want = Math.min(budget, BATCH);
      let n: number;
      try {
        n = this.addon.receiveBatch(this.fd, this.slots, this.datagramSize, this.meta, want);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (let i = 0; i < n; i++) {
        const f = i * (BATCH_RECORD.size / 4);
        const length = this.fields[f]!;
        const hopLimit = this.fields[f + 2]!;
        const ifindex = this.fields[f + 3]!;
        const at = i * this.datagramSize;
        const rec = i * BATCH_RECORD.size;
        const source = (this.lastSource = this.addressAt(rec + BATCH_RECORD.source, addrLen, this.lastSource));
        const destination = ifindex > 0 ? (this.lastDestination = this.addressAt(rec + BATCH_RECORD.destination, addrLen, this.lastDestination)) : null;
        const datagram: ReceivedDatagram = {
          payload: this.slots.subarray(at, at + Math.min(length, this.datagramSize)),
          source: source.text,
          destination: destination && destination.text,
          sourceBytes: source.bytes,
          destinationBytes: destination && destination.bytes,
          hopLimit: hopLimit >= 0 ? hopLimit : null,
          ifindex: ifindex > 0 ? ifindex : null,
          truncated: (this.fields[f + 1]! & 1) === 1,
        };
        for (const l of this.listeners) l(datagram);
        if (this.closed) return;
      }
      if (n < want) return; // the queue is empty
      budget -= n;
    }
  }

  /**
   * The address at `offset` in the batch's records, as bytes and text: the last one's when the
   * same (a master's adverts come from one source to one group), so that most datagrams
   * allocate neither. The bytes are shared between datagrams: read them, never write.
   */
  private addressAt(offset: number, length: number, last: Address | null): Address {
    if (last && last.bytes.length === length) {
      let same = true;
      for (let i = 0; i < length && same; i++) same = this.meta[offset + i] === last.bytes[i];
      if (same) return last;
    }
    const bytes = Buffer.from(this.meta.subarray(offset, offset + length));
    return { bytes, text: bytesToIp(bytes) };
  }

  private fail(err: Error): void {
    for (const l of this.errorListeners) l(err);
  }
}
