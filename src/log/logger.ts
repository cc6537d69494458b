// The one logger of the three processes, and where its lines go, as keepalived's:
//   syslog    the /dev/log datagram socket, unless -G: glibc's local framing
//             (`<PRI>Dec  6 21:30:00 Keepalived_vrrp[123]: msg`), the facility from -S, each
//             level its priority, idents Keepalived / Keepalived_vrrp / Keepalived_healthcheckers.
//   console   -l: keepalived's console lines on stderr (`Sun Dec  6 21:30:00 2026: msg`).
//   stderr    neither -l nor --log-json, and syslog off or unreachable (a container, -G under
//             systemd): sd-daemon lines (`<3>msg`), so journald and `journalctl -p` still see
//             each line's priority.
//   json      --log-json (ours): pino's JSON lines on stdout, the call's fields nested under
//             `data` so they can never collide with pino's own keys (pid, msg, time, level).
// A call's fields print after the message on text lines (` key=value`), except `event`: it
// carries the structure of a line worded as keepalived's own, whose text must stay exactly
// keepalived's for the greps and alerts that match it; JSON lines keep it.
import { createRequire } from 'node:module';
import type pinoModule from 'pino';
import unixDgram, { type UnixDgramSocket } from 'unix-dgram';

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type LogFields = Record<string, unknown>;

export interface LogMethod {
  (msg: string): void;
  (fields: LogFields, msg: string): void;
}

/** What every module logs through (tests build one with `createLogger({ proc, write })`). */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  fatal: LogMethod;
  /** Lets a caller skip building what a disabled level would drop. */
  isLevelEnabled(level: Level): boolean;
}

/** A logger that holds a socket: closed when its process stops, or the event loop stays alive. */
export interface ProcessLogger extends Logger {
  close(): void;
}

export type ProcessRole = 'parent' | 'vrrp' | 'checker';

/** keepalived's syslog idents, which log filters, exporters and alerts select on. */
export const IDENTS: Record<ProcessRole, string> = {
  parent: 'Keepalived',
  vrrp: 'Keepalived_vrrp',
  checker: 'Keepalived_healthcheckers',
};

/** syslog(3) priorities. keepalived logs at LOG_INFO unless something is wrong. */
export const SEVERITY: Record<Level, number> = { debug: 7, info: 6, warn: 4, error: 3, fatal: 2 };
const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

export const DEFAULT_SYSLOG_PATH = '/dev/log';
const LOG_DAEMON = 3;

/** -S's value (0-7 = LOG_LOCAL0-7, `user`, `daemon`; null: daemon) as a facility number. */
export function facilityCode(option: string | null): number {
  if (option === null || option === 'daemon') return LOG_DAEMON;
  if (option === 'user') return 1;
  return 16 + Number(option);
}

export interface LogRecord {
  level: Level;
  time: Date;
  msg: string;
  fields: LogFields | undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const two = (n: number) => String(n).padStart(2, '0');
const clock = (t: Date) => `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
/** strftime's %e: the day of the month, space-padded. */
const dayOfMonth = (t: Date) => String(t.getDate()).padStart(2, ' ');

/** The message and its fields, as text lines show them. */
export function recordText(msg: string, fields: LogFields | undefined): string {
  if (!fields) return msg;
  let out = msg;
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'event' || v === undefined) continue;
    const s = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v);
    out += ` ${k}=${s !== '' && !/\s|"/.test(s) ? s : JSON.stringify(s)}`;
  }
  return out;
}

/** glibc's syslog() datagram for a local socket: no hostname, local time, `ident[pid]: `. */
export function syslogDatagram(facility: number, level: Level, time: Date, ident: string, pid: number, text: string): string {
  const stamp = `${MONTHS[time.getMonth()]} ${dayOfMonth(time)} ${clock(time)}`;
  return `<${facility * 8 + SEVERITY[level]}>${stamp} ${ident}[${pid}]: ${text}`;
}

/** keepalived's console line: strftime("%c") in the C locale, then the message. */
export function consoleLine(time: Date, text: string): string {
  const c = `${DAYS[time.getDay()]} ${MONTHS[time.getMonth()]} ${dayOfMonth(time)} ${clock(time)} ${time.getFullYear()}`;
  return `${c}: ${text}\n`;
}

/** sd-daemon(3)'s prefix: journald reads the priority from it on a service's stdout/stderr. */
export function journalLine(level: Level, text: string): string {
  return `<${SEVERITY[level]}>${text.replace(/\n/g, `\n<${SEVERITY[level]}>`)}\n`;
}

type Sink = (r: LogRecord) => void;

/** unix-dgram's (negative errno) codes for a syslog daemon that went away: ECONNREFUSED, ENOTCONN, ENOENT. */
const GONE = new Set([-111, -107, -2]);
/** unix-dgram's code for a send that found the socket full (EAGAIN): the datagram was not sent. */
const CONGESTED = 1;
/**
 * Lines held while the syslog daemon is behind. Its socket queues only
 * net.unix.max_dgram_qlen datagrams (10 by default), so a burst such as -d's config dump
 * overruns it; glibc's syslog(3), which keepalived uses, blocks instead and loses nothing.
 * We must not block the VRRP child, so the burst waits here, in order, and only a daemon
 * that stays away long enough to fill this loses lines (counted, and said once it drains).
 */
const HELD_MAX = 10_000;

/**
 * A datagram socket to syslog, connected once. A send that fails because the syslog daemon
 * went away (restarted, socket replaced) reconnects once, as glibc does; a send that finds
 * the socket full waits (HELD_MAX) until it can go.
 */
class SyslogSocket {
  private socket: UnixDgramSocket | null = null;
  private held: Buffer[] = [];
  private dropped = 0;

  constructor(
    private readonly path: string,
    private readonly droppedLine: (count: number) => string,
  ) {}

  /** True when the socket is (now) connected. */
  connect(): boolean {
    this.close();
    let ok = false;
    try {
      const s = unixDgram.createSocket('unix_dgram');
      s.on('error', () => undefined); // a failed connect or send is answered below, not thrown
      s.on('congestion', () => undefined);
      s.on('writable', () => this.flush());
      s.connect(this.path);
      ok = Boolean(s.connected);
      if (ok) this.socket = s;
      else s.close();
    } catch {
      ok = false;
    }
    return ok;
  }

  send(datagram: string): void {
    const buf = Buffer.from(datagram);
    if (this.held.length > 0) this.hold(buf);
    else if (!this.trySend(buf)) this.hold(buf);
  }

  /** False when the socket is full (the caller holds the datagram). */
  private trySend(buf: Buffer): boolean {
    const s = this.socket;
    if (!s) return true;
    let full = false;
    s.send(buf, (err) => {
      const code = (err as { code?: number } | undefined)?.code;
      if (code === CONGESTED) full = true;
      else if (code !== undefined && GONE.has(code) && this.connect()) this.socket?.send(buf, () => undefined);
    });
    return !full;
  }

  private hold(buf: Buffer): void {
    if (this.held.length < HELD_MAX) this.held.push(buf);
    else this.dropped++;
  }

  private flush(): void {
    while (this.held.length > 0) {
      if (!this.trySend(this.held[0]!)) return;
      this.held.shift();
    }
    if (this.dropped > 0) {
      const n = this.dropped;
      this.dropped = 0;
      this.send(this.droppedLine(n));
    }
  }

  /** Sends what the socket takes now of the held lines, then closes. */
  finish(): void {
    this.flush();
    this.close();
  }

  close(): void {
    try {
      this.socket?.close();
    } catch {
      /* already closed */
    }
    this.socket = null;
  }
}

export interface LoggerOptions {
  /** Which process: its syslog ident and JSON `ident`. */
  proc: ProcessRole;
  /** -D: debug lines too. */
  detail?: boolean;
  /** -l: keepalived's console lines on stderr. */
  console?: boolean;
  /** --log-json: pino's JSON lines on stdout. */
  json?: boolean;
  /** syslog (off when absent): the facility number (see facilityCode) and the socket path. */
  syslog?: { facility: number; path?: string };
  /**
   * sd-daemon lines on stderr when neither console nor json is on and syslog is off or
   * unreachable (-n without -l: a container, or -G under systemd).
   */
  stderrFallback?: boolean;
  /** Tests: JSON lines go to this function, and nowhere else. */
  write?: (line: string) => void;
  /** Tests: each record goes to this function, and nowhere else. */
  collect?: (r: LogRecord) => void;
}

class FanoutLogger implements ProcessLogger {
  readonly debug: LogMethod = (a: LogFields | string, b?: string) => this.emit('debug', a, b);
  readonly info: LogMethod = (a: LogFields | string, b?: string) => this.emit('info', a, b);
  readonly warn: LogMethod = (a: LogFields | string, b?: string) => this.emit('warn', a, b);
  readonly error: LogMethod = (a: LogFields | string, b?: string) => this.emit('error', a, b);
  readonly fatal: LogMethod = (a: LogFields | string, b?: string) => this.emit('fatal', a, b);

  constructor(
    private readonly minimum: Level,
    private readonly sinks: Sink[],
    private readonly onClose: () => void,
  ) {}

  isLevelEnabled(level: Level): boolean {
    return RANK[level] >= RANK[this.minimum];
  }

  close(): void {
    this.onClose();
  }

  private emit(level: Level, a: LogFields | string, b: string | undefined): void {
    if (RANK[level] < RANK[this.minimum]) return;
    const r: LogRecord = typeof a === 'string' ? { level, time: new Date(), msg: a, fields: undefined } : { level, time: new Date(), msg: b ?? '', fields: a };
    for (const sink of this.sinks) sink(r);
  }
}

/**
 * pino and the modules it requires are loaded on the first JSON sink, not with this module:
 * without --log-json (and outside tests) no process uses them, and loading them cost every
 * process's start-up CPU and resident code.
 */
const loadPino = (): typeof pinoModule => createRequire(import.meta.url)('pino') as typeof pinoModule;

function jsonSink(proc: ProcessRole, write: (line: string) => void): Sink {
  const pino = loadPino();
  const p = pino({ level: 'debug', base: { pid: process.pid, ident: IDENTS[proc] }, nestedKey: 'data', timestamp: pino.stdTimeFunctions.epochTime }, { write });
  return (r) => (r.fields ? p[r.level](r.fields, r.msg) : p[r.level](r.msg));
}

export function createLogger(opts: LoggerOptions): ProcessLogger {
  const minimum: Level = opts.detail ? 'debug' : 'info';
  if (opts.collect) return new FanoutLogger(minimum, [opts.collect], () => undefined);
  if (opts.write) return new FanoutLogger(minimum, [jsonSink(opts.proc, opts.write)], () => undefined);
  const sinks: Sink[] = [];
  const ident = IDENTS[opts.proc];
  let syslog: SyslogSocket | null = null;
  if (opts.syslog) {
    const { facility } = opts.syslog;
    const socket = new SyslogSocket(opts.syslog.path ?? DEFAULT_SYSLOG_PATH, (n) =>
      syslogDatagram(facility, 'warn', new Date(), ident, process.pid, `${n} log lines were dropped: the syslog daemon did not take them`),
    );
    if (socket.connect()) {
      syslog = socket;
      sinks.push((r) => socket.send(syslogDatagram(facility, r.level, r.time, ident, process.pid, recordText(r.msg, r.fields))));
    }
  }
  if (opts.console) sinks.push((r) => process.stderr.write(consoleLine(r.time, recordText(r.msg, r.fields))));
  if (opts.json) sinks.push(jsonSink(opts.proc, (line) => process.stdout.write(line)));
  if (!opts.console && !opts.json && !syslog && opts.stderrFallback) {
    sinks.push((r) => process.stderr.write(journalLine(r.level, recordText(r.msg, r.fields))));
  }
  return new FanoutLogger(minimum, sinks, () => syslog?.finish());
}

/** The logging options of keepalived's command line (and our --log-json), as each process gets them. */
export interface LogCliOptions {
  logConsole: boolean;
  logDetail: boolean;
  logJson: boolean;
  noSyslog: boolean;
  logFacility: string | null;
}

/** The logger a daemon process runs with, from the command line it was given. */
export function processLogger(proc: ProcessRole, o: LogCliOptions): ProcessLogger {
  return createLogger({
    proc,
    detail: o.logDetail,
    console: o.logConsole,
    json: o.logJson,
    stderrFallback: true,
    ...(o.noSyslog ? {} : { syslog: { facility: facilityCode(o.logFacility) } }),
  });
}
