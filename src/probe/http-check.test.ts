import { execFileSync, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpCheck, url } from '../../test/probe/fixtures.js';
import { genhash, runHttpCheck, statusAccepted } from './http-check.js';

const BODY = 'hello from the real server\n';
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

let dir: string;
let httpSrv: http.Server;
let httpsSrv: https.Server;
let httpPort = 0;
let httpsPort = 0;
const seen: { path: string; host: string | undefined; sni?: string | false; remote?: string }[] = [];
let statusForFlaky = 503;

function handler(req: http.IncomingMessage, res: http.ServerResponse) {
  const sni = (req.socket as { servername?: string | false }).servername;
  seen.push({ path: req.url!, host: req.headers.host, sni, remote: req.socket.remoteAddress });
  if (req.url === '/ok') return res.end(BODY);
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
  // An EC key: RSA generation takes seconds on a busy machine.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=selfsigned.test',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  httpSrv = http.createServer(handler);
  httpsSrv = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, handler);
  await new Promise<void>((r) => httpSrv.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => httpsSrv.listen(0, '127.0.0.1', () => r()));
  httpPort = (httpSrv.address() as AddressInfo).port;
  httpsPort = (httpsSrv.address() as AddressInfo).port;
});

afterAll(async () => {
  httpSrv?.closeAllConnections();
  httpsSrv?.closeAllConnections();
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
