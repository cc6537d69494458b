// One logger factory for the parent and both children (pino).
// Default: JSON lines on stdout, what journald and container log drivers want.
// `-l` / --log-console: readable lines ("Nov 22 04:30:01 keepalived-ts[12]: VRRP: msg k=v")
// for a person at a terminal. `-D` / --log-detail: debug level.
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Which process: 'parent' | 'vrrp' | 'checker' (a `proc` field on every line). */
  proc: string;
  readable?: boolean;
  detail?: boolean;
  /** Where lines go; default stdout. Tests pass a collector. */
  write?: (line: string) => void;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: '', 40: 'WARNING', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'proc', 'msg']);

/** Turns one pino JSON line into the readable form. Exported for tests. */
export function formatReadable(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const d = new Date(typeof o.time === 'number' ? o.time : Date.now());
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${MONTHS[d.getMonth()]} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const level = LEVELS[o.level as number] ?? '';
  const fields = Object.entries(o)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  const proc = o.proc && o.proc !== 'parent' ? `${String(o.proc).toUpperCase()}: ` : '';
  const parts = [`${stamp} keepalived-ts[${o.pid}]: ${proc}${level ? level + ': ' : ''}${o.msg ?? ''}`, ...fields];
  return parts.join(' ');
}

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const stream = {
    write: opts.readable ? (s: string) => write(formatReadable(s) + '\n') : (s: string) => write(s),
  };
  return pino(
    { level: opts.detail ? 'debug' : 'info', base: { pid: process.pid, proc: opts.proc }, timestamp: pino.stdTimeFunctions.epochTime },
    stream,
  );
}
