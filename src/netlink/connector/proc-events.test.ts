import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  CN_IDX_PROC,
  CN_VAL_PROC,
  PROC_CN_MCAST_LISTEN,
  PROC_EVENT_COMM,
  PROC_EVENT_EXEC,
  PROC_EVENT_EXIT,
  PROC_EVENT_FORK,
  PROC_EVENT_NONE,
  ProcEventSubscription,
  decodeProcEvent,
  encodeListenRequest,
} from './proc-events.js';

/** A connector message payload as the kernel lays it out (little-endian host). */
function eventPayload(what: number, data: number[], tail: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(36 + data.length * 4);
  b.writeUInt32LE(CN_IDX_PROC, 0);
  b.writeUInt32LE(CN_VAL_PROC, 4);
  b.writeUInt32LE(what, 20);
  data.forEach((v, i) => b.writeUInt32LE(v, 36 + 4 * i));
  return Buffer.concat([b, tail]);
}

describe('process event codec', () => {
  it('asks for LISTEN on the proc connector', () => {
    const b = encodeListenRequest(true);
    expect(b.readUInt32LE(0)).toBe(CN_IDX_PROC);
    expect(b.readUInt32LE(4)).toBe(CN_VAL_PROC);
    expect(b.readUInt16LE(16)).toBe(4);
    expect(b.readUInt32LE(20)).toBe(PROC_CN_MCAST_LISTEN);
  });

  it('decodes fork, exec, comm, exit and the acknowledgement', () => {
    expect(decodeProcEvent(eventPayload(PROC_EVENT_NONE, [0]))).toEqual({ kind: 'listening', errno: 0 });
    expect(decodeProcEvent(eventPayload(PROC_EVENT_FORK, [10, 10, 11, 11]))).toEqual({ kind: 'fork', parentTgid: 10, childPid: 11, childTgid: 11 });
    expect(decodeProcEvent(eventPayload(PROC_EVENT_EXEC, [12, 12]))).toEqual({ kind: 'exec', pid: 12, tgid: 12 });
    const comm = Buffer.alloc(16);
    comm.write('worker');
    expect(decodeProcEvent(eventPayload(PROC_EVENT_COMM, [13, 12], comm))).toEqual({ kind: 'comm', pid: 13, tgid: 12, comm: 'worker' });
    expect(decodeProcEvent(eventPayload(PROC_EVENT_EXIT, [12, 12, 0, 17]))).toEqual({ kind: 'exit', pid: 12, tgid: 12 });
  });

  it('ignores other connectors, other events and short messages', () => {
    const other = eventPayload(PROC_EVENT_EXEC, [1, 1]);
    other.writeUInt32LE(7, 0);
    expect(decodeProcEvent(other)).toBeNull();
    expect(decodeProcEvent(eventPayload(0x4 /* uid */, [1, 1, 0, 0]))).toBeNull();
    expect(decodeProcEvent(eventPayload(PROC_EVENT_FORK, [1, 1]))).toBeNull();
    expect(decodeProcEvent(Buffer.alloc(8))).toBeNull();
  });
});

describe('process events from this kernel', () => {
  it('reports the exec and the exit of a process we start', async (ctx) => {
    let sub: ProcEventSubscription;
    try {
      sub = await ProcEventSubscription.open();
    } catch (err) {
      // the connector lives in the initial network namespace of a kernel with CONFIG_PROC_EVENTS, for root
      console.log(`skipped: proc connector unavailable here: ${(err as Error).message}`);
      ctx.skip();
      return;
    }
    try {
      const seen: string[] = [];
      let pid = -1;
      const exited = new Promise<void>((resolve) => {
        sub.on((ev) => {
          if ((ev.kind === 'exec' || ev.kind === 'exit') && ev.tgid === pid) {
            seen.push(ev.kind);
            if (ev.kind === 'exit') resolve();
          }
        });
      });
      const child = spawn('sleep', ['0.2'], { stdio: 'ignore' });
      pid = child.pid!;
      await exited;
      expect(seen).toEqual(['exec', 'exit']);
    } finally {
      sub.close();
    }
  });
});
