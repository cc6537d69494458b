// Who a script runs as, by keepalived 2.2.7's rules (lib/notify.c): the script's own
// `user [group]` when it has one; else global_defs script_user; else the user
// keepalived_script when it exists; else the daemon's own uid:gid (root) - except that with
// enable_script_security keepalived refuses to fall back to root, and the scripts without
// their own user are not run at all. A user named but unknown refuses the script.
// Names are looked up as getpwnam/getgrnam would (names only, not numbers).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Ids {
  uid: number;
  gid: number;
}

/** A `user [group]` as written in the config. */
export interface Owner {
  user: string;
  group: string | null;
}

/** The global_defs settings that decide who scripts run as and whether they are vetted. */
export interface ScriptGlobals {
  scriptUser: Owner | null;
  enableScriptSecurity: boolean;
}

/** getpwnam / getgrnam. */
export interface UserDirectory {
  /** The user's uid and primary gid; null when no such user. */
  user(name: string): Ids | null;
  /** The group's gid; null when no such group. */
  group(name: string): number | null;
}

export const DEFAULT_SCRIPT_USER = 'keepalived_script';

export type RunAs =
  | { ok: true; ids: Ids }
  /** `ownUser`: the script's own user/group failed, not the default every other script shares. */
  | { ok: false; why: string; ownUser: boolean };

function lookup(dir: UserDirectory, o: Owner): { ok: true; ids: Ids } | { ok: false; why: string } {
  const u = dir.user(o.user);
  if (!u) return { ok: false, why: `script user '${o.user}' does not exist` };
  if (o.group === null) return { ok: true, ids: u };
  const gid = dir.group(o.group);
  if (gid === null) return { ok: false, why: `script group '${o.group}' does not exist` };
  return { ok: true, ids: { uid: u.uid, gid } };
}

/** The uid:gid of `user [group]`; null when either is unknown. */
export function lookupIds(o: Owner, dir: UserDirectory = systemUsers()): Ids | null {
  const r = lookup(dir, o);
  return r.ok ? r.ids : null;
}

/** `own`: the script's own `user [group]`, null when it has none. `self`: our own uid:gid. */
export function resolveRunAs(own: Owner | null, g: ScriptGlobals, dir: UserDirectory, self: Ids): RunAs {
  if (own) {
    const r = lookup(dir, own);
    return r.ok ? r : { ...r, ownUser: true };
  }
  if (g.scriptUser) {
    const r = lookup(dir, g.scriptUser);
    return r.ok ? r : { ok: false, why: `global script_user: ${r.why}`, ownUser: false };
  }
  const standard = dir.user(DEFAULT_SCRIPT_USER);
  if (standard) return { ok: true, ids: standard };
  if (g.enableScriptSecurity) {
    return {
      ok: false,
      why: `default script user ${DEFAULT_SCRIPT_USER} does not exist, and enable_script_security will not run scripts as root by default (set script_user)`,
      ownUser: false,
    };
  }
  return { ok: true, ids: self };
}

function entries(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** `getent DB NAME`: users and groups from NSS sources the files do not hold (LDAP, sssd). */
function getent(db: 'passwd' | 'group', name: string): string[] | null {
  // getent takes a number as an id; getpwnam/getgrnam take names only
  if (/^\d+$/.test(name)) return null;
  try {
    return execFileSync('getent', [db, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
      .split('\n')[0]!
      .split(':');
  } catch {
    return null;
  }
}

/**
 * The host's users: /etc/passwd and /etc/group first, then `getent` for names they lack.
 * One directory per config load: the files are read once, each name looked up once.
 */
export function systemUsers(passwd = '/etc/passwd', groups = '/etc/group'): UserDirectory {
  let pw: string[][] | null = null;
  let gr: string[][] | null = null;
  const users = new Map<string, Ids | null>();
  const groupIds = new Map<string, number | null>();
  const valid = (f: string[] | null | undefined, idField: number): f is string[] => !!f && f.length > idField && /^\d+$/.test(f[idField] ?? '');
  const find = (table: string[][], db: 'passwd' | 'group', name: string, idField: number): string[] | null => {
    const f = table.find((e) => e[0] === name);
    if (valid(f, idField)) return f;
    const g = getent(db, name);
    return valid(g, idField) ? g : null;
  };
  return {
    user(name) {
      if (!users.has(name)) {
        const f = find((pw ??= entries(passwd)), 'passwd', name, 3);
        users.set(name, f ? { uid: Number(f[2]), gid: Number(f[3]) } : null);
      }
      return users.get(name)!;
    },
    group(name) {
      if (!groupIds.has(name)) {
        const f = find((gr ??= entries(groups)), 'group', name, 2);
        groupIds.set(name, f ? Number(f[2]) : null);
      }
      return groupIds.get(name)!;
    },
  };
}
