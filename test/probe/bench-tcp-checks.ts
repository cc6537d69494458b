// Benchmark (not a test): N real servers with one TCP_CHECK each at delay_loop 1 s against a
// loopback listener, run through the scheduler for a while; prints checks/s and CPU use,
// comparable to keepalived's figures (1,000 checks: 9.2 % of a core; 10,000: 36.5 % at
// 9,231 checks/s, i.e. about 40 us of CPU per check).
// Build first (npm run build), then: node dist/test/probe/bench-tcp-checks.js [N] [seconds]
import { spawn } from 'node:child_process';
import { CheckScheduler } from '../../src/probe/scheduler.js';
import { realServer } from './fixtures-rs.js';
import { tcpCheck } from './fixtures.js';

const n = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 10);

// The listener lives in its own process so only the checker's CPU is measured here.
const listener = spawn(
  process.execPath,
  [
    '-e',
    `
  const s = require('node:net').createServer((c) => c.destroy());
  s.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log(s.address().port));
`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise<number>((r) => listener.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))));

let attempts = 0;
let failures = 0;
const sched = new CheckScheduler({
  onAttempt: (e) => {
    attempts++;
    if (!e.outcome.up) failures++;
  },
});
for (let i = 0; i < n; i++) {
  // Distinct keys, same listener: connect_port points every checker at it.
  sched.add(realServer([tcpCheck({ connectPort: port, delayLoopMs: 1000, warmupMs: 1000, connectTimeoutMs: 5000 })], { port: 10000 + i }), `rs${i}`);
}
sched.start();
// Measure after the warmup second so every checker is in its steady loop.
await new Promise((r) => setTimeout(r, 1500));
const a0 = attempts;
const c0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const cpu = process.cpuUsage(c0);
const wall = (performance.now() - t0) / 1000;
sched.stop();
listener.kill();
const rss = process.memoryUsage().rss / 2 ** 20;
console.log(
  JSON.stringify({
    checkers: n,
    seconds: Math.round(wall * 10) / 10,
    checksPerSecond: Math.round((attempts - a0) / wall),
    // Robust to a busy machine, unlike checks/s: CPU spent per completed check.
    cpuMicrosPerCheck: Math.round((cpu.user + cpu.system) / Math.max(1, attempts - a0)),
    cpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1e6 / wall) * 1000) / 10,
    failures,
    rssMB: Math.round(rss),
  }),
);
