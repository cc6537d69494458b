/**
 * Prefix arithmetic (announced routes and their checks): the network of address/length and
 * whether a prefix holds an address. Pure.
 */
import { BlockList } from 'node:net';
import { bytesToIp, ipToBytes } from './address.js';

type Family = 4 | 6;

/** The network address of `address/length` (host bits cleared), canonical text. */
export function networkOf(address: string, length: number): string {
  const bytes = ipToBytes(address);
  for (let bit = length; bit < bytes.length * 8; bit++) bytes[bit >> 3] = bytes.readUInt8(bit >> 3) & ~(0x80 >> (bit & 7));
  return bytesToIp(bytes);
}

/** Whether `address` lies in `network/length` (an address of the other family never does). */
export function prefixContains(network: string, length: number, family: Family, address: string): boolean {
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  list.addSubnet(network, length, type);
  try {
    return list.check(address, type);
  } catch {
    return false;
  }
}
