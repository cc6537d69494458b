// The same checkers over IPv6 loopback: the family branches (udp6 sockets, bracketed URL
// origins, connect_ip overriding the family) are exercised against real servers on ::1.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsCheck, httpCheck, smtpCheck, tcpCheck, udpCheck, url } from '../../test/probe/fixtures.js';
import { runCheck } from './run-check.js';

/** ::1 configured on lo (containers sometimes disable IPv6). */
const has6 = (() => {
  try {
    return readFileSync('/proc/net/if_inet6', 'utf8').includes('00000000000000000000000000000001');
  } catch {
    return false;
  }
})();
if (!has6) console.warn('IPv6 loopback tests skipped: ::1 unavailable');

let httpSrv: http.Server;
let smtp: SMTPServer;
let udp: dgram.Socket;
let httpPort = 0;
let smtpPort = 0;
let udpPort = 0;

beforeAll(async () => {
  if (!has6) return;
  httpSrv = http.createServer((_q, r) => r.end('v6'));
  await new Promise<void>((r) => httpSrv.listen(0, '::1', () => r()));
  httpPort = (httpSrv.address() as net.AddressInfo).port;
  smtp = new SMTPServer({ disabledCommands: ['AUTH', 'STARTTLS'], logger: false });
  await new Promise<void>((r) => smtp.listen(0, '::1', () => r()));
  smtpPort = (smtp.server.address() as net.AddressInfo).port;
  udp = dgram.createSocket('udp6');
  udp.on('message', (m, ri) => {
    // Answers DNS queries with NOERROR and anything else with "pong".
    try {
      const q = dnsPacket.decode(m);
      if (q.questions?.length) return udp.send(dnsPacket.encode({ type: 'response', id: q.id, flags: 0, questions: q.questions }), ri.port, ri.address);
    } catch {
      /* not DNS */
    }
    udp.send(Buffer.from('pong'), ri.port, ri.address);
  });
  await new Promise<void>((r) => udp.bind(0, '::1', () => r()));
  udpPort = udp.address().port;
});

afterAll(async () => {
  if (!has6) return;
  httpSrv.closeAllConnections();
  await new Promise((r) => httpSrv.close(r));
  await new Promise((r) => smtp.close(() => r(undefined)));
  udp.close();
});

const v6 = (port: number) => ({ address: '::1', port, family: 6 as const });

describe.runIf(has6)('checkers over IPv6 loopback', () => {
  it('TCP, HTTP, SMTP, DNS and UDP are up against ::1 servers', async () => {
    expect(await runCheck(tcpCheck(), v6(httpPort))).toMatchObject({ up: true });
    expect(await runCheck(httpCheck({ urls: [url({ path: '/', digest: 'a6a0bb7ab7d0b8d8f1f8cfb1d7a0f3f7' })] }), v6(httpPort))).toMatchObject({
      up: false,
      reason: expect.stringContaining('digest'),
    });
    expect(await runCheck(httpCheck(), v6(httpPort))).toMatchObject({ up: true });
    expect(await runCheck(smtpCheck(), v6(smtpPort))).toMatchObject({ up: true });
    expect(await runCheck(dnsCheck(), v6(udpPort))).toMatchObject({ up: true });
    expect(await runCheck(udpCheck({ requireReplyHex: '70 6f 6e 67' }), v6(udpPort))).toMatchObject({ up: true, reason: 'reply matches' });
  });

  it("connect_ip of the other family wins over the real server's", async () => {
    expect(await runCheck(tcpCheck({ connectIp: '::1', connectPort: httpPort }), { address: '127.0.0.1', port: 1, family: 4 })).toMatchObject({ up: true });
  });
});
