// Loads the config in a short-lived worker thread. The config front end (chevrotain and the
// grammar) costs ~40 MB of RSS once imported; a long-running VRRP child needs only the
// resulting plain data, so it parses in a worker whose memory goes away with it.
// (raw-socket must not be used in workers; nothing here touches it.)
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { LoadOptions, LoadResult } from '../config/index.js';

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
  parentPort.postMessage(loadConfig(path, opts));
}
