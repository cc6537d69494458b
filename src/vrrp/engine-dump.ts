// Text dumps the VRRP child writes on signals, as keepalived does: USR1 the instances'
// state to /tmp/keepalived.data, USR2 counters to /tmp/keepalived.stats. Pure formatting;
// main.ts writes the files.
import type { InstanceStatus } from './engine.js';
import { ALL_REJECT_REASONS, type RejectCounter } from './packet.js';

export const STATE_DUMP_PATH = '/tmp/keepalived.data';
export const STATS_DUMP_PATH = '/tmp/keepalived.stats';

export function formatStateDump(instances: readonly InstanceStatus[], at: Date): string {
  const out = [`------< VRRP Topology >------ ${at.toISOString()}`];
  for (const i of instances) {
    out.push(
      ` VRRP Instance = ${i.name}`,
      `   State = ${i.state}`,
      `   Interface = ${i.interface}`,
      `   Virtual Router ID = ${i.vrid}`,
      `   Family = IPv${i.family}`,
      `   Priority = ${i.priority} (configured ${i.basePriority})`,
      `   Advert source = ${i.source}`,
      `   Master = ${i.state === 'MASTER' ? 'self' : i.master ?? 'unknown'}`,
      `   Sync group = ${i.syncGroup ?? 'none'}`,
      `   Virtual IP (${i.vips.length}):`,
      ...i.vips.map((v) => `     ${v}`),
    );
  }
  return out.join('\n') + '\n';
}

export function formatStats(instances: readonly InstanceStatus[], rejects: RejectCounter): string {
  const out: string[] = [];
  for (const i of instances) {
    out.push(`VRRP Instance: ${i.name}`, `  Advertisements:`, `    Received: ${i.advertsReceived}`, `    Sent: ${i.advertsSent}`, `  State transitions: ${i.transitions}`);
  }
  out.push('Rejected packets (all instances):');
  for (const r of ALL_REJECT_REASONS) out.push(`  ${r}: ${rejects.counts[r]}`);
  return out.join('\n') + '\n';
}
