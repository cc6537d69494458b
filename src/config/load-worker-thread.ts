// The worker thread of loadInWorker (load-worker.ts): runs the load it is given and posts the
// report back, handing over the recording's buffers rather than copying them.
import { parentPort, workerData } from 'node:worker_threads';
import { runLoad, type LoadRequest } from './load-worker.js';

const { report, transfer } = await runLoad((workerData as { req: LoadRequest }).req);
parentPort?.postMessage(report, transfer);
