// A process started with --optimize-for-size (the checker: src/daemon/node-flags.ts) grows
// its heap in small steps, which is what keeps it small once running. During a start's
// allocation burst (the config load, thousands of real servers registered and written to
// IPVS) those small steps mean a full collection every few megabytes: the start then spends
// about a quarter of its CPU in the collector. The flag is read by V8 as the heap grows, so
// it can be dropped for the burst and restored after it (the heap the process keeps running
// is the same: bench/README.md).
import { setFlagsFromString } from 'node:v8';

const FLAG = '--optimize-for-size';

/**
 * Lets the heap grow in V8's ordinary steps until the returned function is called, when
 * the process was started with --optimize-for-size; otherwise does nothing.
 */
export function growHeapFreelyDuringBurst(execArgv: readonly string[] = process.execArgv, setFlags: (flags: string) => void = setFlagsFromString): () => void {
  if (!execArgv.includes(FLAG)) return () => {};
  setFlags('--no-optimize-for-size');
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    setFlags(FLAG);
  };
}
