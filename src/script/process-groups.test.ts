import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { groupMembers } from '../../test/helpers/proc.js';
import { ProcessGroups } from './process-groups.js';

const dir = mkdtempSync('/tmp/kt-script-pg-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = { uid: 0, gid: 0 };

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sh = (body: string) => ({ program: '/bin/sh', args: ['-c', body], ids: root });
const pidIn = (f: string) => Number(readFileSync(f, 'utf8'));

describe('one run', () => {
  it('reports the exit code, a signal, or a spawn failure', async () => {
    const groups = new ProcessGroups();
    expect(await groups.run({ ...sh('exit 3'), timeoutMs: 5000 })).toEqual({ how: 'exit', code: 3 });
    expect(await groups.run({ ...sh('kill -USR1 $$'), timeoutMs: 5000 })).toEqual({ how: 'signal', signal: 'SIGUSR1' });
    expect(await groups.run({ program: join(dir, 'none'), args: [], ids: root, timeoutMs: 5000 })).toEqual({ how: 'spawn-failed', error: 'ENOENT' });
    expect(groups.live).toEqual([]);
  });

  it('runs as the uid:gid it is given, in a process group of its own', async () => {
    const out = join(dir, 'ids');
    chmodSync(dir, 0o755);
    writeFileSync(out, '', { mode: 0o666 });
    chmodSync(out, 0o666);
    const groups = new ProcessGroups();
    const r = await groups.run({
      program: '/bin/sh',
      args: ['-c', `echo "$(id -u) $(id -g) $(id -G) $$ $(cut -d' ' -f5 /proc/$$/stat)" > ${out}`],
      ids: { uid: 65534, gid: 65534 },
      timeoutMs: 5000,
    });
    expect(r).toEqual({ how: 'exit', code: 0 });
    const [uid, gid, groupsList, pid, pgid] = readFileSync(out, 'utf8').trim().split(/\s+/);
    expect([uid, gid, groupsList]).toEqual(['65534', '65534', '65534']);
    expect(pgid).toBe(pid);
  });

  it('`</path` runs through the shell: a file test', async () => {
    const groups = new ProcessGroups();
    expect(await groups.run({ program: '</etc/passwd', args: [], ids: root, shell: true, timeoutMs: 5000 })).toEqual({ how: 'exit', code: 0 });
    expect((await groups.run({ program: `<${dir}/nothing`, args: [], ids: root, shell: true, timeoutMs: 5000 })).how).toBe('exit');
    expect(await groups.run({ program: `<${dir}/nothing`, args: [], ids: root, shell: true, timeoutMs: 5000 })).not.toEqual({ how: 'exit', code: 0 });
  });
});

describe('the group is bounded by the deadline', () => {
  it('a timeout ends the run and the whole group, SIGKILL for what ignores SIGTERM', async () => {
    const pidFile = join(dir, 'stubborn.pid');
    const groups = new ProcessGroups({ killGraceMs: 200 });
    const r = await groups.run({ ...sh(`trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait`), timeoutMs: 300 });
    expect(r).toEqual({ how: 'timeout', ms: 300 });
    const pgid = groups.live[0]!;
    expect(groupMembers(pgid).length).toBeGreaterThan(0); // still there: TERM is ignored
    await until(() => groupMembers(pgid).length === 0 && groups.live.length === 0, 5000, 'group killed');
    expect(existsSync(`/proc/${pidIn(pidFile)}`) && groupMembers(pgid).includes(pidIn(pidFile))).toBe(false);
  });

  it('what a script leaves behind after exiting is ended at its deadline', async () => {
    const pidFile = join(dir, 'left.pid');
    const groups = new ProcessGroups({ killGraceMs: 200 });
    const r = await groups.run({ ...sh(`sleep 30 & echo $! > ${pidFile}; exit 0`), timeoutMs: 400 });
    expect(r).toEqual({ how: 'exit', code: 0 });
    const [pgid] = groups.live;
    expect(groupMembers(pgid!)).toEqual([pidIn(pidFile)]);
    await until(() => groupMembers(pgid!).length === 0, 5000, 'left-behind child ended');
    await until(() => groups.live.length === 0, 2000, 'group forgotten');
  });

  it('a script that leaves nothing behind is forgotten at once', async () => {
    const groups = new ProcessGroups();
    await groups.run({ ...sh('exit 0'), timeoutMs: 60_000 });
    expect(groups.live).toEqual([]);
  });

  it('aborting a run ends its group at once', async () => {
    const pidFile = join(dir, 'aborted.pid');
    const groups = new ProcessGroups();
    const ac = new AbortController();
    const run = groups.run({ ...sh(`sleep 30 & echo $! > ${pidFile}; wait`), timeoutMs: 60_000, signal: ac.signal });
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 5000, 'started');
    const pgid = groups.live[0]!;
    ac.abort();
    expect(await run).toEqual({ how: 'aborted' });
    await until(() => groupMembers(pgid).length === 0, 5000, 'aborted group ended');
  });
});

describe('stop', () => {
  it('ends every group, running or left behind, and resolves once they are gone', async () => {
    const groups = new ProcessGroups();
    const a = join(dir, 'a.pid');
    const b = join(dir, 'b.pid');
    const running = groups.run({ ...sh(`trap '' TERM; sleep 30 & echo $! > ${a}; wait`), timeoutMs: 60_000 });
    await groups.run({ ...sh(`sleep 30 & echo $! > ${b}; exit 0`), timeoutMs: 60_000 });
    await until(() => existsSync(a) && readFileSync(a, 'utf8').trim() !== '', 5000, 'started');
    const pgids = groups.live;
    expect(pgids.length).toBe(2);
    await groups.stop(200);
    expect(groups.live).toEqual([]);
    for (const g of pgids) expect(groupMembers(g)).toEqual([]);
    expect(await running).toEqual({ how: 'signal', signal: 'SIGKILL' });
  });
});
