import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, closeSync, constants as fsc, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../log/logger.js';
import { hostEnvironment, ScriptHost } from '../script/index.js';
import { script } from '../config/build-values.js';
import { until } from '../../test/helpers/netns.js';
import { fifoChown, fifoPlan, NotifyFifos, realServerFifoLine, virtualServerFifoLine, vrrpFifoLine } from './fifo.js';

const dir = mkdtempSync('/tmp/kt-notify-fifo-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logged: string[] = [];
const log = createLogger({ proc: 'vrrp', write: (l: string) => void logged.push(l) });
const none = { notifyFifo: null, vrrpNotifyFifo: null, lvsNotifyFifo: null };

describe('notify FIFO lines (keepalived 2.2.7 vrrp_notify.c, ipwrapper.c)', () => {
  it('instances carry their effective priority, groups 0', () => {
    expect(vrrpFifoLine('INSTANCE', 'VI_1', 'MASTER', 150)).toBe('INSTANCE "VI_1" MASTER 150\n');
    expect(vrrpFifoLine('INSTANCE', 'VI_1', 'BACKUP_PRIORITY', 90)).toBe('INSTANCE "VI_1" BACKUP_PRIORITY 90\n');
    expect(vrrpFifoLine('GROUP', 'G1', 'BACKUP', 100)).toBe('GROUP "G1" BACKUP 0\n');
    expect(virtualServerFifoLine('[10.0.0.1]:tcp:80', true)).toBe('VS [10.0.0.1]:tcp:80 UP\n');
    expect(realServerFifoLine('[10.0.0.2]:tcp:80', '[10.0.0.1]:tcp:80', false)).toBe('RS [10.0.0.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n');
  });
});

describe('which FIFOs a child opens', () => {
  const f = (path: string, cmd?: string) => ({ path, script: cmd ? script(cmd) : null, owner: null });
  it('the global FIFO first, then its own side; not the other side', () => {
    const g = { notifyFifo: f('/run/a'), vrrpNotifyFifo: f('/run/v'), lvsNotifyFifo: f('/run/l') };
    expect(fifoPlan(g, 'vrrp').fifos.map((x) => [x.keyword, x.path])).toEqual([
      ['notify_fifo', '/run/a'],
      ['vrrp_notify_fifo', '/run/v'],
    ]);
    expect(fifoPlan(g, 'lvs').fifos.map((x) => [x.keyword, x.path])).toEqual([
      ['notify_fifo', '/run/a'],
      ['lvs_notify_fifo', '/run/l'],
    ]);
    expect(fifoPlan(none, 'vrrp')).toEqual({ fifos: [], notes: [] });
  });
  it('a side FIFO on the global path is dropped, as keepalived logs', () => {
    const p = fifoPlan({ ...none, notifyFifo: f('/run/a'), vrrpNotifyFifo: f('/run/a', 'x') }, 'vrrp');
    expect(p.fifos.map((x) => x.keyword)).toEqual(['notify_fifo']);
    expect(p.notes).toEqual(['notify FIFO /run/a has been specified for global and vrrp FIFO - ignoring vrrp FIFO']);
  });
  it('VRRP and LVS on one path, both with scripts: the LVS script is dropped', () => {
    const p = fifoPlan({ ...none, vrrpNotifyFifo: f('/run/s', '/bin/v'), lvsNotifyFifo: f('/run/s', '/bin/l') }, 'lvs');
    expect(p.fifos).toEqual([{ keyword: 'lvs_notify_fifo', path: '/run/s', script: null, owner: null }]);
    expect(p.notes).toEqual(['LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script']);
  });
});

describe('NotifyFifos', () => {
  const host = new ScriptHost({ log });
  host.load({ scriptUser: null, enableScriptSecurity: false }, []);

  it('creates the FIFO, never blocks without a reader, and a reader gets the lines; removes what it created', () => {
    const path = join(dir, 'fifo');
    const f = new NotifyFifos({ fifos: [{ keyword: 'vrrp_notify_fifo', path, script: null, owner: null }], notes: [] }, 'vrrp', host, log);
    expect(statSync(path).isFIFO()).toBe(true);
    f.write(vrrpFifoLine('INSTANCE', 'VI_1', 'BACKUP', 100)); // nobody reading: must not block
    const fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
    f.write(vrrpFifoLine('INSTANCE', 'VI_1', 'MASTER', 100));
    const buf = Buffer.alloc(200);
    const n = readSync(fd, buf);
    closeSync(fd);
    f.close();
    expect(buf.subarray(0, n).toString()).toBe('INSTANCE "VI_1" BACKUP 100\nINSTANCE "VI_1" MASTER 100\n');
    expect(existsSync(path)).toBe(false);
  });

  it('starts the FIFO script with the path as its last argument; it reads the lines; closing ends it', async () => {
    const path = join(dir, 'fifo2');
    const out = join(dir, 'read.txt');
    const reader = join(dir, 'reader.sh');
    writeFileSync(reader, `#!/bin/sh\necho "args: $1 $2" > ${out}\nwhile read -r l; do echo "$l" >> ${out}; done < "$2"\n`);
    chmodSync(reader, 0o755);
    const f = new NotifyFifos({ fifos: [{ keyword: 'notify_fifo', path, script: script(`${reader} first`), owner: null }], notes: [] }, 'vrrp', host, log);
    f.write(vrrpFifoLine('INSTANCE', 'VI_1', 'MASTER', 150));
    // lines written before the reader opens wait in the pipe while we hold it open
    await until(() => existsSync(out) && readFileSync(out, 'utf8').includes('MASTER'), 5_000, 'reader got the first line');
    f.write(vrrpFifoLine('INSTANCE', 'VI_1', 'BACKUP', 150));
    await until(() => readFileSync(out, 'utf8').includes('BACKUP'), 5_000, 'reader got the second line');
    f.close();
    await until(() => logged.some((l) => l.includes('vrrp notify fifo script terminated')), 5_000, 'reader ended');
    expect(readFileSync(out, 'utf8')).toBe(`args: first ${path}\nINSTANCE "VI_1" MASTER 150\nINSTANCE "VI_1" BACKUP 150\n`);
    expect(existsSync(path)).toBe(false);
  });

  it('leaves a FIFO it did not create in place, and refuses a regular file', () => {
    const plain = join(dir, 'plain');
    writeFileSync(plain, '');
    const f = new NotifyFifos({ fifos: [{ keyword: 'vrrp_notify_fifo', path: plain, script: null, owner: null }], notes: [] }, 'vrrp', host, log);
    expect(f.paths).toEqual([]);
    expect(logged.some((l) => l.includes(`Unable to open vrrp_notify fifo ${plain}`))).toBe(true);
    const path = join(dir, 'fifo3');
    new NotifyFifos({ fifos: [{ keyword: 'vrrp_notify_fifo', path, script: null, owner: null }], notes: [] }, 'vrrp', host, log); // creates it
    const again = new NotifyFifos({ fifos: [{ keyword: 'vrrp_notify_fifo', path, script: null, owner: null }], notes: [] }, 'vrrp', host, log);
    again.close();
    expect(statSync(path).isFIFO()).toBe(true);
  });
});

describe('the owner of a FIFO the daemon creates (notify_fifo FILE [username [groupname]])', () => {
  it('keepalived chowns only the ids that differ from its own, and nothing when none does', () => {
    const self = { uid: 0, gid: 0 };
    expect(fifoChown({ uid: 0, gid: 0 }, self)).toBeNull();
    expect(fifoChown({ uid: 65534, gid: 65534 }, self)).toEqual({ uid: 65534, gid: 65534 });
    expect(fifoChown({ uid: 0, gid: 100 }, self)).toEqual({ uid: -1, gid: 100 });
    expect(fifoChown({ uid: 1000, gid: 0 }, self)).toEqual({ uid: 1000, gid: -1 });
  });

  // users of the test's own directory: a user with its primary group, and another group
  const users = { fifo_user: { uid: 4242, gid: 4343 } } as Record<string, { uid: number; gid: number }>;
  const groups = { fifo_group: 4444 } as Record<string, number>;
  const host = new ScriptHost({
    log,
    environment: () => ({ ...hostEnvironment(), users: { user: (n) => users[n] ?? null, group: (n) => groups[n] ?? null } }),
  });
  host.load({ scriptUser: null, enableScriptSecurity: false }, []);
  const open = (name: string, owner: { user: string; group: string | null } | null) => {
    const path = join(dir, name);
    return { path, fifos: new NotifyFifos({ fifos: [{ keyword: 'notify_fifo', path, script: null, owner }], notes: [] }, 'vrrp', host, log) };
  };

  // chown to another user needs CAP_CHOWN
  const root = process.geteuid?.() === 0;
  if (!root) console.warn('fifo owner tests skipped: chown to another user needs root');
  it.skipIf(!root)("is the named user with its primary group, or the named group; mode 0644 under the daemon's umask", () => {
    const a = open('owned-user', { user: 'fifo_user', group: null });
    expect(statSync(a.path)).toMatchObject({ uid: 4242, gid: 4343 });
    expect(statSync(a.path).mode & 0o777).toBe(0o644 & ~process.umask());
    a.fifos.close();
    const b = open('owned-group', { user: 'fifo_user', group: 'fifo_group' });
    expect(statSync(b.path)).toMatchObject({ uid: 4242, gid: 4444 });
    b.fifos.close();
  });

  it('an unknown user or group: no FIFO at all, as keepalived ignores the line', () => {
    for (const owner of [
      { user: 'nobody_here', group: null },
      { user: 'fifo_user', group: 'no_group_here' },
    ]) {
      const x = open(`unowned-${owner.group ?? 'user'}`, owner);
      expect(x.fifos.paths).toEqual([]);
      expect(existsSync(x.path)).toBe(false);
      expect(logged.some((l) => l.includes(`Invalid user/group for notify fifo ${x.path} - ignoring`))).toBe(true);
    }
  });

  it('without a user it is the default script user: the daemon itself when keepalived_script does not exist', () => {
    const x = open('default-owner', null);
    expect(statSync(x.path)).toMatchObject({ uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 });
    x.fifos.close();
  });
});
