import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { realServer, tcpCheck, virtualServer } from '../../test/checker/model-kit.js';
import { miscCheck } from '../../test/probe/fixtures.js';
import { loadConfig } from '../config/index.js';
import { checkerAlert, formatVirtualServer, quorumChangeAlert, realServerAlertsOn, shutdownQuorumAlert, virtualServerAlertsOn } from './alerts.js';

const g = { routerId: 'lb1', smtpAlertChecker: null, noCheckerEmails: false };
const vs = virtualServer('10.0.0.1', 80, { quorum: 3, hysteresis: 1 });
const rs = realServer('10.1.0.2', 8080);

describe('checker smtp alerts', () => {
  it('name virtual servers as keepalived FMT_VS does', () => {
    expect(formatVirtualServer(vs)).toBe('[10.0.0.1]:tcp:80');
    expect(formatVirtualServer(virtualServer('2001:db8::1', 443, { protocol: 'UDP' }))).toBe('[2001:db8::1]:udp:443');
    expect(formatVirtualServer({ ...vs, key: { kind: 'fwmark', fwmark: 7, family: 4 } })).toBe('FWM 7');
    expect(formatVirtualServer({ ...vs, key: { kind: 'group', group: 'web' } })).toBe('[web]:0');
  });

  it('default on for real servers and off for virtual servers unless smtp_alert_checker (or a written smtp_alert) says otherwise', () => {
    expect([realServerAlertsOn(g, rs), virtualServerAlertsOn(g, vs)]).toEqual([true, false]);
    const off = { ...g, smtpAlertChecker: false };
    expect([realServerAlertsOn(off, rs), realServerAlertsOn(off, { smtpAlert: true })]).toEqual([false, true]);
    expect(virtualServerAlertsOn({ ...g, smtpAlertChecker: true }, vs)).toBe(true);
    expect(virtualServerAlertsOn({ ...g, smtpAlertChecker: true }, { smtpAlert: false })).toBe(false);
  });

  it("word a checker transition with the real server state after it and the checker type's body", () => {
    expect(checkerAlert(g, vs, rs, { checker: tcpCheck(), up: false, wasAlive: true, alive: false })).toEqual({
      subject: '[lb1] Realserver [10.1.0.2]:8080 of virtual server [10.0.0.1]:tcp:80 - DOWN',
      body: '=> TCP CHECK failed on service <=',
    });
    expect(checkerAlert(g, vs, rs, { checker: miscCheck(['x']), up: true, wasAlive: false, alive: true })?.body).toBe('=> MISC CHECK succeeded on service <=');
  });

  it('no_checker_emails: only when the real server itself changes', () => {
    const quiet = { ...g, noCheckerEmails: true };
    expect(checkerAlert(quiet, vs, rs, { checker: tcpCheck(), up: false, wasAlive: false, alive: false })).toBeNull();
    expect(checkerAlert(g, vs, rs, { checker: tcpCheck(), up: false, wasAlive: false, alive: false })?.subject).toMatch(/- DOWN$/);
    expect(checkerAlert(quiet, vs, rs, { checker: tcpCheck(), up: true, wasAlive: false, alive: true })?.subject).toMatch(/- UP$/);
  });

  it('quorum mails carry the threshold crossed and the live weight, as keepalived words them', () => {
    const on = { ...vs, smtpAlert: true };
    expect(quorumChangeAlert(g, on, false, 1)).toEqual({ subject: '[lb1] Virtualserver [10.0.0.1]:tcp:80 - DOWN', body: '=> Lost quorum 3+1=2 <= 1 <=' });
    expect(quorumChangeAlert(g, on, true, 4)?.body).toBe('=> Gained quorum 3+1=4 <= 4 <=');
    expect(quorumChangeAlert(g, vs, true, 4)).toBeNull();
    expect(shutdownQuorumAlert(g, on)?.body).toBe('=> Shutting down <=');
  });
});

describe('the smtp_alert defaults a keepalived.conf gives the checker', () => {
  const load = (globals: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-ce-alert-'));
    try {
      const file = join(dir, 'keepalived.conf');
      writeFileSync(
        file,
        `global_defs {\n${globals}\n}\nvirtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.1.0.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n`,
      );
      const r = loadConfig(file);
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      return r.config!.globalDefs;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("smtp_alert_checker wins over smtp_alert in either order; smtp_alert alone applies; neither leaves keepalived's defaults", () => {
    expect(load('  router_id x')).toMatchObject({ smtpAlertChecker: null, noCheckerEmails: false });
    expect(load('  smtp_alert off').smtpAlertChecker).toBe(false);
    expect(load('  smtp_alert\n  smtp_alert_checker off').smtpAlertChecker).toBe(false);
    expect(load('  smtp_alert_checker off\n  smtp_alert on').smtpAlertChecker).toBe(false);
    expect(load('  smtp_alert_checker\n  no_checker_emails')).toMatchObject({ smtpAlertChecker: true, noCheckerEmails: true });
  });
});
