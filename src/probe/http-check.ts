// HTTP_GET / SSL_GET: every `url` block must answer with an accepted status code and, when
// configured, a body whose MD5 matches and that matches (or, with regex_no_match, does not
// match) the url's regex. The request is keepalived's own text, byte for byte: an HTTP/1.0 (or
// 1.1) GET with its User-Agent, the Connection: close of http_protocol 1.0C/1.1 and a Host
// header from the virtualhost chain, on a fresh connection per url, the response read to the
// server's close. No HTTP client library sends an HTTP/1.0 request line, hence node:net/tls.
// keepalived never verifies the server's certificate, so neither do we.
import { createHash } from 'node:crypto';
import { isIPv6, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext } from 'node:tls';
import type { HttpCheck, HttpProtocol, HttpRegex, HttpUrl, StatusRange } from '../config/model.js';
import { translatePcre, type TranslatedRegex } from '../config/pcre.js';
import { down, errorReason, resolveEndpoint, up, type CheckContext, type CheckOutcome, type CheckTarget, type Endpoint } from './outcome.js';
import { sslClientContext } from './ssl-context.js';

export interface HttpRequest {
  ssl: boolean;
  endpoint: Pick<Endpoint, 'host' | 'port' | 'localAddress' | 'localPort'>;
  path: string;
  /** The Host header's value (a virtualhost, or the address and port). */
  host: string;
  protocol: HttpProtocol;
  /** TLS server name (SSL_GET with enable_sni); null sends none. */
  sni: string | null;
  /** The SSL block's client certificate and CA; null: an anonymous client. */
  secureContext: SecureContext | null;
  /** Each step (connect, handshake, every read) must progress within this. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Keep the body (for a regex); the digest is always computed. */
  keepBody: boolean;
}

export interface HttpResponse {
  status: number;
  /** Lower-case hex MD5 of the body (at most Content-Length bytes, as keepalived). */
  digest: string;
  /** The body, when asked for. */
  body: Buffer | null;
  bytes: number;
}

/** keepalived's GET request text for a url. */
export function requestText(path: string, host: string, protocol: HttpProtocol): string {
  const close = protocol === '1.0' ? '' : 'Connection: close\r\n';
  return `GET ${path} HTTP/1.${protocol === '1.1' ? 1 : 0}\r\nUser-Agent: KeepAliveClient\r\n${close}Host: ${host}\r\n\r\n`;
}

/** The Host header when no virtualhost applies: the address it connects to, with its port. */
export function addressHost(address: string, port: number): string {
  const bare = address.split('%')[0]!;
  return `${isIPv6(bare) ? `[${bare}]` : bare}:${port}`;
}

/** keepalived's status code: the three digits between the first space and the next one; else 0. */
export function statusOf(head: string): number {
  const m = /^[^ \r]* (\d{3}) /.exec(head);
  return m ? Number(m[1]) : 0;
}

/** keepalived's Content-Length (the exact, case-sensitive header name); null when absent or odd. */
export function contentLengthOf(head: string): number | null {
  const m = /Content-Length:[ \t]*(\d+)(?:\r|\n|$)/.exec(head);
  return m ? Number(m[1]) : null;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One GET on a fresh connection; rejects on network errors, timeouts and a reply without headers. */
export function fetchOnce(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const { host, port, localAddress, localPort } = req.endpoint;
    const where = { host, port, ...(localAddress ? { localAddress } : {}), ...(localPort ? { localPort } : {}) };
    const sock: Socket = req.ssl
      ? tlsConnect({
          ...where,
          rejectUnauthorized: false,
          ...(req.sni ? { servername: req.sni } : {}),
          ...(req.secureContext ? { secureContext: req.secureContext } : {}),
        })
      : netConnect(where);
    let head: Buffer | null = Buffer.alloc(0);
    let status = 0;
    let contentLength: number | null = null;
    const md5 = createHash('md5');
    const kept: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      req.signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) return reject(err);
      if (head !== null) return reject(new Error('no HTTP headers received'));
      resolve({ status, digest: md5.digest('hex'), body: req.keepBody ? Buffer.concat(kept) : null, bytes });
    };
    const onAbort = () => finish(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const onBody = (chunk: Buffer) => {
      const hashed = contentLength === null ? chunk.length : Math.max(0, Math.min(chunk.length, contentLength - bytes));
      if (hashed > 0) md5.update(hashed === chunk.length ? chunk : chunk.subarray(0, hashed));
      bytes += chunk.length;
      if (req.keepBody) kept.push(chunk);
    };
    sock.setTimeout(req.timeoutMs, () => finish(Object.assign(new Error(`timeout after ${req.timeoutMs} ms`), { name: 'TimeoutError' })));
    sock.once(req.ssl ? 'secureConnect' : 'connect', () => sock.write(requestText(req.path, req.host, req.protocol)));
    sock.on('data', (chunk: Buffer) => {
      if (head === null) return onBody(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEADER_END);
      if (end < 0) return;
      const text = head.subarray(0, end).toString('latin1');
      status = statusOf(text);
      contentLength = contentLengthOf(text);
      const rest = head.subarray(end + HEADER_END.length);
      head = null;
      if (rest.length > 0) onBody(rest);
    });
    sock.on('end', () => finish(null));
    sock.on('close', () => finish(null));
    // keepalived's TLS reader ends the response at any TLS error once data came; a plain read error fails it.
    sock.on('error', (e) => finish(req.ssl && head === null ? null : e));
  });
}

export function statusAccepted(status: number, ranges: readonly StatusRange[]): boolean {
  if (ranges.length === 0) return status >= 200 && status <= 299;
  return ranges.some((r) => status >= r.from && status <= r.to);
}

const compiled = new WeakMap<HttpRegex, { t: TranslatedRegex; re: RegExp } | null>();

/** The url's regex as a RegExp (translated once); null when RegExp cannot run it (the builder warned). */
function regexOf(r: HttpRegex): { t: TranslatedRegex; re: RegExp } | null {
  let c = compiled.get(r);
  if (c === undefined) {
    const t = translatePcre(r.pattern, r.options);
    c = t.ok ? { t, re: new RegExp(t.source, `${t.flags}g`) } : null;
    compiled.set(r, c);
  }
  return c;
}

/**
 * Characters appended to the body to see whether a match depends on what would follow it.
 * keepalived matches each read with PCRE2_PARTIAL_HARD and, once the body ends, never settles
 * a partial match: a match that reads past the last byte (`$` at the end of the body, a
 * quantifier running to the end) counts as none. A match is taken only when it stays the
 * same first match whatever one of these follows it.
 */
const FOLLOWERS = ['\n', 'a', ' ', '\0'];

/**
 * Whether the body matches the url's regex as keepalived reads it: from regex_min_offset on,
 * the first match starting no later than regex_max_offset, not running into the body's end;
 * an empty body never matches.
 */
export function bodyMatches(body: Buffer, r: HttpRegex): boolean | null {
  const c = regexOf(r);
  if (!c) return null;
  if (body.length === 0 || r.minOffset >= body.length) return false;
  const subject = c.t.utf ? body.toString('utf8') : body.toString('latin1');
  const charAt = (byteOffset: number) => (c.t.utf ? body.subarray(0, byteOffset).toString('utf8').length : byteOffset);
  const first = (text: string) => {
    c.re.lastIndex = charAt(r.minOffset);
    return c.re.exec(text);
  };
  const m = first(subject);
  if (!m) return false;
  for (const f of FOLLOWERS) {
    const longer = first(subject + f);
    if (!longer || longer.index !== m.index || longer[0].length !== m[0].length) return false;
  }
  if (c.t.firstline) {
    const lf = subject.indexOf('\n', charAt(r.minOffset));
    if (lf >= 0 && m.index > lf) return false;
  }
  const startByte = c.t.utf ? Buffer.byteLength(subject.slice(0, m.index)) : m.index;
  return r.maxOffset === null || startByte <= r.maxOffset;
}

/** Judge one url block's response: the status first, then the digest, then the regex (as keepalived). */
export function judgeUrl(url: Pick<HttpUrl, 'path' | 'digest' | 'statusCodes' | 'regex'>, res: HttpResponse): CheckOutcome {
  if (!statusAccepted(res.status, url.statusCodes)) return down(`${url.path}: status ${res.status}`);
  if (url.digest && res.digest !== url.digest.toLowerCase()) {
    return down(`${url.path}: digest ${res.digest} != ${url.digest.toLowerCase()}`);
  }
  if (url.regex && res.body) {
    const matched = bodyMatches(res.body, url.regex);
    if (matched !== null && matched === url.regex.noMatch) {
      return down(`${url.path}: body ${matched ? 'matches' : 'does not match'} regex ${JSON.stringify(url.regex.pattern)}`);
    }
  }
  return up(`${url.path}: status ${res.status}`);
}

/**
 * The Host header's virtualhost (url, checker, real server, virtual server) and the SNI's
 * (url, checker, virtual server: keepalived's TLS side skips the real server's).
 */
export function virtualhostsFor(url: Pick<HttpUrl, 'virtualhost'>, check: Pick<HttpCheck, 'virtualhost'>, ctx: CheckContext) {
  const own = url.virtualhost ?? check.virtualhost;
  return { host: own ?? ctx.realServerVirtualhost ?? ctx.virtualhost ?? null, sni: own ?? ctx.virtualhost ?? null };
}

export async function runHttpCheck(check: HttpCheck, target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const ep = resolveEndpoint(check, target);
  if (check.urls.length === 0) return down('no url configured');
  const ssl = check.type === 'SSL_GET';
  let secureContext: SecureContext | null = null;
  if (ssl && ctx.ssl) {
    const c = sslClientContext(ctx.ssl);
    if ('error' in c) return down(c.error);
    secureContext = c.context;
  }
  for (const url of check.urls) {
    const vh = virtualhostsFor(url, check, ctx);
    let res: HttpResponse;
    try {
      res = await fetchOnce({
        ssl,
        endpoint: ep,
        path: url.path,
        host: vh.host ?? addressHost(ep.host, ep.port),
        protocol: check.httpProtocol,
        sni: check.enableSni ? vh.sni : null,
        secureContext,
        timeoutMs: check.connectTimeoutMs,
        signal: ctx.signal,
        keepBody: url.regex !== null,
      });
    } catch (e) {
      return down(`${url.path}: ${describeFetchError(e)}`);
    }
    const verdict = judgeUrl(url, res);
    if (!verdict.up) return verdict;
  }
  return up(`${check.urls.length} url(s) ok`);
}

function describeFetchError(e: unknown): string {
  const err = e as Error;
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return err.message;
  return errorReason(err);
}

export interface GenhashOptions {
  virtualhost?: string | null;
  enableSni?: boolean;
  timeoutMs?: number;
  localAddress?: string | null;
  protocol?: HttpProtocol;
}

/**
 * keepalived's genhash: fetch `url` (http:// or https://) and return the status and the
 * MD5 digest a HTTP_GET/SSL_GET `digest` line expects. The CLI's -T mode prints `digest`.
 */
export async function genhash(url: string, opts: GenhashOptions = {}): Promise<{ status: number; digest: string; bytes: number }> {
  const u = new URL(url);
  const ssl = u.protocol === 'https:';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port ? Number(u.port) : ssl ? 443 : 80;
  const res = await fetchOnce({
    ssl,
    endpoint: { host, port, localAddress: opts.localAddress ?? null, localPort: null },
    path: `${u.pathname}${u.search}`,
    host: opts.virtualhost ?? addressHost(host, port),
    protocol: opts.protocol ?? '1.0',
    sni: opts.enableSni ? (opts.virtualhost ?? null) : null,
    secureContext: null,
    timeoutMs: opts.timeoutMs ?? 5000,
    keepBody: false,
  });
  return { status: res.status, digest: res.digest, bytes: res.bytes };
}
