import { describe, expect, it } from 'vitest';
import { createLogger, formatReadable } from './logger.js';

describe('logger', () => {
  it('writes JSON lines with the process role by default', () => {
    const lines: string[] = [];
    const log = createLogger({ proc: 'vrrp', write: (l) => lines.push(l) });
    log.info({ instance: 'VI_1', state: 'MASTER' }, 'entering state');
    const o = JSON.parse(lines[0]);
    expect(o).toMatchObject({ level: 30, proc: 'vrrp', instance: 'VI_1', state: 'MASTER', msg: 'entering state' });
  });

  it('-l gives readable lines with fields after the message', () => {
    const lines: string[] = [];
    const log = createLogger({ proc: 'vrrp', readable: true, write: (l) => lines.push(l) });
    log.warn({ instance: 'VI_1', note: 'two words' }, 'priority changed');
    expect(lines[0]).toMatch(/^\w{3} \d\d \d\d:\d\d:\d\d keepalived-ts\[\d+\]: VRRP: WARNING: priority changed instance=VI_1 note="two words"\n$/);
  });

  it('debug lines appear only with -D', () => {
    const quiet: string[] = [];
    createLogger({ proc: 'parent', write: (l) => quiet.push(l) }).debug('hidden');
    const loud: string[] = [];
    createLogger({ proc: 'parent', detail: true, write: (l) => loud.push(l) }).debug('shown');
    expect(quiet).toEqual([]);
    expect(JSON.parse(loud[0]).msg).toBe('shown');
  });

  it('passes a non-JSON line through unchanged', () => {
    expect(formatReadable('plain text\n')).toBe('plain text');
  });
});
