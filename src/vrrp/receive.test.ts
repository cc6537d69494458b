import { describe, expect, it } from 'vitest';
import { parseIpv6 } from './addr.js';
import { encodeAdvert, RejectReason } from './packet.js';
import { ahVerdict, parseReceived } from './receive.js';
import type { ReceivedPacket } from './transport.js';

const LL_PEER = 'fe80::2';
const LL_OURS = 'fe80::1';
const GROUP = 'ff02::12';

function v6(dst: string, reported: string | null): ReceivedPacket {
  const data = encodeAdvert({ version: 3, family: 6, vrid: 7, priority: 100, advertIntMs: 1000, addresses: ['2001:db8::100'], auth: null, src: LL_PEER, dst });
  return { payload: data, source: LL_PEER, destination: reported, hopLimit: 255, sourceBytes: parseIpv6(LL_PEER)!, destinationBytes: null };
}

describe('parseReceived', () => {
  it('IPv6 without a reported destination: the group first, then our own address (a unicast advert to us)', () => {
    const s = { family: 6 as const, group: GROUP, source: LL_OURS };
    const toGroup = parseReceived(s, v6(GROUP, null), {});
    const toUs = parseReceived(s, v6(LL_OURS, null), {});
    expect(toGroup.ok && toGroup.rx.dst).toBe(GROUP);
    expect(toUs.ok && toUs.rx.dst).toBe(LL_OURS);
    // a checksum over some third address is bad whichever way it is read
    const r = parseReceived(s, v6('fe80::9', null), {});
    expect(r).toEqual({ ok: false, reason: RejectReason.BadChecksum });
    // no retry while our own address is unknown
    expect(parseReceived({ ...s, source: '::' }, v6(LL_OURS, null), {})).toEqual({ ok: false, reason: RejectReason.BadChecksum });
  });
});

describe('ahVerdict', () => {
  it('refuses a sequence number already sent or accepted; follows the sender, or passes a lower-priority rival', () => {
    expect(ahVerdict(10, 10, false)).toMatchObject({ ok: false });
    expect(ahVerdict(10, 9, false)).toMatchObject({ ok: false });
    expect(ahVerdict(10, 11, false)).toEqual({ ok: true, nextSeq: 11 });
    expect(ahVerdict(10, 11, true)).toEqual({ ok: true, nextSeq: 12 });
    expect(ahVerdict(0, 1, false)).toEqual({ ok: true, nextSeq: 1 });
  });
});
