// Queries ADDRESS:PORT over UDP, each query from a new socket (a new source port: the
// upstream's ECMP hash spreads them), one every INTERVAL_MS, and counts who answered and
// what went unanswered within TIMEOUT_MS: node name-client.mjs ADDRESS PORT OUT.json
// [INTERVAL_MS] [TIMEOUT_MS]. OUT.json is rewritten every 250 ms and at SIGTERM, then it exits.
// `byName` counts answers per server; `failed` the queries nobody answered.
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';

const [address, port, out, interval = '10', timeout = '500'] = process.argv.slice(2);
const stats = { sent: 0, ok: 0, failed: 0, byName: {}, failures: [], startedAt: Date.now() };
const save = () => writeFileSync(out, JSON.stringify(stats));

let seq = 0;
function query() {
  const id = String(++seq);
  const sock = createSocket('udp4');
  stats.sent++;
  let done = false;
  const finish = (name) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    sock.close();
    if (name === null) {
      stats.failed++;
      if (stats.failures.length < 50) stats.failures.push(Date.now());
    } else {
      stats.ok++;
      stats.byName[name] = (stats.byName[name] ?? 0) + 1;
    }
  };
  const timer = setTimeout(() => finish(null), Number(timeout));
  sock.on('message', (msg) => {
    const [name, echoed] = msg.toString().split(' ');
    if (echoed === id) finish(name);
  });
  sock.on('error', () => finish(null));
  sock.send(id, Number(port), address);
}

let running = true;
const ticker = setInterval(() => {
  if (running) query();
}, Number(interval));
const saver = setInterval(save, 250);
process.on('SIGTERM', () => {
  running = false;
  clearInterval(ticker);
  // the last queries get their full timeout
  setTimeout(
    () => {
      clearInterval(saver);
      save();
      process.exit(0);
    },
    Number(timeout) + 50,
  );
});
save();
