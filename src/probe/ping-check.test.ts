import { describe, expect, it } from 'vitest';
import { pingCheck } from '../../test/probe/fixtures.js';
import { buildEcho, classify, runPingCheck } from './ping-check.js';

/** Wraps an ICMP message in a minimal 20-byte IPv4 header, as IPv4 raw sockets deliver. */
const ipv4 = (icmp: Buffer) => Buffer.concat([Buffer.from([0x45, ...new Array<number>(19).fill(0)]), icmp]);

describe('echo matching', () => {
  it('accepts only the reply carrying our identifier and sequence', () => {
    const reply = buildEcho(4, 0x1111, 7);
    reply[0] = 0; // echo reply
    expect(classify(4, ipv4(reply), 0x1111, 7)).toBe('reply');
    expect(classify(4, ipv4(reply), 0x1111, 8)).toBe('other');
    expect(classify(4, ipv4(reply), 0x2222, 7)).toBe('other');
    expect(classify(4, ipv4(buildEcho(4, 0x1111, 7)), 0x1111, 7)).toBe('other'); // our own request looped back
    const r6 = buildEcho(6, 5, 6);
    r6[0] = 129;
    expect(classify(6, r6, 5, 6)).toBe('reply');
  });

  it('recognises a destination unreachable quoting our request', () => {
    const quoted = ipv4(buildEcho(4, 0x1111, 7));
    const err = Buffer.concat([Buffer.from([3, 1, 0, 0, 0, 0, 0, 0]), quoted]);
    expect(classify(4, ipv4(err), 0x1111, 7)).toBe('unreachable');
    expect(classify(4, ipv4(err), 0x1111, 9)).toBe('other');
  });

  it('writes a valid ICMPv4 checksum', () => {
    const b = buildEcho(4, 0xabcd, 1);
    let sum = 0;
    for (let i = 0; i < b.length; i += 2) sum += b.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
  });
});

describe.runIf(process.getuid?.() === 0)('PING_CHECK on loopback (raw sockets need root)', () => {
  it('gets echo replies from 127.0.0.1 and ::1', async () => {
    expect(await runPingCheck(pingCheck(), { address: '127.0.0.1', port: 0, family: 4 })).toMatchObject({ up: true });
    expect(await runPingCheck(pingCheck(), { address: '::1', port: 0, family: 6 })).toMatchObject({ up: true });
  });
});
