// The native connect probe against real loopback listeners: connected, refused, bind
// address and port, IPv6, batched delivery, and that release leaves no socket behind.
// Deadlines (a target that never answers) are in test/probe/tcp-probe-netns.test.ts.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProbeSink, PROBE_IN_FLIGHT, TcpProbes, probeOnce, probeOutcome } from './tcp-probe.js';

const probes = TcpProbes.shared();
if (!probes) console.warn('src/probe/tcp-probe.test.ts: the native probe addon is not built here (npm ci builds it)');

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function listen(host: string, onConn: (s: net.Socket) => void = (s) => s.destroy()): Promise<number> {
  const srv = net.createServer(onConn);
  servers.push(srv);
  return new Promise((r) => srv.listen({ port: 0, host }, () => r((srv.address() as net.AddressInfo).port)));
}
const ep = (host: string, port: number, family: 4 | 6 = 4, localAddress: string | null = null, localPort: number | null = null) => ({
  host,
  port,
  family,
  localAddress,
  localPort,
});

describe.skipIf(!probes)('native TCP connect probe', () => {
  it('reports connected for a listener, ECONNREFUSED for a closed port, with the reasons TCP_CHECK logs', async () => {
    const port = await listen('127.0.0.1');
    expect(await probeOnce(probes!, ep('127.0.0.1', port), 1000)).toEqual({ up: true, reason: 'connected' });
    const closed = await listen('127.0.0.1');
    await new Promise((r) => servers.pop()!.close(r));
    expect(await probeOnce(probes!, ep('127.0.0.1', closed), 1000)).toEqual({ up: false, reason: 'ECONNREFUSED connect' });
    expect(probeOutcome(0)).toBe(probeOutcome(0)); // shared outcome objects: no allocation per check
  });

  it('bindto and bind_port set the source; IPv6 works', async () => {
    let remote = '';
    let remotePort = 0;
    const port = await listen('127.0.0.1', (s) => {
      remote = s.remoteAddress!;
      remotePort = s.remotePort!;
      s.destroy();
    });
    const free = await listen('127.0.0.1');
    const sourcePort = (servers.pop()!.address() as net.AddressInfo).port;
    await new Promise((r) => setTimeout(r, 10));
    expect((await probeOnce(probes!, ep('127.0.0.1', port, 4, '127.0.0.7', sourcePort), 1000)).up).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    expect([remote, remotePort]).toEqual(['127.0.0.7', sourcePort]);
    void free;
    const port6 = await listen('::1');
    expect((await probeOnce(probes!, ep('::1', port6, 6), 1000)).up).toBe(true);
  });

  it('batched use: ids, tokens and delivery to a sink; release frees the id', async () => {
    const port = await listen('127.0.0.1');
    const got: [number, number][] = [];
    const sink: ProbeSink = { probeDone: (token, errno) => got.push([token, errno]) };
    const ids = [0, 1, 2].map((t) => probes!.register(ep('127.0.0.1', port), sink, 100 + t));
    const immediate: [number, number][] = [];
    ids.forEach((id, t) => {
      const r = probes!.connect(id);
      if (r !== PROBE_IN_FLIGHT) immediate.push([100 + t, r]);
    });
    await new Promise((r) => setTimeout(r, 50));
    probes!.drain();
    expect([...got, ...immediate].sort()).toEqual([
      [100, 0],
      [101, 0],
      [102, 0],
    ]);
    for (const id of ids) probes!.release(id);
    expect(probes!.inFlight()).toBe(0);
  });
});
