import { describe, expect, it } from 'vitest';
import { BATCH_RECORD, type NativeAddon, type NativeWatch } from '../native/index.js';
import { encodeIpMreqn, encodeIpv6Mreq, RawReceiver, READ_BUDGET, type ReceivedDatagram } from './raw-receiver.js';

describe('multicast membership structs', () => {
  it('lays out ipv6_mreq as group then host-order ifindex', () => {
    expect(encodeIpv6Mreq('ff02::12', 3).toString('hex')).toBe('ff020000000000000000000000000012' + '03000000');
  });
  it('lays out ip_mreqn as group, any local address, host-order ifindex', () => {
    expect(encodeIpMreqn('224.0.0.18', 258).toString('hex')).toBe('e0000012' + '00000000' + '02010000');
  });
});

/** An addon whose socket has `queued` IPv4 datagrams waiting (Infinity: a flood). */
function fakeAddon(queued: number) {
  const state = { queued, calls: 0, readable: null as ((status: number) => void) | null };
  const addon = {
    openRawSocket: () => 7,
    watchReadable: (_fd: number, cb: (status: number) => void) => {
      state.readable = cb;
      return {} as NativeWatch;
    },
    stopWatching: () => undefined,
    closeSocket: () => undefined,
    receiveBatch(_fd: number, slots: Buffer, slotSize: number, meta: Buffer, max: number): number {
      state.calls++;
      const n = Math.min(max, state.queued);
      state.queued -= n;
      for (let i = 0; i < n; i++) {
        const payload = Buffer.from([0x45, 0, 0, 24, 0, state.calls, 0, 0, 254, 112]);
        payload.copy(slots, i * slotSize);
        const rec = meta.subarray(i * BATCH_RECORD.size, (i + 1) * BATCH_RECORD.size);
        const fields = new Int32Array(rec.buffer, rec.byteOffset, 4);
        fields.set([payload.length, i === 1 ? 1 : 0, 254, 5]);
        Buffer.from([192, 0, 2, i]).copy(rec, BATCH_RECORD.source);
        Buffer.from([224, 0, 0, 18]).copy(rec, BATCH_RECORD.destination);
      }
      return n;
    },
  } as unknown as NativeAddon;
  return { addon, state };
}

describe('RawReceiver reading', () => {
  it('reads at most READ_BUDGET datagrams per readable event, so a flood leaves the event loop its other work', () => {
    const { addon, state } = fakeAddon(Infinity);
    const rx = RawReceiver.open(4, 112, { addon });
    let got = 0;
    rx.onDatagram(() => got++);
    state.readable!(0);
    expect(got).toBe(READ_BUDGET);
    state.readable!(0); // the next loop turn: the next share
    expect(got).toBe(2 * READ_BUDGET);
    rx.close();
  });

  it('stops as soon as the queue is empty, and reports each datagram with its facts', () => {
    const { addon, state } = fakeAddon(3);
    const rx = RawReceiver.open(4, 112, { addon });
    const got: ReceivedDatagram[] = [];
    rx.onDatagram((d) => got.push(d));
    state.readable!(0);
    expect(state.calls).toBe(1);
    expect(got.map((d) => d.source)).toEqual(['192.0.2.0', '192.0.2.1', '192.0.2.2']);
    expect(got[0]).toMatchObject({ destination: '224.0.0.18', hopLimit: 254, ifindex: 5, truncated: false });
    expect(got[0]!.payload).toEqual(Buffer.from([0x45, 0, 0, 24, 0, 1, 0, 0, 254, 112]));
    expect(got[1]!.truncated).toBe(true);
    rx.close();
  });

  it('hands each listener the datagram in place, which the next batch overwrites', () => {
    const { addon, state } = fakeAddon(Infinity);
    const rx = RawReceiver.open(4, 112, { addon });
    const during: number[] = [];
    const kept: Buffer[] = [];
    rx.onDatagram((d) => {
      during.push(d.payload[5]!);
      kept.push(d.payload);
    });
    state.readable!(0);
    state.readable!(0);
    // each listener call saw its own batch's datagram; a view kept past it shows a later one
    expect(during[0]).toBe(1);
    expect(during.at(-1)).toBe(state.calls);
    expect(state.calls).toBeGreaterThan(1);
    expect(kept[0]![5]).toBe(state.calls);
    rx.close();
  });
});
