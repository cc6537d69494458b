// Adverts on the wire, ours against keepalived 2.2.7 for the same config on the same
// router (r1, same interface, same addresses): the observer captures both runs (tcpdump,
// whole frames) and, per VRID, the first advert at the configured priority and the
// priority 0 advert sent on SIGTERM must match byte for byte: the Ethernet addresses, the
// IPv4 header apart from the id and header checksum (the IPv6 header whole), and the
// VRRP message; and the gratuitous ARP / unsolicited NA frames for each VIP (first burst
// and the one vrrp_garp_master_delay later). Covers v2 PASS, v2
// without auth, v3 IPv4, v3 IPv6, unicast v2 and v3, and (separately) v2 AH, where the AH
// header and first sequence number match, and the ICV, which covers the IP id and so cannot
// match byte for byte, must verify for both implementations' frames as keepalived verifies it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configText, labUnavailable, naTarget, RouterLab, until, type AdvertView, type Capture, type Frame, type Impl, type InstanceConf } from './lab.js';
import { decodeIpv4ForInstance, RejectCounter, type InstanceExpectations } from '../../src/vrrp/packet.js';

const why = labUnavailable();
if (why) console.warn(`VRRP wire tests skipped: ${why}`);

const lab = new RouterLab('kt-iow', 76);
let cap: Capture;

beforeAll(async () => {
  if (why) return;
  await lab.setup();
  cap = await lab.capture();
});

afterAll(async () => {
  await lab.cleanup();
});

function instances(): InstanceConf[] {
  const uni = { src: lab.r1.ip, peers: [lab.r2.ip] };
  return [
    {
      name: 'V2PASS',
      vrid: 61,
      prio: 100,
      version: 2,
      advertInt: '1',
      auth: { type: 'PASS', pass: 'secret1' },
      vips: [`${lab.vip(100)}/24`, `${lab.vip(101)}/24`],
    },
    { name: 'V2NOAUTH', vrid: 62, prio: 254, version: 2, advertInt: '2', vips: [`${lab.vip(130)}/24`, `${lab.vip(131)}/24`, `${lab.vip(132)}/24`] },
    { name: 'V3V4', vrid: 63, prio: 150, version: 3, advertInt: '0.5', vips: [`${lab.vip(110)}/24`] },
    { name: 'V3V6', vrid: 64, prio: 200, version: 3, advertInt: '1', vips: [`${lab.vip6(0x100)}/64`, `${lab.vip6(0x101)}/64`] },
    { name: 'V3UNI', vrid: 65, prio: 120, version: 3, advertInt: '1', unicast: uni, vips: [`${lab.vip(120)}/24`] },
    { name: 'V2UNI', vrid: 66, prio: 110, version: 2, advertInt: '1', unicast: uni, auth: { type: 'PASS', pass: 'uni' }, vips: [`${lab.vip(121)}/24`] },
  ];
}

function ahInstances(): InstanceConf[] {
  return [
    {
      name: 'V2AH',
      vrid: 67,
      prio: 100,
      version: 2,
      advertInt: '1',
      auth: { type: 'AH', pass: 'ahsecret' },
      vips: [`${lab.vip(150)}/24`, `${lab.vip(151)}/24`],
    },
    {
      name: 'V2AHUNI',
      vrid: 68,
      prio: 100,
      version: 2,
      advertInt: '1',
      auth: { type: 'AH', pass: 'ab' },
      unicast: { src: lab.r1.ip, peers: [lab.r2.ip] },
      vips: [`${lab.vip(160)}/24`],
    },
  ];
}

interface Run {
  /** vrid -> first advert at the configured priority */
  first: Map<number, AdvertView>;
  /** vrid -> priority 0 advert on stop */
  bye: Map<number, AdvertView>;
  /** Gratuitous ARPs (IPv4) and unsolicited neighbour advertisements (IPv6) per VIP, in order. */
  garps: Map<string, Frame[]>;
}

/** Runs one implementation on r1 until every VRID advertised, then stops it gracefully. */
async function record(impl: Impl, list: InstanceConf[]): Promise<Run> {
  const from = cap.frames.length;
  const d = await lab.start(impl, lab.r1, configText(list));
  const mine = () => cap.adverts(from).filter((a) => a.frame.srcMac === lab.r1.mac);
  const vrids = list.map((i) => i.vrid);
  // the slowest is priority 100 at 1 s (Master_Down 3.6 s) or 254 at 2 s (6 s)
  await until(() => vrids.every((v) => mine().some((a) => a.vrid === v && a.prio > 0)), 20_000, `${impl}: an advert from every VRID`);
  // the second gratuitous ARP burst comes vrrp_garp_master_delay (5 s) after MASTER
  await new Promise((r) => setTimeout(r, 5_800));
  expect(await d.stop()).toBe(0);
  await until(() => vrids.every((v) => mine().some((a) => a.vrid === v && a.prio === 0)), 5_000, `${impl}: priority 0 from every VRID`);
  const run: Run = { first: new Map(), bye: new Map(), garps: new Map() };
  for (const f of cap.frames.slice(from)) {
    const vip = f.arp?.senderIp ?? naTarget(f);
    if (!vip || f.srcMac !== lab.r1.mac) continue;
    run.garps.set(vip, [...(run.garps.get(vip) ?? []), f]);
  }
  for (const a of mine()) {
    if (a.prio === 0 && !run.bye.has(a.vrid)) run.bye.set(a.vrid, a);
    if (a.prio > 0 && !run.first.has(a.vrid)) run.first.set(a.vrid, a);
  }
  lab.flushVips(
    lab.r1,
    list.flatMap((i) => i.vips),
  );
  return run;
}

const hex = (b: Buffer) => b.toString('hex');

/** The frame's fields that must match; the IPv4 id (bytes 4-5) and header checksum (10-11) are blanked. */
function comparable(a: AdvertView, ah: boolean) {
  const ip = a.frame.ip!;
  let header = hex(ip.header);
  if (ip.version === 4) {
    const h = Buffer.from(ip.header);
    h.fill(0, 4, 6);
    h.fill(0, 10, 12);
    header = hex(h);
  }
  return {
    dstMac: a.frame.dstMac,
    srcMac: a.frame.srcMac,
    ipHeader: header,
    tos: ip.tos,
    ttl: ip.ttl,
    proto: ip.proto,
    src: ip.src,
    dst: ip.dst,
    // AH: next header, length, reserved and SPI (the sequence number depends on how long
    // the run was; the ICV covers the IP id)
    ahHeader: ah ? hex(ip.payload.subarray(0, 8)) : null,
    vrrp: hex(a.vrrp),
  };
}

describe.skipIf(why)('adverts on the wire: ours byte for byte as keepalived 2.2.7', () => {
  it('v2 PASS, v2 no auth, v3 IPv4, v3 IPv6, unicast v2 and v3: first advert and priority 0', { timeout: 120_000 }, async () => {
    const list = instances();
    const theirs = await record('keepalived', list);
    const ours = await record('ours', list);
    for (const inst of list) {
      for (const [what, t, o] of [
        ['first', theirs.first, ours.first],
        ['priority 0', theirs.bye, ours.bye],
      ] as const) {
        const k = t.get(inst.vrid)!;
        const m = o.get(inst.vrid)!;
        expect.soft(comparable(m, false), `${inst.name} (VRID ${inst.vrid}), ${what} advert`).toEqual(comparable(k, false));
      }
    }
    // gratuitous ARP / unsolicited NA on becoming MASTER: the same frames, as many in the
    // first burst (vrrp_garp_master_repeat, 5 by default) for every VIP
    const burst = (fs: Frame[]) => fs.filter((f) => f.ts - fs[0]!.ts < 0.5);
    const secondBurstAfter = (fs: Frame[]) => {
      const next = fs.find((f) => f.ts - fs[0]!.ts > 1);
      return next ? next.ts - fs[0]!.ts : null;
    };
    for (const inst of list) {
      for (const vip of inst.vips.map((v) => v.split('/')[0]!)) {
        const k = theirs.garps.get(vip) ?? [];
        const m = ours.garps.get(vip) ?? [];
        expect(k.length, `keepalived's GARP/NA for ${vip}`).toBeGreaterThan(0);
        expect.soft(m.length ? m[0]!.raw.toString('hex') : null, `${inst.name}: GARP/NA frame for ${vip}`).toBe(k[0]!.raw.toString('hex'));
        expect.soft(burst(m).length, `${inst.name}: GARP/NA for ${vip} in the first burst`).toBe(burst(k).length);
        expect(secondBurstAfter(k), `keepalived's second GARP/NA burst for ${vip}`).not.toBeNull();
        expect.soft(secondBurstAfter(m), `${inst.name}: second GARP/NA burst for ${vip}, seconds after the first`).toBeCloseTo(secondBurstAfter(k)!, 0);
      }
    }
    // what the comparison covered, checked against the config (not just "equal")
    const v6 = ours.first.get(64)!;
    expect(v6.src).toBe(lab.r1.ll);
    expect(v6.dst).toBe('ff02::12');
    expect(v6.frame.ip!.ttl).toBe(255);
    const v2 = ours.first.get(61)!;
    expect([v2.frame.ip!.tos, v2.frame.ip!.ttl, v2.frame.ip!.proto, v2.dst]).toEqual([0xc0, 255, 112, '224.0.0.18']);
    expect(v2.vrrp.subarray(v2.vrrp.length - 8).toString('latin1')).toBe('secret1\0');
    expect(ours.first.get(65)!.dst).toBe(lab.r2.ip);
    expect(ours.first.get(65)!.frame.dstMac).toBe(lab.r2.mac);
  });

  it('v2 AH (multicast and unicast): same AH header and VRRP message, an ICV that verifies', { timeout: 120_000 }, async () => {
    const list = ahInstances();
    const theirs = await record('keepalived', list);
    const ours = await record('ours', list);
    for (const inst of list) {
      // the receiving side's view: r2 for unicast, anyone for multicast
      const expectations: InstanceExpectations = {
        version: 2,
        vrid: inst.vrid,
        advertIntMs: 1000,
        auth: inst.auth!,
        addresses: inst.vips.map((v) => v.split('/')[0]!),
        unicastPeers: inst.unicast ? [{ address: lab.r1.ip, minTtl: null, maxTtl: null }] : [],
      };
      const verify = (a: AdvertView, who: string) => {
        const c = new RejectCounter();
        const r = decodeIpv4ForInstance(a.frame.raw.subarray(14), expectations, c);
        expect(r.ok, `${who}'s ${inst.name} advert (priority ${a.prio}) verifies: ${JSON.stringify(c.counts)}`).toBe(true);
        // and a wrong password refuses it: the ICV was really checked
        expect(decodeIpv4ForInstance(a.frame.raw.subarray(14), { ...expectations, auth: { type: 'AH', pass: 'wrong' } }).ok).toBe(false);
      };
      for (const [what, t, o] of [
        ['first', theirs.first, ours.first],
        ['priority 0', theirs.bye, ours.bye],
      ] as const) {
        const k = t.get(inst.vrid)!;
        const m = o.get(inst.vrid)!;
        expect(k.ah).toBe(true);
        expect.soft(comparable(m, true), `${inst.name} (VRID ${inst.vrid}), ${what} advert`).toEqual(comparable(k, true));
        // the sequence number counts adverts since start: the first ones must agree
        const seq = (a: AdvertView) => a.frame.ip!.payload.readUInt32BE(8);
        if (what === 'first') expect(seq(m)).toBe(seq(k));
        verify(k, 'keepalived');
        verify(m, 'ours');
      }
    }
  });
});
