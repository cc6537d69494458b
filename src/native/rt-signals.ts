// keepalived's real-time signals: JSON (SIGRTMIN+2 = 36) writes /tmp/keepalived.json and
// STATS_CLEAR (SIGRTMAX-1 = 63) clears the VRRP statistics. Scripts and exporters send those
// numbers (`kill -36`), so the daemon catches them; Node's process.on cannot name them, and
// a real-time signal nobody catches terminates the process, leaving its pid files behind.
// The native addon installs the handlers and hands each caught signal's number over a pipe.
// SIGPWR and SIGURG, which earlier versions answered with for JSON and STATS_CLEAR, keep working.
import { Socket } from 'node:net';
import { loadNativeAddon } from './index.js';
import type { Logger } from '../log/logger.js';

/** glibc's SIGRTMIN is 34 (NPTL keeps 32 and 33), SIGRTMAX 64. */
export const SIGJSON = 36;
export const SIGSTATS_CLEAR = 63;

type Handlers = Readonly<Record<number, () => void>>;
const listeners = new Set<Handlers>();
let pipe: Socket | null = null;

/**
 * Runs `handlers[n]` whenever signal n arrives, until the returned function is called (the
 * signal stays caught after that: a late one must not kill the process). The pipe does not
 * keep the process alive. Throws when the addon is not built.
 */
export function onRealtimeSignals(handlers: Handlers): () => void {
  const addon = loadNativeAddon();
  let fd = -1;
  for (const n of Object.keys(handlers)) fd = addon.catchSignal(Number(n));
  if (!pipe && fd >= 0) {
    pipe = new Socket({ fd, readable: true, writable: false });
    pipe.unref();
    pipe.on('data', (bytes: Buffer) => {
      for (const n of bytes) for (const h of listeners) h[n]?.();
    });
    pipe.on('error', () => undefined);
  }
  listeners.add(handlers);
  return () => void listeners.delete(handlers);
}

/** onRealtimeSignals, or a logged error and nothing caught when the addon is missing. */
export function catchKeepalivedSignals(handlers: Handlers, log: Logger): () => void {
  try {
    return onRealtimeSignals(handlers);
  } catch (err) {
    log.error({ err: (err as Error).message }, `cannot catch keepalived's signals ${Object.keys(handlers).join(', ')}: they would stop this process`);
    return () => undefined;
  }
}
