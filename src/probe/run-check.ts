// One entry point for every checker type: the scheduler calls this and never needs to know
// which protocol a checker speaks.
//
// HTTP_GET/SSL_GET (node:tls and the PCRE translation) and DNS_CHECK (dns-packet, megabytes
// once loaded) are imported at their first check: a checker child whose config has none never
// holds them.
import { setMaxListeners } from 'node:events';
import type { HealthCheck, KeepalivedConfig } from '../config/model.js';
import type { runDnsCheck } from './dns-check.js';
import { runFileCheck } from './file-check.js';
import type { runHttpCheck } from './http-check.js';
import { runMiscCheck } from './misc-check.js';
import type { CheckContext, CheckOutcome, CheckTarget } from './outcome.js';
import { runPingCheck } from './ping-check.js';
import { runSmtpCheck } from './smtp-check.js';
import { runTcpCheck } from './tcp-check.js';
import { runUdpCheck } from './udp-check.js';

export type { CheckContext, CheckOutcome, CheckTarget } from './outcome.js';

let httpCheck: Promise<typeof runHttpCheck> | null = null;
let dnsCheck: Promise<typeof runDnsCheck> | null = null;
const loadHttpCheck = () => (httpCheck ??= import('./http-check.js').then((m) => m.runHttpCheck));
const loadDnsCheck = () => (dnsCheck ??= import('./dns-check.js').then((m) => m.runDnsCheck));

/**
 * Loads the checkers `config` uses that are imported on demand. The checker child awaits this
 * before its watchdog heartbeats start: a CommonJS package loads synchronously, which on a
 * slow machine (an emulated guest) takes seconds, and a running child silent that long is
 * killed as stuck.
 */
export async function preloadCheckers(config: Pick<KeepalivedConfig, 'virtualServers'>): Promise<void> {
  const types = new Set(config.virtualServers.flatMap((vs) => vs.realServers.flatMap((rs) => rs.checkers.map((c) => c.type))));
  await Promise.all([types.has('HTTP_GET') || types.has('SSL_GET') ? loadHttpCheck() : null, types.has('DNS_CHECK') ? loadDnsCheck() : null]);
}

/** Daemon signals seen so far: each is lifted out of the 10-listener warning once. */
const sharedSignals = new WeakSet<AbortSignal>();

export function runCheck(checker: HealthCheck, target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  // One cancellation signal is shared by every check in flight by design; without this
  // Node warns about a listener leak as soon as eleven checks overlap.
  if (ctx.signal && !sharedSignals.has(ctx.signal)) {
    setMaxListeners(0, ctx.signal);
    sharedSignals.add(ctx.signal);
  }
  switch (checker.type) {
    case 'TCP_CHECK':
      return runTcpCheck(checker, target, ctx);
    case 'HTTP_GET':
    case 'SSL_GET':
      return loadHttpCheck().then((run) => run(checker, target, ctx));
    case 'MISC_CHECK':
      return runMiscCheck(checker, target, ctx);
    case 'SMTP_CHECK':
      return runSmtpCheck(checker, target, ctx);
    case 'DNS_CHECK':
      return loadDnsCheck().then((run) => run(checker, target, ctx));
    case 'UDP_CHECK':
      return runUdpCheck(checker, target, ctx);
    case 'PING_CHECK':
      return runPingCheck(checker, target, ctx);
    case 'FILE_CHECK':
      return runFileCheck(checker, target, ctx);
  }
}
