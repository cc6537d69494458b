// The child's answer to the parent's `collect`: its registry as JSON plus a status object.
import type { Registry } from 'prom-client';
import type { ChildToParent } from '../watchdog/ipc.js';

/** `registry` null: a child keeping no metrics (see the VRRP child's --metrics) answers with its status alone. */
export async function snapshotMessage(id: number, registry: Registry | null, status: unknown): Promise<ChildToParent> {
  return { t: 'snapshot', id, metrics: registry ? await registry.getMetricsAsJSON() : [], status };
}
