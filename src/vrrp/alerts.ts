// Whether the VRRP child mails smtp_alert for an instance or a sync group: keepalived 2.2.7's
// defaults (the block's own smtp_alert, else smtp_alert_vrrp, else smtp_alert, else off),
// and only with an smtp_server and recipients. The child loads the mail client (megabytes of
// memory for its life) only when this says some block can mail.
import type { GlobalDefs, KeepalivedConfig, NotifyHooks } from '../config/model.js';

type AlertDefaults = Pick<GlobalDefs, 'smtpAlertVrrp' | 'smtpAlert'>;

/** An instance's or a sync group's smtp_alert, with keepalived's defaults. */
export const vrrpAlertsOn = (g: AlertDefaults, own: NotifyHooks['smtpAlert']): boolean => own ?? g.smtpAlertVrrp ?? g.smtpAlert;

/** Some instance or sync group of `cfg` mails its state changes. */
export function mailsVrrpAlerts(cfg: Pick<KeepalivedConfig, 'globalDefs' | 'vrrpInstances' | 'vrrpSyncGroups'>): boolean {
  const g = cfg.globalDefs;
  if (!g.smtpServer || g.notificationEmail.length === 0) return false;
  return [...cfg.vrrpInstances, ...cfg.vrrpSyncGroups].some((block) => vrrpAlertsOn(g, block.smtpAlert));
}
