import { afterAll, describe, expect, it } from 'vitest';
import { configOf, instanceText, removeConfigFiles } from './engine-testkit.js';
import { mailsVrrpAlerts, vrrpAlertsOn } from './alerts.js';

afterAll(removeConfigFiles);

const mailTo = `
global_defs {
  notification_email {
    ops@example.com
  }
  smtp_server 127.0.0.1
  GLOBAL
}
`;
const withGlobals = (globals: string, body: string) => mailTo.replace('GLOBAL', globals) + body;

describe('vrrpAlertsOn: keepalived 2.2.7 defaults', () => {
  it('is the block own setting first, then smtp_alert_vrrp, then smtp_alert, else off', () => {
    expect(vrrpAlertsOn({ smtpAlertVrrp: null, smtpAlert: false }, null)).toBe(false);
    expect(vrrpAlertsOn({ smtpAlertVrrp: null, smtpAlert: true }, null)).toBe(true);
    expect(vrrpAlertsOn({ smtpAlertVrrp: false, smtpAlert: true }, null)).toBe(false);
    expect(vrrpAlertsOn({ smtpAlertVrrp: true, smtpAlert: false }, false)).toBe(false);
    expect(vrrpAlertsOn({ smtpAlertVrrp: false, smtpAlert: false }, true)).toBe(true);
  });
});

describe('mailsVrrpAlerts: whether the VRRP child needs its mail client', () => {
  it('is false with an smtp_server and recipients but no block asking for alerts', () => {
    expect(mailsVrrpAlerts(configOf(withGlobals('', instanceText('VI_1', 51))))).toBe(false);
  });

  it('is true when an instance asks for them', () => {
    expect(mailsVrrpAlerts(configOf(withGlobals('', instanceText('VI_1', 51, 'eth0', 'smtp_alert'))))).toBe(true);
  });

  it('is true when a sync group asks for them', () => {
    const text = withGlobals('', `${instanceText('VI_1', 51)}\nvrrp_sync_group G {\n  group {\n    VI_1\n  }\n  smtp_alert\n}\n`);
    expect(mailsVrrpAlerts(configOf(text))).toBe(true);
  });

  it('follows smtp_alert and smtp_alert_vrrp in global_defs', () => {
    expect(mailsVrrpAlerts(configOf(withGlobals('smtp_alert', instanceText('VI_1', 51))))).toBe(true);
    expect(mailsVrrpAlerts(configOf(withGlobals('smtp_alert_vrrp', instanceText('VI_1', 51))))).toBe(true);
    expect(mailsVrrpAlerts(configOf(withGlobals('smtp_alert\n  smtp_alert_vrrp off', instanceText('VI_1', 51))))).toBe(false);
  });

  it('is false without an smtp_server or without recipients, whatever the blocks ask', () => {
    expect(mailsVrrpAlerts(configOf(`global_defs {\n  smtp_alert\n  notification_email {\n    ops@example.com\n  }\n}\n${instanceText('VI_1', 51)}`))).toBe(
      false,
    );
    expect(mailsVrrpAlerts(configOf(`global_defs {\n  smtp_alert\n  smtp_server 127.0.0.1\n}\n${instanceText('VI_1', 51)}`))).toBe(false);
  });
});
