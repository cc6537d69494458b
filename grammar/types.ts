// The vocabulary of the keyword schema: argument types, argument shapes, keyword and block
// specifications. Pure data types plus tiny constructors so grammar/keywords.ts reads like a
// table. The model builder (src/config/build.ts) validates statements generically against it.

/** Type of one argument word. Timers are seconds (fractions allowed) unless noted. */
export type ArgType =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'decimal'; min: number; max: number }
  | { kind: 'ipv4' }
  | { kind: 'ipv6' }
  /** IPv4 or IPv6 address. */
  | { kind: 'ip' }
  /** Address with optional `/prefix`. */
  | { kind: 'prefix' }
  | { kind: 'port' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'string' }
  | { kind: 'path' }
  /** on|off|true|false|yes|no (keepalived's <BOOL>). */
  | { kind: 'bool' };

export interface ArgSpec {
  name: string;
  type: ArgType;
  optional?: boolean;
  /** Takes every remaining word (each checked against `type`). */
  rest?: boolean;
}

/**
 * How a statement's words after the keyword are checked:
 * - an ArgSpec list: positional, checked word by word;
 * - 'any': free-form, read by the keyword's handler (routes, lvs_sync_daemon, ...).
 */
export type ArgShape = readonly ArgSpec[] | 'any';

export type KeywordStatus = 'implemented' | 'parsed';

export interface KeywordSpec {
  name: string;
  args: ArgShape;
  /**
   * Sub-block: the name of a BlockSpec (keywords checked there), 'list' (each line is an
   * item the handler reads: virtual_ipaddress, unicast_peer, ...), or 'any' (not checked).
   */
  block?: string;
  /** The block is mandatory (`vrrp_instance NAME { ... }`). */
  blockRequired?: boolean;
  /** Documented default, shown by --keywords (the builder applies the same values). */
  default?: string;
  /** Other accepted spellings (older names keepalived still reads without comment). */
  aliases?: readonly string[];
  /** Aliases keepalived itself reports as deprecated: we warn too. */
  deprecatedAliases?: readonly string[];
  status: KeywordStatus;
  /** One line for --keywords. */
  doc?: string;
}

export interface BlockSpec {
  /** Schema name (`vrrp_instance`, `real_server`, `HTTP_GET`, ...). */
  name: string;
  keywords: readonly KeywordSpec[];
  /** Appended to unknown-keyword errors in this block (a common mistake's fix). */
  unknownHint?: string;
}

export const T = {
  int: (min: number, max: number): ArgType => ({ kind: 'int', min, max }),
  dec: (min: number, max: number): ArgType => ({ kind: 'decimal', min, max }),
  ipv4: { kind: 'ipv4' } as ArgType,
  ipv6: { kind: 'ipv6' } as ArgType,
  ip: { kind: 'ip' } as ArgType,
  prefix: { kind: 'prefix' } as ArgType,
  port: { kind: 'port' } as ArgType,
  oneOf: (...values: string[]): ArgType => ({ kind: 'enum', values }),
  str: { kind: 'string' } as ArgType,
  path: { kind: 'path' } as ArgType,
  bool: { kind: 'bool' } as ArgType,
};

export const INT32_MAX = 2147483647;
export const UINT32_MAX = 4294967295;

/** Required positional argument. */
export function arg(name: string, type: ArgType): ArgSpec {
  return { name, type };
}
/** Optional positional argument. */
export function opt(name: string, type: ArgType): ArgSpec {
  return { name, type, optional: true };
}
/** Zero or more further words. */
export function rest(name: string, type: ArgType): ArgSpec {
  return { name, type, optional: true, rest: true };
}

/** `SCRIPT [username [groupname]]`: notify_*, quorum_up, misc_path, ... */
export const SCRIPT_ARGS: readonly ArgSpec[] = [
  arg('script', T.str),
  opt('username', T.str),
  opt('groupname', T.str),
];

/** `[<BOOL>]`: a flag that may be switched off explicitly. */
export const FLAG_ARGS: readonly ArgSpec[] = [opt('on', T.bool)];

type KwOpts = Omit<KeywordSpec, 'name' | 'args' | 'status'>;

/** An implemented keyword. */
export function kw(name: string, args: ArgShape, o: KwOpts = {}): KeywordSpec {
  return { name, args, status: 'implemented', ...o };
}
/** An implemented flag with an optional <BOOL>. */
export function flag(name: string, o: KwOpts = {}): KeywordSpec {
  return { name, args: FLAG_ARGS, status: 'implemented', default: 'off', ...o };
}
/**
 * Keywords keepalived knows that we accept without acting on them yet: any arguments and
 * any block content, so a config keepalived accepts is never rejected by us for them.
 */
export function known(...names: string[]): KeywordSpec[] {
  return names.map((name) => ({ name, args: 'any', block: 'any', status: 'parsed' }));
}
