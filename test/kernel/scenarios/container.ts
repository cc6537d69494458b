/**
 * The container deployment: the image the test suite built on the host
 * (test/kernel/build-image.sh; KT_IMAGE names it, KT_IMAGE_STORE is the host's podman store)
 * run by podman in the guest the way operators run keepalived images: `--network host`,
 * every capability dropped but NET_ADMIN, NET_RAW and NET_BROADCAST, the configuration
 * mounted read-only.
 *
 *   - the daemon (image entrypoint, default command): VRRP MASTER with its VIP, IPVS
 *     programmed, a client in its own namespace reaches the real server through the VIP
 *   - `podman restart`: back to MASTER with the VIP and the same table, serving again
 *   - an edit of the mounted file + `podman kill --signal HUP`: the new real server is added
 *   - `podman run IMAGE keepalived -t -f FILE`: the entrypoint runs the command (exit 0 on a
 *     good file, 1 with file:line:column on a broken one)
 *
 * The guest reads the image from the host's store over 9p (an additional, read-only image
 * store): `podman load` of it takes minutes under TCG. Containers run without cgroups, but
 * crun still wants a cgroup file system at /sys/fs/cgroup, which the guest's init does not
 * mount. Every wait reads files in-process (the container's log, conmon's pid file,
 * /proc/net/ip_vs) and gives up early when the container is gone, reporting its log and
 * podman's view of it, so a broken image fails in about a minute instead of timing out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { pidFileAlive as alive, readIfExists as read, scenarioProgress, sleep, type Scenario, type ScenarioContext } from '../scenario.js';
import { createNs, vethNs, type Ns } from '../guest-net.js';

const DIR = '/tmp/kt-ct';
const IMAGE = process.env.KT_IMAGE ?? '';
const IMAGE_STORE = process.env.KT_IMAGE_STORE ?? '';
const STORAGE_CONF = '/run/kt-podman/storage.conf';
const PODMAN = `CONTAINERS_STORAGE_CONF=${STORAGE_CONF} podman --cgroup-manager cgroupfs --events-backend none`;
const RUN_OPTS = `--network host --cgroups disabled --cap-drop all --cap-add NET_ADMIN,NET_RAW,NET_BROADCAST -v ${DIR}/etc:/etc/keepalived:ro`;
/** The daemon's container: its log in a file we read (no journald in the guest), conmon's pid to see it die. */
const LOG = `${DIR}/ct.log`;
const CONMON_PID = `${DIR}/conmon.pid`;
const DAEMON_OPTS = `--name kt-ct --log-driver k8s-file --log-opt path=${LOG} --conmon-pidfile ${CONMON_PID} ${RUN_OPTS}`;
/** A wait for something the running daemon does (a HUP's change). */
const WAIT_MS = 75_000;
/**
 * The daemon's start-up allowance for its children. Under TCG node loads our modules in
 * 8-13 s of guest CPU per child (measured: test/kernel/README.md), and the parent and the two
 * children start together on one vCPU, so the watchdog's default 30 s is cut close on a loaded
 * host; an operator on a machine that slow raises it the same way (the image's entrypoint takes
 * daemon options as the command). How many starts were still cut is printed as a figure.
 */
const DAEMON_ARGS = '--child-start-timeout=120';
/** A wait for the daemon to (re)start: within one allowance, with podman's own start on top. */
const START_WAIT_MS = 180_000;
const VIP = '10.97.0.100';

const ns = (n: number, name: string): Ns => vethNs('kt-ct', 97, n, name);
const client = ns(0, 'c');
const r1 = ns(1, 'r1');
const r2 = ns(2, 'r2');

const netns = createNs;

const realServer = (s: Ns) => `  real_server ${s.ip} 80 {\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }`;
const conf = (servers: Ns[]) => `global_defs {
  router_id kt_ct
}
vrrp_instance VI_1 {
  state MASTER
  interface ${client.host}
  virtual_router_id 97
  priority 150
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
virtual_server ${VIP} 80 {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  protocol TCP
${servers.map(realServer).join('\n')}
}
`;

const progress = (ctx: ScenarioContext, m: string) => scenarioProgress(ctx, 'container', m);

/** What podman and the daemon say, for a failure report. */
async function containerState(ctx: ScenarioContext): Promise<string> {
  const ps = await ctx.sh(`${PODMAN} ps -a`);
  const state = await ctx.sh(`${PODMAN} inspect --format '{{json .State}}' kt-ct`);
  return `podman ps -a:\n${ps.stdout}${ps.stderr}\npodman inspect (State):\n${state.stdout}${state.stderr}\ncontainer log:\n${read(LOG).split('\n').slice(-40).join('\n')}`;
}

/**
 * Waits, reading files only, until `ok()` holds; throws with the container's state when the
 * container is gone (conmon exited) or after `limitMs`.
 */
async function waitFor(ctx: ScenarioContext, what: string, ok: () => boolean, limitMs = WAIT_MS): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (ok()) {
      progress(ctx, `${what}: after ${Date.now() - started} ms`);
      return;
    }
    const gone = !alive(CONMON_PID);
    if (gone || Date.now() - started > limitMs) {
      const why = gone ? 'the container exited' : `not within ${limitMs} ms`;
      progress(ctx, `${what}: ${why}`);
      throw new Error(`${what}: ${why}\n${await containerState(ctx)}`);
    }
    await sleep(500);
  }
}

/** "10.97.1.2", 80 as /proc/net/ip_vs writes them: "0A610102:0050". */
const procAddr = (ip: string, port: number) =>
  `${ip
    .split('.')
    .map((b) => Number(b).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase()}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
const ipvs = () => read('/proc/net/ip_vs');
const hasService = () => ipvs().includes(`TCP  ${procAddr(VIP, 80)} rr`);
const hasReal = (s: Ns) => () => hasService() && ipvs().includes(`-> ${procAddr(s.ip, 80)}`);
const masterLines = (log: string) => log.split('\n').filter((l) => l.includes('(VI_1) Entering MASTER STATE')).length;
/** Starts of a child the watchdog cut for missing its start allowance (a slow guest, not a failure). */
const startKills = (log: string) => log.split('\n').filter((l) => l.includes('did not finish starting')).length;

const vipOnHost = (ctx: ScenarioContext) => ctx.sh(`ip -o -4 addr show dev ${client.host}`).then((r) => r.stdout.includes(`${VIP}/24`));
const fetchVip = (ctx: ScenarioContext) =>
  ctx.sh(`ip netns exec ${client.ns} timeout 5 busybox wget -q -O - http://${VIP}/`).then((r) => (r.code === 0 ? r.stdout.trim() : `failed (${r.code})`));
const want = [`-A -t ${VIP}:80 -s rr`, `-a -t ${VIP}:80 -r ${r1.ip}:80 -m -w 1`];
const table = async (ctx: ScenarioContext) => {
  const t = (await ctx.sh('ipvsadm -Sn')).stdout;
  return want.every((l) => t.includes(l));
};

const scenario: Scenario = {
  name: 'container',
  timeoutMs: 840_000,
  async run(ctx) {
    if (!IMAGE || !IMAGE_STORE) throw new Error('KT_IMAGE and KT_IMAGE_STORE (the image test/kernel/build-image.sh made, and its store) are not set');
    try {
      mkdirSync(`${DIR}/etc`, { recursive: true });
      mkdirSync('/run/kt-podman', { recursive: true });
      writeFileSync(
        STORAGE_CONF,
        `[storage]\ndriver = "overlay"\nrunroot = "/run/kt-podman/run"\ngraphroot = "/run/kt-podman/root"\n` +
          `[storage.options]\nadditionalimagestores = ["${IMAGE_STORE}"]\n`,
      );
      writeFileSync(`${DIR}/etc/keepalived.conf`, conf([r1]));
      await ctx.shOk(
        [
          'mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup',
          'ipvsadm -C',
          'sysctl -qw net.ipv4.ip_forward=1',
          ...[client, r1, r2].map(netns),
          ...[r1, r2].map((s) => `mkdir -p ${DIR}/${s.ns} && echo ${s.ns} > ${DIR}/${s.ns}/index.html`),
          ...[r1, r2].map((s) => `ip netns exec ${s.ns} busybox httpd -p ${s.ip}:80 -h ${DIR}/${s.ns}`),
        ].join(' && '),
      );

      // ---- the daemon ------------------------------------------------------------------
      const runAt = Date.now();
      const run = await ctx.sh(`${PODMAN} run -d ${DAEMON_OPTS} ${IMAGE} ${DAEMON_ARGS}`);
      progress(ctx, `podman run -d: exit ${run.code} ${run.stderr.trim()}`);
      if (run.code !== 0) throw new Error(`podman run -d ${IMAGE} failed (exit ${run.code}): ${run.stderr}\n${await containerState(ctx)}`);
      await waitFor(ctx, "MASTER (keepalived's line in the container log)", () => masterLines(read(LOG)) >= 1, START_WAIT_MS);
      ctx.check("VRRP becomes MASTER (keepalived's line in the container log)", masterLines(read(LOG)), 1);
      await waitFor(ctx, 'IPVS programmed', hasReal(r1), START_WAIT_MS);
      progress(
        ctx,
        `FIGURE first start: ${Date.now() - runAt} ms from podman run to the IPVS table, ${startKills(read(LOG))} child starts cut by the start allowance`,
      );
      ctx.check('the VIP is on the host interface', await vipOnHost(ctx), true);
      ctx.check('IPVS has the virtual server and its real server', await table(ctx), true);
      ctx.check('a client reaches the real server through the VIP', await fetchVip(ctx), r1.ns);

      // ---- podman restart --------------------------------------------------------------
      const restartAt = Date.now();
      const restart = await ctx.sh(`${PODMAN} restart -t 20 kt-ct`);
      progress(ctx, `podman restart: exit ${restart.code} ${restart.stderr.trim()}`);
      ctx.check('podman restart succeeds', restart.code, 0);
      await waitFor(ctx, 'MASTER again after the restart', () => masterLines(read(LOG)) >= 2, START_WAIT_MS);
      await waitFor(ctx, 'the table after the restart', hasReal(r1), START_WAIT_MS);
      progress(ctx, `FIGURE podman restart: ${Date.now() - restartAt} ms to the IPVS table again, ${startKills(read(LOG))} child starts cut in all`);
      ctx.check('after podman restart: MASTER again', masterLines(read(LOG)), 2);
      ctx.check('... with the VIP', await vipOnHost(ctx), true);
      ctx.check('... and the same IPVS table', await table(ctx), true);
      ctx.check('... and the client is served', await fetchVip(ctx), r1.ns);

      // ---- edit + HUP ------------------------------------------------------------------
      writeFileSync(`${DIR}/etc/keepalived.conf`, conf([r1, r2]));
      const hup = await ctx.sh(`${PODMAN} kill --signal HUP kt-ct`);
      ctx.check('podman kill --signal HUP reaches the daemon', hup.code, 0);
      await waitFor(ctx, 'the added real server', hasReal(r2));
      ctx.check('an edited file + HUP adds the new real server', (await ctx.sh('ipvsadm -Sn')).stdout.includes(`-a -t ${VIP}:80 -r ${r2.ip}:80 -m -w 1`), true);
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add(await fetchVip(ctx));
      ctx.check('both real servers answer through the VIP', [...seen].sort(), [r1.ns, r2.ns]);
      ctx.check('... and the daemon did not restart for it (still the one MASTER line since the restart)', masterLines(read(LOG)), 2);

      // ---- a command instead of the daemon ---------------------------------------------
      const good = await ctx.sh(`${PODMAN} run --rm ${RUN_OPTS} ${IMAGE} keepalived -t -f /etc/keepalived/keepalived.conf`);
      ctx.check('`podman run IMAGE keepalived -t -f FILE` on a good file: exit 0', [good.code, good.stderr.trim()], [0, '']);
      writeFileSync(`${DIR}/etc/broken.conf`, conf([r1]).replace('virtual_router_id 97', 'virtual_router_id 300'));
      const bad = await ctx.sh(`${PODMAN} run --rm ${RUN_OPTS} ${IMAGE} keepalived -t -f /etc/keepalived/broken.conf`);
      ctx.check(
        '... on a broken one: exit 4 (keepalived code for a file the daemon would refuse), the error at file:line:column',
        [bad.code, /broken\.conf:7:\d+: error: /.test(bad.stderr)],
        [4, true],
      );
      progress(ctx, `container log (tail):\n${read(LOG).split('\n').slice(-12).join('\n')}`);
    } finally {
      await ctx.sh(`${PODMAN} rm -f -t 5 kt-ct`);
      await ctx.sh(
        `ip addr del ${VIP}/24 dev ${client.host}; ipvsadm -C; for n in ${[client, r1, r2].map((n) => n.ns).join(' ')}; do ip netns pids $n | xargs -r kill -9; ip netns del $n; done; rm -rf ${DIR}`,
      );
    }
  },
};

export default scenario;
