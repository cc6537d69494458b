import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lockableRanges } from './process-knobs.js';

// a Node process's /proc/self/maps, trimmed: malloc's heap, V8 pages, V8's code range (an
// rwx run inside reserved space), the node binary's mappings, a thread stack, the vdso
const MAPS = `0565d000-05689000 rw-p 00000000 00:00 0
19545000-19808000 rw-p 00000000 00:00 0                                  [heap]
51ebfb80000-51ebfbb8000 rw-p 00000000 00:00 0
7f25e0002000-7f25e0003000 ---p 00000000 00:00 0
7f25e0003000-7f25e003f000 rwxp 00000000 00:00 0
7f2607000000-7f2607100000 r--p 00000000 08:01 1234                       /usr/bin/node
7f2607100000-7f2607400000 r-xp 00100000 08:01 1234                       /usr/bin/node
7f2607400000-7f2607410000 rw-p 00400000 08:01 1234                       /usr/bin/node
7f2607500000-7f2607600000 r-xp 00000000 08:01 99                         /usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)
7f260673e000-7f2606f3e000 rw-p 00000000 00:00 0
7f26074e7000-7f26074e9000 r-xp 00000000 00:00 0                          [vdso]
7ffec9416000-7ffec9437000 rw-p 00000000 00:00 0                          [stack]
`;

describe('lockableRanges', () => {
  it("the program files (neighbours merged), malloc's heap and the main stack; nothing of V8's own, nor the vdso", () => {
    expect(lockableRanges(MAPS)).toEqual([
      { start: 0x19545000, end: 0x19808000 },
      { start: 0x7f2607000000, end: 0x7f2607410000 },
      { start: 0x7f2607500000, end: 0x7f2607600000 },
      { start: 0x7ffec9416000, end: 0x7ffec9437000 },
    ]);
  });
});

/**
 * Runs `body` (ESM, with `n` = the built process-knobs module) in a fresh node process, with
 * the VRRP child's V8 flags; its last stdout line as JSON.
 */
function inChild(body: string): unknown {
  const built = new URL('../../dist/src/native/process-knobs.js', import.meta.url);
  if (!existsSync(built)) throw new Error('run `npm run build` first (npm test does)');
  const script = `const n = await import(${JSON.stringify(built.href)}); ${body}`;
  const flags = ['--max-semi-space-size=1', '--single-threaded'];
  const out = execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

const root = process.getuid?.() === 0;

describe.skipIf(!root)('the system calls, in a child process (root)', () => {
  it('lockMemory: VmLck counts what it locked; compiled code and garbage come and go, a worker thread starts and ends, and the process exits cleanly while locked', () => {
    const r = inChild(`
      const fs = await import('node:fs');
      const lck = () => Number(/VmLck:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
      const before = lck();
      const bytes = n.lockMemory();
      const locked = lck();
      for (let k = 0; k < 300; k++) { const f = new Function('x', 'return x * ' + k); for (let j = 0; j < 3000; j++) f(j); }
      let junk = []; for (let i = 0; i < 200000; i++) junk.push({ i }); junk = null;
      const { Worker } = await import('node:worker_threads');
      await new Promise((res) => new Worker('for (let k = 0; k < 50; k++) new Function("x", "return x+" + k)(1)', { eval: true }).once('exit', res));
      n.unlockMemory();
      const after = lck();
      n.lockMemory(); // and the process ends locked: V8 tears its heap down on the way out
      console.log(JSON.stringify({ before, bytes, locked, after }));`) as { before: number; bytes: number; locked: number; after: number };
    expect(r.before).toBe(0);
    expect(r.locked).toBeGreaterThan(10_000); // kB: node's own file is ~100 MB of mappings
    expect(r.locked).toBe(r.bytes / 1024);
    expect(r.after).toBe(0);
  });

  it('scheduling, nice, affinity and RLIMIT_RTTIME round-trip through the kernel', () => {
    const r = inChild(`
      const fs = await import('node:fs');
      const policy = () => Number(/^policy\\s*:\\s*(\\d+)/m.exec(fs.readFileSync('/proc/self/sched', 'utf8'))[1]);
      n.setRealtimeTimeLimit(50000, 100000);
      n.setRealtimePriority(0, 7);
      const rr = policy();
      n.setRealtimePriority(0, 0);
      const other = policy();
      const tids = n.threadIds();
      n.setNiceness(tids[1], 5);
      n.setCpuAffinity(0, [0]);
      console.log(JSON.stringify({ rr, other, first: tids[0], pid: process.pid, nice: n.getNiceness(tids[1]), loopNice: n.getNiceness(0),
        cpus: n.getCpuAffinity(0), limit: n.getRealtimeTimeLimit(), range: n.realtimePriorityRange() }));`) as Record<string, unknown>;
    expect(r).toMatchObject({ rr: 2, other: 0, nice: 5, loopNice: 0, cpus: [0], limit: { softUs: 50000, hardUs: 100000 }, range: { min: 1, max: 99 } });
    expect(r.first).toBe(r.pid);
  });

  it('a refusal is an Error with the errno name', () => {
    const r = inChild(`
      try { n.setCpuAffinity(0, [1000]); console.log(JSON.stringify({ threw: false })); }
      catch (e) { console.log(JSON.stringify({ threw: true, code: e.code })); }`);
    expect(r).toEqual({ threw: true, code: 'EINVAL' });
  });
});
