// Which keepalived counter a refused advert moves, through the real decoder.
import { describe, expect, it } from 'vitest';
import { checkAdvertForInstance, encodeAdvert, encodeIpv4Datagram, parseIpv4Packet, type InstanceExpectations } from './packet.js';
import { countRejection, peekVrid } from './instance-stats.js';

const expectPass: InstanceExpectations = {
  version: 2,
  vrid: 51,
  advertIntMs: 1000,
  auth: { type: 'PASS', pass: 'secret' },
  addresses: ['10.0.0.100'],
};

function datagram(o: { pass?: string | null; authType?: number; vips?: string[]; ttl?: number; vrid?: number } = {}): Buffer {
  const payload = encodeAdvert({
    version: 2,
    family: 4,
    vrid: o.vrid ?? 51,
    priority: 100,
    advertIntMs: 1000,
    addresses: o.vips ?? ['10.0.0.100'],
    auth: o.pass === null ? null : { type: 'PASS', pass: o.pass ?? 'secret' },
    src: '10.0.0.2',
    dst: '224.0.0.18',
  });
  if (o.authType !== undefined) {
    payload[4] = o.authType;
    payload.writeUInt16BE(0, 6);
    let sum = 0;
    for (let i = 0; i < payload.length; i += 2) sum += payload.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    payload.writeUInt16BE(~sum & 0xffff, 6);
  }
  const d = encodeIpv4Datagram(payload, { src: '10.0.0.2', dst: '224.0.0.18', id: 1 });
  if (o.ttl !== undefined) d[8] = o.ttl;
  return d;
}

function outcome(buf: Buffer, e: InstanceExpectations = expectPass) {
  const r = parseIpv4Packet(buf);
  if (!r.ok) return countRejection(r.reason, null, e);
  const c = checkAdvertForInstance(r.rx, e);
  return c.ok ? 'accepted' : countRejection(c.reason, r.rx, e);
}

describe('keepalived statistics of refused adverts', () => {
  it('a good advert is accepted (and counted by the engine as received)', () => {
    expect(outcome(datagram())).toBe('accepted');
  });

  it('wrong password: auth_failure; no auth where PASS is wanted: authtype_mismatch; unknown type: invalid_authtype', () => {
    expect(outcome(datagram({ pass: 'wrong' }))).toEqual({ field: 'authFailure', received: false });
    expect(outcome(datagram({ pass: null }))).toEqual({ field: 'authtypeMismatch', received: false });
    expect(outcome(datagram({ authType: 7 }))).toEqual({ field: 'invalidAuthtype', received: false });
  });

  it('multicast TTL below 255: ip_ttl_err before the advert counts as received', () => {
    expect(outcome(datagram({ ttl: 64 }))).toEqual({ field: 'ipTtlErr', received: false });
  });

  it('another address list: addr_list_err after the advert counted as received', () => {
    expect(outcome(datagram({ vips: ['10.0.0.101'] }))).toEqual({ field: 'addrListErr', received: true });
  });

  it('a truncated datagram is charged to the instance of its VRID as a length error', () => {
    const d = datagram({ vrid: 77 });
    const cut = Buffer.from(d.subarray(0, d.length - 2));
    cut.writeUInt16BE(cut.length, 2);
    expect(peekVrid(cut, 4)).toBe(77);
    expect(outcome(cut)).toEqual({ field: 'packetLenErr', received: false });
  });

  it('another VRID is not counted per instance', () => {
    expect(outcome(datagram({ vrid: 52 }))).toEqual({ field: null, received: false });
  });
});
