// The child's answer to the parent's `collect`: its registry as JSON plus a status object.
import type { Registry } from 'prom-client';
import type { ChildToParent } from '../watchdog/ipc.js';

export async function snapshotMessage(id: number, registry: Registry, status: unknown): Promise<ChildToParent> {
  return { t: 'snapshot', id, metrics: await registry.getMetricsAsJSON(), status };
}
