// The optional read-only status endpoint (off unless a listen address is given): /metrics
// in Prometheus text format and /status as JSON. Children keep their own registries; on
// each scrape the parent asks them over IPC and merges (prom-client's AggregatorRegistry).
import { createServer, type Server } from 'node:http';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

export interface ChildSnapshot {
  role: string;
  metrics: MetricObjectWithValues<MetricValue<string>>[];
  status: unknown;
}

export interface StatusServerOptions {
  /** host:port (port 0: any free one); the host defaults to 127.0.0.1 (never all interfaces by accident). */
  listen: string;
  /** Collects a snapshot from every running child (IPC round trip, with a timeout). */
  collect: () => Promise<ChildSnapshot[]>;
  /** Extra top-level status (parent's view: config file, pid, children). */
  parentStatus: () => Record<string, unknown>;
  /** The parent's own metrics (reloads, child restarts), merged with the children's. */
  parentMetrics?: () => ChildSnapshot['metrics'];
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen) ?? /^()()(\d+)$/.exec(listen);
  if (!m) throw new Error(`bad listen address \`${listen}\`: expected HOST:PORT or PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`bad port in \`${listen}\``);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

export async function startStatusServer(opts: StatusServerOptions): Promise<Server> {
  const { host, port } = parseListen(opts.listen);
  const server = createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/status') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /status\n');
      return;
    }
    opts
      .collect()
      .then(async (snaps) => {
        if (path === '/metrics') {
          const merged = AggregatorRegistry.aggregate([...snaps.map((s) => s.metrics), opts.parentMetrics?.() ?? []]);
          res.writeHead(200, { 'content-type': merged.contentType }).end(await merged.metrics());
        } else {
          const children = Object.fromEntries(snaps.map((s) => [s.role, s.status]));
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...opts.parentStatus(), ...children }, null, 2) + '\n');
        }
      })
      .catch((err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting failed: ${err.message}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
