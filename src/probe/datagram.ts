// One datagram exchange for the UDP-based probes (UDP_CHECK, DNS_CHECK): a connected socket
// (bound first when the check names a source), one request, then the first reply the probe
// accepts, a socket error (ICMP unreachable arrives as one on a connected socket), the
// timeout or the daemon's cancellation, whichever comes first; the socket is closed after.
import dgram from 'node:dgram';
import { down, errorReason, type CheckContext, type CheckOutcome, type Endpoint } from './outcome.js';

export interface DatagramExchange {
  ep: Endpoint;
  request: Buffer;
  timeoutMs: number;
  /** The verdict when no accepted reply came in time. */
  onTimeout: () => CheckOutcome;
  /** The verdict for a reply, or null to keep waiting (a reply to someone else). */
  onReply: (msg: Buffer) => CheckOutcome | null;
}

export function exchangeDatagram(x: DatagramExchange, ctx: CheckContext): Promise<CheckOutcome> {
  const { ep } = x;
  return new Promise((resolve) => {
    const sock = dgram.createSocket(ep.family === 6 ? 'udp6' : 'udp4');
    let done = false;
    const timer = setTimeout(() => finish(x.onTimeout()), x.timeoutMs);
    const onAbort = () => finish(down('aborted'));
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    function finish(o: CheckOutcome) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      sock.close();
      resolve(o);
    }
    sock.on('error', (e) => finish(down(errorReason(e))));
    sock.on('message', (msg) => {
      const verdict = x.onReply(msg);
      if (verdict) finish(verdict);
    });
    const connect = () => sock.connect(ep.port, ep.host, () => sock.send(x.request, (e) => e && finish(down(errorReason(e)))));
    if (ep.localAddress || ep.localPort) {
      sock.bind({ address: ep.localAddress ?? undefined, port: ep.localPort ?? 0 }, connect);
    } else {
      connect();
    }
  });
}
