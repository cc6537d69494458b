/**
 * The native raw receiver reports what raw-socket cannot: the hop limit (TTL) a VRRP packet
 * arrived with and the interface it arrived on. Frames with chosen hop limits are injected
 * from a peer namespace over a veth pair.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipToBytes, macToBytes } from '../../src/ip/address.js';
import { loadNativeAddon } from '../../src/native/index.js';
import { RawReceiver, type ReceivedDatagram } from '../../src/netlink/raw-receiver.js';
import { encodeFilter, sourceFilterProgram } from '../../src/netlink/socket-filter.js';
import { Namespaces, enterNamespace, ipJson, ipn, netnsUnavailableReason, sleep } from './netns.js';

const unavailable = netnsUnavailableReason();
if (unavailable) console.warn(`skipping raw receiver namespace tests: ${unavailable}`);

const VRRP = 112;
const project = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function ipv6Frame(srcMac: string, hopLimit: number, payload: Buffer, src = 'fe80::b'): Buffer {
  const eth = Buffer.concat([macToBytes('33:33:00:00:00:12'), macToBytes(srcMac), Buffer.from([0x86, 0xdd])]);
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0);
  ip.writeUInt16BE(payload.length, 4);
  ip[6] = VRRP;
  ip[7] = hopLimit;
  ipToBytes(src).copy(ip, 8);
  ipToBytes('ff02::12').copy(ip, 24);
  return Buffer.concat([eth, ip, payload]);
}

function ipv4Frame(srcMac: string, ttl: number, payload: Buffer, src = '192.0.2.11'): Buffer {
  const eth = Buffer.concat([macToBytes('01:00:5e:00:00:12'), macToBytes(srcMac), Buffer.from([0x08, 0x00])]);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + payload.length, 2);
  ip[8] = ttl;
  ip[9] = VRRP;
  ipToBytes(src).copy(ip, 12);
  ipToBytes('224.0.0.18').copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  return Buffer.concat([eth, ip, payload]);
}

describe.skipIf(unavailable !== null)('raw receiver with hop limit and arrival interface', () => {
  const namespaces = new Namespaces();
  let rx = '';
  let tx = '';
  let leave: (() => void) | null = null;
  let rxIndex = 0;
  let txIndex = 0;
  let txMac = '';

  beforeAll(() => {
    rx = namespaces.create('rx');
    tx = namespaces.create('tx');
    ipn(rx, 'link', 'add', 'kt-nl-ra', 'type', 'veth', 'peer', 'name', 'kt-nl-rb', 'netns', tx);
    ipn(rx, 'addr', 'add', '192.0.2.10/24', 'dev', 'kt-nl-ra');
    ipn(rx, 'link', 'set', 'kt-nl-ra', 'up');
    ipn(tx, 'link', 'set', 'kt-nl-rb', 'up');
    // `ip link show NAME` fails when the link is absent, so its list has the one entry
    rxIndex = ipJson<{ ifindex: number }[]>(rx, 'link', 'show', 'kt-nl-ra')[0]!.ifindex;
    const txLink = ipJson<{ ifindex: number; address: string }[]>(tx, 'link', 'show', 'kt-nl-rb')[0]!;
    txIndex = txLink.ifindex;
    txMac = txLink.address;
    leave = enterNamespace(rx);
  });

  afterAll(() => {
    leave?.();
    namespaces.deleteAll();
  });

  /** Sends frames from the peer namespace, then comes back to ours. */
  function sendFromPeer(frames: Buffer[]): void {
    const back = enterNamespace(tx);
    const addon = loadNativeAddon();
    const fd = addon.openPacketSocket(); // opened while in the peer namespace: it sends there
    back();
    try {
      for (const f of frames) addon.sendFrame(fd, txIndex, f);
    } finally {
      addon.closeSocket(fd);
    }
  }

  it('reports the IPv6 hop limit, source, group and interface of each VRRP datagram', async () => {
    const receiver = RawReceiver.open(6, VRRP);
    try {
      receiver.joinGroup('ff02::12', rxIndex);
      const got: ReceivedDatagram[] = [];
      receiver.onDatagram((d) => got.push(d));
      sendFromPeer([ipv6Frame(txMac, 255, Buffer.from('hop-255')), ipv6Frame(txMac, 1, Buffer.from('hop-1'))]);
      for (let i = 0; i < 100 && got.length < 2; i++) await sleep(20);
      expect(got.map((d) => [d.payload.toString(), d.hopLimit])).toEqual([
        ['hop-255', 255],
        ['hop-1', 1],
      ]);
      for (const d of got) {
        expect(d).toMatchObject({ source: 'fe80::b', destination: 'ff02::12', ifindex: rxIndex, truncated: false });
      }
    } finally {
      receiver.close();
    }
  });

  it('reports the IPv4 TTL and interface (the datagram keeps its IP header)', async () => {
    const receiver = RawReceiver.open(4, VRRP);
    try {
      receiver.joinGroup('224.0.0.18', rxIndex);
      const got: ReceivedDatagram[] = [];
      receiver.onDatagram((d) => got.push(d));
      sendFromPeer([ipv4Frame(txMac, 255, Buffer.from('ttl-255')), ipv4Frame(txMac, 7, Buffer.from('ttl-7'))]);
      for (let i = 0; i < 100 && got.length < 2; i++) await sleep(20);
      expect(got.map((d) => [d.payload.subarray(20).toString(), d.hopLimit, d.payload[8]])).toEqual([
        ['ttl-255', 255, 255],
        ['ttl-7', 7, 7],
      ]);
      for (const d of got) expect(d).toMatchObject({ source: '192.0.2.11', destination: '224.0.0.18', ifindex: rxIndex });
    } finally {
      receiver.close();
    }
  });

  it('delivers nothing after close and reports socket errors with errno', async () => {
    const receiver = RawReceiver.open(6, VRRP);
    receiver.joinGroup('ff02::12', rxIndex);
    const got: ReceivedDatagram[] = [];
    receiver.onDatagram((d) => got.push(d));
    receiver.close();
    sendFromPeer([ipv6Frame(txMac, 255, Buffer.from('late'))]);
    await sleep(100);
    expect(got).toEqual([]);
    const other = RawReceiver.open(6, VRRP);
    try {
      expect(() => other.joinGroup('ff02::12', 999_999)).toThrow(expect.objectContaining({ code: 'ENODEV' }));
    } finally {
      other.close();
    }
  });
  it('a handler that throws fails like any Node callback (uncaughtException), not out of the next unrelated addon call', async () => {
    // a process of its own (an uncaught exception ends it), from dist/, in the receiving namespace
    const script = `
      import { RawReceiver } from ${JSON.stringify(join(project, 'dist', 'src', 'netlink', 'raw-receiver.js'))};
      process.on('uncaughtException', (e) => { console.log('uncaught: ' + e.message); process.exit(0); });
      const r = RawReceiver.open(4, ${VRRP});
      r.joinGroup('224.0.0.18', ${rxIndex});
      r.onDatagram(() => { throw new Error('thrown by the handler'); });
      console.log('ready');
      setTimeout(() => {
        try { RawReceiver.open(4, ${VRRP}).close(); console.log('next call returned'); } catch (e) { console.log('next call threw: ' + e.message); }
        process.exit(0);
      }, 2000);`;
    const child = spawn('ip', ['netns', 'exec', rx, process.execPath, '--input-type=module', '-e', script]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => child.on('close', r));
    for (let i = 0; i < 500 && !out.includes('ready'); i++) await sleep(20);
    sendFromPeer([ipv4Frame(txMac, 255, Buffer.from('boom'))]);
    await exited;
    expect(out.trim().split('\n')).toEqual(['ready', 'uncaught: thrown by the handler']);
  });

  it('queues only what its source filter lets through (IPv4 and IPv6, the kernel running the program)', async () => {
    const only4 = RawReceiver.open(4, VRRP);
    const others4 = RawReceiver.open(4, VRRP);
    const only6 = RawReceiver.open(6, VRRP);
    const got = { only4: [] as string[], others4: [] as string[], only6: [] as string[] };
    try {
      only4.attachFilter(encodeFilter(sourceFilterProgram(4, ['192.0.2.11'], 'only')));
      others4.attachFilter(encodeFilter(sourceFilterProgram(4, ['192.0.2.11'], 'others')));
      only6.attachFilter(encodeFilter(sourceFilterProgram(6, ['fe80::b'], 'only')));
      for (const r of [only4, others4]) r.joinGroup('224.0.0.18', rxIndex);
      only6.joinGroup('ff02::12', rxIndex);
      only4.onDatagram((d) => got.only4.push(d.source));
      others4.onDatagram((d) => got.others4.push(d.source));
      only6.onDatagram((d) => got.only6.push(d.source));
      sendFromPeer([
        ipv4Frame(txMac, 255, Buffer.from('a'), '192.0.2.11'),
        ipv4Frame(txMac, 255, Buffer.from('b'), '198.51.100.7'),
        ipv6Frame(txMac, 255, Buffer.from('c'), 'fe80::b'),
        ipv6Frame(txMac, 255, Buffer.from('d'), 'fe80::c'),
      ]);
      for (let i = 0; i < 100 && got.only4.length + got.others4.length + got.only6.length < 3; i++) await sleep(20);
      await sleep(100);
      expect(got).toEqual({ only4: ['192.0.2.11'], others4: ['198.51.100.7'], only6: ['fe80::b'] });
    } finally {
      for (const r of [only4, others4, only6]) r.close();
    }
  });
});
