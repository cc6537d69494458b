import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { parseListen, startStatusServer } from './status-server.js';
import { createVrrpMetrics, STATE_CODES } from './vrrp-metrics.js';
import { createCheckerMetrics } from './checker-metrics.js';

let server: Server | null = null;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

describe('status endpoint', () => {
  it('parses listen addresses, loopback by default', () => {
    expect(parseListen('9650')).toEqual({ host: '127.0.0.1', port: 9650 });
    expect(parseListen(':9650')).toEqual({ host: '127.0.0.1', port: 9650 });
    expect(parseListen('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseListen('[::1]:9650')).toEqual({ host: '::1', port: 9650 });
    expect(() => parseListen('localhost')).toThrow('expected HOST:PORT');
    expect(() => parseListen('1.2.3.4:70000')).toThrow('bad port');
  });

  it("merges the children's registries into /metrics and their status into /status", async () => {
    const vrrp = createVrrpMetrics();
    const labels = { instance: 'VI_1', interface: 'eth0', vrid: '51' };
    vrrp.state.set(labels, STATE_CODES.MASTER);
    vrrp.transitions.inc({ ...labels, to: 'MASTER' });
    vrrp.rejected.inc({ interface: 'eth0', reason: 'bad-checksum' }, 3);
    const checker = createCheckerMetrics();
    checker.realServerUp.set({ virtual_server: '192.0.2.10:80', real_server: '10.0.0.1:8080' }, 1);

    server = await startStatusServer({
      listen: '127.0.0.1:0',
      collect: async () => [
        { role: 'vrrp', metrics: await vrrp.registry.getMetricsAsJSON(), status: { instances: [{ name: 'VI_1', state: 'MASTER' }] } },
        { role: 'checker', metrics: await checker.registry.getMetricsAsJSON(), status: { virtualServers: 1 } },
      ],
      parentStatus: () => ({ pid: 42, config: '/etc/keepalived/keepalived.conf' }),
    });
    const { port } = server.address() as { port: number };
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('keepalived_vrrp_state{instance="VI_1",interface="eth0",vrid="51"} 2');
    expect(metrics).toContain('keepalived_vrrp_packets_rejected_total{interface="eth0",reason="bad-checksum"} 3');
    expect(metrics).toContain('keepalived_real_server_up{virtual_server="192.0.2.10:80",real_server="10.0.0.1:8080"} 1');
    const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
    expect(status).toEqual({
      pid: 42,
      config: '/etc/keepalived/keepalived.conf',
      vrrp: { instances: [{ name: 'VI_1', state: 'MASTER' }] },
      checker: { virtualServers: 1 },
    });
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});
