import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tcpCheck } from '../../test/probe/fixtures.js';
import { runTcpCheck } from './tcp-check.js';
import { resolveEndpoint } from './outcome.js';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function listen(onConn?: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer((s) => (onConn ? onConn(s) : s.destroy()));
  servers.push(srv);
  return new Promise((r) => srv.listen({ port: 0, host: '127.0.0.1' }, () => r((srv.address() as net.AddressInfo).port)));
}

async function freePort(): Promise<number> {
  const p = await listen();
  await new Promise((r) => servers.pop()!.close(r));
  return p;
}

describe('TCP_CHECK', () => {
  it('is up when a listener accepts and sees exactly one connection', async () => {
    let accepted = 0;
    const port = await listen((s) => {
      accepted++;
      s.destroy();
    });
    const o = await runTcpCheck(tcpCheck(), { address: '127.0.0.1', port, family: 4 });
    expect(o.up).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(accepted).toBe(1);
  });

  it('is down with ECONNREFUSED when nothing listens, and recovers once a listener appears', async () => {
    const port = await freePort();
    const o = await runTcpCheck(tcpCheck(), { address: '127.0.0.1', port, family: 4 });
    expect(o).toMatchObject({ up: false, reason: expect.stringContaining('ECONNREFUSED') });
    const srv = net.createServer((s) => s.destroy());
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
    expect((await runTcpCheck(tcpCheck(), { address: '127.0.0.1', port, family: 4 })).up).toBe(true);
  });

  it('connect_ip / connect_port / bindto override the real server address', async () => {
    let remote = '';
    const port = await listen((s) => {
      remote = s.remoteAddress!;
      s.destroy();
    });
    const chk = tcpCheck({ connectIp: '127.0.0.1', connectPort: port, bindto: '127.0.0.5' });
    expect(resolveEndpoint(chk, { address: '10.1.1.1', port: 1, family: 4 })).toMatchObject({ host: '127.0.0.1', port, localAddress: '127.0.0.5' });
    const o = await runTcpCheck(chk, { address: '10.1.1.1', port: 1, family: 4 });
    expect(o.up).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(remote).toBe('127.0.0.5');
  });
});
