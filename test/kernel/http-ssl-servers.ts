// The real servers of the http-ssl-parity scenario, in a process of their own so they answer
// promptly while the scenario's process loads the config front end or runs our checker.
// Arguments: DIR (server-*.pem, client-cert.pem) then ADDRESS:PORT:KIND, KIND one of
// http | tls | client-cert (TLS that requires the SSL block's client certificate).
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';

/** 200 "status: OK\n" when the request is what the path asks for, else 404. */
export function answer(req: http.IncomingMessage, res: http.ServerResponse): void {
  const ok = (yes: boolean) => {
    res.statusCode = yes ? 200 : 404;
    res.end(yes ? 'status: OK\n' : 'wrong\n');
  };
  switch (req.url) {
    case '/vhost':
      return ok(req.headers.host === 'good.example');
    case '/page':
      return ok(true);
    case '/http11-close':
      return ok(req.httpVersion === '1.1' && req.headers.connection === 'close');
    case '/sni':
      return ok((req.socket as TLSSocket).servername === 'sni.example');
    default:
      return ok(false);
  }
}

const [dir, ...listeners] = process.argv.slice(2);
if (dir) {
  const keys = { key: readFileSync(`${dir}/server-key.pem`), cert: readFileSync(`${dir}/server-cert.pem`) };
  for (const l of listeners) {
    const [host, port, kind] = l.split(':') as [string, string, string];
    const srv =
      kind === 'tls'
        ? https.createServer(keys, answer)
        : kind === 'client-cert'
          ? https.createServer({ ...keys, requestCert: true, rejectUnauthorized: true, ca: readFileSync(`${dir}/client-cert.pem`) }, answer)
          : http.createServer(answer);
    srv.listen(Number(port), host);
  }
}
