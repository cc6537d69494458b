/**
 * The client against a scripted fake kernel (the real one is exercised in test/kernel/,
 * inside a VM): batching into writes, ACK/error matching by sequence number, dumps,
 * the family lookup and its "modprobe ip_vs" error.
 */
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CTRL_ATTR_FAMILY_ID, CTRL_ATTR_VERSION, GENL_ID_CTRL, genlAttrs } from '../netlink/genl.js';
import type { Transport } from '../netlink/socket.js';
import {
  AttrWriter,
  NLM_F_DUMP,
  NLM_F_MULTI,
  type NlMessage as NetlinkMessage,
  decodeAttrs as parseAttrs,
  decodeMessages as parseMessages,
} from '../netlink/wire.js';
import { IpvsClient, IpvsUnavailableError } from './client.js';
import { IpvsError, encodeService } from './codec.js';
import { IPVS_CMD, IPVS_CMD_ATTR } from './constants.js';
import { diff } from './diff.js';
import type { Destination, Service } from './model.js';

const IPVS_ID = 32;
const noFlags = { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false };
const svc = (n: number): Service => ({
  family: 'inet',
  protocol: 'tcp',
  address: `10.0.0.${n}`,
  port: 80,
  scheduler: 'rr',
  flags: noFlags,
  timeout: 0,
  prefix: 32,
  pe: null,
});
const dst = (n: number, weight = 1): Destination => ({
  family: 'inet',
  address: `10.1.0.${n}`,
  port: 80,
  forwarding: 'masquerade',
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunnel: null,
});

function frame(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(16 + payload.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq, 8);
  payload.copy(b, 16);
  return b;
}
/** The kernel answers a message when it failed or asked for an ACK (NLM_F_ACK = 4). */
const ack = (m: NetlinkMessage, errno = 0): Buffer[] => (errno === 0 && !(m.flags & 4) ? [] : [ackAlways(m, errno)]);
const ackAlways = (m: NetlinkMessage, errno = 0): Buffer => {
  const p = Buffer.alloc(20);
  p.writeInt32LE(-errno, 0);
  return frame(2, 0, m.seq, p);
};
const genl = (cmd: number, attrs: Buffer[]): Buffer => Buffer.concat([Buffer.from([cmd, 1, 0, 0]), ...attrs]);

/** A fake kernel: `answer` returns the datagrams to deliver for each message received. */
function fakeKernel(answer: (m: NetlinkMessage) => Buffer[]) {
  const writes: NetlinkMessage[][] = [];
  let deliver: (d: Buffer) => void = () => {};
  const transport: Transport = {
    port: 0,
    send: (d) => {
      const msgs = parseMessages(d);
      writes.push(msgs);
      const out = msgs.flatMap((m) => {
        if (m.type === GENL_ID_CTRL)
          return [frame(GENL_ID_CTRL, 0, m.seq, genl(1, [new AttrWriter().u16(CTRL_ATTR_FAMILY_ID, IPVS_ID).u32(CTRL_ATTR_VERSION, 1).result()])), ...ack(m)];
        return answer(m);
      });
      setImmediate(() => out.forEach((o) => deliver(o)));
    },
    onMessage: (h) => {
      deliver = h;
    },
    hold: () => {},
    close: () => {},
  };
  return { transport, writes };
}
const cmdOf = (m: NetlinkMessage): number => m.payload[0]!;

// The real family lookup on this host's kernel, only where it has no IPVS at all (asking
// for the family would otherwise autoload ip_vs on the host).
const kernelModules = `/lib/modules/${release()}/kernel/net/netfilter/ipvs`;
const hostHasNoIpvs = !existsSync('/proc/net/ip_vs') && !existsSync(kernelModules);
if (!hostHasNoIpvs) console.warn(`src/ipvs: this kernel has IPVS (/proc/net/ip_vs or ${kernelModules}): the missing-family test on the real kernel is skipped`);
describe.runIf(hostHasNoIpvs)('IpvsClient on a kernel without IPVS', () => {
  it('fails to open with errno ENOENT and a sentence naming modprobe ip_vs', async () => {
    const err = await IpvsClient.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsUnavailableError);
    expect(err).toMatchObject({ errno: 2, code: 'ENOENT' });
    expect((err as Error).message).toMatch(/modprobe ip_vs/);
  });
});

describe('IpvsClient (fake kernel)', () => {
  it('resolves the IPVS family and addresses requests to its id', async () => {
    const k = fakeKernel((m) => ack(m));
    const c = await IpvsClient.open({ transport: k.transport });
    await c.addService(svc(1));
    expect(k.writes[1]![0]!.type).toBe(IPVS_ID);
    expect(cmdOf(k.writes[1]![0]!)).toBe(IPVS_CMD.NEW_SERVICE);
    expect(c.writes).toBe(2); // family lookup + the add
  });

  it('names the fix when the kernel has no IPVS family', async () => {
    const transport: Transport = {
      port: 0,
      send: (d) => {
        const [m] = parseMessages(d);
        setImmediate(() => deliver(ackAlways(m!, 2)));
      },
      onMessage: (h) => {
        deliver = h;
      },
      hold: () => {},
      close: () => {},
    };
    let deliver: (d: Buffer) => void = () => {};
    const err = await IpvsClient.open({ transport }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsUnavailableError);
    expect(err).toMatchObject({ errno: 2, code: 'ENOENT' });
    expect((err as Error).message).toMatch(/modprobe ip_vs/);
    expect((err as Error).message).toMatch(/container/);
  });

  it('packs apply() into writes of batchSize messages, in order', async () => {
    const k = fakeKernel((m) => ack(m));
    const c = await IpvsClient.open({ transport: k.transport, batchSize: 4 });
    const before = c.writes;
    const ops = diff([{ service: svc(1), destinations: [1, 2, 3, 4, 5, 6].map((n) => dst(n)) }], []);
    await c.apply(ops);
    expect(c.writes - before).toBe(2); // 7 operations, 4 per write
    const sent = k.writes.slice(1).flat().map(cmdOf);
    expect(sent).toEqual([IPVS_CMD.NEW_SERVICE, ...new Array<number>(6).fill(IPVS_CMD.NEW_DEST)]);
  });

  it('a diff that changes one destination issues exactly one netlink write', async () => {
    const k = fakeKernel((m) => ack(m));
    const c = await IpvsClient.open({ transport: k.transport });
    const actual = [{ service: svc(1), destinations: [dst(1), dst(2)] }];
    const before = c.writes;
    await c.apply(diff([{ service: svc(1), destinations: [dst(1), dst(2, 7)] }], actual));
    expect(c.writes - before).toBe(1);
    expect(k.writes.at(-1)!.map(cmdOf)).toEqual([IPVS_CMD.SET_DEST]);
  });

  it('matches errors to their request and throws the first as a typed IpvsError', async () => {
    let n = 0;
    const k = fakeKernel((m) => ack(m, ++n === 2 ? 17 : 0));
    const c = await IpvsClient.open({ transport: k.transport });
    const err = await c
      .apply([
        { op: 'add-service', service: svc(1) },
        { op: 'add-service', service: svc(2) },
        { op: 'add-service', service: svc(3) },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsError);
    expect(err).toMatchObject({ errno: 17, code: 'EEXIST', operation: 'add service tcp 10.0.0.2:80' });
  });

  it('asks only the last message of a batch for an ACK; silence before it means success', async () => {
    const k = fakeKernel((m) => ack(m));
    const c = await IpvsClient.open({ transport: k.transport });
    await c.apply(diff([{ service: svc(1), destinations: [dst(1), dst(2)] }], []));
    expect(k.writes.at(-1)!.map((m) => m.flags & 4)).toEqual([0, 0, 4]);
  });

  it('fails what is in flight on a socket error (ENOBUFS: answers were lost)', async () => {
    let onError: (errno: number) => void = () => {};
    const k = fakeKernel(() => []);
    const c = await IpvsClient.open({
      transport: {
        ...k.transport,
        onError: (h) => {
          onError = h;
        },
      },
    });
    const p = c.apply([{ op: 'add-service', service: svc(1) }]);
    onError(105);
    await expect(p).rejects.toMatchObject({ code: 'ENOBUFS', errno: 105 });
  });

  it('collects a multipart dump until DONE, one dump at a time', async () => {
    const inFlight: number[] = [];
    let maxInFlight = 0;
    const k = fakeKernel((m) => {
      expect(m.flags & NLM_F_DUMP).toBe(NLM_F_DUMP);
      inFlight.push(m.seq);
      maxInFlight = Math.max(maxInFlight, inFlight.length);
      setImmediate(() => inFlight.splice(inFlight.indexOf(m.seq), 1));
      const parts = [1, 2].map((i) => frame(IPVS_ID, NLM_F_MULTI, m.seq, genl(IPVS_CMD.NEW_SERVICE, [encodeService({ ...svc(i), scheduler: 'wlc' }, true)])));
      return [Buffer.concat(parts), frame(3, NLM_F_MULTI, m.seq, Buffer.alloc(4))];
    });
    const c = await IpvsClient.open({ transport: k.transport });
    const [a, b] = await Promise.all([c.listServices(), c.listServices()]);
    expect(a.map((s) => 'address' in s && s.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(b).toEqual(a);
    expect(maxInFlight).toBe(1);
  });

  it('reads a single reply followed by its ACK (get info)', async () => {
    const k = fakeKernel((m) => [frame(IPVS_ID, 0, m.seq, genl(IPVS_CMD.SET_INFO, [new AttrWriter().u32(1, 0x010201).u32(2, 4096).result()])), ...ack(m)]);
    const c = await IpvsClient.open({ transport: k.transport });
    expect(await c.info()).toEqual({ version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 });
  });

  it('fails a request the kernel never answers', async () => {
    const k = fakeKernel(() => []);
    const c = await IpvsClient.open({ transport: k.transport, timeoutMs: 50 });
    await expect(c.flush()).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('sends the service key with each destination operation', async () => {
    const k = fakeKernel((m) => ack(m));
    const c = await IpvsClient.open({ transport: k.transport });
    await c.deleteDestination(svc(9), dst(3));
    const a = parseAttrs(genlAttrs(k.writes.at(-1)![0]!));
    expect(a.has(IPVS_CMD_ATTR.SERVICE)).toBe(true);
    expect(a.has(IPVS_CMD_ATTR.DEST)).toBe(true);
  });
});
