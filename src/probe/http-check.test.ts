import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSigned } from '../../test/helpers/self-signed.js';
import { httpCheck, pos, url } from '../../test/probe/fixtures.js';
import type { HttpCheck, HttpRegex, SslClient } from '../config/model.js';
import { bodyMatches, contentLengthOf, genhash, requestText, runHttpCheck, statusAccepted, statusOf } from './http-check.js';

const BODY = 'hello from the real server\n';
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

let dir: string;
let httpSrv: http.Server;
let httpsSrv: https.Server;
let mtlsSrv: https.Server;
let mtlsPort = 0;
let httpPort = 0;

let httpsPort = 0;
const seen: { path: string; host: string | undefined; sni?: string | false; remote?: string; version?: string; connection?: string; client?: string }[] = [];
const PAGE = '<html><title>Service healthy</title>\nstatus: OK\n</html>\n';
let statusForFlaky = 503;

function handler(req: http.IncomingMessage, res: http.ServerResponse) {
  const sni = (req.socket as { servername?: string | false }).servername;
  const peer = (req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } }).getPeerCertificate?.();
  seen.push({
    path: req.url!,
    host: req.headers.host,
    sni,
    remote: req.socket.remoteAddress,
    version: req.httpVersion,
    connection: req.headers.connection,
    client: peer?.subject?.CN,
  });
  if (req.url === '/ok') return res.end(BODY);
  if (req.url === '/page') return res.end(PAGE);
  if (req.url === '/chunked') {
    res.write('hello ');
    setTimeout(() => res.end('world'), 5);
    return;
  }
  if (req.url === '/404') {
    res.statusCode = 404;
    return res.end('nope');
  }
  if (req.url === '/flaky') {
    res.statusCode = statusForFlaky;
    return res.end('x');
  }
  if (req.url === '/hang') return; // never answers
  if (req.url === '/slow') {
    setTimeout(() => res.end(BODY), 150);
    return;
  }
  res.statusCode = 500;
  res.end();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kt-chk-http-'));
  selfSigned(dir, 'server', '/CN=selfsigned.test');
  httpSrv = http.createServer(handler);
  // The client side of the SSL block: an EC certificate whose key is encrypted with a password.
  selfSigned(dir, 'client', '/CN=keepalived-client', 'secret');
  httpsSrv = https.createServer({ key: readFileSync(join(dir, 'server-key.pem')), cert: readFileSync(join(dir, 'server-cert.pem')) }, handler);
  // A server that asks for a client certificate and accepts only the one above.
  mtlsSrv = https.createServer(
    {
      key: readFileSync(join(dir, 'server-key.pem')),
      cert: readFileSync(join(dir, 'server-cert.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      ca: readFileSync(join(dir, 'client-cert.pem')),
    },
    handler,
  );
  await new Promise<void>((r) => mtlsSrv.listen(0, '127.0.0.1', () => r()));
  mtlsPort = (mtlsSrv.address() as AddressInfo).port;
  await new Promise<void>((r) => httpSrv.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => httpsSrv.listen(0, '127.0.0.1', () => r()));
  httpPort = (httpSrv.address() as AddressInfo).port;
  httpsPort = (httpsSrv.address() as AddressInfo).port;
});

afterAll(async () => {
  httpSrv?.closeAllConnections();
  httpsSrv?.closeAllConnections();
  mtlsSrv?.closeAllConnections();
  await new Promise((r) => mtlsSrv?.close(r));
  await new Promise((r) => httpSrv?.close(r));
  await new Promise((r) => httpsSrv?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const rs = () => ({ address: '127.0.0.1', port: httpPort, family: 4 as const });
const rss = () => ({ address: '127.0.0.1', port: httpsPort, family: 4 as const });

describe('status code ranges', () => {
  it('defaults to 200-299 and honours single values and ranges', () => {
    expect(statusAccepted(204, [])).toBe(true);
    expect(statusAccepted(301, [])).toBe(false);
    const r = [
      { from: 200, to: 200 },
      { from: 400, to: 499 },
    ];
    expect([200, 404, 499, 201, 500].map((s) => statusAccepted(s, r))).toEqual([true, true, true, false, false]);
  });
});

describe('HTTP_GET against a real server', () => {
  it('is up on 200 with the right digest, down on a wrong digest', async () => {
    expect((await runHttpCheck(httpCheck({ urls: [url({ path: '/ok', digest: md5(BODY) })] }), rs())).up).toBe(true);
    const bad = await runHttpCheck(httpCheck({ urls: [url({ path: '/ok', digest: 'ffffffffffffffffffffffffffffffff' })] }), rs());
    expect(bad).toMatchObject({ up: false, reason: expect.stringContaining('digest') });
  });

  it('requires every url block to pass', async () => {
    const o = await runHttpCheck(httpCheck({ urls: [url({ path: '/ok' }), url({ path: '/404' })] }), rs());
    expect(o).toMatchObject({ up: false, reason: '/404: status 404' });
    const ok = await runHttpCheck(httpCheck({ urls: [url({ path: '/ok' }), url({ path: '/404', statusCodes: [{ from: 404, to: 404 }] })] }), rs());
    expect(ok.up).toBe(true);
  });

  it('goes down on a wrong status and recovers when the server heals', async () => {
    statusForFlaky = 503;
    const chk = httpCheck({ urls: [url({ path: '/flaky' })] });
    expect(await runHttpCheck(chk, rs())).toMatchObject({ up: false, reason: '/flaky: status 503' });
    statusForFlaky = 200;
    expect((await runHttpCheck(chk, rs())).up).toBe(true);
  });

  it('times out at connect_timeout', async () => {
    const t0 = performance.now();
    const o = await runHttpCheck(httpCheck({ connectTimeoutMs: 200, urls: [url({ path: '/hang' })] }), rs());
    const took = performance.now() - t0;
    expect(o).toMatchObject({ up: false, reason: expect.stringContaining('timeout') });
    expect(took).toBeGreaterThanOrEqual(195);
    // a slow-but-in-time answer passes
    expect((await runHttpCheck(httpCheck({ connectTimeoutMs: 400, urls: [url({ path: '/slow' })] }), rs())).up).toBe(true);
  });

  it('is down with ECONNREFUSED when nothing listens', async () => {
    const o = await runHttpCheck(httpCheck({ connectPort: 1 }), rs());
    expect(o).toMatchObject({ up: false, reason: expect.stringContaining('ECONNREFUSED') });
  });

  it('sends the virtualhost as Host header (url beats checker beats context) and binds to bindto', async () => {
    seen.length = 0;
    await runHttpCheck(
      httpCheck({ bindto: '127.0.0.9', virtualhost: 'chk.example', urls: [url({ path: '/ok' }), url({ path: '/ok', virtualhost: 'url.example' })] }),
      rs(),
      { virtualhost: 'rs.example' },
    );
    await runHttpCheck(httpCheck({ urls: [url({ path: '/ok' })] }), rs(), { virtualhost: 'rs.example' });
    expect(seen.map((s) => s.host)).toEqual(['chk.example', 'url.example', 'rs.example']);
    expect(seen[0]!.remote).toBe('127.0.0.9');
  });
});

describe('SSL_GET against a self-signed server', () => {
  it('accepts the self-signed certificate and checks the digest', async () => {
    const o = await runHttpCheck(httpCheck({ type: 'SSL_GET', urls: [url({ path: '/ok', digest: md5(BODY) })] }), rss());
    expect(o.up).toBe(true);
    expect((await runHttpCheck(httpCheck({ type: 'SSL_GET', urls: [url({ path: '/404' })] }), rss())).up).toBe(false);
  });

  it('sends SNI only with enable_sni', async () => {
    seen.length = 0;
    await runHttpCheck(httpCheck({ type: 'SSL_GET', virtualhost: 'sni.example', enableSni: true, urls: [url({ path: '/ok' })] }), rss());
    await runHttpCheck(httpCheck({ type: 'SSL_GET', virtualhost: 'sni.example', enableSni: false, urls: [url({ path: '/ok' })] }), rss());
    expect(seen.map((s) => s.sni)).toEqual(['sni.example', false]);
    expect(seen.map((s) => s.host)).toEqual(['sni.example', 'sni.example']);
  });

  it('is down when speaking TLS to a plain HTTP port', async () => {
    const o = await runHttpCheck(httpCheck({ type: 'SSL_GET', urls: [url({ path: '/ok' })] }), rs());
    expect(o.up).toBe(false);
  });
});

const rsm = () => ({ address: '127.0.0.1', port: mtlsPort, family: 4 as const });
const sslBlock = (over: Partial<SslClient> = {}): SslClient => ({
  password: 'secret',
  ca: join(dir, 'server-cert.pem'),
  certificate: join(dir, 'client-cert.pem'),
  key: join(dir, 'client-key.pem'),
  pos: { file: 'keepalived.conf', line: 40, column: 1 },
  ...over,
});

describe("keepalived's request", () => {
  it('is HTTP/1.0 without Connection by default; 1.0C and 1.1 send Connection: close', async () => {
    seen.length = 0;
    for (const httpProtocol of ['1.0', '1.0C', '1.1'] as const) {
      expect((await runHttpCheck(httpCheck({ httpProtocol, urls: [url({ path: '/ok' })] }), rs())).up).toBe(true);
    }
    expect(seen.map((s) => [s.version, s.connection])).toEqual([
      ['1.0', undefined],
      ['1.0', 'close'],
      ['1.1', 'close'],
    ]);
  });

  it('is byte for byte what keepalived sends', () => {
    expect(requestText('/health', 'web.example', '1.0')).toBe('GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: web.example\r\n\r\n');
    expect(requestText('/', '[fd00::1]:8080', '1.1')).toBe(
      'GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [fd00::1]:8080\r\n\r\n',
    );
  });

  it('reads the status and Content-Length as keepalived does', () => {
    expect(statusOf('HTTP/1.1 204 No Content')).toBe(204);
    expect(statusOf('HTTP/1.1 200')).toBe(0); // no reason phrase: keepalived reads no status
    expect(contentLengthOf('HTTP/1.0 200 OK\r\nContent-Length: 12')).toBe(12);
    expect(contentLengthOf('HTTP/1.0 200 OK\r\ncontent-length: 12')).toBeNull();
  });
});

describe('virtualhost: the Host header and the SNI', () => {
  it("names the address and port when no virtualhost applies; the real server's beats the virtual server's", async () => {
    seen.length = 0;
    await runHttpCheck(httpCheck({ urls: [url({ path: '/ok' })] }), rs());
    await runHttpCheck(httpCheck({ urls: [url({ path: '/ok' })] }), rs(), { virtualhost: 'vs.example', realServerVirtualhost: 'rs.example' });
    expect(seen.map((s) => s.host)).toEqual([`127.0.0.1:${httpPort}`, 'rs.example']);
  });

  it("SNI follows url > checker > virtual server and skips the real server's, as keepalived", async () => {
    seen.length = 0;
    const chk = (over: Partial<HttpCheck>) => httpCheck({ type: 'SSL_GET', enableSni: true, ...over });
    await runHttpCheck(chk({ urls: [url({ path: '/ok', virtualhost: 'url.example' })], virtualhost: 'chk.example' }), rss());
    await runHttpCheck(chk({ urls: [url({ path: '/ok' })], virtualhost: 'chk.example' }), rss());
    await runHttpCheck(chk({ urls: [url({ path: '/ok' })] }), rss(), { virtualhost: 'vs.example', realServerVirtualhost: 'rs.example' });
    await runHttpCheck(chk({ urls: [url({ path: '/ok' })] }), rss(), { realServerVirtualhost: 'rs.example' });
    expect(seen.map((s) => [s.sni, s.host])).toEqual([
      ['url.example', 'url.example'],
      ['chk.example', 'chk.example'],
      ['vs.example', 'rs.example'],
      [false, 'rs.example'],
    ]);
  });
});

describe('regex', () => {
  const re = (over: Partial<HttpRegex>): HttpRegex => ({ pattern: 'x', options: [], noMatch: false, minOffset: 0, maxOffset: null, pos, ...over });
  const check = (regex: HttpRegex) => runHttpCheck(httpCheck({ urls: [url({ path: '/page', regex })] }), rs());

  it('a match keeps the server up, no match takes it down; regex_no_match reverses both', async () => {
    expect((await check(re({ pattern: 'Service healthy' }))).up).toBe(true);
    expect(await check(re({ pattern: 'Service degraded' }))).toMatchObject({ up: false, reason: expect.stringContaining('does not match') });
    expect((await check(re({ pattern: 'Service degraded', noMatch: true }))).up).toBe(true);
    expect(await check(re({ pattern: 'healthy', noMatch: true }))).toMatchObject({ up: false, reason: expect.stringContaining('matches') });
  });

  it('honours the options and PCRE2 anchors', async () => {
    expect((await check(re({ pattern: 'SERVICE HEALTHY' }))).up).toBe(false);
    expect((await check(re({ pattern: 'SERVICE HEALTHY', options: ['caseless'] }))).up).toBe(true);
    expect((await check(re({ pattern: '^status: OK$', options: ['multiline'] }))).up).toBe(true);
    expect((await check(re({ pattern: '^<title>', options: ['multiline'] }))).up).toBe(false);
  });

  it("never settles a match that runs into the body's end, as keepalived's partial matching", () => {
    // `$` before the final LF (PCRE2) or a quantifier reaching the end: keepalived's
    // PCRE2_PARTIAL_HARD call reports a partial match, and the body ends without another
    const body = Buffer.from('status: OK\n');
    expect(bodyMatches(body, re({ pattern: 'OK$' }))).toBe(false);
    expect(bodyMatches(body, re({ pattern: 'OK\\s*' }))).toBe(false);
    expect(bodyMatches(body, re({ pattern: 'OK$', options: ['multiline'] }))).toBe(true); // the LF is there to see
    expect(bodyMatches(body, re({ pattern: 'OK\\s' }))).toBe(true);
    expect(bodyMatches(body, re({ pattern: 'status' }))).toBe(true);
  });

  it('looks from regex_min_offset and takes a first match starting by regex_max_offset', () => {
    const body = Buffer.from('0123456789OK');
    expect(bodyMatches(body, re({ pattern: 'OK', maxOffset: 10 }))).toBe(true);
    expect(bodyMatches(body, re({ pattern: 'OK', maxOffset: 9 }))).toBe(false);
    expect(bodyMatches(body, re({ pattern: '0', minOffset: 1 }))).toBe(false);
    expect(bodyMatches(body, re({ pattern: '(?<=9)OK', minOffset: 10 }))).toBe(true); // look-behind sees before the offset
    expect(bodyMatches(Buffer.alloc(0), re({ pattern: '^' }))).toBe(false); // keepalived never matches an empty body
  });
});

describe('the SSL block: client certificate', () => {
  it('presents the certificate (key decrypted with the password) to a server that requires it', async () => {
    seen.length = 0;
    const chk = httpCheck({ type: 'SSL_GET', urls: [url({ path: '/ok' })] });
    expect((await runHttpCheck(chk, rsm())).up).toBe(false); // without the block: refused
    expect((await runHttpCheck(chk, rsm(), { ssl: sslBlock() })).up).toBe(true);
    expect(seen.map((s) => s.client)).toEqual(['keepalived-client']);
  });

  it('is down, naming the SSL block, when its files cannot be used', async () => {
    const chk = httpCheck({ type: 'SSL_GET', urls: [url({ path: '/ok' })] });
    const o = await runHttpCheck(chk, rsm(), { ssl: sslBlock({ password: 'wrong' }) });
    expect(o).toMatchObject({ up: false, reason: expect.stringContaining('SSL block at keepalived.conf:40:1') });
    const missing = await runHttpCheck(chk, rsm(), { ssl: sslBlock({ certificate: join(dir, 'nope.pem') }) });
    expect(missing.reason).toContain('ENOENT');
  });

  it('does not verify the server certificate even with a ca (as keepalived)', async () => {
    const chk = httpCheck({ type: 'SSL_GET', urls: [url({ path: '/ok' })] });
    expect((await runHttpCheck(chk, rss(), { ssl: sslBlock({ ca: join(dir, 'client-cert.pem') }) })).up).toBe(true);
  });
});

describe('genhash', () => {
  it('digests the body as MD5 lower-case hex, de-chunked, over http and https', async () => {
    expect(await genhash(`http://127.0.0.1:${httpPort}/ok`)).toEqual({ status: 200, digest: md5(BODY), bytes: BODY.length });
    expect((await genhash(`http://127.0.0.1:${httpPort}/chunked`)).digest).toBe(md5('hello world'));
    expect((await genhash(`https://127.0.0.1:${httpsPort}/ok`)).digest).toBe(md5(BODY));
  });

  const realGenhash = '/usr/bin/genhash';
  it.runIf(existsSync(realGenhash))("agrees with keepalived's own genhash (HTTP/1.0 mode)", async () => {
    for (const path of ['/ok', '/chunked', '/404']) {
      const { stdout } = await promisify(execFile)(realGenhash, ['-s', '127.0.0.1', '-p', String(httpPort), '-u', path]);
      const theirs = stdout.trim().split('\n').pop()!.trim();
      expect((await genhash(`http://127.0.0.1:${httpPort}${path}`)).digest).toBe(theirs);
    }
    // over TLS (self-signed) as well
    const { stdout } = await promisify(execFile)(realGenhash, ['-S', '-s', '127.0.0.1', '-p', String(httpsPort), '-u', '/ok']);
    expect(stdout.trim().split('\n').pop()!.trim()).toBe(md5(BODY));
  });
});
