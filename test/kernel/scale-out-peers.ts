/**
 * The two ends of the scale-out data path test, one node process each (in the TCG guest a
 * process per connection would starve the daemons):
 *
 *   node scale-out-peers.js echo NAME PORT [PORT...]
 *     a real server: answers each line with `NAME line`, so the client sees which server
 *     holds its connection;
 *   node scale-out-peers.js client ADDRESS PORT OUT.json LONG SHORT_MS
 *     LONG connections kept open, each sending a line every 300 ms; one more short connection
 *     (connect, one line, answer within 6 s, close) every SHORT_MS. A long connection is broken when it
 *     errors, closes, leaves a line unanswered for 30 s, or is answered by another real server
 *     than at first. OUT.json (the counts, and each long connection's client port, first real
 *     server, and when and why it broke) is rewritten every 500 ms and at SIGTERM, then the
 *     client exits.
 *
 * Deadlines are judged in setImmediate, after the loop has read its sockets: the TCG guest
 * can stall this process for seconds, and an answer waiting in a socket is not a lost one.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';

const [mode, ...args] = process.argv.slice(2);
const arg = (i: number): string => {
  const a = args[i];
  if (a === undefined) throw new Error(`${mode}: argument ${i + 1} is missing`);
  return a;
};

function echo(name: string, ports: number[]): void {
  for (const port of ports) {
    createServer((s) => {
      s.setEncoding('utf8');
      let buf = '';
      s.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          s.write(`${name} ${buf.slice(0, i)}\n`);
          buf = buf.slice(i + 1);
        }
      });
      s.on('error', () => s.destroy());
    }).listen(port, '0.0.0.0');
  }
}

interface Long {
  /** The client's source port: which director and real server hold it is read from their tables by it. */
  port: number | null;
  server: string | null;
  openedAt: string | null;
  brokenAt: string | null;
  sent: number;
  answered: number;
  unansweredSince: number | null;
  broken: string | null;
}

function client(address: string, port: number, out: string, longCount: number, shortMs: number): void {
  const stats = {
    long: { open: 0, broken: 0, reasons: [] as string[], byServer: {} as Record<string, number>, conns: [] as Long[] },
    short: { ok: 0, failed: 0, reasons: [] as string[] },
  };
  const breakIt = (l: Long, why: string, s: Socket) => {
    if (l.broken) return;
    l.broken = why;
    l.brokenAt = new Date().toISOString();
    stats.long.broken++;
    if (stats.long.reasons.length < 20) stats.long.reasons.push(`${new Date().toISOString()} ${why}`);
    s.destroy();
  };
  const openLong = () => {
    const l: Long = { port: null, server: null, openedAt: null, brokenAt: null, sent: 0, answered: 0, unansweredSince: null, broken: null };
    stats.long.conns.push(l);
    const s = createConnection({ host: address, port });
    s.setEncoding('utf8');
    s.setNoDelay(true);
    let buf = '';
    s.on('connect', () => {
      l.port = s.localPort ?? null;
      l.openedAt = new Date().toISOString();
      stats.long.open++;
    });
    s.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const server = buf.slice(0, i).split(' ')[0]!; // split always yields at least one element
        buf = buf.slice(i + 1);
        if (++l.answered >= l.sent) l.unansweredSince = null;
        if (l.server === null) {
          l.server = server;
          stats.long.byServer[server] = (stats.long.byServer[server] ?? 0) + 1;
        } else if (l.server !== server) breakIt(l, `answered by ${server} after ${l.server}`, s);
      }
    });
    s.on('error', (e) => breakIt(l, e.message, s));
    s.on('close', () => breakIt(l, 'closed', s));
    const tick = setInterval(() => {
      if (l.broken || !running) return clearInterval(tick);
      s.write(`ping ${++l.sent}\n`);
      l.unansweredSince ??= Date.now();
      setImmediate(() => {
        if (l.unansweredSince !== null && Date.now() - l.unansweredSince > 30_000) breakIt(l, 'a line unanswered for 30 s', s);
      });
    }, 300);
  };
  const short = () => {
    const s = createConnection({ host: address, port });
    s.setEncoding('utf8');
    const fail = (why: string) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      stats.short.failed++;
      if (stats.short.reasons.length < 20) stats.short.reasons.push(`${new Date().toISOString()} ${why}`);
      s.destroy();
    };
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (!answered) fail('no answer in 6 s');
        }),
      6000,
    );
    let answered = false;
    s.on('connect', () => s.write('hello\n'));
    s.on('data', () => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      stats.short.ok++;
      s.removeAllListeners('error');
      s.on('error', () => {});
      s.end();
    });
    s.on('error', (e) => fail(e.message));
  };
  let running = true;
  for (let i = 0; i < longCount; i++) openLong();
  const shorts = shortMs > 0 ? setInterval(short, shortMs) : null;
  const save = () => writeFileSync(out, JSON.stringify(stats));
  const saver = setInterval(save, 500);
  process.on('SIGTERM', () => {
    running = false;
    if (shorts) clearInterval(shorts);
    clearInterval(saver);
    save();
    process.exit(0);
  });
  save();
}

if (mode === 'echo') echo(arg(0), args.slice(1).map(Number));
else if (mode === 'client') client(arg(0), Number(arg(1)), arg(2), Number(arg(3)), Number(arg(4)));
else {
  console.error('usage: scale-out-peers.js echo NAME PORT... | client ADDRESS PORT OUT.json LONG SHORT_MS');
  process.exit(2);
}
