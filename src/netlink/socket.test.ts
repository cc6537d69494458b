/**
 * The request/ACK exchange against a scripted fake kernel: what each kind of answer resolves
 * or rejects with, which messages are replies and which notifications, and what a socket
 * error, a silent kernel or close() do to what is in flight. The real kernel answers in
 * test/netlink (rtnetlink, namespaces) and test/kernel (IPVS, VM).
 */
import { describe, expect, it } from 'vitest';
import { NetlinkError, NetlinkTransportError } from './errors.js';
import { NetlinkSocket, type Transport } from './socket.js';
import {
  AttrWriter,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_OVERRUN,
  type NlMessage,
  decodeMessages,
  encodeMessage,
} from './wire.js';

const PORT = 4242;

/** A fake kernel: `answer` returns the messages to deliver (each its own datagram) for each message written. */
function fakeKernel(answer: (m: NlMessage) => NlMessage[]) {
  const written: NlMessage[][] = [];
  let deliver: (d: Buffer) => void = () => {};
  let socketError: (errno: number) => void = () => {};
  const held: boolean[] = [];
  const transport: Transport = {
    port: PORT,
    send: (d) => {
      const msgs = decodeMessages(d);
      written.push(msgs);
      const out = msgs.flatMap(answer);
      setImmediate(() => out.forEach((m) => deliver(encodeMessage(m))));
    },
    onMessage: (h) => {
      deliver = h;
    },
    onError: (h) => {
      socketError = h;
    },
    hold: (busy) => {
      held.push(busy);
    },
    close: () => {},
  };
  return { transport, written, held, deliver: (m: NlMessage) => deliver(encodeMessage(m)), socketError: (e: number) => socketError(e) };
}

const reply = (m: NlMessage, type: number, payload: Buffer, flags = 0): NlMessage => ({ type, flags, seq: m.seq, pid: PORT, payload });
function errorMsg(m: NlMessage, errno: number, extMessage?: string): NlMessage {
  const head = Buffer.alloc(4 + NLMSG_HDRLEN);
  head.writeInt32LE(-errno, 0);
  if (extMessage === undefined) return reply(m, NLMSG_ERROR, head);
  head.writeUInt32LE(NLMSG_HDRLEN, 4);
  return reply(m, NLMSG_ERROR, Buffer.concat([head, new AttrWriter().str(1, extMessage).result()]), NLM_F_CAPPED | NLM_F_ACK_TLVS);
}
const ack = (m: NlMessage): NlMessage => errorMsg(m, 0);
const done = (m: NlMessage, errno = 0, flags = NLM_F_MULTI): NlMessage => {
  const p = Buffer.alloc(4);
  p.writeInt32LE(-errno, 0);
  return reply(m, NLMSG_DONE, p, flags);
};
const part = (m: NlMessage, n: number, flags = NLM_F_MULTI): NlMessage => reply(m, 16, Buffer.from([n]), flags);

describe('NetlinkSocket', () => {
  it('a request resolves with the replies before its ACK, and asks for the ACK', async () => {
    const k = fakeKernel((m) => [reply(m, 16, Buffer.from([7])), ack(m)]);
    const s = new NetlinkSocket(k.transport);
    const replies = await s.request(18, 0, Buffer.from([1, 2, 3, 4]), 'get link 3');
    expect(replies.map((r) => [...r.payload])).toEqual([[7]]);
    expect(k.written[0]![0]).toMatchObject({ type: 18, pid: PORT, flags: 0x1 | NLM_F_ACK });
    expect(k.held.at(-1)).toBe(false); // nothing in flight: the socket no longer holds the process
  });

  it("a refusal rejects with NetlinkError: errno, code, operation and the kernel's extended-ack text", async () => {
    const k = fakeKernel((m) => [errorMsg(m, 22, 'prefix too long')]);
    const err = await new NetlinkSocket(k.transport).request(20, 0, Buffer.alloc(8), 'add address x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ errno: 22, code: 'EINVAL', operation: 'add address x', kernelMessage: 'prefix too long' });
  });

  it("a dump collects its parts until DONE, re-runs one the kernel flags as interrupted, and fails with DONE's errno", async () => {
    let run = 0;
    const k = fakeKernel((m) => {
      expect(m.flags & NLM_F_DUMP).toBe(NLM_F_DUMP);
      run++;
      if (run === 1) return [part(m, 1), part(m, 2, NLM_F_MULTI | NLM_F_DUMP_INTR), done(m)];
      if (run === 2) return [part(m, 1), part(m, 2), done(m)];
      return [done(m, 7)];
    });
    const s = new NetlinkSocket(k.transport);
    expect((await s.dump(22, Buffer.alloc(8), 'list addresses')).map((r) => r.payload[0])).toEqual([1, 2]);
    expect(run).toBe(2);
    await expect(s.dump(22, Buffer.alloc(8), 'list addresses')).rejects.toMatchObject({ errno: 7, code: 'E2BIG' });
  });

  it('runs one dump at a time (a second on the same socket would get EBUSY)', async () => {
    let inFlight = 0,
      most = 0;
    const k = fakeKernel((m) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setImmediate(() => inFlight--);
      return [part(m, 1), done(m)];
    });
    const s = new NetlinkSocket(k.transport);
    await Promise.all([s.dump(22, [], 'a'), s.dump(22, [], 'b'), s.dump(18, [], 'c')]);
    expect(most).toBe(1);
    expect(k.written).toHaveLength(3);
  });

  it('a batch is one write whose last message alone asks for an ACK; it resolves with the first failure', async () => {
    const k = fakeKernel((m) => (m.seq % 3 === 1 ? [errorMsg(m, 17)] : m.flags & NLM_F_ACK ? [ack(m)] : []));
    const s = new NetlinkSocket(k.transport);
    const batch = (n: number) =>
      s.requestBatch(
        Array.from({ length: n }, () => ({ type: 36, flags: 0, payload: [Buffer.alloc(4)] })),
        (i) => `op ${i}`,
      );
    const failure = await batch(6);
    expect(k.written).toHaveLength(1);
    expect(k.written[0]!.map((m) => m.flags & NLM_F_ACK)).toEqual([0, 0, 0, 0, 0, NLM_F_ACK]);
    const firstFailing = k.written[0]!.findIndex((m) => m.seq % 3 === 1);
    expect(failure).toMatchObject({ index: firstFailing, error: { errno: 17, operation: `op ${firstFailing}` } });
    expect(s.writes).toBe(1);
  });

  it('a batch answered without failures resolves with null', async () => {
    const k = fakeKernel((m) => (m.flags & NLM_F_ACK ? [ack(m)] : []));
    const s = new NetlinkSocket(k.transport);
    expect(
      await s.requestBatch(
        [
          { type: 36, flags: 0, payload: [] },
          { type: 36, flags: 0, payload: [] },
        ],
        (i) => `op ${i}`,
      ),
    ).toBeNull();
  });

  it('hands messages that answer no request of ours to the notification listeners', async () => {
    const k = fakeKernel((m) => [ack(m)]);
    const s = new NetlinkSocket(k.transport);
    const heard: NlMessage[] = [];
    s.onNotification((m) => heard.push(m));
    const request = s.request(18, 0, [], 'x');
    const seq = k.written[0]![0]!.seq;
    // the kernel's notification has pid 0 even when its seq matches a request in flight
    k.deliver({ type: 21, flags: 0, seq, pid: 0, payload: Buffer.from([9]) });
    await request;
    expect(heard.map((m) => [m.type, m.payload[0]])).toEqual([[21, 9]]);
  });

  it('fails a request the kernel never answers with ETIMEDOUT', async () => {
    const k = fakeKernel(() => []);
    const err = await new NetlinkSocket(k.transport, { timeoutMs: 20 }).request(18, 0, [], 'get link 3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkTransportError);
    expect(err).toMatchObject({ errno: 110, code: 'ETIMEDOUT' });
    expect((err as Error).message).toBe('get link 3: no answer from the kernel within 20 ms');
  });

  it('ENOBUFS fails what waits for an ACK, lets a dump go on, and tells the overrun listeners', async () => {
    let dumpMsg: NlMessage | null = null;
    const k = fakeKernel((m) => {
      if (m.flags & NLM_F_DUMP) dumpMsg = m;
      return [];
    });
    const s = new NetlinkSocket(k.transport);
    let overruns = 0;
    s.onOverrun(() => overruns++);
    const request = s.request(20, 0, [], 'add address x').catch((e: unknown) => e);
    const dump = s.dump(22, [], 'list addresses');
    await new Promise((r) => setImmediate(r));
    k.socketError(105);
    expect(await request).toMatchObject({ errno: 105, code: 'ENOBUFS' });
    expect(overruns).toBe(1);
    k.deliver(part(dumpMsg!, 1));
    k.deliver(done(dumpMsg!));
    expect((await dump).map((r) => r.payload[0])).toEqual([1]);
  });

  it('counts NLMSG_OVERRUN as an overrun', () => {
    const k = fakeKernel(() => []);
    const s = new NetlinkSocket(k.transport);
    let overruns = 0;
    s.onOverrun(() => overruns++);
    k.deliver({ type: NLMSG_OVERRUN, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(0) });
    expect(overruns).toBe(1);
  });

  it('close() fails everything in flight, and what comes after, as "socket closed"', async () => {
    const k = fakeKernel(() => []);
    const s = new NetlinkSocket(k.transport);
    const pending = s.request(18, 0, [], 'get link 3').catch((e: unknown) => e);
    const batch = s.requestBatch([{ type: 36, flags: 0, payload: [] }], () => 'flush');
    s.close();
    expect(await pending).toMatchObject({ message: 'get link 3: netlink socket closed', errno: null });
    expect(await batch).toMatchObject({ index: 0, error: { message: 'flush: netlink socket closed' } });
    await expect(s.request(18, 0, [], 'later')).rejects.toThrow('later: netlink socket closed');
  });
});
