// Soak (not a test): runs many HTTP_GET / TCP_CHECK / DNS-less checks back to back against
// loopback servers and prints heap and RSS after each round, to catch per-check leaks.
// Build first (npm run build), then: node --expose-gc dist/test/probe/bench-soak.js [rounds] [perRound]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCheck } from '../../src/probe/run-check.js';
import { httpCheck, tcpCheck, url } from './fixtures.js';

const rounds = Number(process.argv[2] ?? 5);
const perRound = Number(process.argv[3] ?? 2000);
const srv = http.createServer((_q, r) => r.end('ok'));
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
const target = { address: '127.0.0.1', port: (srv.address() as AddressInfo).port, family: 4 as const };
const outer = new AbortController();
const checks = [httpCheck({ urls: [url({ path: '/', digest: '444bcb3a3fcf8389296c49467f27e1d6' })] }), tcpCheck()];
for (let round = 0; round < rounds; round++) {
  let down = 0;
  const reasons = new Map<string, number>();
  for (let i = 0; i < perRound; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => runCheck(checks[(i + j) % 2]!, target, { signal: outer.signal })));
    for (const o of batch.filter((x) => !x.up)) {
      down++;
      reasons.set(o.reason, (reasons.get(o.reason) ?? 0) + 1);
    }
  }
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  console.log(
    JSON.stringify({
      round,
      checks: perRound,
      down,
      reasons: Object.fromEntries(reasons),
      heapMB: Math.round(m.heapUsed / 2 ** 20),
      rssMB: Math.round(m.rss / 2 ** 20),
    }),
  );
}
srv.close();
