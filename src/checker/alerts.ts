/**
 * The checker's smtp_alert emails, decided and worded as keepalived 2.2.7's checker sends
 * them (mail filters match on these subjects). Pure: the engine sends what this returns.
 *
 * - A real server alerts when one of its checkers changes state (keepalived mails per
 *   checker, with that checker's words in the body), or with `no_checker_emails` only when
 *   the real server itself went up or down. Its smtp_alert defaults to smtp_alert_checker,
 *   else a written global smtp_alert, else on.
 * - A virtual server alerts on quorum gained or lost; its smtp_alert defaults the same way
 *   but to off.
 * - At shutdown with omega: "=> Shutting down <=" for live real servers and for quorum.
 */
import type { HealthCheck, GlobalDefs, RealServer, VirtualServer } from '../config/model.js';
import { type AlertMessage, formatEndpoint, quorumAlert, realServerAlert } from '../notify/smtp-alert.js';

type AlertDefaults = Pick<GlobalDefs, 'smtpAlertChecker'>;

export const realServerAlertsOn = (g: AlertDefaults, rs: Pick<RealServer, 'smtpAlert'>): boolean => rs.smtpAlert ?? g.smtpAlertChecker ?? true;

export const virtualServerAlertsOn = (g: AlertDefaults, vs: Pick<VirtualServer, 'smtpAlert'>): boolean => vs.smtpAlert ?? g.smtpAlertChecker ?? false;

/** keepalived's FMT_VS: `[10.0.0.1]:tcp:80`, `FWM 7`, `[group]:0`. */
export function formatVirtualServer(vs: Pick<VirtualServer, 'key' | 'protocol'>): string {
  const k = vs.key;
  switch (k.kind) {
    case 'ip':
      return `[${k.address}]:${vs.protocol.toLowerCase()}:${k.port}`;
    case 'fwmark':
      return `FWM ${k.fwmark}`;
    case 'group':
      return `[${k.group}]:0`;
  }
}

/** The body keepalived's checker of this type writes when it succeeds or fails. */
export function checkerAlertBody(type: HealthCheck['type'], up: boolean): string {
  const verb = up ? 'succeed' : 'failed';
  switch (type) {
    case 'TCP_CHECK':
      return `=> TCP CHECK ${verb} on service <=`;
    case 'UDP_CHECK':
      return `=> UDP CHECK ${verb} on service <=`;
    case 'PING_CHECK':
      return `=> ICMP CHECK ${verb} on service <=`;
    case 'DNS_CHECK':
      return `=> DNS_CHECK: ${verb} on service <=`;
    case 'MISC_CHECK':
      return `=> MISC CHECK ${up ? 'succeeded' : 'failed'} on service <=`;
    case 'FILE_CHECK':
      return `=> FILE CHECK ${verb} on service <=`;
    case 'HTTP_GET':
    case 'SSL_GET':
    case 'SMTP_CHECK':
      return `=> CHECK ${verb} on service <=`;
  }
}

export interface CheckerChange {
  checker: HealthCheck;
  /** The checker's new state. */
  up: boolean;
  /** The real server's state before and after this checker's change. */
  wasAlive: boolean;
  alive: boolean;
}

/** The mail for one checker transition, or null when keepalived would send none. */
export function checkerAlert(
  g: AlertDefaults & Pick<GlobalDefs, 'routerId' | 'noCheckerEmails'>,
  vs: VirtualServer,
  rs: RealServer,
  c: CheckerChange,
): AlertMessage | null {
  if (!realServerAlertsOn(g, rs)) return null;
  if (g.noCheckerEmails && c.wasAlive === c.alive) return null;
  return realServerAlert(g.routerId, formatEndpoint(rs.address, rs.port), formatVirtualServer(vs), c.alive, checkerAlertBody(c.checker.type, c.up));
}

/** keepalived words the quorum mail with the threshold it just crossed and the live weight. */
export function quorumChangeAlert(
  g: AlertDefaults & Pick<GlobalDefs, 'routerId'>,
  vs: VirtualServer,
  gained: boolean,
  liveWeight: number,
): AlertMessage | null {
  if (!virtualServerAlertsOn(g, vs)) return null;
  const threshold = gained ? vs.quorum + vs.hysteresis : vs.quorum - vs.hysteresis;
  const body = `=> ${gained ? 'Gained quorum' : 'Lost quorum'} ${vs.quorum}+${vs.hysteresis}=${threshold} <= ${liveWeight} <=`;
  return quorumAlert(g.routerId, formatVirtualServer(vs), gained, body);
}

/** omega at shutdown: a live real server's last mail. */
export function shutdownRealServerAlert(g: AlertDefaults & Pick<GlobalDefs, 'routerId'>, vs: VirtualServer, rs: RealServer): AlertMessage | null {
  if (!realServerAlertsOn(g, rs)) return null;
  return realServerAlert(g.routerId, formatEndpoint(rs.address, rs.port), formatVirtualServer(vs), false, '=> Shutting down <=');
}

/** omega at shutdown: the virtual server's quorum goes with it. */
export function shutdownQuorumAlert(g: AlertDefaults & Pick<GlobalDefs, 'routerId'>, vs: VirtualServer): AlertMessage | null {
  if (!virtualServerAlertsOn(g, vs)) return null;
  return quorumAlert(g.routerId, formatVirtualServer(vs), false, '=> Shutting down <=');
}
