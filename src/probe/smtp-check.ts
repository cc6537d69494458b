// SMTP_CHECK: connect, expect a 220 greeting, HELO <helo_name>, expect 250, QUIT. Each
// `host` block is its own target (own connect_ip/port/bindto/timeout); all must pass.
import net from 'node:net';
import type { SmtpCheck, SmtpHost } from '../config/model.js';
import { down, errorReason, familyOf, resolveEndpoint, up, type CheckContext, type CheckOutcome, type CheckTarget, type Endpoint } from './outcome.js';

export interface SmtpReply {
  code: number;
  text: string;
}

/**
 * Incremental SMTP reply reader: multi-line replies ("250-a", "250 b") complete on the line
 * whose fourth character is a space. Returns complete replies and keeps the rest buffered.
 */
export class SmtpReplyReader {
  private buf = '';
  private lines: string[] = [];

  push(data: string): SmtpReply[] {
    this.buf += data;
    const replies: SmtpReply[] = [];
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      this.lines.push(line);
      if (line[3] !== '-') {
        const code = /^\d{3}/.test(line) ? Number(line.slice(0, 3)) : 0;
        replies.push({ code, text: this.lines.map((l) => l.slice(4)).join('\n') });
        this.lines = [];
      }
    }
    return replies;
  }
}

function hostEndpoint(check: SmtpCheck, host: SmtpHost, target: CheckTarget): Endpoint {
  return resolveEndpoint(
    {
      connectIp: host.connectIp ?? check.connectIp,
      connectPort: host.connectPort ?? check.connectPort,
      bindto: host.bindto ?? check.bindto,
      bindPort: host.bindPort ?? check.bindPort,
      bindIf: check.bindIf,
    },
    target,
  );
}

/** One SMTP dialogue against one endpoint, bounded by timeoutMs overall. */
export function smtpDialogue(ep: Endpoint, heloName: string, timeoutMs: number, signal?: AbortSignal): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({
      host: ep.host,
      port: ep.port,
      family: familyOf(ep.host.split('%')[0]!),
      ...(ep.localAddress ? { localAddress: ep.localAddress } : {}),
      ...(ep.localPort ? { localPort: ep.localPort } : {}),
    });
    const reader = new SmtpReplyReader();
    let stage: 'greeting' | 'helo' | 'quit' = 'greeting';
    let done = false;
    const timer = setTimeout(() => finish(down(`timeout after ${timeoutMs} ms waiting for ${stage} reply`)), timeoutMs);
    const onAbort = () => finish(down('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    function finish(o: CheckOutcome, graceful = false) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (graceful) sock.end();
      else sock.destroy();
      resolve(o);
    }
    sock.setEncoding('latin1');
    sock.on('data', (chunk: string) => {
      for (const reply of reader.push(chunk)) {
        if (stage === 'greeting') {
          if (reply.code !== 220) return finish(down(`bad greeting ${reply.code || JSON.stringify(reply.text)}`));
          stage = 'helo';
          sock.write(`HELO ${heloName}\r\n`);
        } else if (stage === 'helo') {
          if (reply.code !== 250) return finish(down(`HELO answered ${reply.code}`));
          stage = 'quit';
          sock.write('QUIT\r\n');
          // The server proved itself healthy; the QUIT reply is a courtesy we do not wait for.
          return finish(up('HELO accepted'), true);
        }
      }
    });
    sock.once('error', (e) => finish(down(errorReason(e))));
    sock.once('end', () => finish(down(`connection closed during ${stage}`)));
    if (signal?.aborted) onAbort();
  });
}

export async function runSmtpCheck(check: SmtpCheck, target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const hosts: SmtpHost[] =
    check.hosts.length > 0 ? check.hosts : [{ connectIp: null, connectPort: null, bindto: null, bindPort: null, connectTimeoutMs: null, pos: check.pos }];
  for (const host of hosts) {
    const ep = hostEndpoint(check, host, target);
    const o = await smtpDialogue(ep, check.heloName, host.connectTimeoutMs ?? check.connectTimeoutMs, ctx.signal);
    if (!o.up) return check.hosts.length > 0 ? down(`${ep.host}:${ep.port}: ${o.reason}`) : o;
  }
  return up(`${hosts.length} host(s) answered HELO`);
}
