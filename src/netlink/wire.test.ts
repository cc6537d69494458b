import { describe, expect, it } from 'vitest';
import { genlHeader } from './genl.js';
import {
  AttrWriter,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  decodeAttrs,
  decodeDoneErrno,
  decodeErrorPayload,
  decodeMessages,
  encodeAttrs,
  encodeMessage,
  encodeMessages,
} from './wire.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// These byte layouts are little-endian host order, as on this x86_64 machine kind.
describe('netlink wire codec', () => {
  it('encodes a message header and pads the payload to 4 bytes', () => {
    const bytes = encodeMessage({ type: 20, flags: 0x605, seq: 7, pid: 0x1234, payload: Buffer.from([1, 2, 3]) });
    expect(bytes).toEqual(hex('13000000 1400 0506 07000000 34120000 010203 00'));
  });

  it('splits a datagram holding several messages', () => {
    const a = encodeMessage({ type: 16, flags: 2, seq: 1, pid: 9, payload: Buffer.from([0xaa]) });
    const b = encodeMessage({ type: 3, flags: 2, seq: 1, pid: 9, payload: hex('00000000') });
    const msgs = decodeMessages(Buffer.concat([a, b]));
    expect(msgs.map((m) => [m.type, m.seq, m.pid, m.payload.toString('hex')])).toEqual([
      [16, 1, 9, 'aa'],
      [3, 1, 9, '00000000'],
    ]);
  });

  it('refuses a message whose length runs past the datagram', () => {
    const bad = encodeMessage({ type: 16, flags: 0, seq: 1, pid: 0, payload: Buffer.alloc(8) }).subarray(0, 20);
    expect(() => decodeMessages(bad)).toThrow(/malformed netlink message/);
  });

  it('encodes attributes with 4-byte alignment and decodes them back, masking NESTED', () => {
    const bytes = encodeAttrs([
      { type: 3, value: Buffer.from('eth0\0') },
      { type: 18, value: Buffer.from([9, 9, 9, 9]), nested: true },
    ]);
    expect(bytes).toEqual(hex('0900 0300 6574683000 000000  0800 1280 09090909'));
    const attrs = decodeAttrs(bytes);
    expect(attrs.get(3)).toEqual(Buffer.from('eth0\0'));
    expect(attrs.get(18)).toEqual(Buffer.from([9, 9, 9, 9]));
  });

  it('pads an attribute to 4 bytes and keeps the unpadded length in its header', () => {
    expect([...encodeAttrs([{ type: 6, value: Buffer.from('rr\0') }])]).toEqual([7, 0, 6, 0, 0x72, 0x72, 0, 0]);
    expect([...new AttrWriter().str(6, 'rr').result()]).toEqual([7, 0, 6, 0, 0x72, 0x72, 0, 0]);
  });

  it('sets NLA_F_NESTED (0x8000) on nested attributes, which AttrStream.push would drop', () => {
    const w = new AttrWriter();
    const at = w.begin(1);
    expect([...w.u32(8, 300).end(at).result()]).toEqual([12, 0, 0x01, 0x80, 8, 0, 8, 0, 0x2c, 0x01, 0, 0]);
  });

  it('reads nested attributes and values back by type, flag bits stripped', () => {
    const w = new AttrWriter();
    const at = w.begin(2);
    w.u32(1, 7)
      .end(at)
      .u32(3, 9)
      .be16(4, 80)
      .u8(5, 255)
      .u64(6, 1n << 40n)
      .str(7, 'eth0');
    const slot = w.slot(8, 16);
    w.buffer[slot + 15] = 1;
    const a = decodeAttrs(w.result());
    expect([...a.keys()]).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(a.nested(2)?.u32(1)).toBe(7);
    expect([a.u32(3), a.be16(4), a.u8(5), a.string(7)]).toEqual([9, 80, 255, 'eth0']);
    expect(a.get(4)).toEqual(Buffer.from([0, 80])); // network order
    expect(a.get(6)!.readBigUInt64LE(0)).toBe(1n << 40n);
    expect([...a.get(8)!]).toEqual([...new Array<number>(15).fill(0), 1]);
    expect(a.u32(99)).toBeUndefined();
  });

  it('stops at a truncated attribute instead of reading past it', () => {
    const attrs = decodeAttrs(Buffer.concat([encodeAttrs([{ type: 1, value: Buffer.from([1, 2, 3, 4]) }]), hex('2000 0200 01')]));
    expect([...attrs.keys()]).toEqual([1]);
  });

  it('builds nlmsghdr + genlmsghdr and parses it back', () => {
    const m = encodeMessages([{ type: 32, flags: 0x5, payload: [genlHeader(1, 1), new AttrWriter().u32(4, 900).result()] }], 77, 0);
    expect(m.readUInt32LE(0)).toBe(m.length);
    const [p] = decodeMessages(m);
    expect(p).toMatchObject({ type: 32, flags: 5, seq: 77 });
    expect([...p!.payload.subarray(0, 4)]).toEqual([1, 1, 0, 0]);
  });

  it('packs several messages into one write, each 4-aligned with its own length and seq; the last gets its extra flags', () => {
    const b = encodeMessages(
      [
        { type: 32, flags: 0, payload: [genlHeader(5, 1), new AttrWriter().u32(4, 1).result()] },
        { type: 32, flags: 0x100, payload: [genlHeader(6, 1), new AttrWriter().u32(4, 2).u32(5, 3).result()] },
        { type: 20, flags: 0, payload: [Buffer.from([1, 2, 3])] },
      ],
      10,
      7,
      0x1,
      0x4,
    );
    const ms = decodeMessages(b);
    expect(ms.map((m) => [m.seq, m.pid, m.flags, m.payload[0], m.payload.length])).toEqual([
      [10, 7, 1, 5, 12],
      [11, 7, 0x101, 6, 20],
      [12, 7, 5, 1, 3],
    ]);
    expect(b.length).toBe(28 + 36 + 20);
    expect([...b.subarray(-1)]).toEqual([0]); // padding is zeroed
  });

  it('reads the errno of an NLMSG_ERROR, and ACKs as errno 0', () => {
    const request = encodeMessage({ type: 20, flags: NLM_F_REQUEST, seq: 5, pid: 1, payload: Buffer.alloc(8) });
    const eexist = Buffer.concat([hex('efffffff'), request]); // -17
    expect(decodeErrorPayload(eexist, 0)).toEqual({ errno: 17, extMessage: null });
    expect(decodeErrorPayload(Buffer.concat([hex('00000000'), request]), 0).errno).toBe(0);
    expect(NLMSG_ERROR).toBe(2);
  });

  it('reads the extended-ack message after a capped echo', () => {
    const header = request16();
    const tlv = encodeAttrs([{ type: 1, value: Buffer.from('Invalid prefix\0') }]);
    const payload = Buffer.concat([hex('eaffffff'), header, tlv]); // -22
    expect(decodeErrorPayload(payload, NLM_F_CAPPED | NLM_F_ACK_TLVS)).toEqual({ errno: 22, extMessage: 'Invalid prefix' });
  });

  it('reads the status of NLMSG_DONE', () => {
    expect(decodeDoneErrno(hex('00000000'))).toBe(0);
    expect(decodeDoneErrno(hex('f9ffffff'))).toBe(7);
    expect(decodeDoneErrno(Buffer.alloc(0))).toBe(0);
  });
});

function request16(): Buffer {
  return encodeMessage({ type: 20, flags: NLM_F_REQUEST, seq: 5, pid: 1, payload: Buffer.alloc(0) });
}
