/**
 * IP and MAC address text <-> bytes, for the netlink converters, the frame builders and the
 * config's prefix checks (a leaf: it imports nothing of ours).
 * Pure. IPv6 text follows RFC 5952 (lower case, longest zero run compressed) so addresses
 * compare equal as strings whatever form the config used.
 */
import { isIPv4, isIPv6 } from 'node:net';

export function familyOf(address: string): 4 | 6 {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  throw new Error(`not an IP address: ${JSON.stringify(address)}`);
}

export function ipv4ToBytes(address: string): Buffer {
  if (!isIPv4(address)) throw new Error(`not an IPv4 address: ${JSON.stringify(address)}`);
  return Buffer.from(address.split('.').map(Number));
}

export function ipv6ToBytes(address: string): Buffer {
  if (!isIPv6(address)) throw new Error(`not an IPv6 address: ${JSON.stringify(address)}`);
  let text = address.replace(/%.*$/, ''); // zone index is not part of the address
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /\d+\.\d+\.\d+\.\d+$/.exec(text);
  if (v4) {
    const b = ipv4ToBytes(v4[0]);
    text = text.slice(0, v4.index) + `${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === null ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function ipToBytes(address: string): Buffer {
  return familyOf(address) === 4 ? ipv4ToBytes(address) : ipv6ToBytes(address);
}

export function bytesToIp(bytes: Buffer): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new Error(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  // Longest run of two or more zero groups, first one on ties (RFC 5952 section 4.2).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Canonical text of an address (IPv6 per RFC 5952), for comparisons. */
export const canonicalIp = (address: string): string => bytesToIp(ipToBytes(address));

export function macToBytes(mac: string): Buffer {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new Error(`not a MAC address: ${JSON.stringify(mac)}`);
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

export const bytesToMac = (bytes: Buffer): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');

/** The IPv4 directed broadcast of address/prefix (`brd +` in ip(8) and keepalived). */
export function ipv4Broadcast(address: string, prefix: number): string {
  const n = ipv4ToBytes(address).readUInt32BE(0);
  const hostMask = prefix >= 32 ? 0 : 0xffffffff >>> prefix;
  const out = Buffer.alloc(4);
  out.writeUInt32BE((n | hostMask) >>> 0, 0);
  return bytesToIp(out);
}
