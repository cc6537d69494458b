// The vetting rules on a file system described in the test. security-keepalived.test.ts
// compares the same rules with keepalived 2.2.7's -t on real files.
import { describe, expect, it } from 'vitest';
import { isExecutable, vetScript, type FileInfo, type FileSystem } from './security.js';

type Entry = Partial<FileInfo> & { target?: string };

/** A file system from a table: directories default to root 0755, files to root 0755, links to root. */
function fs(table: Record<string, Entry>): FileSystem {
  const all: Record<string, Entry> = { '/': { kind: 'dir' }, ...table };
  // every parent of a listed path is a root 0755 directory unless listed
  for (const p of Object.keys(table)) {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) all['/' + parts.slice(0, i).join('/')] ??= { kind: 'dir' };
  }
  let ino = 1;
  const info = new Map(
    Object.entries(all).map(([p, e]): [string, FileInfo & { target?: string }] => [
      p,
      { kind: 'file', mode: e.kind === 'link' ? 0o777 : 0o755, uid: 0, gid: 0, dev: 1, ino: ino++, ...e },
    ]),
  );
  const resolve = (p: string, depth = 0): string | null => {
    const parts = p.split('/').filter(Boolean);
    let cur = '';
    for (const part of parts) {
      if (part === '..') {
        cur = cur.slice(0, cur.lastIndexOf('/'));
        continue;
      }
      if (part === '.') continue;
      cur = `${cur}/${part}`;
      const e = info.get(cur);
      if (!e) return null;
      if (e.kind === 'link') {
        if (depth > 8) return null;
        const t = resolve(e.target!.startsWith('/') ? e.target! : `${cur.slice(0, cur.lastIndexOf('/'))}/${e.target}`, depth + 1);
        if (!t) return null;
        cur = t;
      }
    }
    return cur || '/';
  };
  return {
    lstat: (p) => info.get(p) ?? null,
    stat: (p) => {
      const r = resolve(p);
      return r ? (info.get(r) ?? null) : null;
    },
    realpath: (p) => resolve(p) ?? { error: 'ENOENT' },
  };
}

const root = { uid: 0, gid: 0 };
const user = { uid: 1001, gid: 1001 };
const on = { scriptSecurity: true, path: '/usr/sbin:/usr/bin:/bin' };
const off = { ...on, scriptSecurity: false };

describe('isExecutable, as execve decides', () => {
  const f = (mode: number, uid = 0, gid = 0): FileInfo => ({ kind: 'file', mode, uid, gid, dev: 1, ino: 1 });
  it('root needs any x bit; others the bit of their class', () => {
    expect(isExecutable(f(0o001), root)).toBe(true);
    expect(isExecutable(f(0o644), root)).toBe(false);
    expect(isExecutable(f(0o700, 1001), user)).toBe(true);
    expect(isExecutable(f(0o070, 1001), user)).toBe(false); // the owner's bits decide for the owner
    expect(isExecutable(f(0o710, 0, 1001), user)).toBe(true);
    expect(isExecutable(f(0o701, 0, 5), user)).toBe(true);
    expect(isExecutable(f(0o710, 0, 5), user)).toBe(false);
  });
});

describe('what a script run as root must not be', () => {
  const cases: [string, Record<string, Entry>, string, 'ok' | 'insecure'][] = [
    ['root-owned 0755 in root-owned directories', { '/etc/ka/s.sh': {} }, '/etc/ka/s.sh', 'ok'],
    ['world-writable file', { '/etc/ka/s.sh': { mode: 0o757 } }, '/etc/ka/s.sh', 'insecure'],
    ['group-writable file of a non-root group', { '/etc/ka/s.sh': { mode: 0o775, gid: 4 } }, '/etc/ka/s.sh', 'insecure'],
    ['group-writable file of group root', { '/etc/ka/s.sh': { mode: 0o775, gid: 0 } }, '/etc/ka/s.sh', 'ok'],
    ['file owned by another user, even not writable', { '/etc/ka/s.sh': { uid: 1001, mode: 0o555 } }, '/etc/ka/s.sh', 'insecure'],
    ['directory on the path world-writable', { '/etc/ka': { kind: 'dir', mode: 0o777 }, '/etc/ka/s.sh': {} }, '/etc/ka/s.sh', 'insecure'],
    ['directory world-writable but sticky (/tmp)', { '/tmp': { kind: 'dir', mode: 0o1777 }, '/tmp/s.sh': {} }, '/tmp/s.sh', 'ok'],
    ['directory group-writable, non-root group, sticky', { '/srv': { kind: 'dir', mode: 0o1775, gid: 4 }, '/srv/s.sh': {} }, '/srv/s.sh', 'ok'],
    ['directory owned by another user', { '/home/u': { kind: 'dir', uid: 1001 }, '/home/u/s.sh': {} }, '/home/u/s.sh', 'insecure'],
    ['sticky directory owned by another user', { '/home/u': { kind: 'dir', uid: 1001, mode: 0o1777 }, '/home/u/s.sh': {} }, '/home/u/s.sh', 'insecure'],
    ['"/" itself writable', { '/': { kind: 'dir', mode: 0o777 }, '/s.sh': {} }, '/s.sh', 'insecure'],
    // the resolved path runs, so only it counts: a link in an open directory to a safe file is fine
    [
      'link in a world-writable directory to a safe file',
      { '/tmp/x': { kind: 'dir', mode: 0o777 }, '/tmp/x/l': { kind: 'link', target: '/usr/bin/true' }, '/usr/bin/true': {} },
      '/tmp/x/l',
      'ok',
    ],
    [
      'safe link to a file in a world-writable directory',
      { '/opt/w': { kind: 'dir', mode: 0o777 }, '/opt/w/s.sh': {}, '/etc/l': { kind: 'link', target: '/opt/w/s.sh' } },
      '/etc/l',
      'insecure',
    ],
    // the resolved directory holds the written name for the same file: that name runs, and the
    // link itself must then be root's
    [
      'link by another user beside its target',
      { '/etc/ka/real.sh': {}, '/etc/ka/s.sh': { kind: 'link', target: 'real.sh', uid: 1001 } },
      '/etc/ka/s.sh',
      'insecure',
    ],
    ['root link beside its target', { '/etc/ka/real.sh': {}, '/etc/ka/s.sh': { kind: 'link', target: 'real.sh' } }, '/etc/ka/s.sh', 'ok'],
    ['.. past a world-writable directory', { '/tmp/w': { kind: 'dir', mode: 0o777 }, '/etc/ka/s.sh': {} }, '/tmp/w/../../etc/ka/s.sh', 'ok'],
    ['a directory named as the script', { '/etc/ka/d': { kind: 'dir' } }, '/etc/ka/d', 'insecure'],
  ];
  for (const [what, table, path, want] of cases) {
    it(what, () => {
      const v = vetScript(path, root, on, fs(table));
      expect(v.ok ? 'ok' : v.cause).toBe(want);
      // without enable_script_security an insecure script still runs, flagged
      const w = vetScript(path, root, off, fs(table));
      if (want === 'ok') expect(w).toMatchObject({ ok: true, insecure: false });
      else if (what !== 'a directory named as the script') expect(w).toMatchObject({ ok: true, insecure: true });
    });
  }

  it('a wrong file type is refused with or without enable_script_security', () => {
    expect(vetScript('/etc/ka/d', root, off, fs({ '/etc/ka/d': { kind: 'dir' } }))).toMatchObject({
      ok: false,
      cause: 'insecure',
      why: expect.stringMatching(/wrong file type/),
    });
  });

  it('says which component is at fault', () => {
    const v = vetScript('/etc/ka/s.sh', root, on, fs({ '/etc/ka': { kind: 'dir', mode: 0o777 }, '/etc/ka/s.sh': {} }));
    expect(v).toEqual({ ok: false, cause: 'insecure', why: "unsafe permissions found for script '/etc/ka/s.sh': /etc/ka is writable by everyone" });
  });
});

describe('who needs protecting', () => {
  const open = { '/tmp/w': { kind: 'dir', mode: 0o777 } as Entry };
  it('a script run as a plain user is not path-checked at all', () => {
    expect(vetScript('/tmp/w/s.sh', user, on, fs({ ...open, '/tmp/w/s.sh': { mode: 0o777 } }))).toMatchObject({ ok: true, insecure: false });
  });
  it('but it is when it runs with group root, or is setuid-root or setgid-root', () => {
    expect(vetScript('/tmp/w/s.sh', { uid: 1001, gid: 0 }, on, fs({ ...open, '/tmp/w/s.sh': {} })).ok).toBe(false);
    expect(vetScript('/tmp/w/s.sh', user, on, fs({ ...open, '/tmp/w/s.sh': { mode: 0o4755 } })).ok).toBe(false);
    expect(vetScript('/tmp/w/s.sh', user, on, fs({ ...open, '/tmp/w/s.sh': { mode: 0o2755 } })).ok).toBe(false);
    // setuid of another owner gives no root power
    expect(vetScript('/tmp/w/s.sh', user, on, fs({ ...open, '/tmp/w/s.sh': { mode: 0o4755, uid: 1002 } })).ok).toBe(true);
  });
});

describe('finding and reaching the script', () => {
  it('a bare name is the first executable regular file on PATH; the resolved path runs', () => {
    const f = fs({ '/usr/sbin/chk': { mode: 0o644 }, '/usr/bin/chk': { kind: 'link', target: '/opt/c/chk-1.2' }, '/opt/c/chk-1.2': {} });
    expect(vetScript('chk', root, on, f)).toEqual({ ok: true, program: '/opt/c/chk-1.2', shell: false, insecure: false });
  });
  it('keeps the name it was called by when the resolved directory has it for the same file', () => {
    const f = fs({ '/bin': { kind: 'link', target: 'usr/bin' }, '/usr/bin/sh': { kind: 'link', target: 'dash' }, '/usr/bin/dash': {} });
    expect(vetScript('/bin/sh', root, on, f)).toMatchObject({ ok: true, program: '/usr/bin/sh' });
  });
  it('not found on PATH, only non-executable there, missing, or not executable for its user: disabled', () => {
    expect(vetScript('nosuch', root, on, fs({}))).toEqual({ ok: false, cause: 'not-found', why: 'cannot find script nosuch in path' });
    expect(vetScript('chk', root, on, fs({ '/usr/bin/chk': { mode: 0o644 } }))).toEqual({
      ok: false,
      cause: 'not-found',
      why: 'permissions failure for script chk in path',
    });
    expect(vetScript('/etc/ka/none.sh', root, on, fs({}))).toMatchObject({ ok: false, cause: 'not-found' });
    expect(vetScript('/etc/ka/s.sh', root, on, fs({ '/etc/ka/s.sh': { mode: 0o644 } }))).toMatchObject({ ok: false, cause: 'not-executable' });
    expect(vetScript('/etc/ka/s.sh', user, on, fs({ '/etc/ka/s.sh': { mode: 0o750 } }))).toMatchObject({
      ok: false,
      cause: 'not-executable',
      why: "script '/etc/ka/s.sh' is not executable for uid:gid 1001:1001",
    });
  });
  it('`</path` is a file test for the shell, not vetted', () => {
    expect(vetScript('</tmp/w/flag', root, on, fs({}))).toEqual({ ok: true, program: '</tmp/w/flag', shell: true, insecure: false });
  });
});
