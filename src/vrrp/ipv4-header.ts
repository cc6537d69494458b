// The IPv4 header of an outgoing advert. We send with IP_HDRINCL, as keepalived does, so
// that the header bytes (TOS, TTL 255, the source address) are ours and identical to
// keepalived's, whatever the socket's routing would have picked.
import { internetChecksum, IPPROTO_VRRP } from './checksum.js';
import { parseIpv4 } from './addr.js';

/** IPTOS_PREC_INTERNETCONTROL: keepalived marks adverts as network control traffic. */
export const VRRP_TOS = 0xc0;
export const VRRP_TTL = 255;

export interface Ipv4HeaderFields {
  src: string;
  dst: string;
  payloadLength: number;
  /** Identification; keepalived increments it per advert. */
  id: number;
  protocol?: number;
}

function addr(text: string): Buffer {
  const b = parseIpv4(text);
  if (!b) throw new Error(`not an IPv4 address: ${text}`);
  return b;
}

export function buildIpv4Header(f: Ipv4HeaderFields): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45; // version 4, IHL 5 words
  h[1] = VRRP_TOS;
  h.writeUInt16BE(20 + f.payloadLength, 2);
  h.writeUInt16BE(f.id & 0xffff, 4);
  h.writeUInt16BE(0, 6); // no fragmentation flags
  h[8] = VRRP_TTL;
  h[9] = f.protocol ?? IPPROTO_VRRP;
  addr(f.src).copy(h, 12);
  addr(f.dst).copy(h, 16);
  h.writeUInt16BE(internetChecksum(h), 10);
  return h;
}
