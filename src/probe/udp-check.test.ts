import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { udpCheck } from '../../test/probe/fixtures.js';
import { parseHexPattern, replyMatches, runUdpCheck } from './udp-check.js';

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) {
    try {
      s.close();
    } catch {
      /* closed */
    }
  }
});

/** A UDP responder: `reply(payload)` decides what to send back (null = stay silent). */
async function responder(reply: (msg: Buffer) => Buffer | null): Promise<{ port: number; got: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  sockets.push(sock);
  const got: Buffer[] = [];
  sock.on('message', (msg, r) => {
    got.push(msg);
    const out = reply(msg);
    if (out) sock.send(out, r.port, r.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, got };
}

const at = (port: number) => ({ address: '127.0.0.1', port, family: 4 as const });

describe('hex strings', () => {
  it("reads keepalived's free-form example", () => {
    expect(parseHexPattern('Ab12f 3 456 546443123').bytes.toString('hex')).toBe('ab120f03450654644312' + '03');
  });
  it('treats x nibbles as wildcards', () => {
    const p = parseHexPattern('1x x2');
    expect([...p.bytes]).toEqual([0x10, 0x02]);
    expect([...p.mask]).toEqual([0xf0, 0x0f]);
  });
  it('matches over the shorter of reply and pattern, within the length bounds', () => {
    const c = { requireReplyHex: 'cafe xx 01', minReplyLength: 2, maxReplyLength: 6 };
    expect(replyMatches(Buffer.from('cafe7701', 'hex'), c)).toBeNull();
    expect(replyMatches(Buffer.from('cafe', 'hex'), c)).toBeNull();
    expect(replyMatches(Buffer.from('cafe7702', 'hex'), c)).toMatch(/byte 3/);
    expect(replyMatches(Buffer.from('ca', 'hex'), c)).toMatch(/length 1/);
    expect(replyMatches(Buffer.alloc(7), { ...c, requireReplyHex: '' })).toMatch(/length 7/);
  });
});

describe('UDP_CHECK against UDP responders', () => {
  it('sends the configured payload; a silent but open port is up without require_reply', async () => {
    const r = await responder(() => null);
    const o = await runUdpCheck(udpCheck({ payloadHex: 'de ad be ef', connectTimeoutMs: 200 }), at(r.port));
    expect(o).toMatchObject({ up: true, reason: 'no ICMP error before timeout' });
    expect(r.got.map((b) => b.toString('hex'))).toEqual(['deadbeef']);
  });

  it('is down at once on ICMP port unreachable, and recovers when a responder returns', async () => {
    const r = await responder(() => null);
    const port = r.port;
    sockets.pop()!.close();
    const t0 = performance.now();
    expect(await runUdpCheck(udpCheck({ connectTimeoutMs: 2000 }), at(port))).toMatchObject({ up: false, reason: expect.stringContaining('ECONNREFUSED') });
    expect(performance.now() - t0).toBeLessThan(1000);
    const back = dgram.createSocket('udp4');
    sockets.push(back);
    await new Promise<void>((res) => back.bind(port, '127.0.0.1', () => res()));
    expect((await runUdpCheck(udpCheck({ connectTimeoutMs: 200 }), at(port))).up).toBe(true);
  });

  it('with require_reply: a matching reply is up, a mismatch or silence is down', async () => {
    const echo = await responder((m) => Buffer.concat([Buffer.from('ok'), m]));
    const chk = udpCheck({ payloadHex: '01 02', requireReplyHex: '6f 6b 01 xx', connectTimeoutMs: 250 });
    expect(await runUdpCheck(chk, at(echo.port))).toMatchObject({ up: true, reason: 'reply matches' });
    expect(await runUdpCheck({ ...chk, payloadHex: '09 02' }, at(echo.port))).toMatchObject({ up: false, reason: expect.stringContaining('byte 2') });

    const silent = await responder(() => null);
    const t0 = performance.now();
    expect(await runUdpCheck(chk, at(silent.port))).toMatchObject({ up: false, reason: 'no reply within 250 ms' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(245);
  });

  it('with require_reply and no pattern: any reply within the length bounds', async () => {
    const big = await responder(() => Buffer.alloc(300));
    const small = await responder(() => Buffer.from('pong'));
    const chk = udpCheck({ requireReplyHex: '', connectTimeoutMs: 250 });
    expect((await runUdpCheck(chk, at(small.port))).up).toBe(true);
    expect(await runUdpCheck(chk, at(big.port))).toMatchObject({ up: false, reason: 'reply length 300 outside 0-255' });
  });
});
