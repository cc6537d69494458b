import { describe, expect, it } from 'vitest';
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  decodeAttrs,
  decodeDoneErrno,
  decodeErrorPayload,
  decodeIfAddrMsg,
  decodeIfInfoMsg,
  decodeMessages,
  encodeAttrs,
  encodeIfAddrMsg,
  encodeIfInfoMsg,
  encodeMessage,
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

  it('stops at a truncated attribute instead of reading past it', () => {
    const attrs = decodeAttrs(Buffer.concat([encodeAttrs([{ type: 1, value: Buffer.from([1, 2, 3, 4]) }]), hex('2000 0200 01')]));
    expect([...attrs.keys()]).toEqual([1]);
  });

  it('round-trips ifaddrmsg and ifinfomsg', () => {
    const addr = { family: 10, prefixLen: 64, flags: 0x82, scope: 253, index: 7 };
    expect(encodeIfAddrMsg(addr)).toEqual(hex('0a 40 82 fd 07000000'));
    expect(decodeIfAddrMsg(encodeIfAddrMsg(addr))).toEqual(addr);
    const info = { family: 0, type: 1, index: 3, flags: 0x11043, change: 1 };
    expect(encodeIfInfoMsg(info)).toEqual(hex('00 00 0100 03000000 43100100 01000000'));
    expect(decodeIfInfoMsg(encodeIfInfoMsg(info))).toEqual(info);
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
