// notify_fifo beside keepalived 2.2.7 (owned by nobody:nogroup, as the file asks): the same config file on r1, run once by our VRRP child
// and once by keepalived, through the same transitions (r1 alone becomes MASTER, a track_file
// moves one instance's priority, a higher-priority keepalived on r2 takes every VRID, the
// track_file moves back, r1 stops). notify_fifo is read by the config's own
// notify_fifo_script (started by the daemon with the FIFO's path as last argument, ended
// first thing at shutdown), vrrp_notify_fifo by a `cat` of the test's (which also sees the
// STOP lines). Each instance's and the group's lines must be the same from both
// implementations (lines of different VRIDs that fall due together may interleave either way).
//
// smtp_alert of VRRP instances and sync groups beside keepalived 2.2.7: the same file on r1,
// run once by our VRRP child and once by keepalived, mails to an SMTP server inside r1's
// namespace. r1 alone becomes MASTER, a higher-priority keepalived on r2 takes every VRID,
// r1 stops (keepalived's Stopping mails never leave it: it exits first). Each instance's and
// the group's mails (subject and body) must be the same from both implementations. And a
// reload (HUP, ours as the whole daemon) that removes two mailing instances: "Deleted" for
// the one with notify_deleted, "Entering FAULT state" for the other, as keepalived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instanceConf, labUnavailable, RouterLab, sleep, until, type Impl, type Router } from './lab.js';

const why = labUnavailable();
if (why) console.warn(`notify FIFO and smtp_alert tests skipped: ${why}`);

const SINK = fileURLToPath(new URL('./smtp-sink.mjs', import.meta.url));

const lab = new RouterLab('kt-nf', 71);
const VIPS = [lab.vip(101), lab.vip(102), lab.vip(103)];
const MAIL_VIPS = [lab.vip(104), lab.vip(105), lab.vip(106)];

beforeAll(async () => {
  if (why) return;
  await lab.setup();
});

afterAll(async () => {
  await lab.cleanup();
});

/** An instance of VIP `vip`, v3 at 0.2 s; `extra`: more lines inside it. */
const instance = (name: string, vrid: number, prio: number, vip: string | undefined, extra: string[] = []) =>
  instanceConf({ name, vrid, prio, version: 3, advertInt: '0.2', vips: [`${vip}/24`], extra });

/** r1's file: VI_1 tracks a file (weight 10); VI_2 and VI_3 form sync group G. */
function r1Config(run: string): string {
  return `global_defs {
  router_id kt_nf
  notify_fifo ${run}/notify.fifo nobody nogroup
  notify_fifo_script "${run}/reader.sh ${run}/read.txt"
  vrrp_notify_fifo ${run}/vrrp.fifo
  vrrp_notify_priority_changes
}
track_file tf {
  file ${run}/track
  weight 10
}
vrrp_sync_group G {
  group {
    VI_2
    VI_3
  }
}
${instance('VI_1', 61, 100, VIPS[0], ['track_file {', '  tf', '}'])}${instance('VI_2', 62, 100, VIPS[1])}${instance('VI_3', 63, 100, VIPS[2])}`;
}

const r2Config = `global_defs {\n  router_id kt_nf2\n}\n${instance('VI_1', 61, 200, VIPS[0])}${instance('VI_2', 62, 200, VIPS[1])}${instance('VI_3', 63, 200, VIPS[2])}`;

/** The lines the FIFO's reader wrote, after its first line (its own arguments). */
function readLines(run: string): string[] {
  const f = join(run, 'read.txt');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

/** Each name's lines, in order: `VI_1` -> [...], `G` -> [...]. */
function byName(lines: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of lines) (out[/"([^"]+)"/.exec(l)?.[1] ?? '?'] ??= []).push(l);
  return out;
}

interface Seen {
  /** What the notify_fifo_script read. */
  script: string[];
  /** What an outside reader of vrrp_notify_fifo read. */
  outside: string[];
  args: string;
  fifosGone: boolean;
  /** `uid:gid mode` of the notify_fifo the daemon created. */
  fifoOwner: string;
}

async function scenario(impl: Impl): Promise<Seen> {
  const run = join(lab.dir, impl);
  lab.exec(lab.r1.ns, `mkdir -p ${run}`);
  writeFileSync(join(run, 'track'), '0\n');
  const reader = join(run, 'reader.sh');
  writeFileSync(
    reader,
    '#!/bin/sh\n# $1: output file, $2: the FIFO (added by the daemon)\necho "args $#" > "$1"\nwhile read -r line; do echo "$line" >> "$1"; done < "$2"\n',
  );
  chmodSync(reader, 0o755);
  const has = (n: number, line: string) => readLines(run).filter((l) => l === line).length >= n;

  // our VRRP child alone inherits the test's umask: give it keepalived's (0177), as our
  // parent gives its children, since the FIFO's mode shows it
  const umask = process.umask(0o177);
  const d1 = await lab.start(impl, lab.r1, r1Config(run)).finally(() => process.umask(umask));
  const outside: string[] = [];
  const cat = lab.net.spawn(lab.r1.ns, ['cat', join(run, 'vrrp.fifo')]);
  cat.stdout!.on('data', (b: Buffer) => outside.push(...b.toString().split('\n').filter(Boolean)));
  const catDone = new Promise((r) => cat.once('exit', r));
  await until(() => has(1, 'INSTANCE "VI_1" MASTER 100') && has(1, 'GROUP "G" MASTER 0'), 20_000, `${impl}: r1 MASTER lines`);
  const fifo = statSync(join(run, 'notify.fifo'));
  expect(fifo.isFIFO()).toBe(true);
  const fifoOwner = `${fifo.uid}:${fifo.gid} ${(fifo.mode & 0o777).toString(8)}`;
  await sleep(500);
  writeFileSync(join(run, 'track'), '2\n'); // 100 + 2 * 10
  await until(() => has(1, 'INSTANCE "VI_1" MASTER_PRIORITY 120'), 10_000, `${impl}: priority line`);
  const d2 = await lab.start('keepalived', lab.r2, r2Config);
  await until(() => has(1, 'INSTANCE "VI_1" BACKUP 120') && has(1, 'GROUP "G" BACKUP 0'), 20_000, `${impl}: r1 BACKUP lines`);
  await sleep(500);
  writeFileSync(join(run, 'track'), '0\n');
  await until(() => has(1, 'INSTANCE "VI_1" BACKUP_PRIORITY 100'), 10_000, `${impl}: priority line in BACKUP`);
  await sleep(500);
  await d1.stop();
  await catDone; // EOF: the daemon closed its end
  await d2.stop();
  await lab.stopAll();
  lab.flushVips(
    lab.r1,
    VIPS.map((v) => `${v}/24`),
  );
  lab.flushVips(
    lab.r2,
    VIPS.map((v) => `${v}/24`),
  );
  const [args, ...script] = readLines(run);
  return { script, outside, args: args ?? '', fifosGone: !existsSync(join(run, 'notify.fifo')) && !existsSync(join(run, 'vrrp.fifo')), fifoOwner };
}

describe.skipIf(why)('notify_fifo beside keepalived 2.2.7', () => {
  it('the FIFO script reads the same lines from ours as from keepalived for the same transitions', async () => {
    const theirs = await scenario('keepalived');
    const ours = await scenario('ours');
    // the script got its own argument and the FIFO's path
    expect(ours.args).toBe('args 2');
    expect(theirs.args).toBe('args 2');
    // each removed the FIFOs it created
    expect([ours.fifosGone, theirs.fifosGone]).toEqual([true, true]);
    // `notify_fifo FILE nobody nogroup`: created owned by them, with keepalived's mode under its umask
    expect(ours.fifoOwner).toBe(theirs.fifoOwner);
    expect(ours.fifoOwner).toMatch(/^65534:65534 /);
    expect(byName(ours.script)).toEqual(byName(theirs.script));
    expect(byName(ours.outside)).toEqual(byName(theirs.outside));
    // what both wrote, spelled out (the transitions above, in keepalived's words)
    expect(byName(ours.outside)).toEqual({
      VI_1: [
        'INSTANCE "VI_1" BACKUP 100',
        'INSTANCE "VI_1" MASTER 100',
        'INSTANCE "VI_1" MASTER_PRIORITY 120',
        'INSTANCE "VI_1" BACKUP 120',
        'INSTANCE "VI_1" BACKUP_PRIORITY 100',
        'INSTANCE "VI_1" STOP 100',
      ],
      VI_2: ['INSTANCE "VI_2" BACKUP 100', 'INSTANCE "VI_2" MASTER 100', 'INSTANCE "VI_2" BACKUP 100', 'INSTANCE "VI_2" STOP 100'],
      VI_3: ['INSTANCE "VI_3" BACKUP 100', 'INSTANCE "VI_3" MASTER 100', 'INSTANCE "VI_3" BACKUP 100', 'INSTANCE "VI_3" STOP 100'],
      G: ['GROUP "G" BACKUP 0', 'GROUP "G" MASTER 0', 'GROUP "G" BACKUP 0', 'GROUP "G" STOP 0'],
    });
    // the script was ended before the STOP lines were written, as keepalived ends it
    expect(ours.script.some((l) => l.includes('STOP'))).toBe(false);
  }, 240_000);
});

// ---------------------------------------------------------------------------------------
// smtp_alert

/** r1's global_defs for the mail scenarios: alerts to the sink in r1. */
const MAIL_GLOBALS = `global_defs {
  router_id kt_sa
  notification_email {
    ops@example.net
  }
  notification_email_from kt@example.net
  smtp_server 127.0.0.1 2525
  smtp_connect_timeout 5
}`;

/** VI_1 alone (smtp_alert on itself), VI_2 and VI_3 in group G (smtp_alert on the group). */
const mailR1Config = `${MAIL_GLOBALS}
vrrp_sync_group G {
  group {
    VI_2
    VI_3
  }
  smtp_alert
}
${instance('VI_1', 74, 100, MAIL_VIPS[0], ['smtp_alert'])}${instance('VI_2', 75, 100, MAIL_VIPS[1])}${instance('VI_3', 76, 100, MAIL_VIPS[2])}`;

const mailR2Config = `global_defs {\n  router_id kt_sa2\n}\n${instance('VI_1', 74, 200, MAIL_VIPS[0])}${instance('VI_2', 75, 200, MAIL_VIPS[1])}${instance('VI_3', 76, 200, MAIL_VIPS[2])}`;

const flushMailVips = (r: Router) =>
  lab.flushVips(
    r,
    MAIL_VIPS.map((v) => `${v}/24`),
  );

interface Mail {
  subject: string;
  body: string;
}

/** Each sender's mails in order, by the name in the subject (`VI_1`, `G`). */
function mailsByName(mails: Mail[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of mails) (out[/VRRP (?:Instance|Group) (\S+)/.exec(m.subject)?.[1] ?? '?'] ??= []).push(`${m.subject} | ${m.body}`);
  return out;
}

async function mailScenario(impl: Impl): Promise<Mail[]> {
  return collectMails(async (mails) => {
    const subjects = () => mails.map((m) => m.subject);
    const d1 = await lab.start(impl, lab.r1, mailR1Config);
    await until(
      () => subjects().includes('[kt_sa] VRRP Group G - Entering MASTER state') && subjects().includes('[kt_sa] VRRP Instance VI_1 - Entering MASTER state'),
      30_000,
      `${impl}: MASTER mails`,
    );
    const d2 = await lab.start('keepalived', lab.r2, mailR2Config);
    await until(() => subjects().filter((s) => /Entering BACKUP state/.test(s)).length >= 4, 30_000, `${impl}: BACKUP mails`);
    await d1.stop();
    await sleep(3000); // mails sent while stopping, if any
    await d2.stop();
    await lab.stopAll();
    for (const r of [lab.r1, lab.r2]) flushMailVips(r);
  });
}

/** Before the reload: VI_1 with notify_deleted and VI_4 without, both mailing; after it, neither. */
const deletedConfigs = (instances: string) => `${MAIL_GLOBALS}
${instances}`;
const beforeReload = deletedConfigs(
  `${instance('VI_1', 74, 100, MAIL_VIPS[0], ['smtp_alert', 'notify_deleted'])}${instance('VI_4', 77, 100, MAIL_VIPS[1], ['smtp_alert'])}${instance('VI_2', 75, 100, MAIL_VIPS[2])}`,
);
const afterReload = deletedConfigs(instance('VI_2', 75, 100, MAIL_VIPS[2]));

/** Mails arriving at a sink in r1 while `run` goes; stops the sink after. */
async function collectMails(run: (mails: Mail[]) => Promise<void>): Promise<Mail[]> {
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
  try {
    await run(mails);
  } finally {
    sink.kill('SIGTERM');
  }
  return mails;
}

async function deletedScenario(impl: Impl): Promise<Mail[]> {
  return collectMails(async (mails) => {
    const subjects = () => mails.map((m) => m.subject);
    const d = await lab.start(impl, lab.r1, beforeReload, { wholeDaemon: true });
    await until(() => subjects().filter((s) => /Entering MASTER state/.test(s)).length >= 2, 30_000, `${impl}: MASTER mails`);
    writeFileSync(d.conf, afterReload);
    process.kill(d.proc.pid!, 'SIGHUP');
    await until(() => subjects().filter((s) => /Deleted|Entering FAULT/.test(s)).length >= 2, 30_000, `${impl}: mails of the removed instances`);
    await sleep(1000); // anything more the reload would send
    await d.stop();
    flushMailVips(lab.r1);
  });
}

describe.skipIf(why)('VRRP smtp_alert beside keepalived 2.2.7', () => {
  it('a reload removing instances mails "Deleted" with notify_deleted and FAULT without, as keepalived', async () => {
    const theirs = mailsByName(await deletedScenario('keepalived'));
    const ours = mailsByName(await deletedScenario('ours'));
    expect(ours).toEqual(theirs);
    expect(ours.VI_1).toEqual([
      '[kt_sa] VRRP Instance VI_1 - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=',
      '[kt_sa] VRRP Instance VI_1 - Entering MASTER state | => VRRP Instance is now owning VRRP VIPs <=',
      '[kt_sa] VRRP Instance VI_1 - Deleted | => VRRP Deleted at reload <=',
    ]);
    expect(ours.VI_4?.at(-1)).toBe('[kt_sa] VRRP Instance VI_4 - Entering FAULT state | => VRRP Instance is no longer owning VRRP VIPs <=');
  }, 240_000);

  it('instances and sync groups mail the same subjects and bodies as keepalived for the same transitions', async () => {
    const theirs = mailsByName(await mailScenario('keepalived'));
    const ours = mailsByName(await mailScenario('ours'));
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
