// Per-instance VRRP statistics counted as keepalived 2.2.7 counts them (vrrp.c
// vrrp_check_packet, vrrp_send_adv, vrrp_state_become_master / leave_master): the counters
// of /tmp/keepalived.stats and .json. Pure: the engine says what happened, these functions
// say which counter moves.
//
// keepalived's receive checks run in another order than ours (packet.ts), so a packet with
// two faults may be counted under another reason than keepalived would pick; a packet with
// one fault is counted the same way.
import type { VrrpStats } from '../dump/vrrp-snapshot.js';
import { AUTH_AH, AUTH_NONE, AUTH_PASS, IPPROTO_AH, RejectReason, type InstanceExpectations, type ReceivedAdvert } from './packet.js';

/** A counter of VrrpStats, or null for the rejections keepalived does not count per instance. */
type StatsField = keyof VrrpStats;

export interface RejectionCount {
  field: StatsField | null;
  /**
   * keepalived counts an advert as received once its type, version, length, auth and
   * checksum are right, before it compares the address list and the unicast source.
   */
  received: boolean;
}

const NOT_COUNTED: RejectionCount = { field: null, received: false };

/**
 * Which counter a refused advert moves. `rx` is the parsed advert when the refusal came
 * from the instance checks (null when the packet did not parse).
 */
export function countRejection(reason: RejectReason, rx: ReceivedAdvert | null, expect: InstanceExpectations): RejectionCount {
  switch (reason) {
    case RejectReason.BadLength:
      return { field: 'packetLenErr', received: false };
    case RejectReason.WrongType:
      return { field: 'invalidTypeRcvd', received: false };
    case RejectReason.BadAddressCount:
      return { field: 'addrListErr', received: false };
    case RejectReason.AddressMismatch:
      return { field: 'addrListErr', received: true };
    case RejectReason.BadTtl:
      // multicast TTL is checked early; a unicast peer's min/max TTL after the advert counted
      return { field: 'ipTtlErr', received: (expect.unicastPeers?.length ?? 0) > 0 };
    case RejectReason.UnknownUnicastSource:
      return { field: null, received: true };
    case RejectReason.AuthMismatch:
      return { field: authField(rx, expect), received: false };
    // keepalived drops these without a per-instance counter: another VRID, a version or
    // checksum error (SNMP-only counters), a v2 interval mismatch ("Sync instance needed")
    default:
      return NOT_COUNTED;
  }
}

/** keepalived's three authentication counters: unknown type, other type, wrong secret. */
function authField(rx: ReceivedAdvert | null, expect: InstanceExpectations): StatsField {
  if (!rx) return 'authtypeMismatch';
  const got = rx.advert.authType;
  if (got !== AUTH_NONE && got !== AUTH_PASS && got !== AUTH_AH) return 'invalidAuthtype';
  const want = expect.auth === null ? AUTH_NONE : expect.auth.type === 'PASS' ? AUTH_PASS : AUTH_AH;
  if (got !== want || (rx.ah !== null) !== (want === AUTH_AH)) return 'authtypeMismatch';
  return 'authFailure';
}

/** The VRID of a packet that failed to parse, to find the instance keepalived would charge. */
export function peekVrid(data: Buffer, family: 4 | 6): number | null {
  if (family === 6) return data.length >= 2 ? data[1]! : null;
  if (data.length < 20) return null;
  const ihl = (data[0]! & 0x0f) * 4;
  const at = data[9] === IPPROTO_AH ? ihl + 24 : ihl;
  return data.length > at + 1 ? data[at + 1]! : null;
}
