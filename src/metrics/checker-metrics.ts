// The checker child's metrics: real-server health, check latency, IPVS counters.
// prom-client loads only when metrics are created (see prom-client.ts).
import type { Registry } from 'prom-client';
import { promClient } from './prom-client.js';
import { SlotHistogram } from './slot-histogram.js';

export function createCheckerMetrics(registry: Registry = new (promClient().Registry)()) {
  const { Counter, Gauge } = promClient();
  const rs = ['virtual_server', 'real_server'] as const;
  return {
    registry,
    realServerUp: new Gauge({
      name: 'keepalived_real_server_up',
      help: '1 when every checker of the real server passes',
      labelNames: rs,
      registers: [registry],
    }),
    // one series per checker: counts by the observer's slot, labels asked for at a scrape
    checkDuration: new SlotHistogram(
      'keepalived_check_duration_seconds',
      'Duration of one check attempt',
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      [registry],
    ),
    checkFailures: new Counter({
      name: 'keepalived_check_failures_total',
      help: 'Failed check attempts',
      labelNames: [...rs, 'checker'],
      registers: [registry],
    }),
    ipvsConnections: new Gauge({
      name: 'keepalived_ipvs_connections_total',
      help: 'Connections scheduled (kernel IPVS counter)',
      labelNames: rs,
      registers: [registry],
    }),
    ipvsBytes: new Gauge({
      name: 'keepalived_ipvs_bytes_total',
      help: 'Bytes forwarded (kernel IPVS counter)',
      labelNames: [...rs, 'direction'],
      registers: [registry],
    }),
    netlinkWrites: new Counter({ name: 'keepalived_ipvs_netlink_writes_total', help: 'IPVS changes written to the kernel', registers: [registry] }),
    paused: new Gauge({
      name: 'keepalived_checker_paused',
      help: '1 while health checking waits (reason: ipvs-unavailable); see /status',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
export type CheckerMetrics = ReturnType<typeof createCheckerMetrics>;
