// Email alerts (`smtp_alert`), worded as keepalived words them so existing mail filters keep
// matching: subject "[router_id] VRRP Instance VI_1 - Entering MASTER state" and friends.
// Building the message is pure; sending goes through nodemailer to global_defs smtp_server.
// nodemailer (megabytes once loaded) is imported at the first alert, not when the checker
// starts: most daemons send none for weeks.
import type { Transporter } from 'nodemailer';
import type { GlobalDefs } from '../config/model.js';

export interface AlertMessage {
  subject: string;
  body: string;
}

/** DELETED: an instance a reload removed, with notify_deleted (a sync group is never mailed so). */
export type VrrpAlertState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED';

const VRRP_BODY: Record<VrrpAlertState, string> = {
  MASTER: '=> VRRP Instance is now owning VRRP VIPs <=',
  BACKUP: '=> VRRP Instance is no longer owning VRRP VIPs <=',
  FAULT: '=> VRRP Instance is no longer owning VRRP VIPs <=',
  STOP: '=> VRRP Instance stopping <=',
  DELETED: '=> VRRP Deleted at reload <=',
};

const vrrpSubject = (state: VrrpAlertState) => (state === 'STOP' ? 'Stopping' : state === 'DELETED' ? 'Deleted' : `Entering ${state} state`);

export function vrrpInstanceAlert(routerId: string, instance: string, state: VrrpAlertState): AlertMessage {
  return { subject: `[${routerId}] VRRP Instance ${instance} - ${vrrpSubject(state)}`, body: VRRP_BODY[state] };
}

export function vrrpGroupAlert(routerId: string, group: string, state: Exclude<VrrpAlertState, 'DELETED'>): AlertMessage {
  return {
    subject: `[${routerId}] VRRP Group ${group} - ${vrrpSubject(state)}`,
    body: state === 'STOP' ? '=> All VRRP group instances are now stopping <=' : `=> All VRRP group instances are now in ${state} state <=`,
  };
}

/** `[10.0.0.1]:80` / `[2001:db8::1]:80`: keepalived brackets every address. */
export const formatEndpoint = (address: string, port: number): string => `[${address}]:${port}`;

export function realServerAlert(routerId: string, rs: string, vs: string, up: boolean, checkerBody: string): AlertMessage {
  return { subject: `[${routerId}] Realserver ${rs} of virtual server ${vs} - ${up ? 'UP' : 'DOWN'}`, body: checkerBody };
}

/** keepalived's subject says UP or DOWN; the body says which threshold was crossed. */
export function quorumAlert(routerId: string, vs: string, up: boolean, body: string): AlertMessage {
  return { subject: `[${routerId}] Virtualserver ${vs} - ${up ? 'UP' : 'DOWN'}`, body };
}

export interface SmtpAlertSender {
  send(msg: AlertMessage): Promise<void>;
  close(): void;
}

type SmtpGlobals = Pick<GlobalDefs, 'smtpServer' | 'smtpHeloName' | 'smtpConnectTimeoutMs' | 'notificationEmail' | 'notificationEmailFrom'>;

/**
 * Loads nodemailer when `g` configures alerts. The checker child awaits this before its
 * watchdog heartbeats start: nodemailer is CommonJS and loads synchronously, which on a slow
 * machine (an emulated guest) takes seconds, and a running child silent that long is killed
 * as stuck.
 */
export async function preloadSmtpAlerts(g: Pick<GlobalDefs, 'smtpServer' | 'notificationEmail'>): Promise<void> {
  if (g.smtpServer && g.notificationEmail.length > 0) await import('nodemailer');
}

/** null when global_defs has no smtp_server or no recipients (keepalived sends nothing then). */
export function createSmtpAlertSender(g: SmtpGlobals): SmtpAlertSender | null {
  const server = g.smtpServer;
  if (!server || g.notificationEmail.length === 0) return null;
  let transport: Promise<Transporter> | null = null;
  let closed = false;
  const open = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        host: server.host,
        port: server.port,
        name: g.smtpHeloName,
        secure: false,
        ignoreTLS: true,
        connectionTimeout: g.smtpConnectTimeoutMs,
        greetingTimeout: g.smtpConnectTimeoutMs,
        socketTimeout: g.smtpConnectTimeoutMs,
      }),
    ));
  const from = g.notificationEmailFrom ?? `keepalived@${g.smtpHeloName}`;
  return {
    async send(msg) {
      const t = await open();
      if (closed) throw new Error('smtp alert sender closed');
      await t.sendMail({
        from,
        to: g.notificationEmail.join(', '),
        subject: msg.subject,
        text: msg.body,
        headers: { 'X-Mailer': 'Keepalived-ts' },
      });
    },
    close: () => {
      closed = true;
      void transport?.then(
        (t) => t.close(),
        () => undefined,
      );
    },
  };
}

/**
 * Sends alerts without holding anyone up: a failed delivery is logged, never thrown, and
 * `settled()` lets a stopping process wait for what it already sent.
 */
export class AlertOutbox {
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly sender: SmtpAlertSender,
    private readonly log: { warn(o: object, msg: string): void },
  ) {}

  send(msg: AlertMessage): void {
    const p = this.sender.send(msg).catch((e: Error) => this.log.warn({ subject: msg.subject, err: e.message }, 'smtp_alert not delivered'));
    this.sending.add(p);
    void p.finally(() => this.sending.delete(p));
  }

  async settled(): Promise<void> {
    await Promise.all([...this.sending]);
  }

  close(): void {
    this.sender.close();
  }
}
