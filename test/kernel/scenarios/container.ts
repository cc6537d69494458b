/**
 * The container deployment: the image the test suite built on the host
 * (test/kernel/build-image.sh, passed in as KT_IMAGE) run by podman in the guest the way
 * operators run keepalived images: `--network host`, every capability dropped but
 * NET_ADMIN, NET_RAW and NET_BROADCAST, the configuration mounted read-only.
 *
 *   - `podman run IMAGE keepalived -t -f FILE`: the entrypoint runs the command (exit 0 on a
 *     good file, 1 with file:line:column on a broken one)
 *   - the daemon: VRRP MASTER with its VIP, IPVS programmed, a client in its own namespace
 *     reaches the real server through the VIP
 *   - `podman restart`: back to MASTER with the VIP and the same table, serving again
 *   - an edit of the mounted file + `podman kill --signal HUP`: the new real server is added
 *
 * Podman keeps its storage on the guest's tmpfs (/run) and runs without cgroups: the guest
 * has none mounted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { createNs, vethNs, type Ns } from '../guest-net.js';

const DIR = '/tmp/kt-ct';
const IMAGE_ARCHIVE = process.env.KT_IMAGE ?? '';
const PODMAN = 'podman --root /run/kt-podman/root --runroot /run/kt-podman/run --storage-driver overlay --cgroup-manager cgroupfs --events-backend none';
const RUN_OPTS = `--network host --cgroups disabled --cap-drop all --cap-add NET_ADMIN,NET_RAW,NET_BROADCAST -v ${DIR}/etc:/etc/keepalived:ro`;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function progress(ctx: ScenarioContext, m: string): void {
  ctx.log(m);
  console.log(`container: ${m}`);
}

/** Polls a command every 2 s (each spawn costs the guest's one CPU) until `ok` holds. */
async function waitFor(ctx: ScenarioContext, what: string, cmd: string, ok: (out: string) => boolean, ms: number): Promise<string | null> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    const r = await ctx.sh(cmd);
    if (ok(r.stdout)) {
      progress(ctx, `${what}: after ${Date.now() - started} ms`);
      return r.stdout;
    }
    await sleep(2000);
  }
  progress(ctx, `${what}: NOT reached within ${ms} ms`);
  return null;
}

const vipOnHost = `ip -o -4 addr show dev ${client.host}`;
const table = 'ipvsadm -Sn';
const fetchVip = (ctx: ScenarioContext) => ctx.sh(`ip netns exec ${client.ns} timeout 5 busybox wget -q -O - http://${VIP}/`).then((r) => (r.code === 0 ? r.stdout.trim() : `failed (${r.code})`));

const scenario: Scenario = {
  name: 'container',
  timeoutMs: 600_000,
  async run(ctx) {
    if (!IMAGE_ARCHIVE) throw new Error('KT_IMAGE (the image archive test/kernel/build-image.sh made) is not set');
    try {
      mkdirSync(`${DIR}/etc`, { recursive: true });
      writeFileSync(`${DIR}/etc/keepalived.conf`, conf([r1]));
      await ctx.shOk([
        'ipvsadm -C', 'sysctl -qw net.ipv4.ip_forward=1',
        ...[client, r1, r2].map(netns),
        ...[r1, r2].map((s) => `mkdir -p ${DIR}/${s.ns} && echo ${s.ns} > ${DIR}/${s.ns}/index.html`),
        ...[r1, r2].map((s) => `ip netns exec ${s.ns} busybox httpd -p ${s.ip}:80 -h ${DIR}/${s.ns}`),
      ].join(' && '));

      const loaded = await ctx.sh(`${PODMAN} load -q -i ${IMAGE_ARCHIVE}`);
      progress(ctx, `podman load: ${loaded.stdout.trim()} ${loaded.stderr.trim()}`);
      const image = /Loaded image(?:\(s\))?: (\S+)/.exec(loaded.stdout)?.[1] ?? '';
      ctx.check('podman loads the image built on the host', loaded.code === 0 && image !== '', true);

      // ---- a command instead of the daemon ---------------------------------------------
      const good = await ctx.sh(`${PODMAN} run --rm ${RUN_OPTS} ${image} keepalived -t -f /etc/keepalived/keepalived.conf`);
      ctx.check('`podman run IMAGE keepalived -t -f FILE` on a good file: exit 0', [good.code, good.stderr.trim()], [0, '']);
      writeFileSync(`${DIR}/etc/broken.conf`, conf([r1]).replace('virtual_router_id 97', 'virtual_router_id 300'));
      const bad = await ctx.sh(`${PODMAN} run --rm ${RUN_OPTS} ${image} keepalived -t -f /etc/keepalived/broken.conf`);
      ctx.check('... on a broken one: exit 1, the error at file:line:column', [bad.code, /broken\.conf:7:\d+: error: /.test(bad.stderr)], [1, true]);

      // ---- the daemon ------------------------------------------------------------------
      const run = await ctx.sh(`${PODMAN} run -d --name kt-ct ${RUN_OPTS} ${image}`);
      ctx.check('the daemon container starts (image entrypoint, default command)', run.code, 0);
      const logs = () => ctx.sh(`${PODMAN} logs kt-ct 2>&1`).then((r) => r.stdout);
      const master = await waitFor(ctx, 'VIP on the host interface', vipOnHost, (o) => o.includes(`${VIP}/24`), 240_000);
      const started = await logs();
      ctx.check('VRRP becomes MASTER (keepalived\'s line in `podman logs`)', /\(VI_1\) Entering MASTER STATE/.test(started), true);
      ctx.check('the VIP is on the host interface', master !== null, true);
      const want = [`-A -t ${VIP}:80 -s rr`, `-a -t ${VIP}:80 -r ${r1.ip}:80 -m -w 1`];
      const first = await waitFor(ctx, 'IPVS programmed', table, (o) => want.every((l) => o.includes(l)), 120_000);
      ctx.check('IPVS has the virtual server and its real server', first !== null, true);
      ctx.check('a client reaches the real server through the VIP', await fetchVip(ctx), r1.ns);
      if (first === null || master === null) progress(ctx, `podman logs:\n${started}`);

      // ---- podman restart --------------------------------------------------------------
      const restart = await ctx.sh(`${PODMAN} restart -t 20 kt-ct`);
      ctx.check('podman restart succeeds', restart.code, 0);
      const back = await waitFor(ctx, 'MASTER again after the restart', `${PODMAN} logs kt-ct 2>&1 | grep -c 'Entering MASTER STATE'`, (o) => Number(o.trim()) >= 2, 240_000);
      ctx.check('after podman restart: MASTER again', back !== null, true);
      ctx.check('... with the VIP', (await ctx.sh(vipOnHost)).stdout.includes(`${VIP}/24`), true);
      const again = await waitFor(ctx, 'the table after the restart', table, (o) => want.every((l) => o.includes(l)), 120_000);
      ctx.check('... and the same IPVS table', again !== null, true);
      ctx.check('... and the client is served', await fetchVip(ctx), r1.ns);

      // ---- edit + HUP ------------------------------------------------------------------
      writeFileSync(`${DIR}/etc/keepalived.conf`, conf([r1, r2]));
      const hup = await ctx.sh(`${PODMAN} kill --signal HUP kt-ct`);
      ctx.check('podman kill --signal HUP reaches the daemon', hup.code, 0);
      const added = await waitFor(ctx, 'the added real server', table, (o) => o.includes(`-a -t ${VIP}:80 -r ${r2.ip}:80 -m -w 1`), 120_000);
      ctx.check('an edited file + HUP adds the new real server', added !== null, true);
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add(await fetchVip(ctx));
      ctx.check('both real servers answer through the VIP', [...seen].sort(), [r1.ns, r2.ns]);
      progress(ctx, `podman logs (tail):\n${(await logs()).split('\n').slice(-15).join('\n')}`);
    } finally {
      await ctx.sh(`${PODMAN} rm -f -t 5 kt-ct`);
      await ctx.sh(`ip addr del ${VIP}/24 dev ${client.host}; ipvsadm -C; for n in ${[client, r1, r2].map((n) => n.ns).join(' ')}; do ip netns pids $n | xargs -r kill -9; ip netns del $n; done`);
    }
  },
};

export default scenario;
