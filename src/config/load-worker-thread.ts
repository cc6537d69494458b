// The worker thread of loadInWorker (load-worker.ts): runs the load it is given and posts the
// report back, handing over the recording's buffers rather than copying them.
import { parentPort, workerData } from 'node:worker_threads';
import { runLoad, type LoadRequest } from './load-worker.js';

/** The worker's body (the bundle's launcher calls it, tools/bundle.mjs). */
export function main(): void {
  void runLoad((workerData as { req: LoadRequest }).req).then(({ report, transfer }) => parentPort?.postMessage(report, transfer));
}

// run when loaded as the worker (dist/src)
if (typeof KEEPALIVED_TS_BUNDLE === 'undefined') main();
