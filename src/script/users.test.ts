import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRIPT_USER, lookupIds, resolveRunAs, systemUsers, type UserDirectory } from './users.js';

function directory(users: Record<string, [number, number]>, groups: Record<string, number> = {}): UserDirectory {
  return {
    user: (n) => (users[n] ? { uid: users[n][0], gid: users[n][1] } : null),
    group: (n) => groups[n] ?? null,
  };
}

const self = { uid: 0, gid: 0 };
const plain = { scriptUser: null, enableScriptSecurity: false };
const secure = { scriptUser: null, enableScriptSecurity: true };
const host = directory({ root: [0, 0], web: [1001, 1001] }, { adm: 4, web: 1001 });
const withStandard = directory({ root: [0, 0], web: [1001, 1001], [DEFAULT_SCRIPT_USER]: [990, 985] }, { adm: 4 });

describe('who a script runs as (keepalived 2.2.7, lib/notify.c)', () => {
  it("its own user, with that user's primary group or the group it names", () => {
    expect(resolveRunAs({ user: 'web', group: null }, plain, host, self)).toEqual({ ok: true, ids: { uid: 1001, gid: 1001 } });
    expect(resolveRunAs({ user: 'web', group: 'adm' }, plain, host, self)).toEqual({ ok: true, ids: { uid: 1001, gid: 4 } });
  });

  it('refuses an unknown own user or group (the script is not run), whatever the globals say', () => {
    expect(resolveRunAs({ user: 'nosuch', group: null }, plain, host, self)).toEqual({ ok: false, why: "script user 'nosuch' does not exist", ownUser: true });
    expect(resolveRunAs({ user: 'web', group: 'nosuch' }, plain, host, self)).toEqual({
      ok: false,
      why: "script group 'nosuch' does not exist",
      ownUser: true,
    });
    // names only, as getpwnam: a number is not a uid
    expect(resolveRunAs({ user: '1001', group: null }, plain, host, self).ok).toBe(false);
  });

  it('without an own user: script_user, even when keepalived_script exists', () => {
    const g = { scriptUser: { user: 'web', group: 'adm' }, enableScriptSecurity: true };
    expect(resolveRunAs(null, g, withStandard, self)).toEqual({ ok: true, ids: { uid: 1001, gid: 4 } });
    expect(resolveRunAs(null, { ...g, scriptUser: { user: 'nosuch', group: null } }, withStandard, self)).toEqual({
      ok: false,
      why: "global script_user: script user 'nosuch' does not exist",
      ownUser: false,
    });
  });

  it('then keepalived_script when it exists, with or without script security', () => {
    expect(resolveRunAs(null, plain, withStandard, self)).toEqual({ ok: true, ids: { uid: 990, gid: 985 } });
    expect(resolveRunAs(null, secure, withStandard, self)).toEqual({ ok: true, ids: { uid: 990, gid: 985 } });
  });

  it('else our own uid:gid, except under enable_script_security, which refuses the script', () => {
    expect(resolveRunAs(null, plain, host, { uid: 0, gid: 0 })).toEqual({ ok: true, ids: { uid: 0, gid: 0 } });
    const r = resolveRunAs(null, secure, host, self);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.why).toMatch(/keepalived_script does not exist.*enable_script_security/);
  });
});

describe('the host directory', () => {
  it('reads /etc/passwd and /etc/group, names only', () => {
    const d = systemUsers();
    expect(d.user('root')).toEqual({ uid: 0, gid: 0 });
    expect(d.group('root')).toBe(0);
    expect(d.user('no-such-user-kt')).toBeNull();
    expect(d.group('no-such-group-kt')).toBeNull();
    expect(d.user('0')).toBeNull();
    expect(lookupIds({ user: 'root', group: 'root' })).toEqual({ uid: 0, gid: 0 });
  });
});
