/**
 * `keepalived-ts --plan -f FILE` against a running daemon, IPVS side, on the real kernel: the
 * plan for a file that adds, removes and edits services and destinations must name exactly
 * what the HUP with that file then changes in `ipvsadm -Sn`, and changes nothing by itself.
 *
 *   - the daemon (-C: the checker alone) programs the first file's table
 *   - --plan with the second file: exit 1, and its services/destinations added, removed,
 *     edited; `ipvsadm -Sn` unchanged by the asking
 *   - HUP with the second file: the lines of `ipvsadm -Sn` that changed, grouped the same
 *     way, equal the plan's groups
 *   - --plan with the file now running: exit 0, nothing would change
 *
 * Real servers without a health check are in the table as long as they are configured, so
 * no real server has to answer: no namespaces. The daemon runs from dist/ through
 * bin/keepalived-ts; every wait reads files in-process (see daemon-checker.ts for why).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIfExists as read, scenarioProgress, sleep, type Scenario, type ScenarioContext } from '../scenario.js';

const DIR = '/tmp/kt-plan';
const CONF = `${DIR}/keepalived.conf`;
const NEXT = `${DIR}/next.conf`;
const LOG = `${DIR}/daemon.log`;
const PIDS = { parent: `${DIR}/parent.pid`, checker: `${DIR}/checker.pid`, vrrp: `${DIR}/vrrp.pid` };
const here = dirname(fileURLToPath(import.meta.url)); // dist/test/kernel/scenarios
const PROJECT = join(here, '..', '..', '..', '..');
const BIN = join(PROJECT, 'bin', 'keepalived-ts');
/** The emulated guest loads node and our modules slowly (see container.ts). */
const DAEMON_ARGS = '--child-start-timeout=120';

const A = '10.93.0.1';
const B = '10.93.0.2';
const C = '10.93.0.3';
const rs = (ip: string, weight: number) => `  real_server ${ip} 80 {\n    weight ${weight}\n  }`;
const vs = (vip: string, sched: string, servers: string[]) =>
  `virtual_server ${vip} 80 {\n  lb_algo ${sched}\n  lb_kind NAT\n  protocol TCP\n${servers.join('\n')}\n}\n`;
const FIRST = [vs(A, 'rr', [rs('10.93.1.1', 1), rs('10.93.1.2', 1)]), vs(B, 'wlc', [rs('10.93.2.1', 1)])].join('');
/** A: scheduler edited, .1 weight edited, .2 removed, .3 added; B removed; C added. */
const SECOND = [vs(A, 'wrr', [rs('10.93.1.1', 3), rs('10.93.1.3', 1)]), vs(C, 'rr', [rs('10.93.3.1', 1)])].join('');

const progress = (ctx: ScenarioContext, m: string) => scenarioProgress(ctx, 'plan-ipvs', m);

async function waitFor(ctx: ScenarioContext, what: string, cond: () => boolean, ms: number): Promise<boolean> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (cond()) {
      progress(ctx, `${what}: after ${Date.now() - started} ms`);
      return true;
    }
    await sleep(250);
  }
  progress(ctx, `${what}: NOT reached within ${ms} ms; daemon log tail:\n${read(LOG).split('\n').slice(-30).join('\n')}`);
  return false;
}

/**
 * What changed between two `ipvsadm -Sn` outputs, named as --plan names it. A removed
 * service's destinations go with it (one IPVS_CMD_DEL_SERVICE): they are not listed apart.
 */
function tableChanges(before: string, after: string) {
  const proto: Record<string, string> = { '-t': 'TCP', '-u': 'UDP' };
  const parse = (sn: string) => {
    const services = new Map<string, string>();
    const dests = new Map<string, string>();
    for (const line of sn.split('\n').map((l) => l.trim())) {
      const m = /^-([Aa]) (-[tu]) (\S+)(?: -r (\S+))?(.*)$/.exec(line);
      if (!m) continue;
      const svc = `${proto[m[2]!]} ${m[3]}`;
      if (m[1] === 'A') services.set(svc, m[5]!.trim());
      else dests.set(`${m[4]} of ${svc}`, m[5]!.trim());
    }
    return { services, dests };
  };
  const b = parse(before);
  const a = parse(after);
  const groups = (old: Map<string, string>, now: Map<string, string>) => ({
    added: [...now.keys()].filter((k) => !old.has(k)).sort(),
    removed: [...old.keys()].filter((k) => !now.has(k)).sort(),
    edited: [...now.keys()].filter((k) => old.has(k) && old.get(k) !== now.get(k)).sort(),
  });
  const s = groups(b.services, a.services);
  const d = groups(b.dests, a.dests);
  const withRemovedService = (dest: string) => s.removed.some((svc) => dest.endsWith(` of ${svc}`));
  return {
    servicesAdded: s.added,
    servicesRemoved: s.removed,
    servicesEdited: s.edited,
    destinationsAdded: d.added,
    destinationsRemoved: d.removed.filter((x) => !withRemovedService(x)),
    destinationsEdited: d.edited,
  };
}

/** The same groups out of --plan's printed text (two-space headers, four-space items). */
function planGroups(text: string) {
  const key: Record<string, keyof ReturnType<typeof tableChanges>> = {
    'services added': 'servicesAdded',
    'services removed': 'servicesRemoved',
    'services edited': 'servicesEdited',
    'destinations added': 'destinationsAdded',
    'destinations removed': 'destinationsRemoved',
    'destinations edited': 'destinationsEdited',
  };
  const out: ReturnType<typeof tableChanges> = {
    servicesAdded: [],
    servicesRemoved: [],
    servicesEdited: [],
    destinationsAdded: [],
    destinationsRemoved: [],
    destinationsEdited: [],
  };
  let group: keyof typeof out | null = null;
  for (const line of text.split('\n')) {
    const head = /^ {2}(\S.*):$/.exec(line);
    if (head) group = key[head[1]!] ?? null;
    else if (group && line.startsWith('    ')) out[group].push(line.trim());
    else group = null;
  }
  for (const k of Object.keys(out) as (keyof typeof out)[]) out[k].sort();
  return out;
}

const scenario: Scenario = {
  name: 'plan-ipvs',
  async run(ctx) {
    let parent = 0;
    try {
      mkdirSync(DIR, { recursive: true });
      writeFileSync(CONF, FIRST);
      writeFileSync(NEXT, SECOND);
      await ctx.shOk('ipvsadm -C');
      // exec all the way down, so $! is the daemon's own pid
      const out = await ctx.shOk(
        `(cd ${PROJECT} && exec env KEEPALIVED_TS_IPVS_OWNED=${DIR}/owned.json ${BIN} -n -l -C -f ${CONF} ${DAEMON_ARGS} ` +
          `-p ${PIDS.parent} -c ${PIDS.checker} -r ${PIDS.vrrp}) >> ${LOG} 2>&1 & echo $!`,
      );
      parent = Number(out.trim());
      const programmed = () => read('/proc/net/ip_vs').includes('-> 0A5D0102:0050') && read('/proc/net/ip_vs').includes('-> 0A5D0201:0050');
      if (!(await waitFor(ctx, 'first table programmed', programmed, 180_000))) throw new Error('the daemon did not program the first table');
      await sleep(1000);
      const before = await ctx.shOk('ipvsadm -Sn');

      const plan = await ctx.sh(`${BIN} --plan -f ${NEXT} -p ${PIDS.parent}`);
      progress(ctx, `--plan -f next.conf: exit ${plan.code}\n${plan.stdout}${plan.stderr}`);
      const planProblems = (r: { stdout: string; stderr: string }) =>
        [...r.stdout.split('\n').filter((l) => /no plan|error/.test(l)), r.stderr.trim()].filter(Boolean);
      ctx.check('--plan with a changed file: exit 1 (changes), no child without a plan, nothing on stderr', [plan.code, planProblems(plan)], [1, []]);
      ctx.check('... and asking changed nothing', await ctx.shOk('ipvsadm -Sn'), before);

      writeFileSync(CONF, SECOND);
      process.kill(parent, 'SIGHUP');
      const applied = () => read('/proc/net/ip_vs').includes('-> 0A5D0301:0050') && !read('/proc/net/ip_vs').includes('-> 0A5D0102:0050');
      ctx.check('HUP with the file applied', await waitFor(ctx, 'second table programmed', applied, 60_000), true);
      await sleep(1000);
      const after = await ctx.shOk('ipvsadm -Sn');
      const changed = tableChanges(before, after);
      progress(ctx, `ipvsadm -Sn changes: ${JSON.stringify(changed)}`);
      ctx.check('the plan names exactly what the HUP changed in ipvsadm -Sn', planGroups(plan.stdout), changed);
      ctx.check(
        '... which is every kind of change (the file exercises them all)',
        Object.values(changed).map((xs) => xs.length > 0),
        [true, true, true, true, true, true],
      );

      const again = await ctx.sh(`${BIN} --plan -f ${CONF} -p ${PIDS.parent}`);
      ctx.check(
        '--plan with the running file: exit 0, nothing would change',
        [again.code, /would change nothing/.test(again.stdout), planProblems(again)],
        [0, true, []],
      );
    } finally {
      if (parent) {
        try {
          process.kill(parent, 'SIGTERM');
        } catch {
          // already gone
        }
        for (let i = 0; i < 60 && existsSync(`/proc/${parent}`); i++) await sleep(500);
      }
      await ctx.sh(`ipvsadm -C; rm -rf ${DIR}`);
    }
  },
};

export default scenario;
