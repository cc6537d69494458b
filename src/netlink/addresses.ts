/**
 * Address operations over an RtnlSocket: idempotent add/delete (a VIP already present, or
 * already gone, is the state we wanted, not an error) and listing.
 */
import { addressMatches, decodeAddress, encodeAddAddress, encodeAddressDump, encodeDeleteAddress } from './convert.js';
import { NetlinkError } from './errors.js';
import type { RtnlSocket } from './socket.js';
import type { AddOutcome, AddressSpec, DeleteOutcome, InterfaceAddress } from './types.js';
import { NLM_F_CREATE, NLM_F_EXCL, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR } from './wire.js';

const EEXIST = 17;
const EADDRNOTAVAIL = 99;

const describe = (spec: AddressSpec): string => `${spec.address}/${spec.prefix} on ifindex ${spec.ifindex}`;

export async function addAddress(sock: RtnlSocket, spec: AddressSpec): Promise<AddOutcome> {
  // EXCL makes "already there" visible as EEXIST instead of a silent replace.
  try {
    await sock.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, encodeAddAddress(spec), `add address ${describe(spec)}`);
    return 'added';
  } catch (err) {
    if (err instanceof NetlinkError && err.errno === EEXIST) return 'already-present';
    throw err;
  }
}

export async function deleteAddress(sock: RtnlSocket, spec: AddressSpec): Promise<DeleteOutcome> {
  try {
    await sock.request(RTM_DELADDR, 0, encodeDeleteAddress(spec), `delete address ${describe(spec)}`);
    return 'deleted';
  } catch (err) {
    if (err instanceof NetlinkError && err.errno === EADDRNOTAVAIL) return 'already-absent';
    throw err;
  }
}

export interface AddressFilter {
  ifindex?: number;
  family?: 4 | 6;
}

export async function listAddresses(sock: RtnlSocket, filter: AddressFilter = {}): Promise<InterfaceAddress[]> {
  const replies = await sock.dump(RTM_GETADDR, encodeAddressDump(filter.family ?? null), 'list addresses');
  const out: InterfaceAddress[] = [];
  for (const msg of replies) {
    if (msg.type !== RTM_NEWADDR) continue;
    const addr = decodeAddress(msg.payload);
    if (!addr) continue;
    if (filter.ifindex !== undefined && addr.ifindex !== filter.ifindex) continue;
    if (filter.family !== undefined && addr.family !== filter.family) continue;
    out.push(addr);
  }
  return out;
}

/** The kernel's record of `spec`'s address, or null when it is not configured. */
export async function findAddress(sock: RtnlSocket, spec: AddressSpec): Promise<InterfaceAddress | null> {
  const all = await listAddresses(sock, { ifindex: spec.ifindex, family: spec.family });
  return all.find((a) => addressMatches(a, spec)) ?? null;
}
