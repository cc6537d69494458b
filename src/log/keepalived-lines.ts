// The log lines keepalived 2.2.7 writes for the events people grep, alert and build
// log-based metrics on, worded exactly as keepalived words them (test/daemon/log-lines.test.ts
// and the VM's log-lines scenario hold them equal to keepalived's own output). Pure: callers
// log what these return.
import type { HealthCheck } from '../config/model.js';

export type VrrpStateName = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

/**
 * `(VI_1) Entering MASTER STATE`. keepalived marks the first state an instance takes at start
 * with ` (init)` only when it goes straight there (BACKUP without scripts to wait for, or
 * FAULT); one that waits for its track scripts logs the plain line once they report.
 * Leaving for STOP (shutdown) has no such line: null.
 */
export function vrrpStateLine(instance: string, to: VrrpStateName, from: VrrpStateName, waitedForScripts: boolean): string | null {
  if (to === 'STOP' || to === 'INIT') return null;
  const init = from === 'INIT' && to !== 'MASTER' && !waitedForScripts ? ' (init)' : '';
  return `(${instance}) Entering ${to} STATE${init}`;
}

/** A sync group moving its members: `VRRP_Group(G1) Syncing instances to MASTER state`. */
export function syncGroupLine(group: string, to: VrrpStateName): string | null {
  if (to === 'STOP' || to === 'INIT') return null;
  return `VRRP_Group(${group}) Syncing instances to ${to} state`;
}

/** How a script run ended, as keepalived tells a track script's or MISC_CHECK's result. */
export type ScriptExit = { kind: 'exit'; code: number } | { kind: 'signal'; signal: number } | { kind: 'timeout' } | { kind: 'not-run' };

/** `VRRP_Script(chk) succeeded`, `VRRP_Script(chk) failed (exited with status 1)`, `... timed_out`. */
export function vrrpScriptLine(script: string, exit: ScriptExit): string {
  switch (exit.kind) {
    case 'exit':
      return exit.code === 0 ? `VRRP_Script(${script}) succeeded` : `VRRP_Script(${script}) failed (exited with status ${exit.code})`;
    case 'signal':
      return `VRRP_Script(${script}) failed (due to signal ${exit.signal})`;
    case 'timeout':
      return `VRRP_Script(${script}) timed_out`;
    case 'not-run':
      return `VRRP_Script(${script}) failed`;
  }
}

/** keepalived's FMT_RS / inet_sockaddrtotrio: `[10.0.0.2]:tcp:80`. */
export function serviceTrio(address: string, protocol: string, port: number): string {
  return `[${address}]:${protocol.toLowerCase()}:${port}`;
}

export interface CheckerTransition {
  checker: HealthCheck;
  up: boolean;
  /** FMT_CHK: the real server as `[addr]:proto:port`. */
  realServer: string;
  /** FMT_VS. */
  virtualServer: string;
}

/**
 * The line a checker writes when it changes state: `TCP connection to [x]:tcp:80 success.`,
 * `TCP_CHECK on service [x]:tcp:80 failed after 3 retries.`, `Remote Web server [x]:tcp:80
 * succeed on service.`, `Misc check for [x VS y] by [script] succeeded.`. FILE_CHECK logs none.
 */
export function checkerLine(t: CheckerTransition): string | null {
  const { realServer: rs, virtualServer: vs } = t;
  const retry = t.checker.retry;
  const after = (what: string) => `${what} on service ${rs} failed${retry > 0 ? ` after ${retry} retries` : ''}.`;
  switch (t.checker.type) {
    case 'TCP_CHECK':
      return t.up ? `TCP connection to ${rs} success.` : after('TCP_CHECK');
    case 'UDP_CHECK':
      return t.up ? `UDP connection to ${rs} success.` : after('UDP_CHECK');
    case 'HTTP_GET':
    case 'SSL_GET':
      return t.up ? `Remote Web server ${rs} succeed on service.` : after('HTTP_CHECK');
    case 'SMTP_CHECK':
      return t.up ? `Remote SMTP server ${rs} succeed on service.` : after('SMTP_CHECK');
    case 'PING_CHECK':
      if (t.up) return `ICMP connection to ${rs} success.`;
      return retry > 0 ? `ICMP CHECK on service ${rs} of ${vs} failed after ${retry} retries.` : `ICMP CHECK on service ${rs} failed.`;
    case 'DNS_CHECK':
      return t.up ? `DNS_CHECK (${rs}) succeeded.` : `DNS_CHECK (${rs}) failed${retry > 0 ? ` after ${retry} retries` : ''}`;
    case 'MISC_CHECK': {
      const by = `Misc check for [${rs} VS ${vs}] by [${t.checker.miscPath.argv[0] ?? t.checker.miscPath.command}]`;
      if (t.up) return `${by} succeeded.`;
      return `${by} failed${retry > 0 ? ` after ${retry} ${retry === 1 ? 'retry' : 'retries'}` : ' with retry disabled'}.`;
    }
    case 'FILE_CHECK':
      return null;
  }
}

/**
 * A real server entering or leaving the pool: `Adding service [x]:tcp:80 to VS [y]:tcp:80`,
 * `Removing service ... from VS ...`; with inhibit_on_failure its weight goes to 0 instead:
 * `Enabling service ... of VS ...`, `Disabling service ... of VS ...`.
 */
export function realServerLine(up: boolean, inhibit: boolean, realServer: string, virtualServer: string): string {
  if (inhibit) return `${up ? 'Enabling' : 'Disabling'} service ${realServer} of VS ${virtualServer}`;
  return up ? `Adding service ${realServer} to VS ${virtualServer}` : `Removing service ${realServer} from VS ${virtualServer}`;
}

/** keepalived's parent, starting a child: `Starting VRRP child process, pid=1234`. */
export function childStartLine(role: 'vrrp' | 'checker', pid: number): string {
  return `Starting ${role === 'vrrp' ? 'VRRP' : 'Healthcheck'} child process, pid=${pid}`;
}
