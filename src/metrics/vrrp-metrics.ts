// The VRRP child's metrics. The engine updates these; the parent collects them over IPC.
// The engine imports STATE_CODES always; prom-client loads only when metrics are created.
import type { Registry } from 'prom-client';
import { promClient } from './prom-client.js';

export const STATE_CODES = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 4 } as const;

export function createVrrpMetrics(registry: Registry = new (promClient().Registry)()) {
  const { Counter, Gauge } = promClient();
  const labelNames = ['instance', 'interface', 'vrid'] as const;
  return {
    registry,
    state: new Gauge({
      name: 'keepalived_vrrp_state',
      help: 'VRRP state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 4 STOP',
      labelNames,
      registers: [registry],
    }),
    priority: new Gauge({ name: 'keepalived_vrrp_priority', help: 'Effective priority', labelNames, registers: [registry] }),
    transitions: new Counter({
      name: 'keepalived_vrrp_transitions_total',
      help: 'State changes, by the state entered',
      labelNames: [...labelNames, 'to'],
      registers: [registry],
    }),
    advertsSent: new Counter({ name: 'keepalived_vrrp_adverts_sent_total', help: 'Adverts sent', labelNames, registers: [registry] }),
    advertsReceived: new Counter({
      name: 'keepalived_vrrp_adverts_received_total',
      help: 'Valid adverts received',
      labelNames,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'keepalived_vrrp_packets_rejected_total',
      help: 'Received packets rejected, by reason',
      labelNames: ['interface', 'reason'],
      registers: [registry],
    }),
  };
}
export type VrrpMetrics = ReturnType<typeof createVrrpMetrics>;
