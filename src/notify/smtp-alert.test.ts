// Alerts against a real SMTP server library on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createSmtpAlertSender, formatEndpoint, realServerAlert, vrrpInstanceAlert } from './smtp-alert.js';

interface Received {
  helo: string;
  from: string;
  to: string[];
  data: string;
}
const received: Received[] = [];
let server: SMTPServer;
let port = 0;

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, cb) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString()));
      stream.on('end', () => {
        received.push({
          helo: session.hostNameAppearsAs,
          from: (session.envelope.mailFrom as { address: string }).address,
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const globals = () => ({
  smtpServer: { host: '127.0.0.1', port },
  smtpHeloName: 'lb1.example.net',
  smtpConnectTimeoutMs: 2000,
  notificationEmail: ['ops@example.net', 'oncall@example.net'],
  notificationEmailFrom: 'keepalived@lb1.example.net',
});

describe('smtp alerts', () => {
  it('words messages as keepalived does', () => {
    expect(vrrpInstanceAlert('LVS_1', 'VI_1', 'MASTER')).toEqual({
      subject: '[LVS_1] VRRP Instance VI_1 - Entering MASTER state',
      body: '=> VRRP Instance is now owning VRRP VIPs <=',
    });
    // an instance a reload removed, with notify_deleted (keepalived vrrp_smtp_notifier)
    expect(vrrpInstanceAlert('LVS_1', 'VI_1', 'DELETED')).toEqual({ subject: '[LVS_1] VRRP Instance VI_1 - Deleted', body: '=> VRRP Deleted at reload <=' });
    expect(realServerAlert('LVS_1', formatEndpoint('10.0.0.2', 80), formatEndpoint('192.0.2.1', 80), false, '=> TCP CHECK failed on service <=').subject).toBe(
      '[LVS_1] Realserver [10.0.0.2]:80 of virtual server [192.0.2.1]:80 - DOWN',
    );
  });

  it('delivers to every recipient with the configured HELO name and sender', async () => {
    const sender = createSmtpAlertSender(globals())!;
    await sender.send(vrrpInstanceAlert('LVS_1', 'VI_1', 'BACKUP'));
    sender.close();
    const m = received.at(-1)!;
    expect(m.helo).toBe('lb1.example.net');
    expect(m.from).toBe('keepalived@lb1.example.net');
    expect(m.to).toEqual(['ops@example.net', 'oncall@example.net']);
    expect(m.data).toMatch(/^Subject: \[LVS_1\] VRRP Instance VI_1 - Entering BACKUP state\r?$/m);
    expect(m.data).toContain('=> VRRP Instance is no longer owning VRRP VIPs <=');
  });

  it('is off without a server or recipients, and a dead server is an error, not a crash', async () => {
    expect(createSmtpAlertSender({ ...globals(), smtpServer: null })).toBeNull();
    expect(createSmtpAlertSender({ ...globals(), notificationEmail: [] })).toBeNull();
    const dead = createSmtpAlertSender({ ...globals(), smtpServer: { host: '127.0.0.1', port: 1 } })!;
    await expect(dead.send(vrrpInstanceAlert('x', 'VI_1', 'FAULT'))).rejects.toThrow(/ECONNREFUSED/);
    dead.close();
  });

  it('loads nodemailer only when alerts are configured: at the first alert, or when preloaded (fresh process, compiled dist/)', () => {
    const dist = new URL('../../dist/src/notify/smtp-alert.js', import.meta.url).pathname;
    if (!existsSync(dist)) throw new Error('run `npm run build` first (npm test does)');
    const script = `
      import { createRequire } from 'node:module';
      const req = createRequire(${JSON.stringify(new URL('../../package.json', import.meta.url).pathname)});
      const m = await import(${JSON.stringify(dist)});
      const loaded = () => Object.keys(req.cache).some((k) => k.includes('/node_modules/nodemailer/'));
      const g = { smtpServer: { host: '127.0.0.1', port: 1 }, smtpHeloName: 'h', smtpConnectTimeoutMs: 500, notificationEmail: ['a@b'], notificationEmailFrom: null };
      const r = { imported: loaded() };
      m.createSmtpAlertSender(g); r.senderCreated = loaded();
      await m.preloadSmtpAlerts({ ...g, notificationEmail: [] }); r.noRecipients = loaded();
      await m.preloadSmtpAlerts(g); r.configured = loaded();
      console.log(JSON.stringify(r));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    expect(out).toEqual({ imported: false, senderCreated: false, noRecipients: false, configured: true });
  });
});
