// PING_CHECK: one ICMP (or ICMPv6) echo request over a raw socket; up when the echo reply
// with our identifier and sequence arrives from the target within connect_timeout. An ICMP
// destination-unreachable quoting our request is down at once.
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import raw, { type Socket as RawSocket } from 'raw-socket';
import type { PingCheck } from '../config/model.js';
import { down, resolveEndpoint, up, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';

const ECHO_REQUEST = { 4: 8, 6: 128 } as const;
const ECHO_REPLY = { 4: 0, 6: 129 } as const;
const UNREACHABLE = { 4: 3, 6: 1 } as const;

let sequence = randomInt(0, 0x10000);

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

export function runPingCheck(check: PingCheck, target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const ep = resolveEndpoint(check, target);
  const host = ep.host.split('%')[0]!;
  const family = ep.family;
  const id = randomInt(0, 0x10000);
  sequence = (sequence + 1) & 0xffff;
  const seq = sequence;
  return new Promise((resolve) => {
    let sock: RawSocket;
    try {
      sock = raw.createSocket(family === 6
        ? { addressFamily: raw.AddressFamily.IPv6, protocol: raw.Protocol.ICMPv6 }
        : { addressFamily: raw.AddressFamily.IPv4, protocol: raw.Protocol.ICMP });
    } catch (e) {
      resolve(down(`raw socket: ${(e as Error).message}`));
      return;
    }
    let done = false;
    const timer = setTimeout(() => finish(down(`no echo reply within ${check.connectTimeoutMs} ms`)), check.connectTimeoutMs);
    const onAbort = () => finish(down('aborted'));
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    function finish(o: CheckOutcome) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      sock.close();
      resolve(o);
    }
    sock.on('error', (e: Error) => finish(down(e.message)));
    sock.on('message', (packet: Buffer, source: string) => {
      const v = classify(family, packet, id, seq);
      if (v === 'reply' && sameAddress(source, host)) finish(up('echo reply'));
      else if (v === 'unreachable') finish(down(`unreachable (reported by ${source})`));
    });
    const echo = buildEcho(family, id, seq);
    sock.send(echo, 0, echo.length, ep.host, (err: Error | null) => { if (err) finish(down(err.message)); });
  });
}
