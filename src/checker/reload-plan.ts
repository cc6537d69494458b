// What a reload would do to the IPVS table: the new config's desired table (real servers kept
// by the reload keep their health, as engine.reload carries it) against the live kernel
// table, through the same diff the checker applies. Pure: the checker child reads the kernel.
import type { IpvsOp } from '../ipvs/diff.js';
import { diff } from '../ipvs/diff.js';
import type { ServiceEntry, ServiceKey } from '../ipvs/model.js';
import type { IpvsPlan } from '../watchdog/plan.js';
import { type TableState, desiredTable } from './desired.js';
import type { KeepalivedConfig } from '../config/model.js';

const IPVS_COMMAND: Record<IpvsOp['op'], string> = {
  'add-service': 'IPVS_CMD_NEW_SERVICE',
  'edit-service': 'IPVS_CMD_SET_SERVICE',
  'delete-service': 'IPVS_CMD_DEL_SERVICE',
  'add-destination': 'IPVS_CMD_NEW_DEST',
  'edit-destination': 'IPVS_CMD_SET_DEST',
  'delete-destination': 'IPVS_CMD_DEL_DEST',
};

export function serviceText(s: ServiceKey): string {
  if ('fwmark' in s) return `fwmark ${s.fwmark} (${s.family})`;
  const host = s.family === 'inet6' ? `[${s.address}]` : s.address;
  return `${s.protocol.toUpperCase()} ${host}:${s.port}`;
}

/** One netlink write, as `--plan` prints it. */
export function writeText(op: IpvsOp): string {
  const svc = serviceText(op.service);
  if (!('destination' in op)) {
    const sched = 'scheduler' in op.service ? ` scheduler ${op.service.scheduler}` : '';
    return `${IPVS_COMMAND[op.op]} ${svc}${op.op === 'delete-service' ? '' : sched}`;
  }
  const d = op.destination;
  const host = d.family === 'inet6' ? `[${d.address}]` : d.address;
  return `${IPVS_COMMAND[op.op]} ${host}:${d.port} of ${svc}${op.op === 'delete-destination' ? '' : ` weight ${d.weight} ${d.forwarding}`}`;
}

export function summarize(ops: readonly IpvsOp[]): IpvsPlan {
  const plan: IpvsPlan = {
    writes: ops.map(writeText),
    servicesAdded: [],
    servicesRemoved: [],
    servicesEdited: [],
    destinationsAdded: [],
    destinationsRemoved: [],
    destinationsEdited: [],
  };
  for (const op of ops) {
    const svc = serviceText(op.service);
    const dest = 'destination' in op ? `${op.destination.address}:${op.destination.port} of ${svc}` : '';
    if (op.op === 'add-service') plan.servicesAdded.push(svc);
    else if (op.op === 'delete-service') plan.servicesRemoved.push(svc);
    else if (op.op === 'edit-service') plan.servicesEdited.push(svc);
    else if (op.op === 'add-destination') plan.destinationsAdded.push(dest);
    else if (op.op === 'delete-destination') plan.destinationsRemoved.push(dest);
    else plan.destinationsEdited.push(dest);
  }
  return plan;
}

/**
 * `actual`: the kernel's table, only the services this checker owns (see owned.ts); `state`:
 * the running health and quorum, keyed so the new config's servers find their old values.
 * Throws as engine.reload does when the config cannot be expressed as a table.
 */
export function planIpvsReload(
  next: Pick<KeepalivedConfig, 'virtualServers' | 'virtualServerGroups'>,
  state: TableState,
  actual: readonly ServiceEntry[],
): IpvsPlan {
  return summarize(diff(desiredTable(next, state).entries, actual));
}
