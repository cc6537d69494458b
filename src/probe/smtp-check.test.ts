import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { pos, smtpCheck } from '../../test/probe/fixtures.js';
import { SmtpReplyReader, runSmtpCheck } from './smtp-check.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

interface Started {
  port: number;
  helos: string[];
}

async function startSmtp(opts: ConstructorParameters<typeof SMTPServer>[0] = {}, port = 0): Promise<Started> {
  const helos: string[] = [];
  const srv = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    banner: 'kt-chk test',
    onConnect(_session, cb) {
      cb();
    },
    ...opts,
  });
  srv.on('error', () => {});
  // smtp-server calls onMailFrom etc.; HELO names show up on the session at MAIL time, so
  // record them from the connection's close where the session still holds them.
  srv.onClose = (session) => {
    if (session.hostNameAppearsAs) helos.push(session.hostNameAppearsAs);
  };
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
  closers.push(() => new Promise((r) => srv.close(() => r(undefined))));
  return { port: (srv.server.address() as net.AddressInfo).port, helos };
}

async function rawServer(onConn: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer(onConn);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  closers.push(
    () =>
      new Promise((r) => {
        srv.close(r);
      }),
  );
  return (srv.address() as net.AddressInfo).port;
}

const at = (port: number) => ({ address: '127.0.0.1', port, family: 4 as const });
const host = (connectPort: number) => ({ connectIp: '127.0.0.1', connectPort, bindto: null, bindPort: null, connectTimeoutMs: null, pos });

describe('SMTP reply reader', () => {
  it('assembles multi-line replies split across chunks', () => {
    const r = new SmtpReplyReader();
    expect(r.push('250-first\r\n250-sec')).toEqual([]);
    expect(r.push('ond\r\n250 last\r\n220 x\r\n')).toEqual([
      { code: 250, text: 'first\nsecond\nlast' },
      { code: 220, text: 'x' },
    ]);
  });
});

describe('SMTP_CHECK against smtp-server', () => {
  it('is up after 220 + HELO 250, and the server saw our helo_name', async () => {
    const s = await startSmtp();
    const o = await runSmtpCheck(smtpCheck({ heloName: 'lb1.kt-chk.test' }), at(s.port));
    expect(o).toMatchObject({ up: true });
    // the server records the session when it closes, a moment after our QUIT
    for (let i = 0; i < 200 && s.helos.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.helos).toEqual(['lb1.kt-chk.test']);
  });

  it('is down when the server refuses the connection in its greeting (554)', async () => {
    const s = await startSmtp({
      onConnect(_session, cb) {
        cb(Object.assign(new Error('go away'), { responseCode: 554 }));
      },
    });
    expect(await runSmtpCheck(smtpCheck(), at(s.port))).toMatchObject({ up: false, reason: 'bad greeting 554' });
  });

  it('is down when HELO is not accepted (an LMTP server wants LHLO)', async () => {
    const s = await startSmtp({ lmtp: true });
    expect(await runSmtpCheck(smtpCheck(), at(s.port))).toMatchObject({ up: false, reason: expect.stringMatching(/^HELO answered 5\d\d$/) });
  });

  it('is down on a raw 554 greeting, on refusal, and on a silent server at connect_timeout; recovers', async () => {
    const p554 = await rawServer((s) => s.end('554 no service here\r\n'));
    expect(await runSmtpCheck(smtpCheck(), at(p554))).toMatchObject({ up: false, reason: 'bad greeting 554' });

    const silent = await rawServer(() => {});
    const t0 = performance.now();
    expect(await runSmtpCheck(smtpCheck({ connectTimeoutMs: 250 }), at(silent))).toMatchObject({
      up: false,
      reason: expect.stringContaining('timeout after 250 ms waiting for greeting'),
    });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(245);

    // find a free port, see it refused, then start a real server there: recovery
    const probe = await startSmtp();
    await closers.pop()!();
    expect(await runSmtpCheck(smtpCheck(), at(probe.port))).toMatchObject({ up: false, reason: expect.stringContaining('ECONNREFUSED') });
    await startSmtp({}, probe.port);
    expect((await runSmtpCheck(smtpCheck(), at(probe.port))).up).toBe(true);
  });

  it('checks every host block; one failing host brings the checker down', async () => {
    const a = await startSmtp();
    const b = await startSmtp();
    const bad = await rawServer((s) => s.end('421 busy\r\n'));
    expect((await runSmtpCheck(smtpCheck({ hosts: [host(a.port), host(b.port)] }), at(1))).up).toBe(true);
    expect(await runSmtpCheck(smtpCheck({ hosts: [host(a.port), host(bad)] }), at(1))).toMatchObject({
      up: false,
      reason: `127.0.0.1:${bad}: bad greeting 421`,
    });
  });
});
