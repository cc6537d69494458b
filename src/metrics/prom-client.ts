// prom-client, loaded when a metrics registry is first created rather than when a module
// that mentions metrics is imported: it costs megabytes of a child's memory, and a child needs
// metrics only while the parent's status endpoint is on (off by default). prom-client is
// CommonJS, so a synchronous require works and the factories stay synchronous.
import { createRequire } from 'node:module';

type PromClient = typeof import('prom-client');

let loaded: PromClient | null = null;

export function promClient(): PromClient {
  return (loaded ??= createRequire(import.meta.url)('prom-client') as PromClient);
}
