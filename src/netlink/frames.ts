/**
 * Pure builders of the frames a new VRRP master sends so neighbours move a VIP to its MAC:
 *  - IPv4 gratuitous ARP, request form as keepalived sends it: broadcast destination,
 *    sender = target = VIP, target hardware address all-ones.
 *  - IPv6 unsolicited Neighbour Advertisement (RFC 4861 4.4, 7.2.6): to all-nodes ff02::1,
 *    hop limit 255, Override set, Solicited clear, Router per the interface's forwarding
 *    setting, with a target link-layer address option. Source is the VIP, as keepalived does.
 * Both are complete Ethernet frames, ready for an AF_PACKET socket.
 */
import { ipv4ToBytes, ipv6ToBytes, macToBytes } from '../ip/address.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETH_HEADER_LEN = 14;
const ARP_LEN = 28;
const IPV6_HEADER_LEN = 40;
const NA_LEN = 24;
const TLLA_OPTION_LEN = 8;
const IPPROTO_ICMPV6 = 58;
const ICMPV6_NEIGHBOUR_ADVERTISEMENT = 136;
const ND_OPT_TARGET_LINKADDR = 2;
const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_SOLICITED = 0x40;
const NA_FLAG_OVERRIDE = 0x20;
const ARPHRD_ETHER = 1;
const ARPOP_REQUEST = 1;
const BROADCAST_MAC = Buffer.alloc(6, 0xff);
// ff02::1 as bytes: written out, since parsing it at import compiles node:net's IPv6
// pattern in every process, whether or not it ever sees an IPv6 address
const ALL_NODES = Buffer.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
/** RFC 2464 section 7: IPv6 multicast maps to 33:33 + the group's low 32 bits. */
const ALL_NODES_MAC = Buffer.from([0x33, 0x33, 0, 0, 0, 1]);

export const GARP_FRAME_LEN = ETH_HEADER_LEN + ARP_LEN; // 42
export const NA_FRAME_LEN = ETH_HEADER_LEN + IPV6_HEADER_LEN + NA_LEN + TLLA_OPTION_LEN; // 86

function ethernetHeader(frame: Buffer, dst: Buffer, src: Buffer, etherType: number): void {
  dst.copy(frame, 0);
  src.copy(frame, 6);
  frame.writeUInt16BE(etherType, 12);
}

export function buildGratuitousArp(senderMac: string, address: string): Buffer {
  const mac = macToBytes(senderMac);
  const ip = ipv4ToBytes(address);
  const frame = Buffer.alloc(GARP_FRAME_LEN);
  ethernetHeader(frame, BROADCAST_MAC, mac, ETHERTYPE_ARP);
  let o = ETH_HEADER_LEN;
  o = frame.writeUInt16BE(ARPHRD_ETHER, o);
  o = frame.writeUInt16BE(ETHERTYPE_IPV4, o);
  o = frame.writeUInt8(6, o);
  o = frame.writeUInt8(4, o);
  o = frame.writeUInt16BE(ARPOP_REQUEST, o);
  o += mac.copy(frame, o);
  o += ip.copy(frame, o);
  o += BROADCAST_MAC.copy(frame, o);
  ip.copy(frame, o);
  return frame;
}

/** RFC 1071 ones' complement sum over the IPv6 pseudo-header (RFC 8200 8.1) and `upper`. */
export function icmpv6Checksum(source: Buffer, destination: Buffer, upper: Buffer): number {
  const pseudo = Buffer.alloc(40);
  source.copy(pseudo, 0);
  destination.copy(pseudo, 16);
  pseudo.writeUInt32BE(upper.length, 32);
  pseudo.writeUInt8(IPPROTO_ICMPV6, 39);
  let sum = 0;
  for (const part of [pseudo, upper]) {
    for (let i = 0; i + 1 < part.length; i += 2) sum += part.readUInt16BE(i);
    if (part.length % 2) sum += part.readUInt8(part.length - 1) << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface UnsolicitedNaOptions {
  /** Set the Router flag: the sender forwards IPv6 on this interface. */
  router: boolean;
}

export function buildUnsolicitedNa(senderMac: string, address: string, options: UnsolicitedNaOptions): Buffer {
  const mac = macToBytes(senderMac);
  const target = ipv6ToBytes(address);
  const frame = Buffer.alloc(NA_FRAME_LEN);
  ethernetHeader(frame, ALL_NODES_MAC, mac, ETHERTYPE_IPV6);

  const ip = frame.subarray(ETH_HEADER_LEN, ETH_HEADER_LEN + IPV6_HEADER_LEN);
  ip.writeUInt32BE(0x60000000, 0); // version 6, traffic class 0, flow label 0
  ip.writeUInt16BE(NA_LEN + TLLA_OPTION_LEN, 4);
  ip.writeUInt8(IPPROTO_ICMPV6, 6);
  ip.writeUInt8(255, 7); // receivers drop ND messages with any other hop limit
  target.copy(ip, 8);
  ALL_NODES.copy(ip, 24);

  const icmp = frame.subarray(ETH_HEADER_LEN + IPV6_HEADER_LEN);
  icmp.writeUInt8(ICMPV6_NEIGHBOUR_ADVERTISEMENT, 0);
  icmp.writeUInt8(0, 1);
  icmp.writeUInt8(NA_FLAG_OVERRIDE | (options.router ? NA_FLAG_ROUTER : 0), 4);
  target.copy(icmp, 8);
  icmp.writeUInt8(ND_OPT_TARGET_LINKADDR, 24);
  icmp.writeUInt8(1, 25); // option length in units of 8 bytes
  mac.copy(icmp, 26);
  icmp.writeUInt16BE(icmpv6Checksum(target, ALL_NODES, icmp), 2);
  return frame;
}

/** Flags of a built NA, for tests and logs. */
export function naFlags(frame: Buffer): { router: boolean; solicited: boolean; override: boolean } {
  const b = frame[ETH_HEADER_LEN + IPV6_HEADER_LEN + 4] ?? 0;
  return { router: (b & NA_FLAG_ROUTER) !== 0, solicited: (b & NA_FLAG_SOLICITED) !== 0, override: (b & NA_FLAG_OVERRIDE) !== 0 };
}
