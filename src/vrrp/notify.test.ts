import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync, closeSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../log/logger.js';
import { fifoLine, NotifyFifo } from './notify.js';

const dir = mkdtempSync('/tmp/kt-vr-notify-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ proc: 'vrrp', write: () => undefined });

describe('notify FIFO', () => {
  it('keepalived line formats', () => {
    expect(fifoLine('INSTANCE', 'VI_1', 'MASTER', 150)).toBe('INSTANCE "VI_1" MASTER 150\n');
    expect(fifoLine('GROUP', 'G1', 'BACKUP')).toBe('GROUP "G1" BACKUP\n');
  });

  it('creates the FIFO, never blocks without a reader, and a reader gets the lines', () => {
    const path = join(dir, 'fifo');
    const f = new NotifyFifo(path, log);
    expect(statSync(path).isFIFO()).toBe(true);
    f.write(fifoLine('INSTANCE', 'VI_1', 'BACKUP', 100)); // nobody reading: must not block
    const fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
    f.write(fifoLine('INSTANCE', 'VI_1', 'MASTER', 100));
    const buf = Buffer.alloc(200);
    const n = readSync(fd, buf);
    closeSync(fd);
    f.close();
    expect(buf.subarray(0, n).toString()).toBe('INSTANCE "VI_1" BACKUP 100\nINSTANCE "VI_1" MASTER 100\n');
  });

  it('refuses a path that is a regular file', () => {
    const path = join(dir, 'plain');
    writeFileSync(path, '');
    expect(() => new NotifyFifo(path, log)).toThrow(/not a FIFO/);
  });
});
