/**
 * keepalived's checker process keywords against real kernel IPVS (the checker applies them
 * once it has programmed the table, which needs IPVS): `checker_rt_priority`,
 * `checker_no_swap`, `checker_cpu_affinity`, `checker_rlimit_rttime`, ours (`bin/keepalived-ts -n -C`) and keepalived
 * 2.2.7 (`keepalived -n -C`) on the same file, one after the other. For each, what the kernel
 * reports for the checker process: the policy in /proc/PID/sched (and `chrt -p`, which also
 * shows SCHED_RESET_ON_FORK), VmLck and Cpus_allowed_list in /proc/PID/status and the
 * RLIMIT_RTTIME in /proc/PID/limits. Waiting polls pid files and /proc/net/ip_vs
 * in-process (a spawn per poll starves a start-up in the guest).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario, ScenarioContext } from '../scenario.js';

const DIR = '/tmp/kt-pkn';
const CONF = `${DIR}/keepalived.conf`;
const here = dirname(fileURLToPath(import.meta.url)); // dist/test/kernel/scenarios
const PROJECT = join(here, '..', '..', '..', '..');
const BIN = join(PROJECT, 'bin', 'keepalived-ts');
const VIP = '10.97.100.1';

const CONFIG = `global_defs {
  router_id kt_pkn
  checker_rt_priority 30
  checker_no_swap
  checker_cpu_affinity 0
  checker_rlimit_rttime 2000000
}
virtual_server ${VIP} 80 {
  delay_loop 5
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.97.1.2 80 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pidOf = (f: string): number | null => {
  try {
    return Number(readFileSync(f, 'utf8').trim()) || null;
  } catch {
    return null;
  }
};
const servicesInTable = (): number =>
  readFileSync('/proc/net/ip_vs', 'utf8')
    .split('\n')
    .filter((l) => /^TCP\s/.test(l)).length;

async function observe(ctx: ScenarioContext, pid: number) {
  const chrt = await ctx.shOk(`chrt -p ${pid}`);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const limits = /^Max realtime timeout\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return {
    schedPolicy: Number(/^policy\s*:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/sched`, 'utf8'))?.[1]),
    policy: /scheduling policy: (.*)/.exec(chrt)?.[1]?.trim(),
    priority: Number(/scheduling priority: (\d+)/.exec(chrt)?.[1]),
    cpus: /^Cpus_allowed_list:\s+(\S+)/m.exec(status)?.[1],
    locked: Number(/^VmLck:\s+(\d+)/m.exec(status)?.[1]) > 0,
    rttime: limits ? `${limits[1]}/${limits[2]}` : null,
  };
}

/** Starts one implementation's checker, waits until the table holds the service and the keywords had time to apply, observes, stops. */
async function run(ctx: ScenarioContext, impl: 'ours' | 'keepalived') {
  const pids = { parent: `${DIR}/${impl}.pid`, checker: `${DIR}/${impl}-checker.pid` };
  const log = `${DIR}/${impl}.log`;
  const cmd =
    impl === 'ours'
      ? `cd ${PROJECT} && exec env KEEPALIVED_TS_IPVS_OWNED=${DIR}/owned.json ${BIN} -n -l -C -f ${CONF} -p ${pids.parent} -c ${pids.checker} -r ${DIR}/vrrp.pid`
      : `exec keepalived -n -l -C -f ${CONF} -p ${pids.parent} -c ${pids.checker} -r ${DIR}/vrrp.pid`;
  const parent = Number((await ctx.shOk(`(${cmd}) > ${log} 2>&1 & echo $!`)).trim());
  try {
    const started = Date.now();
    while (Date.now() - started < 200_000) {
      const checker = pidOf(pids.checker);
      const ready = impl === 'ours' ? /checker started/.test(readFileSync(log, 'utf8')) : servicesInTable() > 0;
      if (checker && ready) break;
      await sleep(250);
    }
    // both apply them once the table is programmed; in a slow guest that may come a while
    // after the first entries appear (or the pid file may name a respawned checker), so the
    // scheduling policy is polled in-process, bounded, before the one full observation
    const inForce = (pid: number) => {
      try {
        return /^policy\s*:\s*2$/m.test(readFileSync(`/proc/${pid}/sched`, 'utf8'));
      } catch {
        return false;
      }
    };
    for (const until = Date.now() + 30_000; Date.now() < until; await sleep(500)) {
      const pid = pidOf(pids.checker);
      if (pid && inForce(pid)) break;
    }
    await sleep(1000);
    const checker = pidOf(pids.checker);
    const logText = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (!checker || servicesInTable() === 0) throw new Error(`${impl}: the checker did not program the table; log:\n${logText}`);
    const seen = await observe(ctx, checker).catch((e: Error) => {
      throw new Error(`${e.message}; ${impl}'s log:\n${logText.split('\n').slice(-40).join('\n')}`);
    });
    ctx.log(`${impl}: ${JSON.stringify(seen)}`);
    if (seen.schedPolicy !== 2) ctx.log(`${impl}'s log:\n${logText.split('\n').slice(-40).join('\n')}`);
    return seen;
  } finally {
    try {
      process.kill(parent, 'SIGTERM');
    } catch {
      /* gone */
    }
    for (let i = 0; i < 40 && pidOf(pids.parent) !== null && existsSync(`/proc/${parent}`); i++) await sleep(250);
    await ctx.sh('ipvsadm -C');
  }
}

const scenario: Scenario = {
  name: 'process-knobs',
  timeoutMs: 300_000,
  async run(ctx) {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(CONF, CONFIG);
    await ctx.sh('ipvsadm -C');
    const ours = await run(ctx, 'ours');
    const keepalived = await run(ctx, 'keepalived');
    const applied = { schedPolicy: 2, policy: 'SCHED_RR|SCHED_RESET_ON_FORK', priority: 30, cpus: '0', locked: true };
    ctx.check(
      'ours: checker_rt_priority, checker_no_swap, checker_cpu_affinity in force on the checker',
      { ...ours, rttime: undefined },
      { ...applied, rttime: undefined },
    );
    ctx.check('keepalived: the same', { ...keepalived, rttime: undefined }, { ...applied, rttime: undefined });
    ctx.check(
      'checker_rlimit_rttime 2000000: the same limit from both (soft half of it)',
      [ours.rttime, keepalived.rttime],
      ['1000000/2000000', '1000000/2000000'],
    );
  },
};

export default scenario;
