// The client of the restart test: every INTERVAL ms a new TCP connection to HOST:PORT sends
// one line and waits for the answer (TIMEOUT ms). One JSON line per attempt on stdout:
// { n, at, ms, ok, by, err } (`by` = which router answered). Runs until killed.
// node tcp-probe.mjs HOST PORT INTERVAL TIMEOUT
import { connect } from 'node:net';

const [host, port, interval, timeout] = process.argv.slice(2);
let n = 0;
function attempt() {
  const id = ++n;
  const at = Date.now();
  let done = false;
  const finish = (ok, by, err) => {
    if (done) return;
    done = true;
    s.destroy();
    process.stdout.write(`${JSON.stringify({ n: id, at, ms: Date.now() - at, ok, by, err })}\n`);
  };
  const s = connect({ host, port: Number(port) });
  s.setEncoding('utf8');
  s.setTimeout(Number(timeout), () => finish(false, null, 'timeout'));
  s.on('connect', () => s.write(`ping ${id}\n`));
  s.on('data', (d) => finish(d.endsWith(`ping ${id}\n`), d.split(' ')[0], null));
  s.on('error', (e) => finish(false, null, e.code ?? e.message));
}
setInterval(attempt, Number(interval));
