// UDP_CHECK: send the payload on a connected UDP socket. Without require_reply, silence
// until connect_timeout is success and an ICMP unreachable (ECONNREFUSED...) is failure.
// With require_reply a reply must arrive, within min/max_reply_length and matching the
// require_reply bytes (x nibbles are wildcards) over min(reply, pattern) length.
import type { UdpCheck } from '../config/model.js';
import { exchangeDatagram } from './datagram.js';
import { down, resolveEndpoint, up, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';
import { randomPayload } from './random.js';

export interface HexPattern {
  bytes: Buffer;
  /** Bits that must match (0 where the config wrote an x nibble). */
  mask: Buffer;
}

/**
 * keepalived's free-form hex: whitespace separates groups; in a group of odd length the
 * last digit is a byte by itself ("Ab12f 3" => AB 12 0F 03); x/X is a wildcard nibble.
 */
export function parseHexPattern(text: string): HexPattern {
  const bytes: number[] = [];
  const mask: number[] = [];
  // Commas too: a multi-word value may reach us joined with them.
  for (const group of text
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean)) {
    if (!/^[0-9a-fx]+$/i.test(group)) throw new Error(`invalid hex string: ${group}`);
    let digits = group;
    if (digits.length % 2) {
      digits = `${digits.slice(0, -1)}0${digits.slice(-1)}`;
    }
    for (let i = 0; i < digits.length; i += 2) {
      let b = 0;
      let m = 0;
      for (const ch of digits.slice(i, i + 2)) {
        b <<= 4;
        m <<= 4;
        if (ch.toLowerCase() !== 'x') {
          b |= parseInt(ch, 16);
          m |= 0xf;
        }
      }
      bytes.push(b);
      mask.push(m);
    }
  }
  return { bytes: Buffer.from(bytes), mask: Buffer.from(mask) };
}

export function replyMatches(reply: Buffer, check: Pick<UdpCheck, 'requireReplyHex' | 'minReplyLength' | 'maxReplyLength'>): string | null {
  const max = check.maxReplyLength ?? 255;
  if (reply.length < check.minReplyLength || reply.length > max) {
    return `reply length ${reply.length} outside ${check.minReplyLength}-${max}`;
  }
  if (!check.requireReplyHex) return null;
  const p = parseHexPattern(check.requireReplyHex);
  const n = Math.min(reply.length, p.bytes.length);
  for (let i = 0; i < n; i++) {
    if ((reply[i]! ^ p.bytes[i]!) & p.mask[i]!) return `reply byte ${i} is ${reply[i]!.toString(16)}`;
  }
  return null;
}

/** require_reply without a hex string is written by the parser as '' (see report). */
const requiresReply = (check: UdpCheck) => check.requireReplyHex !== null;

export function runUdpCheck(check: UdpCheck, target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const ep = resolveEndpoint(check, target);
  // No payload configured: keepalived sends random bytes.
  const payload = check.payloadHex === null ? randomPayload(8) : parseHexPattern(check.payloadHex).bytes;
  return exchangeDatagram(
    {
      ep,
      request: payload,
      timeoutMs: check.connectTimeoutMs,
      onTimeout: () => (requiresReply(check) ? down(`no reply within ${check.connectTimeoutMs} ms`) : up('no ICMP error before timeout')),
      onReply: (msg) => {
        if (!requiresReply(check)) return up('reply received');
        const why = replyMatches(msg, check);
        return why ? down(why) : up('reply matches');
      },
    },
    ctx,
  );
}
