import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import unixDgram from 'unix-dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { consoleLine, createLogger, facilityCode, journalLine, recordText, syslogDatagram, type LogRecord } from './logger.js';

// 2026-12-06 (a Sunday) 09:05:03 local time: single-digit day and hour show the padding rules
const t = new Date(2026, 11, 6, 9, 5, 3);

describe('line formats', () => {
  it("syslog datagrams are glibc syslog()'s for a local socket: PRI, local time, ident[pid], no hostname", () => {
    expect(syslogDatagram(3, 'info', t, 'Keepalived_vrrp', 4242, '(VI_1) Entering MASTER STATE')).toBe(
      '<30>Dec  6 09:05:03 Keepalived_vrrp[4242]: (VI_1) Entering MASTER STATE',
    );
    // -S 0 = LOG_LOCAL0 (16); error = LOG_ERR (3), warning 4, debug 7, fatal LOG_CRIT (2)
    expect(syslogDatagram(facilityCode('0'), 'error', t, 'Keepalived', 1, 'x')).toMatch(/^<131>/);
    expect(syslogDatagram(facilityCode(null), 'warn', t, 'Keepalived', 1, 'x')).toMatch(/^<28>/);
    expect(syslogDatagram(facilityCode('user'), 'debug', t, 'Keepalived', 1, 'x')).toMatch(/^<15>/);
    expect(syslogDatagram(facilityCode('daemon'), 'fatal', t, 'Keepalived', 1, 'x')).toMatch(/^<26>/);
  });

  it("console lines are keepalived's: strftime %c in the C locale, then the message", () => {
    expect(consoleLine(t, '(VI_1) Entering BACKUP STATE')).toBe('Sun Dec  6 09:05:03 2026: (VI_1) Entering BACKUP STATE\n');
  });

  it('stderr fallback lines carry sd-daemon priority prefixes, on every line of a multi-line message', () => {
    expect(journalLine('error', 'a\nb')).toBe('<3>a\n<3>b\n');
    expect(journalLine('info', 'ok')).toBe('<6>ok\n');
  });

  it("fields follow the message; `event` (a keepalived-worded line's structure) does not", () => {
    expect(recordText('child started', { role: 'vrrp', pid: 12, note: 'two words', err: new Error('boom') })).toBe(
      'child started role=vrrp pid=12 note="two words" err=boom',
    );
    expect(recordText('(VI_1) Entering MASTER STATE', { event: { instance: 'VI_1', state: 'MASTER' } })).toBe('(VI_1) Entering MASTER STATE');
  });
});

describe('createLogger', () => {
  it("JSON lines nest the call's fields under `data`: no key of pino's can be duplicated", () => {
    const lines: string[] = [];
    const log = createLogger({ proc: 'vrrp', write: (l) => lines.push(l) });
    log.info({ pid: 1, msg: 'inner', level: 'x', time: 0 }, 'child started');
    const text = lines[0]!;
    const o = JSON.parse(text) as Record<string, unknown>;
    expect(o).toMatchObject({
      level: 30,
      pid: process.pid,
      ident: 'Keepalived_vrrp',
      msg: 'child started',
      data: { pid: 1, msg: 'inner', level: 'x', time: 0 },
    });
    // JSON.parse keeps the last of duplicate keys: count them in the text itself
    for (const key of ['pid', 'msg', 'level', 'time', 'ident']) expect(text.split(`"${key}":`).length - 1, key).toBe(key === 'ident' ? 1 : 2);
    expect(text.indexOf('"data":')).toBeLessThan(text.lastIndexOf('"pid":'));
  });

  it('debug lines appear only with -D', () => {
    const quiet: LogRecord[] = [];
    createLogger({ proc: 'parent', collect: (r) => quiet.push(r) }).debug('hidden');
    const loud: LogRecord[] = [];
    const log = createLogger({ proc: 'parent', detail: true, collect: (r) => loud.push(r) });
    log.debug('shown');
    expect(quiet).toEqual([]);
    expect(loud.map((r) => r.msg)).toEqual(['shown']);
    expect(log.isLevelEnabled('debug')).toBe(true);
  });

  describe('syslog', () => {
    let dir = '';
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('sends each line as one datagram with the ident, pid and priority, and stops on close', async () => {
      dir = mkdtempSync(join(tmpdir(), 'kts-log-'));
      const path = join(dir, 'log');
      const got: string[] = [];
      const listener = unixDgram.createSocket('unix_dgram', (m) => got.push(m.toString()));
      listener.bind(path);
      try {
        const log = createLogger({ proc: 'checker', syslog: { facility: facilityCode('3'), path } });
        log.error({ file: '/etc/keepalived/keepalived.conf' }, 'configuration has errors');
        log.info('Removing service [10.0.0.2]:tcp:80 from VS [10.0.0.1]:tcp:80');
        log.close();
        for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
        expect(got).toHaveLength(2);
        expect(got[0]).toMatch(
          new RegExp(
            `^<155>\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d Keepalived_healthcheckers\\[${process.pid}\\]: configuration has errors file=/etc/keepalived/keepalived.conf$`,
          ),
        );
        expect(got[1]).toMatch(/^<158>.* Keepalived_healthcheckers\[\d+\]: Removing service \[10\.0\.0\.2\]:tcp:80 from VS \[10\.0\.0\.1\]:tcp:80$/);
      } finally {
        listener.close();
      }
    });

    it('a burst larger than the socket queue (net.unix.max_dgram_qlen) waits and arrives whole, in order', async () => {
      dir = mkdtempSync(join(tmpdir(), 'kts-log-'));
      const path = join(dir, 'log');
      const got: string[] = [];
      const listener = unixDgram.createSocket('unix_dgram', (m) => got.push(m.toString()));
      listener.bind(path);
      try {
        const log = createLogger({ proc: 'vrrp', syslog: { facility: 3, path } });
        // sent in one turn: the listener in this process cannot read until the turn ends
        for (let i = 0; i < 300; i++) log.info(`line ${i}`);
        for (let i = 0; i < 300 && got.length < 300; i++) await new Promise((r) => setTimeout(r, 10));
        log.close();
        expect(got.map((d) => d.replace(/^.*: /, ''))).toEqual(Array.from({ length: 300 }, (_, i) => `line ${i}`));
      } finally {
        listener.close();
      }
    });

    it('without a syslog socket, -n without -l falls back to sd-daemon lines on stderr', () => {
      dir = mkdtempSync(join(tmpdir(), 'kts-log-'));
      const written: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = (chunk: string) => written.push(chunk) > 0;
      try {
        const log = createLogger({ proc: 'vrrp', syslog: { facility: 3, path: join(dir, 'absent') }, stderrFallback: true });
        log.error('VRRP socket error');
        log.close();
      } finally {
        process.stderr.write = write;
      }
      expect(written).toEqual(['<3>VRRP socket error\n']);
    });
  });
});
