// The vrrp_notify_fifo (notify scripts themselves run through src/script/).
import { closeSync, constants as fsc, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { Logger } from '../log/logger.js';

/** The line keepalived writes to the notify FIFO for an instance or a sync group. */
export function fifoLine(kind: 'INSTANCE' | 'GROUP', name: string, state: string, priority?: number): string {
  return kind === 'INSTANCE' ? `INSTANCE "${name}" ${state} ${priority ?? 0}\n` : `GROUP "${name}" ${state}\n`;
}

/**
 * vrrp_notify_fifo: created if missing, opened read-write and non-blocking so a missing
 * reader never blocks VRRP (lines are dropped while nobody reads and the pipe is full).
 */
export class NotifyFifo {
  private fd: number | null = null;

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {
    if (!existsSync(path)) execFileSync('mkfifo', ['-m', '0600', path]);
    if (!statSync(path).isFIFO()) throw new Error(`vrrp_notify_fifo ${path} exists and is not a FIFO`);
    this.fd = openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK);
  }

  write(line: string): void {
    if (this.fd === null) return;
    try {
      writeSync(this.fd, line);
    } catch (err) {
      this.log.warn({ fifo: this.path }, `notify fifo write dropped: ${(err as Error).message}`);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
