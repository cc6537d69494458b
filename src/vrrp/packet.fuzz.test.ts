// Random and mutated packets at the decoder: it must never throw, and every input ends as an
// advert or as exactly one counted rejection. Seeded, so a failure reproduces.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ALL_REJECT_REASONS,
  decodeIpv4ForInstance,
  decodeIpv6ForInstance,
  encodeAdvert,
  encodeAhDatagram,
  encodeIpv4Datagram,
  RejectCounter,
  type InstanceExpectations,
} from './packet.js';

const v4Exp: InstanceExpectations = {
  version: 2,
  vrid: 51,
  advertIntMs: 1000,
  auth: { type: 'PASS', pass: 'secret1' },
  addresses: ['10.77.0.100', '10.77.0.101'],
};
const v3Exp: InstanceExpectations = { version: 3, vrid: 52, advertIntMs: 500, auth: null, addresses: ['10.77.0.110'] };
const ahExp: InstanceExpectations = { version: 2, vrid: 58, advertIntMs: 1000, auth: { type: 'AH', pass: 'ahsecret' }, addresses: ['10.77.0.150'] };
const v6Exp: InstanceExpectations = { version: 3, vrid: 53, advertIntMs: 1000, auth: null, addresses: ['fd00:77::100', 'fd00:77::101'] };

const seeds: { family: 4 | 6; buf: Buffer; exp: InstanceExpectations }[] = [
  {
    family: 4,
    exp: v4Exp,
    buf: encodeIpv4Datagram(
      encodeAdvert({
        version: 2,
        family: 4,
        vrid: 51,
        priority: 100,
        advertIntMs: 1000,
        addresses: v4Exp.addresses,
        auth: v4Exp.auth,
        src: '10.77.0.1',
        dst: '224.0.0.18',
      }),
      { src: '10.77.0.1', dst: '224.0.0.18', id: 1 },
    ),
  },
  {
    family: 4,
    exp: v3Exp,
    buf: encodeIpv4Datagram(
      encodeAdvert({
        version: 3,
        family: 4,
        vrid: 52,
        priority: 150,
        advertIntMs: 500,
        addresses: v3Exp.addresses,
        auth: null,
        src: '10.77.0.1',
        dst: '224.0.0.18',
      }),
      { src: '10.77.0.1', dst: '224.0.0.18', id: 1 },
    ),
  },
  {
    family: 4,
    exp: ahExp,
    buf: encodeAhDatagram(
      encodeAdvert({
        version: 2,
        family: 4,
        vrid: 58,
        priority: 100,
        advertIntMs: 1000,
        addresses: ahExp.addresses,
        auth: ahExp.auth,
        src: '10.77.0.1',
        dst: '224.0.0.18',
      }),
      { src: '10.77.0.1', dst: '224.0.0.18', id: 1, pass: 'ahsecret', seq: 1, unicast: false },
    ),
  },
  {
    family: 6,
    exp: v6Exp,
    buf: encodeAdvert({
      version: 3,
      family: 6,
      vrid: 53,
      priority: 200,
      advertIntMs: 1000,
      addresses: v6Exp.addresses,
      auth: null,
      src: 'fe80::1',
      dst: 'ff02::12',
    }),
  },
];

/** A simple deterministic PRNG (mulberry32) for the mutation loop. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(src: Buffer, rand: () => number): Buffer {
  let b = Buffer.from(src);
  const ops = 1 + Math.floor(rand() * 4);
  for (let k = 0; k < ops; k++) {
    const op = Math.floor(rand() * 6);
    if (op === 0 && b.length)
      b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256); // byte
    else if (op === 1 && b.length)
      b[Math.floor(rand() * b.length)]! ^= 1 << Math.floor(rand() * 8); // bit
    else if (op === 2)
      b = b.subarray(0, Math.floor(rand() * (b.length + 1))); // truncate
    else if (op === 3) b = Buffer.concat([b, Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)))]);
    else if (op === 4 && b.length > 4)
      b.writeUInt16BE(Math.floor(rand() * 65536), Math.floor(rand() * (b.length - 1))); // length-ish fields
    else if (op === 5 && b.length > 3) b[3] = Math.floor(rand() * 256); // address count (v6) / total length (v4)
  }
  return b;
}

function decode(family: 4 | 6, buf: Buffer, exp: InstanceExpectations, counter: RejectCounter, hop: number | null) {
  return family === 4
    ? decodeIpv4ForInstance(buf, exp, counter, { acceptChecksumAsV2: true, acceptMulticastDstChecksum: true })
    : decodeIpv6ForInstance(buf, { src: 'fe80::1', dst: 'ff02::12', hopLimit: hop }, exp, counter);
}

describe('decoder fuzz', () => {
  it('120,000 mutated seeds: never throws; each input is an advert or exactly one counted rejection', () => {
    const rand = rng(0x5eed);
    const counter = new RejectCounter();
    let adverts = 0;
    let violations = 0;
    const N = 120_000;
    for (let i = 0; i < N; i++) {
      const s = seeds[i % seeds.length]!;
      const buf = mutate(s.buf, rand);
      const before = counter.total;
      // plain checks in the loop (expect() per input would dominate the run time)
      const r = decode(s.family, buf, s.exp, counter, rand() < 0.9 ? 255 : Math.floor(rand() * 256));
      if (r.ok) {
        adverts++;
        if (r.rx.advert.addresses.length === 0) violations++;
      } else if (!ALL_REJECT_REASONS.includes(r.reason) || counter.total !== before + 1) {
        violations++;
      }
    }
    expect(violations).toBe(0);
    expect(adverts + counter.total).toBe(N);
    // the mutations must reach deep checks, not only the first length test
    for (const reason of ['bad-checksum', 'bad-length', 'wrong-version', 'bad-ip-header'] as const) {
      expect(counter.counts[reason]).toBeGreaterThan(0);
    }
  });

  it('20,000 purely random buffers (fast-check) for IPv4 and IPv6', () => {
    const counter = new RejectCounter();
    let n = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), fc.boolean(), (bytes, v6) => {
        n++;
        const buf = Buffer.from(bytes);
        const before = counter.total;
        const r = v6 ? decode(6, buf, v6Exp, counter, 255) : decode(4, buf, v4Exp, counter, null);
        return r.ok || counter.total === before + 1;
      }),
      { numRuns: 20_000, seed: 42 },
    );
    expect(n).toBe(20_000);
  });
});
