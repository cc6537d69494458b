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
  /** One of `values`; `anyCase`: keepalived compares it case-insensitively (protocol, DNS type). */
  | { kind: 'enum'; values: readonly string[]; anyCase?: boolean }
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

/**
 * - implemented: checked, put in the model, and acted on by the daemon;
 * - not-applied: checked and put in the model, but the daemon does not act on it yet (warns);
 * - parsed: accepted with any words and block, not modelled (warns).
 */
export type KeywordStatus = 'implemented' | 'not-applied' | 'parsed';

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
  /**
   * A flag whose keepalived handler reads no word after it: `nopreempt 1` and even
   * `nopreempt off` set it. A word written there is ignored with a warning, as keepalived does.
   */
  ignoresValue?: boolean;
  /** Why keepalived-ts does not act on it (not-applied or parsed keywords), for the warning. */
  why?: string;
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
  /** An enumeration keepalived compares case-insensitively (strcasecmp). */
  oneOfAnyCase: (...values: string[]): ArgType => ({ kind: 'enum', values, anyCase: true }),
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
export const SCRIPT_ARGS: readonly ArgSpec[] = [arg('script', T.str), opt('username', T.str), opt('groupname', T.str)];

/** `[<BOOL>]`: a flag that may be switched off explicitly. */
export const FLAG_ARGS: readonly ArgSpec[] = [opt('on', T.bool)];

type KwOpts = Omit<KeywordSpec, 'name' | 'args' | 'status'>;

/** An implemented keyword. */
export function kw(name: string, args: ArgShape, o: KwOpts = {}): KeywordSpec {
  return { name, args, status: 'implemented', ...o };
}
/** An implemented flag with an optional <BOOL> (keepalived reads the word: check_true_false). */
export function boolFlag(name: string, o: KwOpts = {}): KeywordSpec {
  return { name, args: FLAG_ARGS, status: 'implemented', default: 'off', ...o };
}
/**
 * An implemented flag whose keepalived handler reads no word: written alone or with any
 * word, it is set (`nopreempt 1`, `vrrp_strict off`); the word draws a warning.
 */
export function flag(name: string, o: KwOpts = {}): KeywordSpec {
  return { name, args: [], status: 'implemented', default: 'off', ignoresValue: true, ...o };
}
/** A keyword checked and modelled that the daemon does not act on yet: it warns where written. */
export function notApplied(spec: KeywordSpec, why: string): KeywordSpec {
  return { ...spec, status: 'not-applied', why };
}
/**
 * Keywords keepalived knows that we accept without acting on them yet: any arguments and
 * any block content, so a config keepalived accepts is never rejected by us for them.
 */
export function known(...names: string[]): KeywordSpec[] {
  return names.map((name) => ({ name, args: 'any', block: 'any', status: 'parsed' }));
}
