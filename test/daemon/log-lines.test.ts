// Our daemon's log lines beside keepalived 2.2.7's for the same events, each daemon in its
// own network namespace with a syslog listener bound at /dev/log in a private mount
// namespace (test/helpers/private-dev-log.sh): both run `-n -l -d -S 3`, so every line goes to
// syslog (facility local3) and to the console, and the configuration data is logged at start. A track script flips the instance through
// BACKUP, MASTER, FAULT and back; the lines people alert on must be the same text with the
// same ident and priority, and the datagram and console framings the same shape.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { NetnsLab, sh, until } from '../helpers/netns.js';
import { BIN, daemonLabUnavailable, readPid } from './daemon-lab.js';

const WRAP = fileURLToPath(new URL('../helpers/private-dev-log.sh', import.meta.url));
const skip =
  daemonLabUnavailable(true) ??
  (() => {
    try {
      sh('command -v unshare');
      return null;
    } catch {
      return 'unshare (util-linux) not installed';
    }
  })();
if (skip) console.warn(`test/daemon/log-lines.test.ts skipped: ${skip}`);

type Impl = 'ours' | 'keepalived';
const lab = new NetnsLab('kt-log');
const dir = mkdtempSync(join(tmpdir(), 'kt-log-'));

const conf = (flag: string) => `global_defs {
  router_id kt_log
}
vrrp_script chk {
  script "/usr/bin/test -e ${flag}"
  interval 1
  fall 1
  rise 1
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  track_script {
    chk
  }
  virtual_ipaddress {
    10.231.0.100/24
  }
}
`;

interface Run {
  impl: Impl;
  proc: ChildProcess;
  console: () => string;
  flag: string;
  pidFile: string;
  syslog: string;
}

function start(impl: Impl): Run {
  const ns = lab.ns(impl === 'ours' ? 'o' : 'k');
  lab.exec(ns, 'ip link add eth0 type veth peer name eth1 && ip link set eth0 up && ip link set eth1 up && ip addr add 10.231.0.1/24 dev eth0');
  const flag = join(dir, `${impl}.flag`);
  writeFileSync(flag, '');
  const confPath = join(dir, `${impl}.conf`);
  writeFileSync(confPath, conf(flag));
  const p = (n: string) => join(dir, `${impl}-${n}.pid`);
  const cmd = impl === 'ours' ? [BIN] : ['keepalived'];
  const syslog = join(dir, `${impl}.syslog`);
  const proc = lab.spawn(
    ns,
    [
      'unshare',
      '-m',
      '--propagation',
      'private',
      WRAP,
      ...cmd,
      '-n',
      '-l',
      '-d',
      '-S',
      '3',
      '-f',
      confPath,
      '-p',
      p('parent'),
      '-r',
      p('vrrp'),
      '-c',
      p('checker'),
    ],
    { SYSLOG_OUT: syslog },
  );
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return { impl, proc, console: () => out, flag, pidFile: p('parent'), syslog };
}

const count = (r: Run, re: RegExp) =>
  r
    .console()
    .split('\n')
    .filter((l) => re.test(l)).length;

async function drive(r: Run): Promise<void> {
  const wait = (re: RegExp, n: number, what: string) => until(() => count(r, re) >= n, 30_000, `${r.impl}: ${what}\n${r.console()}`);
  await wait(/\(VI_1\) Entering MASTER STATE/, 1, 'MASTER');
  unlinkSync(r.flag);
  await wait(/\(VI_1\) Entering FAULT STATE/, 1, 'FAULT');
  writeFileSync(r.flag, '');
  await wait(/\(VI_1\) Entering MASTER STATE/, 2, 'MASTER again');
  const pid = readPid(r.pidFile);
  if (pid) process.kill(pid, 'SIGTERM');
  await new Promise((res) => (r.proc.exitCode !== null ? res(null) : r.proc.once('exit', res)));
}

/** The alerting lines of one capture: [priority, ident, text], pids normalised. */
const ALERTING = /Entering \w+ STATE|VRRP_Script\(|^Starting VRRP child process/;
const SYSLOG = /^<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) ([\w-]+)\[(\d+)\]: (.*)$/s;
const CONSOLE = /^([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}): (.*)$/;

function syslogLines(r: Run): { pri: number; ident: string; text: string }[] {
  const datagrams = readFileSync(r.syslog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown)
    .filter((d): d is string => typeof d === 'string');
  return datagrams.map((d) => {
    const m = SYSLOG.exec(d);
    if (!m) throw new Error(`${r.impl}: not a syslog datagram: ${JSON.stringify(d)}`);
    return { pri: Number(m[1]), ident: m[3]!, text: m[5]!.replace(/pid=\d+/, 'pid=N') };
  });
}

describe.skipIf(skip)('log lines: ours beside keepalived 2.2.7', () => {
  afterAll(() => {
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the alerting events: same text, ident and priority on syslog, same console framing', async () => {
    const runs = [start('keepalived'), start('ours')];
    await Promise.all(runs.map(drive));
    const [theirs, ours] = runs.map((r) => syslogLines(r).filter((l) => ALERTING.test(l.text)));
    console.log(`keepalived:\n${theirs!.map((l) => `  <${l.pri}> ${l.ident}: ${l.text}`).join('\n')}`);
    expect(theirs!.length).toBeGreaterThanOrEqual(7);
    expect(ours).toEqual(theirs);
    // local3 (-S 3) at LOG_INFO
    expect(new Set(theirs!.map((l) => l.pri))).toEqual(new Set([19 * 8 + 6]));

    for (const r of runs) {
      const lines = r
        .console()
        .split('\n')
        .filter((l) => ALERTING.test(l));
      expect(lines.length, r.impl).toBeGreaterThanOrEqual(7);
      for (const l of lines) expect(l, r.impl).toMatch(CONSOLE);
    }
    // -d: both log their configuration data (keepalived.data's sections) and keep running
    for (const r of runs) {
      for (const h of ['Global definitions', 'VRRP Topology', 'VRRP Scripts', 'Interfaces'])
        expect(r.console(), `${r.impl} -d`).toContain(`: ------< ${h} >------`);
    }
    const consoleText = (r: Run) =>
      r
        .console()
        .split('\n')
        .map((l) => CONSOLE.exec(l)?.[2] ?? '')
        .filter((t) => ALERTING.test(t))
        .map((t) => t.replace(/pid=\d+/, 'pid=N'));
    expect(consoleText(runs[1]!)).toEqual(consoleText(runs[0]!));
  }, 120_000);
});
