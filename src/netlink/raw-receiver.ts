/**
 * A raw IP receiver that knows each datagram's hop limit (TTL) and arrival interface.
 * raw-socket reads with recvfrom(), which drops both: VRRPv3 over IPv6 must discard
 * advertisements whose hop limit is not 255 (RFC 5798 5.1.2.3 / 7.1), and a socket per
 * interface is the only other way to learn where a packet came in. This one uses recvmsg()
 * with IPV6_RECVHOPLIMIT/IPV6_RECVPKTINFO (IP_RECVTTL/IP_PKTINFO for IPv4) in the native addon.
 * Receive only: sending stays with raw-socket (or any socket).
 *
 * IPv6 datagrams arrive without the IPv6 header (payload only); IPv4 ones with it, as raw
 * sockets always deliver them. An open receiver keeps the event loop alive until close().
 */
import { endianness } from 'node:os';
import { ipv4ToBytes, ipv6ToBytes } from './ip.js';
import { type NativeAddon, type NativeWatch, loadNativeAddon } from '../native/index.js';

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IPPROTO_IP = 0;
const IP_ADD_MEMBERSHIP = 35;
const IP_DROP_MEMBERSHIP = 36;
const IPPROTO_IPV6 = 41;
const IPV6_ADD_MEMBERSHIP = 20;
const IPV6_DROP_MEMBERSHIP = 21;
const DEFAULT_BUFFER = 65_536;

function writeHostInt32(buf: Buffer, value: number, offset: number): void {
  if (endianness() === 'LE') buf.writeInt32LE(value, offset);
  else buf.writeInt32BE(value, offset);
}

export interface ReceivedDatagram {
  payload: Buffer;
  source: string;
  /** The packet's destination address (the multicast group, or our unicast address). */
  destination: string | null;
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

export class RawReceiver {
  private readonly buffer: Buffer;
  private readonly watch: NativeWatch;
  private readonly listeners = new Set<(d: ReceivedDatagram) => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();
  private closed = false;

  private constructor(
    private readonly addon: NativeAddon,
    readonly family: 4 | 6,
    private readonly fd: number,
    bufferSize: number,
  ) {
    this.buffer = Buffer.alloc(bufferSize);
    this.watch = addon.watchReadable(fd, (status) => this.drain(status));
  }

  /** Opens a raw socket for `protocol` (112 = VRRP) in the calling thread's network namespace. */
  static open(family: 4 | 6, protocol: number, options: { bufferSize?: number } = {}): RawReceiver {
    const addon = loadNativeAddon();
    const fd = addon.openRawSocket(family, protocol);
    return new RawReceiver(addon, family, fd, options.bufferSize ?? DEFAULT_BUFFER);
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

  private drain(status: number): void {
    if (this.closed) return;
    if (status < 0) {
      this.fail(new Error(`raw receiver poll failed (libuv status ${status})`));
      return;
    }
    for (;;) {
      let got;
      try {
        got = this.addon.receiveMessage(this.fd, this.buffer);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (!got) return;
      const datagram: ReceivedDatagram = {
        payload: Buffer.from(this.buffer.subarray(0, Math.min(got.length, this.buffer.length))),
        source: got.source,
        destination: got.destination || null,
        hopLimit: got.hopLimit >= 0 ? got.hopLimit : null,
        ifindex: got.ifindex > 0 ? got.ifindex : null,
        truncated: got.truncated === 1,
      };
      for (const l of this.listeners) l(datagram);
      if (this.closed) return;
    }
  }

  private fail(err: Error): void {
    for (const l of this.errorListeners) l(err);
  }
}
