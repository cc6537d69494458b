// TCP_CHECK: the server is up when a TCP connection completes within connect_timeout.
// The connect goes through the native probe (tcp-probe.ts), as the scheduler's batched
// path does; net.Socket is the fallback where the addon is not built.
import net from 'node:net';
import type { TcpCheck } from '../config/model.js';
import { down, errorReason, resolveEndpoint, up, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';
import { TcpProbes, probeOnce } from './tcp-probe.js';

export function runTcpCheck(check: TcpCheck, target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const ep = resolveEndpoint(check, target);
  const probes = TcpProbes.shared();
  if (probes) return probeOnce(probes, ep, check.connectTimeoutMs, ctx.signal);
  return connectOutcome(ep.host, ep.port, ep.family, ep.localAddress, ep.localPort, check.connectTimeoutMs, ctx.signal);
}

/** Connect with net.Socket, then close at once: the fallback without the native probe. */
export function connectOutcome(
  host: string,
  port: number,
  family: 4 | 6,
  localAddress: string | null,
  localPort: number | null,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({
      host,
      port,
      family,
      ...(localAddress ? { localAddress } : {}),
      ...(localPort ? { localPort } : {}),
    });
    // A plain timer, not socket.setTimeout (that one measures idleness, not the deadline).
    const timer = setTimeout(() => finish(down(`connect timeout after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => finish(down('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    let done = false;
    function finish(o: CheckOutcome) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(o);
    }
    sock.once('connect', () => finish(up('connected')));
    sock.once('error', (e) => finish(down(errorReason(e))));
    if (signal?.aborted) onAbort();
  });
}
