// Pure decisions on a received advert, before the state machine sees it: how to parse what
// the socket delivered (the IPv6 checksum depends on a destination the socket may not
// report), and whether an AH advert's sequence number is a replay and where the instance's
// counter goes next.
import { ahSequenceAcceptable, parseIpv4Packet, parseIpv6Payload, RejectReason, type ParseOptions, type ParseResult } from './packet.js';
import type { ReceivedPacket } from './transport.js';

/** What the engine knows of the socket a packet came in on. */
export interface SocketView {
  family: 4 | 6;
  /** The multicast group joined, or null for unicast only. */
  group: string | null;
  /** Our advert source on it ('::' when not known yet). */
  source: string;
}

/**
 * IPv4: the whole datagram. IPv6: the payload, checked against the destination the kernel
 * reported; when it reported none, against the group first and then our own address (a
 * unicast advert to us), since the checksum covers the destination.
 */
export function parseReceived(s: SocketView, p: ReceivedPacket, opts: ParseOptions): ParseResult {
  if (s.family === 4) return parseIpv4Packet(p.payload, opts);
  if (p.destination) {
    // the hop limit is checked per instance (255 for multicast, the peer's range for unicast)
    return parseIpv6Payload(
      p.payload,
      { src: p.source, dst: p.destination, hopLimit: p.hopLimit, srcBytes: p.sourceBytes, dstBytes: p.destinationBytes ?? undefined },
      opts,
    );
  }
  const first = s.group ?? s.source;
  const r = parseIpv6Payload(p.payload, { src: p.source, dst: first, hopLimit: p.hopLimit, srcBytes: p.sourceBytes }, opts);
  if (!r.ok && r.reason === RejectReason.BadChecksum && s.group && s.source !== '::') {
    return parseIpv6Payload(p.payload, { src: p.source, dst: s.source, hopLimit: p.hopLimit, srcBytes: p.sourceBytes }, opts);
  }
  return r;
}

export type AhVerdict = { ok: true; nextSeq: number } | { ok: false; why: string };

/**
 * keepalived's one AH counter per instance for both directions (packet.ts
 * ahSequenceAcceptable): a number already sent or accepted is a replay. An accepted advert
 * sets the counter to its number, except that a MASTER answering a lower-priority rival
 * continues after the rival's number, so that the rival's replay check lets the answer
 * through and the election converges.
 */
export function ahVerdict(lastSeq: number, seq: number, fromLowerPriorityRival: boolean): AhVerdict {
  if (!ahSequenceAcceptable(lastSeq, seq)) return { ok: false, why: 'AH sequence number already sent or accepted (a replay)' };
  return { ok: true, nextSeq: fromLowerPriorityRival ? seq + 1 : seq };
}
