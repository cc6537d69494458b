// The invalid adverts of the flood test and bench (test/vrrp/flood.test.ts,
// bench/vrrp-flood.mjs), as test/vrrp/vrrp-flood.c takes them: TTL:MODE:HEX. Each is an
// advert of the instance under attack spoiled in one way (a VRRPv2 one with PASS
// authentication, or a VRRPv3 one over IPv6), and each claims priority 200, so one that
// got through would take the MASTER role on the wire.
import { encodeAdvert } from '../../src/vrrp/packet.js';

export interface FloodTemplate {
  /** The reason our receiver gives (src/vrrp/packet.ts RejectReason). */
  reason: string;
  /** Whether we log it at the default level (another router's VRID is debug). */
  logged: boolean;
  /** The flooder's argument. */
  arg: string;
}

export function floodTemplates(o: { vrid: number; pass: string; vips: string[]; otherVip: string }): FloodTemplate[] {
  const advert = (p: { vrid?: number; pass?: string; vips?: string[] } = {}) =>
    encodeAdvert({
      version: 2,
      family: 4,
      vrid: p.vrid ?? o.vrid,
      priority: 200,
      advertIntMs: 1000,
      addresses: p.vips ?? o.vips,
      auth: { type: 'PASS', pass: p.pass ?? o.pass },
      src: '0.0.0.0',
      dst: '224.0.0.18',
    });
  const badChecksum = advert();
  badChecksum.writeUInt16BE(badChecksum.readUInt16BE(6) ^ 0x5a5a, 6);
  const badCount = advert();
  badCount[3] = o.vips.length + 1; // the count disagrees with the addresses present
  const t = (reason: string, ttl: number, msg: Buffer, logged = true): FloodTemplate => ({ reason, logged, arg: `${ttl}:keep:${msg.toString('hex')}` });
  // a VRRPv2 checksum covers the message only, so a forged source leaves it valid ("keep")
  return [
    t('bad-ttl', 64, advert()),
    t('bad-checksum', 255, badChecksum),
    t('auth-mismatch', 255, advert({ pass: `${o.pass}x` })),
    t('address-list-mismatch', 255, advert({ vips: [o.otherVip] })),
    t('bad-address-count', 255, badCount),
    t('vrid-not-ours', 255, advert({ vrid: o.vrid + 1 }), false),
  ];
}

/** VRRPv3 over IPv6: the flooder fills in each checksum for its forged source ("v6"), or spoils it ("v6bad"). */
export function floodTemplates6(o: { vrid: number; vips: string[]; otherVip: string }): FloodTemplate[] {
  const advert = (p: { vrid?: number; vips?: string[] } = {}) =>
    encodeAdvert({
      version: 3,
      family: 6,
      vrid: p.vrid ?? o.vrid,
      priority: 200,
      advertIntMs: 1000,
      addresses: p.vips ?? o.vips,
      auth: null,
      src: '::',
      dst: 'ff02::12',
    });
  const t = (reason: string, hops: number, mode: string, msg: Buffer, logged = true): FloodTemplate => ({
    reason,
    logged,
    arg: `${hops}:${mode}:${msg.toString('hex')}`,
  });
  return [
    t('bad-ttl', 64, 'v6', advert()),
    t('bad-checksum', 255, 'v6bad', advert()),
    t('address-list-mismatch', 255, 'v6', advert({ vips: [o.otherVip] })),
    t('vrid-not-ours', 255, 'v6', advert({ vrid: o.vrid + 1 }), false),
  ];
}
