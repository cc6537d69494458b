// Runs checks given as JSON on argv and prints their outcomes as JSON: the netns test
// starts it with `ip netns exec` so the checks originate inside a namespace it owns.
// Only the checkers the namespace test needs: a smaller import graph compiles faster.
import type { CheckTarget } from '../../src/probe/outcome.js';
import { runPingCheck } from '../../src/probe/ping-check.js';
import { runTcpCheck } from '../../src/probe/tcp-check.js';
import type { PingCheck, TcpCheck } from '../../src/config/model.js';

const runCheck = (c: PingCheck | TcpCheck, t: CheckTarget) => (c.type === 'PING_CHECK' ? runPingCheck(c, t) : runTcpCheck(c, t));
const jobs = JSON.parse(process.argv[2]!) as { checker: PingCheck | TcpCheck; target: CheckTarget }[];
const timed = async (job: (typeof jobs)[number]) => {
  const t0 = performance.now();
  const outcome = await runCheck(job.checker, job.target);
  return { ...outcome, ms: Math.round(performance.now() - t0) };
};
// `parallel` runs every job at once (shared sockets under concurrency); default: in order.
const results = [];
if (process.argv[3] === 'parallel') results.push(...(await Promise.all(jobs.map(timed))));
else for (const job of jobs) results.push(await timed(job));
process.stdout.write(JSON.stringify(results));
