/**
 * The checker's smtp_alert mails delivered to a real SMTP server (the smtp-server package on
 * loopback): real servers going down and up (per checker, or only on the server's own change
 * with no_checker_emails), the smtp_alert defaults and overrides, quorum lost and gained,
 * and omega's shutdown mails. Checks answer from a table the test flips.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckOutcome, CheckTarget } from '../../src/probe/outcome.js';
import { CheckerEngine } from '../../src/checker/engine.js';
import { memoryOwnedStore } from '../../src/checker/owned.js';
import type { HealthCheck, GlobalDefs, VirtualServer } from '../../src/config/model.js';
import { createLogger } from '../../src/log/logger.js';
import { miscCheck } from '../probe/fixtures.js';
import { FakeIpvs } from './fake-ipvs.js';
import { config, realServer, tcpCheck, virtualServer } from './model-kit.js';

interface Mail {
  to: string[];
  subject: string;
  body: string;
}
const mails: Mail[] = [];
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
        const [head, ...rest] = data.split(/\r?\n\r?\n/);
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          // long headers are folded onto continuation lines: unfold before reading
          subject: /^Subject: (.*)$/m.exec(head!.replace(/\r?\n[ \t]+/g, ' '))?.[1]?.trim() ?? '',
          body: rest.join('\n').trim(),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Check outcomes per `address:port` (and per checker type), flipped by the test. */
const down = new Set<string>();
const run = (c: HealthCheck, t: CheckTarget): Promise<CheckOutcome> => {
  const bad = down.has(`${t.address}:${t.port}`) || down.has(`${t.address}:${t.port}/${c.type}`);
  return Promise.resolve(bad ? { up: false, reason: 'ECONNREFUSED connect' } : { up: true, reason: 'connected' });
};

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; mails: ${JSON.stringify(mails.map((m) => m.subject))}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function engineFor(vs: VirtualServer[], globals: Partial<GlobalDefs> = {}) {
  const cfg = config(vs);
  cfg.globalDefs = {
    ...cfg.globalDefs,
    routerId: 'lb1',
    smtpServer: { host: '127.0.0.1', port },
    notificationEmail: ['ops@example.net'],
    notificationEmailFrom: 'lb1@example.net',
    ...globals,
  };
  const e = new CheckerEngine({
    ipvs: new FakeIpvs(),
    owned: memoryOwnedStore(),
    runCheck: run,
    log: createLogger({ proc: 'checker', write: () => {} }),
    runScript: () => {},
    rereadIntervalMs: 60_000,
    random: () => 0,
  });
  return { e, cfg };
}

const fast = (over = {}) => tcpCheck({ delayLoopMs: 20, warmupMs: 0, retry: 0, ...over });

describe('checker smtp_alert', () => {
  it('mails a real server going down and coming back, worded as keepalived; smtp_alert off on a real server silences it', async () => {
    mails.length = 0;
    down.clear();
    const vs = virtualServer('10.0.0.1', 80, {
      realServers: [realServer('10.1.0.1', 80, { checkers: [fast()] }), realServer('10.1.0.2', 80, { checkers: [fast()], smtpAlert: false })],
    });
    const { e, cfg } = engineFor([vs]);
    await e.start(cfg);
    down.add('10.1.0.1:80');
    down.add('10.1.0.2:80');
    await until('down mail', () => mails.length >= 1);
    down.clear();
    await until('up mail', () => mails.length >= 2);
    await e.stop();
    expect(mails).toEqual([
      {
        to: ['ops@example.net'],
        subject: '[lb1] Realserver [10.1.0.1]:80 of virtual server [10.0.0.1]:tcp:80 - DOWN',
        body: '=> TCP CHECK failed on service <=',
      },
      {
        to: ['ops@example.net'],
        subject: '[lb1] Realserver [10.1.0.1]:80 of virtual server [10.0.0.1]:tcp:80 - UP',
        body: '=> TCP CHECK succeed on service <=',
      },
    ]);
  });

  it('smtp_alert_checker off silences real servers that do not ask; no mail server configured sends nothing', async () => {
    mails.length = 0;
    down.clear();
    const vs = virtualServer('10.0.0.2', 80, {
      realServers: [realServer('10.2.0.1', 80, { checkers: [fast()] }), realServer('10.2.0.2', 80, { checkers: [fast()], smtpAlert: true })],
    });
    const { e, cfg } = engineFor([vs], { smtpAlertChecker: false });
    await e.start(cfg);
    down.add('10.2.0.1:80');
    down.add('10.2.0.2:80');
    await until('one mail', () => mails.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    await e.alertsSettled();
    await e.stop();
    expect(mails.map((m) => m.subject)).toEqual(['[lb1] Realserver [10.2.0.2]:80 of virtual server [10.0.0.2]:tcp:80 - DOWN']);

    const quiet = engineFor([virtualServer('10.0.0.3', 80, { realServers: [realServer('10.2.0.1', 80, { checkers: [fast()] })] })], { smtpServer: null });
    await quiet.e.start(quiet.cfg);
    await new Promise((r) => setTimeout(r, 100));
    await quiet.e.stop();
    expect(mails).toHaveLength(1);
  });

  it('a second checker failing on a server already down: a mail, unless no_checker_emails', async () => {
    for (const noCheckerEmails of [false, true]) {
      mails.length = 0;
      down.clear();
      const vs = virtualServer('10.0.0.4', 80, {
        realServers: [realServer('10.4.0.1', 80, { checkers: [fast(), miscCheck(['/bin/true'], { delayLoopMs: 20, warmupMs: 0, retry: 0 })] })],
      });
      const { e, cfg } = engineFor([vs], { noCheckerEmails });
      await e.start(cfg);
      down.add('10.4.0.1:80/TCP_CHECK');
      await until('first down mail', () => mails.length >= 1);
      down.add('10.4.0.1:80/MISC_CHECK');
      await new Promise((r) => setTimeout(r, 150));
      await e.alertsSettled();
      await e.stop();
      expect(mails.map((m) => `${m.subject.slice(-4)} ${m.body}`)).toEqual(
        noCheckerEmails ? ['DOWN => TCP CHECK failed on service <='] : ['DOWN => TCP CHECK failed on service <=', 'DOWN => MISC CHECK failed on service <='],
      );
    }
  });

  it('quorum lost and gained on a virtual server with smtp_alert; omega mails at shutdown', async () => {
    mails.length = 0;
    down.clear();
    const vs = virtualServer('10.0.0.5', 80, {
      smtpAlert: true,
      omega: true,
      quorum: 2,
      realServers: [realServer('10.5.0.1', 80, { checkers: [fast()], smtpAlert: false }), realServer('10.5.0.2', 80, { checkers: [fast()], smtpAlert: false })],
    });
    const { e, cfg } = engineFor([vs]);
    await e.start(cfg);
    down.add('10.5.0.1:80');
    await until('quorum lost', () => mails.length >= 1);
    down.clear();
    await until('quorum gained', () => mails.length >= 2);
    await e.stop(); // omega: the quorum goes down with the checker
    expect(mails.map((m) => [m.subject, m.body])).toEqual([
      ['[lb1] Virtualserver [10.0.0.5]:tcp:80 - DOWN', '=> Lost quorum 2+0=2 <= 1 <='],
      ['[lb1] Virtualserver [10.0.0.5]:tcp:80 - UP', '=> Gained quorum 2+0=2 <= 2 <='],
      ['[lb1] Virtualserver [10.0.0.5]:tcp:80 - DOWN', '=> Shutting down <='],
    ]);
  });
});
