// Loads the VRRP child's config in a short-lived worker thread, and hands back only what the
// VRRP child uses: the virtual servers (the checker's part, and most of a big config: 10,000
// real servers are ~18 MB of model) stay in the worker and go away with it, as does the
// garbage of parsing. The front end's modules are never loaded in the child's own isolate.
// Measured (bench/memory.mjs): on a small config a worker costs about what parsing in the
// child would (within 2 MB either way); on 1,000 x 10 real servers it keeps ~10 MB out.
// (raw-socket must not be used in workers; nothing here touches it.)
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { KeepalivedConfig } from '../config/model.js';
import type { LoadOptions, LoadResult } from '../config/index.js';

/** The config without what only the checker uses. */
export function vrrpPart(config: KeepalivedConfig): KeepalivedConfig {
  return { ...config, virtualServers: [], virtualServerGroups: [] };
}

export function loadConfigInWorker(path: string, opts: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { path, opts } });
    w.once('message', (r: LoadResult) => {
      resolve(r);
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`config loader worker exited with ${code}`));
    });
  });
}

if (!isMainThread && parentPort && (workerData as { path?: string } | null)?.path) {
  const { path, opts } = workerData as { path: string; opts: LoadOptions };
  const { loadConfig } = await import('../config/index.js');
  const r = loadConfig(path, opts);
  parentPort.postMessage(r.config ? { ...r, config: vrrpPart(r.config) } : r);
}
