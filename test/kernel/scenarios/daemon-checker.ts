/**
 * The real daemon (`bin/keepalived-ts -n -C -I`, watchdog parent + checker child) against
 * real kernel IPVS: NAT from a client namespace through a VIP to busybox httpd real servers.
 *
 *   - start: the table is programmed in one netlink write; /metrics and /status include
 *     the checker; USR1 writes /tmp/keepalived_check.data
 *   - HUP adding one real_server: exactly one destination added (one write, one op, and
 *     `ipvsadm -Sn` differs by that line only)
 *   - HUP with a broken file: refused with file:line:column, the table unchanged
 *   - kill -9 of the checker child: the parent restarts it, the new child adopts the table
 *     (zero writes), `ipvsadm -Sn` and the connection counters unchanged
 *   - TERM, then a new daemon with -I, while a client keeps requesting through the VIP:
 *     the failed requests are counted (target zero)
 *
 * One scenario, one daemon start shared by the steps: each start of the parent and its
 * child costs ~10-35 s of module loading in the TCG guest. Everything waited for is polled
 * in-process (log file, pid files) every 250 ms, never by spawning commands in a loop:
 * a process spawn costs enough CPU in the guest to starve the daemon's start-up.
 * KT_DMN_LOG=/path/in/the/project keeps the daemon's log where the host can read it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { createNs, vethNs, type Ns } from '../guest-net.js';

const DIR = '/tmp/kt-dmn';
const CONF = `${DIR}/keepalived.conf`;
const LOG = process.env.KT_DMN_LOG ?? `${DIR}/daemon.log`;
const PIDS = { parent: `${DIR}/parent.pid`, checker: `${DIR}/checker.pid`, vrrp: `${DIR}/vrrp.pid` };
const CLIENT_OUT = `${DIR}/client.json`;
const DUMP = '/tmp/keepalived_check.data';
const VIP = '10.96.100.1';
const STATUS_PORT = 9651;
const here = dirname(fileURLToPath(import.meta.url)); // dist/test/kernel/scenarios
const PROJECT = join(here, '..', '..', '..', '..');
const BIN = join(PROJECT, 'bin', 'keepalived-ts');
const CLIENT = join(here, '..', 'vip-client.js');

const ns = (n: number, name: string): Ns => vethNs('kt-dmn', 96, n, name);
const client = ns(0, 'c');
const r1 = ns(1, 'r1');
const r2 = ns(2, 'r2');
const r3 = ns(3, 'r3');
const servers = [r1, r2, r3];

const realServer = (s: Ns, weight: number) => `
  real_server ${s.ip} 80 {
    weight ${weight}
    TCP_CHECK {
      connect_timeout 2
      retry 0
    }
  }`;
const conf = (members: string[], extra = '') => `global_defs {
  router_id kt_dmn
}
virtual_server ${VIP} 80 {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  protocol TCP
${members.join('\n')}${extra}
}
`;
const confTwo = conf([realServer(r1, 1), realServer(r2, 2)]);
const confThree = conf([realServer(r1, 1), realServer(r2, 2), realServer(r3, 1)]);
// a file a reload must refuse: a reload skips what a start skips (the typo), but a block
// left open would stop a start
// refused by a reload as by a start: an unterminated quote (a misspelled keyword or a missing
// `}` would be read on, as keepalived does)
const confBroken = conf([realServer(r1, 1), realServer(r2, 2), realServer(r3, 1)], '\n  quorum_up "/bin/true');

const netns = createNs;

function progress(ctx: ScenarioContext, m: string): void {
  ctx.log(m);
  console.log(`daemon-checker: ${m}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (): string => (existsSync(LOG) ? readFileSync(LOG, 'utf8') : '');
const logLines = (re: RegExp): string[] =>
  log()
    .split('\n')
    .filter((l) => re.test(l));
const pidOf = (f: string): number | null => {
  try {
    return Number(readFileSync(f, 'utf8').trim()) || null;
  } catch {
    return null;
  }
};
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Polls `cond` in-process every 250 ms; returns the milliseconds it took, or null. */
async function waitFor(ctx: ScenarioContext, what: string, cond: () => boolean, ms: number): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (cond()) {
      progress(ctx, `${what}: after ${Date.now() - started} ms`);
      return Date.now() - started;
    }
    await sleep(250);
  }
  progress(ctx, `${what}: NOT reached within ${ms} ms`);
  return null;
}

const tableLines = (sn: string) =>
  sn
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();

/** `status`: with the status endpoint (prom-client and http in both processes: seconds of start in the guest). */
async function startDaemon(ctx: ScenarioContext, status: boolean): Promise<number> {
  // exec all the way down, so $! is the daemon's own pid (env execs node from the shebang)
  const out = await ctx.shOk(
    `(cd ${PROJECT} && exec env KEEPALIVED_TS_IPVS_OWNED=${DIR}/owned.json ${BIN} -n -l -C -I -f ${CONF} ` +
      `-p ${PIDS.parent} -c ${PIDS.checker} -r ${PIDS.vrrp}${status ? ` --status-listen=127.0.0.1:${STATUS_PORT}` : ''}) >> ${LOG} 2>&1 & echo $!`,
  );
  return Number(out.trim());
}

async function scrape(path: '/metrics' | '/status'): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${STATUS_PORT}${path}`);
  return res.text();
}

/** A sample of /metrics: `name{labels} value` lines whose text contains every fragment. */
function metric(text: string, ...fragments: string[]): number | null {
  const line = text.split('\n').find((l) => !l.startsWith('#') && fragments.every((f) => l.includes(f)));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function fetchVip(ctx: ScenarioContext, n: number): Promise<string[]> {
  const replies: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await ctx.sh(`ip netns exec ${client.ns} timeout 5 busybox wget -q -O - http://${VIP}/`);
    replies.push(r.code === 0 ? r.stdout.trim() : `failed (${r.code})`);
  }
  return [...new Set(replies)].sort();
}

const scenario: Scenario = {
  name: 'daemon-checker',
  timeoutMs: 300_000,
  async run(ctx) {
    let clientPid: number | null = null;
    try {
      mkdirSync(DIR, { recursive: true });
      writeFileSync(CONF, confTwo);
      writeFileSync(LOG, '');
      await ctx.shOk(
        [
          `rm -f ${DIR}/owned.json ${DUMP}`,
          'ipvsadm -C',
          'sysctl -qw net.ipv4.ip_forward=1',
          `ip addr add ${VIP}/32 dev lo`,
          ...[client, ...servers].map(netns),
          ...servers.map((s) => `mkdir -p ${DIR}/${s.ns} && echo ${s.ns} > ${DIR}/${s.ns}/index.html`),
          ...servers.map((s) => `ip netns exec ${s.ns} busybox httpd -p ${s.ip}:80 -h ${DIR}/${s.ns}`),
        ].join(' && '),
      );

      // ---- start ----------------------------------------------------------------------
      const t0 = Date.now();
      const parentA = await startDaemon(ctx, true);
      const started = await waitFor(ctx, 'daemon A: checker started', () => logLines(/: checker started/).length >= 1, 150_000);
      ctx.check("the daemon's checker child starts", started !== null, true);
      if (started === null) throw new Error(`the checker never started; log:\n${log()}`);
      progress(ctx, `daemon start to checker ready: ${Date.now() - t0} ms`);
      ctx.check('the first start programs the table in one netlink write', /writes=1 ops=3/.test(logLines(/: checker started/)[0]!), true);
      const snTwo = await ctx.shOk('ipvsadm -Sn');
      ctx.check(
        'the table holds both real servers',
        tableLines(snTwo).filter((l) => l.startsWith('-a')),
        [`-a -t ${VIP}:80 -r ${r1.ip}:80 -m -w 1`, `-a -t ${VIP}:80 -r ${r2.ip}:80 -m -w 2`],
      );
      ctx.check('traffic through the VIP reaches both', await fetchVip(ctx, 6), [r1.ns, r2.ns]);

      // ---- metrics, status, USR1 --------------------------------------------------------
      await sleep(2500); // a delay_loop of checks, and the IPVS estimator folding the counters
      const metrics = await scrape('/metrics');
      const vsLabel = `virtual_server="[${VIP}]:tcp:80"`;
      ctx.check(
        '/metrics: the checker reports both real servers up',
        [r1, r2].map((s) => metric(metrics, 'keepalived_real_server_up{', vsLabel, `[${s.ip}]:tcp:80`)),
        [1, 1],
      );
      ctx.check('/metrics: one IPVS netlink write so far', metric(metrics, 'keepalived_ipvs_netlink_writes_total'), 1);
      const conns = [r1, r2].map((s) => metric(metrics, 'keepalived_ipvs_connections_total{', `[${s.ip}]:tcp:80`) ?? 0);
      ctx.log(`connections per real server: ${conns.join(', ')}`);
      ctx.check("/metrics: the kernel's connection counters of the 6 requests", conns[0]! + conns[1]!, 6);
      ctx.check(
        '/metrics: check latency is recorded per checker',
        (metric(metrics, 'keepalived_check_duration_seconds_count{', `[${r1.ip}]:tcp:80`, 'TCP_CHECK') ?? 0) > 0,
        true,
      );
      const status = JSON.parse(await scrape('/status')) as { checker?: { virtualServers: { realServers: { realServer: string; up: boolean }[] }[] } };
      ctx.check(
        "/status includes the checker's real servers",
        status.checker?.virtualServers[0]?.realServers.map((r) => [r.realServer, r.up]),
        [
          [`[${r1.ip}]:tcp:80`, true],
          [`[${r2.ip}]:tcp:80`, true],
        ],
      );

      process.kill(parentA, 'SIGUSR1');
      await waitFor(ctx, 'keepalived_check.data written', () => existsSync(DUMP), 10_000);
      const dump = existsSync(DUMP) ? readFileSync(DUMP, 'utf8') : '';
      const has = (l: string) => dump.split('\n').includes(l);
      ctx.check(
        'USR1: keepalived_check.data as keepalived writes it',
        [
          ' Router ID = kt_dmn',
          ` VS VIP = ${VIP}, VPORT = 80`,
          `   RIP = ${r1.ip}, RPORT = 80, WEIGHT = 1 EFF WEIGHT = 1`,
          `   RIP = ${r2.ip}, RPORT = 80, WEIGHT = 2 EFF WEIGHT = 2`,
          `   RS set = 1`,
          ` [${VIP}]:tcp:80 -> [${r1.ip}]:tcp:80`,
          '   Has run = yes',
          '   Keepalive method = TCP_CHECK',
          ' System is compiled with LVS v1.2.1',
        ].filter((l) => !has(l)),
        [],
      );
      ctx.check('the checker child survived USR1', alive(pidOf(PIDS.checker) ?? -1), true);

      // ---- HUP: one more real server ----------------------------------------------------
      writeFileSync(CONF, confThree);
      process.kill(parentA, 'SIGHUP');
      await waitFor(ctx, 'reload applied', () => logLines(/: configuration reloaded .*writes=/).length >= 1, 60_000);
      const reloaded = logLines(/: configuration reloaded .*writes=/)[0] ?? '';
      ctx.log(reloaded);
      ctx.check('HUP adding one real_server: one netlink write, one operation', /writes=1 ops=1\b/.test(reloaded), true);
      const snThree = await ctx.shOk('ipvsadm -Sn');
      const added = tableLines(snThree).filter((l) => !tableLines(snTwo).includes(l));
      const removed = tableLines(snTwo).filter((l) => !tableLines(snThree).includes(l));
      ctx.check('ipvsadm -Sn differs by that destination only', { added, removed }, { added: [`-a -t ${VIP}:80 -r ${r3.ip}:80 -m -w 1`], removed: [] });
      ctx.check('/metrics: two IPVS netlink writes now', metric(await scrape('/metrics'), 'keepalived_ipvs_netlink_writes_total'), 2);

      // ---- HUP: a broken file -----------------------------------------------------------
      writeFileSync(CONF, confBroken);
      process.kill(parentA, 'SIGHUP');
      await waitFor(ctx, 'broken reload refused', () => logLines(/new configuration rejected/).length >= 1, 30_000);
      await sleep(1000); // a reload that wrongly went through would have reached the child by now
      const errors = logLines(/error/).filter((l) => l.includes(CONF));
      ctx.log(errors.join('\n'));
      ctx.check(
        'HUP with a broken file: the error is logged with file:line:column',
        errors.some((l) => new RegExp(`${CONF}:\\d+:\\d+`).test(l) && l.includes('unterminated quote')),
        true,
      );
      ctx.check('and the checker was not asked to reload', logLines(/: configuration reloaded .*writes=/).length, 1);
      ctx.check('and the table is unchanged', tableLines(await ctx.shOk('ipvsadm -Sn')), tableLines(snThree));
      writeFileSync(CONF, confThree);

      // ---- kill -9 of the checker child -------------------------------------------------
      await fetchVip(ctx, 6);
      await sleep(2500); // the IPVS estimator folds the counters every 2 s
      const statsBefore = await ctx.shOk('ipvsadm -Ln --stats --exact');
      const oldChecker = pidOf(PIDS.checker)!;
      const startsBefore = logLines(/: checker started/).length;
      const killedAt = Date.now();
      process.kill(oldChecker, 'SIGKILL');
      const restartMs = await waitFor(ctx, 'checker restarted after kill -9', () => logLines(/: checker started/).length > startsBefore, 120_000);
      progress(
        ctx,
        `FIGURE kill -9 -> new checker ready: ${restartMs ?? 'never'} ms (parent respawn at ${logLines(/checker child died; restarting/).length ? 'logged' : 'NOT logged'})`,
      );
      ctx.check('the parent restarts the killed checker', restartMs !== null && pidOf(PIDS.checker) !== oldChecker, true);
      const adopted = logLines(/: checker started/).at(-1) ?? '';
      ctx.check('the new checker adopts the table: zero writes', /adopted the IPVS table as it was \(no writes\).*writes=0/.test(adopted), true);
      await sleep(Math.max(0, 2500 - (Date.now() - killedAt - (restartMs ?? 0)))); // a delay_loop of checks by the new child
      ctx.check('ipvsadm -Sn is the same after the restart', tableLines(await ctx.shOk('ipvsadm -Sn')), tableLines(snThree));
      ctx.check('and the connection counters too (a delete and re-add would zero them)', await ctx.shOk('ipvsadm -Ln --stats --exact'), statsBefore);

      // ---- TERM, then start again with -I, under traffic ----------------------------------
      const cl = await ctx.shOk(`ip netns exec ${client.ns} node ${CLIENT} http://${VIP}/ ${CLIENT_OUT} 250 > ${DIR}/client.log 2>&1 & echo $!`);
      clientPid = Number(cl.trim());
      const clientStats = () =>
        existsSync(CLIENT_OUT)
          ? (JSON.parse(readFileSync(CLIENT_OUT, 'utf8') || '{}') as { ok: number; failed: number; errors: string[]; bodies: Record<string, number> })
          : null;
      await waitFor(ctx, 'client running', () => (clientStats()?.ok ?? 0) >= 8, 60_000);
      process.kill(parentA, 'SIGTERM');
      const stoppedMs = await waitFor(ctx, 'daemon A stopped', () => !alive(parentA), 30_000);
      ctx.check('daemon A stops on TERM', stoppedMs !== null, true);
      ctx.check('-I: the table stays while no daemon runs', tableLines(await ctx.shOk('ipvsadm -Sn')), tableLines(snThree));
      const okAtStop = clientStats()?.ok ?? 0;
      const startsBeforeB = logLines(/: checker started/).length;
      const restartedAt = Date.now();
      await startDaemon(ctx, false);
      const bStarted = await waitFor(ctx, 'daemon B: checker started', () => logLines(/: checker started/).length > startsBeforeB, 150_000);
      progress(ctx, `FIGURE TERM + start -I: daemon B's checker ready ${bStarted === null ? 'never' : `${Date.now() - restartedAt} ms`} after the new start`);
      ctx.check(
        'daemon B adopts the table: zero writes',
        /adopted the IPVS table as it was \(no writes\).*writes=0/.test(logLines(/: checker started/).at(-1) ?? ''),
        true,
      );
      await sleep(3000);
      process.kill(clientPid, 'SIGTERM');
      await waitFor(ctx, 'client stopped', () => !alive(clientPid!), 10_000);
      clientPid = null;
      const final = clientStats()!;
      progress(
        ctx,
        `FIGURE -I restart under traffic: ${final.ok} requests ok, ${final.failed} failed (${final.ok - okAtStop} ok while daemon A was gone and B started); bodies ${JSON.stringify(final.bodies)}; errors ${JSON.stringify(final.errors)}`,
      );
      ctx.check('no request through the VIP failed across TERM and a new start with -I', final.failed, 0);
      ctx.check('requests kept being served while no daemon ran', final.ok - okAtStop > 0, true);
      ctx.check('the table is the same after the -I restart', tableLines(await ctx.shOk('ipvsadm -Sn')), tableLines(snThree));
    } finally {
      if (clientPid)
        try {
          process.kill(clientPid, 'SIGTERM');
        } catch {
          /* gone */
        }
      const parent = pidOf(PIDS.parent);
      if (parent && alive(parent)) {
        process.kill(parent, 'SIGTERM');
        for (let i = 0; i < 40 && alive(parent); i++) await sleep(250);
      }
      ctx.log(`daemon log:\n${log().split('\n').slice(-60).join('\n')}`);
      await ctx.sh(
        [
          ...[client, ...servers].map((n) => `ip netns pids ${n.ns} | xargs -r kill; ip link del ${n.host}; ip netns del ${n.ns}`),
          `ip addr del ${VIP}/32 dev lo`,
          'ipvsadm -C',
          `rm -f ${DUMP}`,
        ].join('; '),
      );
    }
  },
};
export default scenario;
