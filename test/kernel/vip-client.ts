/**
 * A client that keeps asking a URL (a VIP) while something happens to the director, and
 * counts what failed: `node vip-client.js URL OUT.json [INTERVAL_MS]`. One request at a
 * time, each on a new TCP connection (so IPVS schedules every one), a 1.5 s limit each.
 * OUT.json is rewritten every second and once more on SIGTERM, when the client exits.
 *
 * One node process on purpose: a shell loop of wget would fork several processes per
 * request, and in the TCG guest that steals the CPU the daemon under test needs.
 */
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';

const [url, out, interval = '250'] = process.argv.slice(2);
if (!url || !out) {
  console.error('usage: vip-client.js URL OUT.json [INTERVAL_MS]');
  process.exit(2);
}

const stats = { ok: 0, failed: 0, errors: [] as string[], bodies: {} as Record<string, number>, startedAt: Date.now(), lastOkAt: 0 };
const save = () => writeFileSync(out, JSON.stringify(stats));

function once(): Promise<void> {
  return new Promise((resolve) => {
    const fail = (why: string) => {
      stats.failed++;
      if (stats.errors.length < 20) stats.errors.push(`${new Date().toISOString()} ${why}`);
      resolve();
    };
    const req = request(url!, { agent: false, timeout: 1500 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return fail(`status ${res.statusCode}`);
        stats.ok++;
        stats.lastOkAt = Date.now();
        const b = body.trim();
        stats.bodies[b] = (stats.bodies[b] ?? 0) + 1;
        resolve();
      });
      res.on('error', (e) => fail(e.message));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => fail(e.message));
    req.end();
  });
}

let running = true;
process.on('SIGTERM', () => {
  running = false;
});
const saver = setInterval(save, 1000);
save();
while (running) {
  const started = Date.now();
  await once();
  await new Promise((r) => setTimeout(r, Math.max(0, Number(interval) - (Date.now() - started))));
}
clearInterval(saver);
save();
