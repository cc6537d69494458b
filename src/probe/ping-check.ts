// PING_CHECK: one ICMP (or ICMPv6) echo request over a raw socket; up when the echo reply
// with our identifier and sequence arrives from the target within connect_timeout. An ICMP
// destination-unreachable quoting our request is down at once.
import { isIPv6 } from 'node:net';
import raw, { type Socket as RawSocket } from 'raw-socket';
import type { PingCheck } from '../config/model.js';
import { down, resolveEndpoint, up, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';
import { randomId16 } from './random.js';

const ECHO_REQUEST = { 4: 8, 6: 128 } as const;
const ECHO_REPLY = { 4: 0, 6: 129 } as const;
const UNREACHABLE = { 4: 3, 6: 1 } as const;

/** The last sequence number sent; random at the first echo. */
let sequence: number | null = null;

export function buildEcho(family: 4 | 6, id: number, seq: number): Buffer {
  const b = Buffer.alloc(8 + 16);
  b.writeUInt8(ECHO_REQUEST[family], 0);
  b.writeUInt16BE(id, 4);
  b.writeUInt16BE(seq, 6);
  b.write('keepalived-ts...', 8, 'latin1');
  // The kernel fills ICMPv6 checksums on raw sockets; ICMPv4 ones are ours.
  if (family === 4) raw.writeChecksum(b, 2, raw.createChecksum(b));
  return b;
}

/** Strips the IPv4 header raw sockets deliver (IPv6 ones arrive without it). */
function icmpOf(family: 4 | 6, packet: Buffer): Buffer | null {
  if (family === 6) return packet;
  if (packet.length < 20) return null;
  return packet.subarray((packet[0]! & 0x0f) * 4);
}

export type EchoVerdict = 'reply' | 'unreachable' | 'other';

/** Classifies a received ICMP message against our request (id, seq). */
export function classify(family: 4 | 6, packet: Buffer, id: number, seq: number): EchoVerdict {
  const icmp = icmpOf(family, packet);
  if (!icmp || icmp.length < 8) return 'other';
  const type = icmp[0]!;
  if (type === ECHO_REPLY[family]) {
    return icmp.readUInt16BE(4) === id && icmp.readUInt16BE(6) === seq ? 'reply' : 'other';
  }
  if (type === UNREACHABLE[family]) {
    // The error quotes our datagram: IP header (+ its own length) then our ICMP header.
    const quoted = icmp.subarray(8);
    const inner = family === 4 ? quoted.subarray((quoted[0]! & 0x0f) * 4) : quoted.subarray(40);
    if (inner.length >= 8 && inner[0] === ECHO_REQUEST[family] && inner.readUInt16BE(4) === id && inner.readUInt16BE(6) === seq) {
      return 'unreachable';
    }
  }
  return 'other';
}

const sameAddress = (a: string, b: string) => (isIPv6(a) && isIPv6(b) ? new URL(`http://[${a}]`).hostname === new URL(`http://[${b}]`).hostname : a === b);

interface Pending {
  host: string;
  id: number;
  seq: number;
  settle(o: CheckOutcome): void;
}

/**
 * One raw socket per family shared by every in-flight ping: each socket sees every ICMP
 * packet the host receives, so one per check would cost O(checks^2) under load. Replies are
 * routed by identifier and sequence; the socket closes when nothing waits (raw-socket keeps
 * the event loop alive while open).
 */
class Pinger {
  private sock: RawSocket | null = null;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly family: 4 | 6) {}

  private open(): RawSocket {
    if (this.sock) return this.sock;
    const sock = raw.createSocket(
      this.family === 6
        ? { addressFamily: raw.AddressFamily.IPv6, protocol: raw.Protocol.ICMPv6 }
        : { addressFamily: raw.AddressFamily.IPv4, protocol: raw.Protocol.ICMP },
    );
    sock.on('error', (e: Error) => {
      for (const p of [...this.pending.values()]) p.settle(down(e.message));
    });
    sock.on('message', (packet: Buffer, source: string) => this.receive(packet, source));
    this.sock = sock;
    return sock;
  }

  private receive(packet: Buffer, source: string): void {
    const icmp = icmpOf(this.family, packet);
    if (!icmp || icmp.length < 8) return;
    // Both replies and quoted requests carry id/seq at the same offsets of their header.
    const quotedAt = icmp[0] === UNREACHABLE[this.family] ? 8 + (this.family === 4 ? (icmp[8]! & 0x0f) * 4 : 40) : 0;
    if (icmp.length < quotedAt + 8) return;
    const key = `${icmp.readUInt16BE(quotedAt + 4)}:${icmp.readUInt16BE(quotedAt + 6)}`;
    const p = this.pending.get(key);
    if (!p) return;
    const v = classify(this.family, packet, p.id, p.seq);
    if (v === 'reply' && sameAddress(source, p.host)) p.settle(up('echo reply'));
    else if (v === 'unreachable') p.settle(down(`unreachable (reported by ${source})`));
  }

  ping(host: string, sendTo: string, timeoutMs: number, signal?: AbortSignal): Promise<CheckOutcome> {
    return new Promise((resolve) => {
      let sock: RawSocket;
      try {
        sock = this.open();
      } catch (e) {
        resolve(down(`raw socket: ${(e as Error).message}`));
        return;
      }
      let id: number;
      let seq: number;
      do {
        id = randomId16();
        sequence = ((sequence ?? randomId16()) + 1) & 0xffff;
        seq = sequence;
      } while (this.pending.has(`${id}:${seq}`));
      const key = `${id}:${seq}`;
      const timer = setTimeout(() => settle(down(`no echo reply within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = () => settle(down('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (o: CheckOutcome) => {
        if (!this.pending.delete(key)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.pending.size === 0 && this.sock) {
          this.sock.close();
          this.sock = null;
        }
        resolve(o);
      };
      this.pending.set(key, { host, id, seq, settle });
      const echo = buildEcho(this.family, id, seq);
      sock.send(echo, 0, echo.length, sendTo, (err: Error | null) => {
        if (err) settle(down(err.message));
      });
      if (signal?.aborted) onAbort();
    });
  }
}

const pingers = { 4: new Pinger(4), 6: new Pinger(6) };

export function runPingCheck(check: PingCheck, target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const ep = resolveEndpoint(check, target);
  return pingers[ep.family].ping(ep.host.split('%')[0]!, ep.host, check.connectTimeoutMs, ctx.signal);
}
