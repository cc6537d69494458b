// The VRRP transport between two namespaces on a veth pair: multicast and unicast, IPv4
// and IPv6, with the header fields RFC 3768/5798 require on the wire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { NetnsLab, jsonLines, netnsAvailable, until } from '../helpers/netns.js';
import { checksumVerifies, ipv6PseudoHeader } from '../../src/vrrp/checksum.js';
import { parseAddress } from '../../src/vrrp/addr.js';

const peer = fileURLToPath(new URL('./transport-peer.mjs', import.meta.url));
const lab = new NetnsLab('kt-tp');
let A = '';
let B = '';
let llA = '';

const why = netnsAvailable();
if (why) console.warn(`transport tests need network namespaces: ${why}`);

/** eth0's link-local address once duplicate address detection is over, else null. */
function linkLocal(ns: string): string | null {
  const out = lab.exec(ns, 'ip -6 -o addr show dev eth0 scope link');
  if (/tentative/.test(out)) return null;
  return /inet6 (fe80::[0-9a-f:]+)\//.exec(out)?.[1] ?? null;
}

beforeAll(async () => {
  if (why) return;
  A = lab.ns('a');
  B = lab.ns('b');
  lab.link(A, 'eth0', B, 'eth0');
  lab.exec(A, 'ip addr add 10.201.0.1/24 dev eth0 && ip addr add fd01::1/64 dev eth0 nodad');
  lab.exec(B, 'ip addr add 10.201.0.2/24 dev eth0 && ip addr add fd01::2/64 dev eth0 nodad');
  // the link-local address appears with the link and stays tentative through DAD (~1-2 s):
  // a packet sent from it before then is dropped, which made the IPv6 case flaky
  await until(() => linkLocal(A) !== null && linkLocal(B) !== null, 15_000, 'link-local addresses past DAD');
  llA = linkLocal(A)!;
});
afterAll(() => lab.cleanup());

// A v2-shaped payload; the transport does not interpret it.
const payload = Buffer.from('2133640101010000' + '0ac80001' + '0000000000000000', 'hex');

interface Heard {
  ready?: boolean;
  source?: string;
  destination?: string | null;
  hopLimit?: number | null;
  hex?: string;
}

async function exchange(family: 4 | 6, group: string | null, dst: string, src: string, extra: { protocol?: number; hops?: number; data?: Buffer } = {}) {
  const { data = payload, ...opts } = extra;
  const rx = lab.spawn(B, ['node', peer, JSON.stringify({ family, ifname: 'eth0', src: family === 6 ? '::' : src, group, protocol: opts.protocol })]);
  const got = jsonLines(rx) as Heard[];
  await until(() => got.some((l) => l.ready), 10_000, 'receiver ready');
  const tx = lab.spawn(A, ['node', peer, JSON.stringify({ family, ifname: 'eth0', src, group, ...opts, send: [{ hex: data.toString('hex'), dst }] })]);
  await new Promise((r) => tx.once('exit', r));
  await until(() => got.some((l) => l.hex), 5_000, 'packet at receiver');
  rx.kill();
  return got.find((l) => l.hex)!;
}

describe.skipIf(why)('VRRP transport in namespaces', () => {
  it('IPv4 multicast: TTL 255, TOS 0xc0, protocol 112, our source, to 224.0.0.18', async () => {
    const p = await exchange(4, '224.0.0.18', '224.0.0.18', '10.201.0.1');
    const pkt = Buffer.from(p.hex!, 'hex');
    expect(p.source).toBe('10.201.0.1');
    expect(pkt[1]).toBe(0xc0);
    expect(pkt[8]).toBe(255);
    expect(pkt[9]).toBe(112);
    expect([...pkt.subarray(16, 20)]).toEqual([224, 0, 0, 18]);
    expect(pkt.subarray(20).equals(payload)).toBe(true);
  });

  it('IPv4 unicast to a peer, from the configured unicast source', async () => {
    const p = await exchange(4, null, '10.201.0.2', '10.201.0.1');
    const pkt = Buffer.from(p.hex!, 'hex');
    expect(p.source).toBe('10.201.0.1');
    expect(pkt[8]).toBe(255);
    expect([...pkt.subarray(16, 20)]).toEqual([10, 201, 0, 2]);
  });

  it('IPv4 protocol 51 (IPsec AH): sent and received on the AH socket, TTL in the header', async () => {
    const p = await exchange(4, '224.0.0.18', '224.0.0.18', '10.201.0.1', { protocol: 51 });
    const pkt = Buffer.from(p.hex!, 'hex');
    expect(p.source).toBe('10.201.0.1');
    expect(pkt[9]).toBe(51);
    expect(pkt[8]).toBe(255);
    expect(pkt.subarray(20).equals(payload)).toBe(true);
  });

  it('IPv6 multicast to ff02::12 from the link-local address, kernel-filled VRRPv3 checksum, hop limit and destination reported', async () => {
    const v3 = Buffer.from(payload);
    v3[0] = 0x31;
    const p = await exchange(6, 'ff02::12', 'ff02::12', llA, { data: v3 });
    const data = Buffer.from(p.hex!, 'hex');
    expect(p.source).toBe(llA);
    expect(p.destination).toBe('ff02::12');
    expect(p.hopLimit).toBe(255);
    expect(data.length).toBe(v3.length);
    const pseudo = ipv6PseudoHeader(parseAddress(llA, 6)!, parseAddress('ff02::12', 6)!, data.length);
    expect(checksumVerifies(pseudo, data)).toBe(true);
  });

  it('IPv6 sent with another hop limit arrives with it (the receiver can refuse it)', async () => {
    const v3 = Buffer.from(payload);
    v3[0] = 0x31;
    const p = await exchange(6, 'ff02::12', 'ff02::12', llA, { data: v3, hops: 254 });
    expect(p.hopLimit).toBe(254);
  });
});
