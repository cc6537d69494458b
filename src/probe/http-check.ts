// HTTP_GET / SSL_GET: every `url` block must answer with an accepted status code and, when
// a digest is configured, a body whose MD5 matches. keepalived opens a fresh connection per
// check and accepts any certificate (it never verifies the peer), so do we.
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { Client, buildConnector } from 'undici';
import type { HttpCheck, HttpUrl, StatusRange } from '../config/model.js';
import { deadline, down, errorReason, resolveEndpoint, up, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';

export interface FetchOptions {
  virtualhost?: string | null;
  /** Send SNI (the virtualhost) in the TLS handshake: SSL_GET's enable_sni. */
  enableSni?: boolean;
  timeoutMs: number;
  localAddress?: string | null;
  localPort?: number | null;
  signal?: AbortSignal;
  /** Hash the body (only needed when a digest is compared). */
  hashBody: boolean;
}

export interface FetchResult {
  status: number;
  /** Lower-case hex MD5 of the (de-chunked) body; null when not hashed. */
  digest: string | null;
  bytes: number;
}

export function originOf(ssl: boolean, host: string, port: number): string {
  return `${ssl ? 'https' : 'http'}://${isIPv6(host.split('%')[0]!) ? `[${host.replace('%', '%25')}]` : host}:${port}`;
}

/** One GET on a fresh connection; rejects on network errors and on the deadline. */
export async function fetchOnce(origin: string, path: string, opts: FetchOptions): Promise<FetchResult> {
  const { signal, dispose } = deadline(opts.timeoutMs, opts.signal);
  const base = buildConnector({
    rejectUnauthorized: false,
    // net/tls.connect options pass through: bind_port becomes the source port.
    ...(opts.localPort ? { localPort: opts.localPort } : {}),
    // The connector's own timeout is coarse; the AbortSignal above is the real deadline.
    timeout: opts.timeoutMs + 1000,
  });
  const sni = opts.enableSni && opts.virtualhost ? opts.virtualhost : undefined;
  const connect: buildConnector.connector = (o, cb) => base({ ...o, servername: sni, localAddress: opts.localAddress ?? null }, cb);
  const client = new Client(origin, { connect, pipelining: 0 });
  try {
    const headers: Record<string, string> = { 'user-agent': 'KeepAliveClient', connection: 'close' };
    if (opts.virtualhost) headers.host = opts.virtualhost;
    const res = await client.request({ path: path || '/', method: 'GET', headers, signal, reset: true });
    if (!opts.hashBody) {
      // Read to the end anyway: a server that stalls mid-body is not healthy.
      let bytes = 0;
      for await (const chunk of res.body) bytes += (chunk as Buffer).length;
      return { status: res.statusCode, digest: null, bytes };
    }
    const md5 = createHash('md5');
    let bytes = 0;
    for await (const chunk of res.body) {
      md5.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { status: res.statusCode, digest: md5.digest('hex'), bytes };
  } finally {
    dispose();
    client.destroy().catch(() => {});
  }
}

export function statusAccepted(status: number, ranges: readonly StatusRange[]): boolean {
  if (ranges.length === 0) return status >= 200 && status <= 299;
  return ranges.some((r) => status >= r.from && status <= r.to);
}

/** Judge one url block's response: the status first, then the digest (as keepalived). */
export function judgeUrl(url: Pick<HttpUrl, 'path' | 'digest' | 'statusCodes'>, res: FetchResult): CheckOutcome {
  if (!statusAccepted(res.status, url.statusCodes)) return down(`${url.path}: status ${res.status}`);
  if (url.digest && res.digest !== url.digest.toLowerCase()) {
    return down(`${url.path}: digest ${res.digest} != ${url.digest.toLowerCase()}`);
  }
  return up(`${url.path}: status ${res.status}`);
}

export async function runHttpCheck(check: HttpCheck, target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const ep = resolveEndpoint(check, target);
  const origin = originOf(check.type === 'SSL_GET', ep.host, ep.port);
  if (check.urls.length === 0) return down('no url configured');
  for (const url of check.urls) {
    const virtualhost = url.virtualhost ?? check.virtualhost ?? ctx.virtualhost ?? null;
    let res: FetchResult;
    try {
      res = await fetchOnce(origin, url.path, {
        virtualhost,
        enableSni: check.enableSni,
        timeoutMs: check.connectTimeoutMs,
        localAddress: ep.localAddress,
        localPort: ep.localPort,
        signal: ctx.signal,
        hashBody: url.digest !== null,
      });
    } catch (e) {
      return down(`${url.path}: ${describeFetchError(e, check.connectTimeoutMs)}`);
    }
    const verdict = judgeUrl(url, res);
    if (!verdict.up) return verdict;
  }
  return up(`${check.urls.length} url(s) ok`);
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: unknown };
  if (err?.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  if (err?.name === 'AbortError') return 'aborted';
  return errorReason(err?.cause ?? err);
}

export interface GenhashOptions {
  virtualhost?: string | null;
  enableSni?: boolean;
  timeoutMs?: number;
  localAddress?: string | null;
}

/**
 * keepalived's genhash: fetch `url` (http:// or https://) and return the status and the
 * MD5 digest a HTTP_GET/SSL_GET `digest` line expects. The CLI's -T mode prints `digest`.
 */
export async function genhash(url: string, opts: GenhashOptions = {}): Promise<{ status: number; digest: string; bytes: number }> {
  const u = new URL(url);
  const res = await fetchOnce(u.origin, `${u.pathname}${u.search}`, {
    virtualhost: opts.virtualhost ?? null,
    enableSni: opts.enableSni ?? false,
    timeoutMs: opts.timeoutMs ?? 5000,
    localAddress: opts.localAddress ?? null,
    hashBody: true,
  });
  return { status: res.status, digest: res.digest!, bytes: res.bytes };
}
