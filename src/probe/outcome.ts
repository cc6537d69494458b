// What a single check attempt reports, where it aims, and what it may use from the
// surrounding daemon. Every checker module shares these shapes so the runner stays generic.
import { isIPv6 } from 'node:net';
import { type Clock, systemClock } from '../clock/index.js';
import type { HealthCheckCommon, Family, SslClient, TrackFile } from '../config/model.js';
import type { ScriptHost } from '../script/index.js';

export interface CheckOutcome {
  up: boolean;
  /** Human-readable cause, logged on transitions ("connection refused", "status 503"). */
  reason: string;
  /**
   * Dynamic weight: MISC_CHECK with misc_dynamic (exit code - 2) sets the real server's
   * weight; FILE_CHECK with a non-zero weight adds `value x weight` (see weightMode).
   */
  weight?: number;
  /** 'set' replaces the configured weight (misc_dynamic), 'add' offsets it (FILE_CHECK). */
  weightMode?: 'set' | 'add';
}

/** The real server a checker is attached to (address, port, family). */
export interface CheckTarget {
  address: string;
  port: number;
  family: Family;
}

export interface CheckContext {
  /** Aborts an in-flight check (daemon stop, reload removing the checker). */
  signal?: AbortSignal;
  /** Runs MISC_CHECK scripts (vetted under the loaded config); default: one for the process, without script security. */
  scripts?: ScriptHost;
  /** track_file blocks, looked up by name for FILE_CHECK. */
  trackFiles?: readonly TrackFile[];
  /** The virtual server's `virtualhost`: HTTP checks' last Host header and SNI fallback. */
  virtualhost?: string | null;
  /** The real server's `virtualhost`: a Host header fallback before the virtual server's (never SNI). */
  realServerVirtualhost?: string | null;
  /** The config's `SSL` block: SSL_GET's client certificate. */
  ssl?: SslClient | null;
}

/** Where a checker actually connects: the target, overridden as keepalived's conn_opts do. */
export interface Endpoint {
  host: string;
  port: number;
  family: Family;
  localAddress: string | null;
  localPort: number | null;
}

type ConnOpts = Pick<HealthCheckCommon, 'connectIp' | 'connectPort' | 'bindto' | 'bindPort' | 'bindIf'>;

export function familyOf(address: string): Family {
  return isIPv6(address) ? 6 : 4;
}

/** IPv6 link-local addresses need their interface as a zone to be reachable. */
function withZone(address: string, bindIf: string | null): string {
  if (bindIf && isIPv6(address) && /^fe[89ab]/i.test(address) && !address.includes('%')) {
    return `${address}%${bindIf}`;
  }
  return address;
}

export function resolveEndpoint(opts: ConnOpts, target: CheckTarget): Endpoint {
  const host = opts.connectIp ?? target.address;
  return {
    host: withZone(host, opts.bindIf),
    port: opts.connectPort ?? target.port,
    family: opts.connectIp ? familyOf(opts.connectIp) : target.family,
    localAddress: opts.bindto ? withZone(opts.bindto, opts.bindIf) : null,
    localPort: opts.bindPort,
  };
}

/**
 * The check's deadline combined with the daemon's cancellation signal. Built by hand and
 * disposed by the caller: on Node 20 AbortSignal.any() leaks every combined signal into a
 * long-lived source (memory that grows with every check), and an AbortSignal.timeout() stays
 * alive until its timer fires even when the check finished long before.
 */
export function deadline(ms: number, outer?: AbortSignal, clock: Clock = systemClock): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const timer = clock.setTimer(() => ac.abort(new DOMException(`timeout after ${ms} ms`, 'TimeoutError')), ms);
  const onOuter = () => ac.abort(outer!.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  return {
    signal: ac.signal,
    dispose() {
      clock.clearTimer(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}

export const up = (reason = 'ok', extra: Partial<CheckOutcome> = {}): CheckOutcome => ({ up: true, reason, ...extra });
export const down = (reason: string): CheckOutcome => ({ up: false, reason });

/** Turns a socket error into a short reason ("ECONNREFUSED connect"). */
export function errorReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && e.code) return `${e.code}${e.syscall ? ` ${e.syscall}` : ''}`;
  return String((e as Error)?.message ?? err);
}
