// smtp_alert of VRRP instances and sync groups beside keepalived 2.2.7: the same file on r1,
// run once by our VRRP child and once by keepalived, mails to an SMTP server inside r1's
// namespace. r1 alone becomes MASTER, a higher-priority keepalived on r2 takes every VRID,
// r1 stops (keepalived's Stopping mails never leave it: it exits first). Each instance's and
// the group's mails (subject and body) must be the same from both implementations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { labUnavailable, RouterLab, sleep, until, type Impl } from './lab.js';

const why = labUnavailable();
if (why) console.warn(`VRRP smtp_alert tests skipped: ${why}`);

const SINK = fileURLToPath(new URL('./smtp-sink.mjs', import.meta.url));
const lab = new RouterLab('kt-sa', 72);
const VIPS = [lab.vip(101), lab.vip(102), lab.vip(103)];

beforeAll(async () => {
  if (why) return;
  await lab.setup();
});

afterAll(async () => {
  await lab.cleanup();
});

function instance(name: string, vrid: number, prio: number, vip: string, extra = ''): string {
  return `vrrp_instance ${name} {\n  state BACKUP\n  interface eth0\n  virtual_router_id ${vrid}\n  priority ${prio}\n  advert_int 0.2\n  version 3\n  virtual_ipaddress {\n    ${vip}/24\n  }\n${extra}}\n`;
}

/** VI_1 alone (smtp_alert on itself), VI_2 and VI_3 in group G (smtp_alert on the group). */
const r1Config = `global_defs {
  router_id kt_sa
  notification_email {
    ops@example.net
  }
  notification_email_from kt@example.net
  smtp_server 127.0.0.1 2525
  smtp_connect_timeout 5
}
vrrp_sync_group G {
  group {
    VI_2
    VI_3
  }
  smtp_alert
}
${instance('VI_1', 71, 100, VIPS[0], '  smtp_alert\n')}${instance('VI_2', 72, 100, VIPS[1])}${instance('VI_3', 73, 100, VIPS[2])}`;

const r2Config = `global_defs {\n  router_id kt_sa2\n}\n${instance('VI_1', 71, 200, VIPS[0])}${instance('VI_2', 72, 200, VIPS[1])}${instance('VI_3', 73, 200, VIPS[2])}`;

interface Mail { subject: string; body: string }

/** Each sender's mails in order, by the name in the subject (`VI_1`, `G`). */
function byName(mails: Mail[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of mails) (out[/VRRP (?:Instance|Group) (\S+)/.exec(m.subject)?.[1] ?? '?'] ??= []).push(`${m.subject} | ${m.body}`);
  return out;
}

async function scenario(impl: Impl): Promise<Mail[]> {
  const mails: Mail[] = [];
  const sink = lab.net.spawn(lab.r1.ns, ['node', SINK, '2525']);
  let out = '';
  let listening = false;
  sink.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.includes('listening')) listening = true;
    for (const l of out.split('\n').slice(0, -1)) if (l.startsWith('{')) mails.push(JSON.parse(l) as Mail);
    out = out.slice(out.lastIndexOf('\n') + 1);
  });
  await until(() => listening, 30_000, 'SMTP sink listening');
  const subjects = () => mails.map((m) => m.subject);
  const d1 = await lab.start(impl, lab.r1, r1Config);
  await until(() => subjects().includes('[kt_sa] VRRP Group G - Entering MASTER state') && subjects().includes('[kt_sa] VRRP Instance VI_1 - Entering MASTER state'), 30_000, `${impl}: MASTER mails`);
  const d2 = await lab.start('keepalived', lab.r2, r2Config);
  await until(() => subjects().filter((s) => /Entering BACKUP state/.test(s)).length >= 4, 30_000, `${impl}: BACKUP mails`);
  await d1.stop();
  await sleep(3000); // mails sent while stopping, if any
  await d2.stop();
  await lab.stopAll();
  sink.kill('SIGTERM');
  lab.flushVips(lab.r1, VIPS.map((v) => `${v}/24`));
  lab.flushVips(lab.r2, VIPS.map((v) => `${v}/24`));
  return mails;
}

describe.skipIf(why)('VRRP smtp_alert beside keepalived 2.2.7', () => {
  it('instances and sync groups mail the same subjects and bodies as keepalived for the same transitions', async () => {
    const theirs = byName(await scenario('keepalived'));
    const ours = byName(await scenario('ours'));
    expect(ours).toEqual(theirs);
    // spelled out: VI_2 and VI_3 send nothing (their group has smtp_alert, they do not)
    expect(Object.keys(ours).sort()).toEqual(['G', 'VI_1']);
    expect(ours.VI_1).toEqual([
      '[kt_sa] VRRP Instance VI_1 - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=',
      '[kt_sa] VRRP Instance VI_1 - Entering MASTER state | => VRRP Instance is now owning VRRP VIPs <=',
      '[kt_sa] VRRP Instance VI_1 - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=',
    ]);
  }, 240_000);
});
