import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { dnsCheck } from '../../test/probe/fixtures.js';
import { buildQuery, judgeReply, runDnsCheck } from './dns-check.js';

type Mode = 'answer' | 'nxdomain' | 'silent' | 'wrong-id-then-answer' | 'query-echo';
const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

interface Dns {
  port: number;
  questions: { name: string; type: string }[];
  setMode(m: Mode): void;
}

async function dnsServer(mode: Mode, port = 0): Promise<Dns> {
  const sock = dgram.createSocket('udp4');
  sockets.push(sock);
  const questions: { name: string; type: string }[] = [];
  sock.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0]!;
    questions.push({ name: question.name, type: question.type });
    // dns-packet encodes the rcode only from the low bits of `flags`.
    const reply = (id: number, rcode: 'NOERROR' | 'SERVFAIL' | 'NXDOMAIN') =>
      dnsPacket.encode({
        type: 'response',
        id,
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHORITATIVE_ANSWER | { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 }[rcode],
        questions: q.questions,
        answers: rcode === 'NOERROR' && question.type === 'A' ? [{ type: 'A', name: question.name, data: '10.0.0.1' }] : [],
      });
    const send = (b: Buffer) => sock.send(b, rinfo.port, rinfo.address);
    if (mode === 'answer') send(reply(q.id!, 'NOERROR'));
    else if (mode === 'nxdomain') send(reply(q.id!, 'NXDOMAIN'));
    else if (mode === 'wrong-id-then-answer') {
      send(reply((q.id! + 1) & 0xffff, 'SERVFAIL'));
      setTimeout(() => send(reply(q.id!, 'NOERROR')), 20);
    } else if (mode === 'query-echo') send(msg); // same id but QR clear: must be ignored
  });
  await new Promise<void>((r) => sock.bind(port, '127.0.0.1', () => r()));
  return {
    port: sock.address().port,
    questions,
    setMode: (m) => {
      mode = m;
    },
  };
}

const at = (port: number) => ({ address: '127.0.0.1', port, family: 4 as const });

describe('DNS reply rule', () => {
  it('ignores short, foreign-id and query datagrams; rcode decides otherwise', () => {
    const q = buildQuery(0x1234, 'example.org', 'A');
    expect(judgeReply(q.subarray(0, 11), 0x1234)).toBe('ignore');
    expect(judgeReply(q, 0x1234)).toBe('ignore'); // QR clear
    const resp = Buffer.from(q);
    resp.writeUInt16BE(0x8100, 2);
    expect(judgeReply(resp, 0x1235)).toBe('ignore');
    expect(judgeReply(resp, 0x1234)).toMatchObject({ up: true });
    resp.writeUInt16BE(0x8103, 2);
    expect(judgeReply(resp, 0x1234)).toMatchObject({ up: false, reason: 'rcode NXDOMAIN' });
  });

  it('encodes the question with RD set; unknown types fall back to SOA', () => {
    const d = dnsPacket.decode(buildQuery(7, 'www.example.org.', 'mx'));
    expect(d.flags! & dnsPacket.RECURSION_DESIRED).toBeTruthy();
    expect(d.questions).toEqual([{ name: 'www.example.org', type: 'MX', class: 'IN' }]);
    expect(dnsPacket.decode(buildQuery(7, '.', 'BOGUS')).questions![0]).toMatchObject({ type: 'SOA', name: '.' });
  });
});

describe('DNS_CHECK against a dgram + dns-packet server', () => {
  it('is up on NOERROR and asks the configured name and type', async () => {
    const s = await dnsServer('answer');
    expect((await runDnsCheck(dnsCheck({ name: 'svc.kt-chk.test', queryType: 'A' }), at(s.port))).up).toBe(true);
    expect(s.questions).toEqual([{ name: 'svc.kt-chk.test', type: 'A' }]);
  });

  it('is down on NXDOMAIN and recovers when the server answers', async () => {
    const s = await dnsServer('nxdomain');
    expect(await runDnsCheck(dnsCheck(), at(s.port))).toMatchObject({ up: false, reason: 'rcode NXDOMAIN' });
    s.setMode('answer');
    expect((await runDnsCheck(dnsCheck(), at(s.port))).up).toBe(true);
  });

  it('keeps waiting past a reply with another id', async () => {
    const s = await dnsServer('wrong-id-then-answer');
    expect((await runDnsCheck(dnsCheck(), at(s.port))).up).toBe(true);
  });

  it('is down at connect_timeout on silence and on a query echoed back', async () => {
    for (const mode of ['silent', 'query-echo'] as const) {
      const s = await dnsServer(mode);
      const t0 = performance.now();
      expect(await runDnsCheck(dnsCheck({ connectTimeoutMs: 200 }), at(s.port))).toMatchObject({ up: false, reason: 'no reply within 200 ms' });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
    }
  });

  it('is down at once on ICMP port unreachable', async () => {
    const s = await dnsServer('answer');
    const port = s.port;
    sockets.pop()!.close();
    const t0 = performance.now();
    expect(await runDnsCheck(dnsCheck({ connectTimeoutMs: 2000 }), at(port))).toMatchObject({ up: false, reason: expect.stringContaining('ECONNREFUSED') });
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
