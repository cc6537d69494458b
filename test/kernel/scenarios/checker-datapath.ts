/**
 * Our checker programming real kernel IPVS from a keepalived.conf: a client namespace
 * fetches http://VIP/ through NAT to two busybox httpd real servers (one TCP_CHECK, one
 * HTTP_GET). Stopping a server takes it out of the table (traffic only to the other),
 * starting it puts it back, stopping both brings the sorry server in. A restart of the
 * checker must leave the table untouched (same `ipvsadm -Ln --stats --exact` counters, zero
 * writes); a stop without -I releases our services; keepalived 2.2.7 given the same file
 * builds the same `ipvsadm -Sn` table. lvs_sync_daemon (no instance) starts the kernel's
 * master and backup sync daemons through our IPVS client, and a stop takes them down.
 *
 * Lean on purpose: the engine runs inside this runner process, and "restart" is a fresh
 * IpvsClient + CheckerEngine with nothing carried over but the owned-services file, which is
 * everything a new checker process would have. A new node process per start costs minutes
 * of module loading in a TCG guest on a busy host; main.ts itself is tested on the host.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { CheckerEngine } from '../../../src/checker/engine.js';
import { fileOwnedStore } from '../../../src/checker/owned.js';
import { runCheck } from '../../../src/probe/run-check.js';
import { IpvsClient } from '../../../src/ipvs/client.js';
import { createLogger, recordText } from '../../../src/log/logger.js';
import { loadConfigFast } from '../guest-config.js';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { createNs, vethNs, type Ns } from '../guest-net.js';

const DIR = '/tmp/kt-ce';
const CONF = `${DIR}/keepalived.conf`;
const OWNED = `${DIR}/ipvs-owned.json`;
const PORTS_CONF = `${DIR}/ports.conf`;
const VIP = '10.98.100.1';

const ns = (n: number, name: string): Ns => vethNs('kt-ce', 98, n, name);
const client = ns(0, 'c');
const r1 = ns(1, 'r1');
const r2 = ns(2, 'r2');
const sorry = ns(3, 'sy');
const servers = [r1, r2, sorry];

const conf = `
global_defs {
  router_id kt_ce
  lvs_sync_daemon ${client.host} id 42
}
virtual_server ${VIP} 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  sorry_server ${sorry.ip} 80
  real_server ${r1.ip} 80 {
    weight 1
    TCP_CHECK {
      connect_timeout 2
      retry 0
    }
  }
  real_server ${r2.ip} 80 {
    weight 2
    HTTP_GET {
      url {
        path /
        status_code 200
      }
      connect_timeout 2
      retry 0
    }
  }
}
`;

/**
 * Real servers whose port differs from the service's: DR and TUN cannot rewrite ports, and
 * keepalived 2.2.7 resets them to the service's (cleared under a fwmark; each member's own in
 * a group), NAT keeps them. The sorry server follows the same rule.
 */
const portsConf = `
virtual_server 10.97.0.1 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  sorry_server 10.97.1.9 8081
  sorry_server_inhibit
  real_server 10.97.1.1 8080 {
    weight 1
  }
  real_server 10.97.1.2 {
    weight 2
  }
}
virtual_server 10.97.0.2 443 {
  lb_algo wrr
  lb_kind TUN
  protocol TCP
  real_server 10.97.1.3 8443 {
    weight 3
  }
}
virtual_server 10.97.0.3 53 {
  lb_algo rr
  lb_kind NAT
  protocol UDP
  real_server 10.97.1.4 5353 {
    weight 1
  }
  real_server 10.97.1.5 {
    weight 1
  }
}
virtual_server fwmark 7 {
  lb_algo rr
  lb_kind DR
  real_server 10.97.1.6 80 {
    weight 1
  }
  real_server 10.97.1.7 {
    weight 1
  }
}
virtual_server fwmark 8 {
  lb_algo rr
  lb_kind NAT
  real_server 10.97.1.8 8080 {
    weight 1
  }
}
virtual_server_group G1 {
  10.97.2.1 80
  10.97.2.2 8000
}
virtual_server group G1 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 10.97.3.1 8080 {
    weight 1
  }
  real_server 10.97.3.2 {
    weight 1
  }
}
virtual_server 2001:db8::1 80 {
  lb_algo rr
  lb_kind TUN
  protocol TCP
  real_server 2001:db8::10 8080 {
    weight 1
  }
}
`;

const netns = createNs;

const httpdStart = (n: Ns) => `ip netns exec ${n.ns} busybox httpd -p ${n.ip}:80 -h ${DIR}/${n.ns}`;
const httpdStop = (n: Ns) => `ip netns pids ${n.ns} | xargs -r kill`;

/** Logged and echoed on the guest's stdout: a slow TCG guest shows where it is. */
function progress(ctx: ScenarioContext, m: string): void {
  ctx.log(m);
  console.log(`checker-datapath: ${m}`);
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms: number, ctx: ScenarioContext): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await cond()) {
      progress(ctx, `${what}: after ${Date.now() - started} ms`);
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  progress(ctx, `${what}: NOT reached within ${ms} ms`);
}

/** The kernel's sync daemons as `ipvsadm -L --daemon` lists them: "master kt-ce-hc 42". */
async function syncDaemons(ctx: ScenarioContext): Promise<string[]> {
  const out = (await ctx.sh('ipvsadm -L --daemon')).stdout;
  return [...out.matchAll(/(master|backup) sync daemon \(mcast=([^,]+), syncid=(\d+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`).sort();
}

/** Real servers of the VIP in `ipvsadm -Ln`, as "ip:port weight". */
async function destinations(ctx: ScenarioContext): Promise<string[]> {
  const out = (await ctx.sh('ipvsadm -Ln')).stdout;
  return [...out.matchAll(/->\s+(\d+\.\d+\.\d+\.\d+:\d+)\s+\S+\s+(\d+)/g)].map((m) => `${m[1]} ${m[2]}`).sort();
}

async function fetchAll(ctx: ScenarioContext, n: number): Promise<string[]> {
  const replies: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await ctx.sh(`ip netns exec ${client.ns} timeout 5 busybox wget -q -O - http://${VIP}/`);
    replies.push(r.code === 0 ? r.stdout.trim() : `failed (${r.code})`);
  }
  return [...new Set(replies)].sort();
}

function logTo(ctx: ScenarioContext) {
  return createLogger({ proc: 'checker', detail: true, collect: (r) => ctx.log(`[${r.level}] ${recordText(r.msg, r.fields)}`) });
}

const scenario: Scenario = {
  name: 'checker-datapath',
  async run(ctx) {
    const engines: CheckerEngine[] = [];
    const clients: IpvsClient[] = [];
    try {
      mkdirSync(DIR, { recursive: true });
      writeFileSync(CONF, conf);
      await ctx.shOk(
        [
          `rm -f ${OWNED}`,
          'ipvsadm -C',
          'sysctl -qw net.ipv4.ip_forward=1',
          `ip addr add ${VIP}/32 dev lo`,
          ...[client, ...servers].map(netns),
          ...servers.map((s) => `mkdir -p ${DIR}/${s.ns} && echo ${s.ns} > ${DIR}/${s.ns}/index.html`),
          ...servers.map(httpdStart),
        ].join(' && '),
      );

      const t0 = Date.now();
      const { loadConfig } = await loadConfigFast();
      progress(ctx, `config front end loaded in ${Date.now() - t0} ms`);
      const loaded = loadConfig(CONF, { configId: 'kt' });
      ctx.check(
        'the keepalived.conf loads',
        loaded.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
        [],
      );
      const config = loaded.config!;
      const start = async (dontReleaseIpvs: boolean): Promise<{ engine: CheckerEngine; ipvs: IpvsClient }> => {
        const ipvs = await IpvsClient.open();
        clients.push(ipvs);
        const engine = new CheckerEngine({ ipvs, owned: fileOwnedStore(OWNED), log: logTo(ctx), runCheck, dontReleaseIpvs, rereadIntervalMs: 2000 });
        engines.push(engine);
        await engine.start(config);
        progress(ctx, `checker started (writes ${engine.stats.applyWrites})`);
        return { engine, ipvs };
      };

      // ---- our checker programs the table -------------------------------------------
      const both = [`${r1.ip}:80 1`, `${r2.ip}:80 2`];
      const first = await start(true);
      ctx.check('our checker programs both real servers at once', await destinations(ctx), both);
      ctx.check('in one netlink write', first.engine.stats.applyWrites, 1);
      ctx.check('lvs_sync_daemon without an instance: master and backup sync daemons run', await syncDaemons(ctx), [
        `backup ${client.host} 42`,
        `master ${client.host} 42`,
      ]);
      ctx.check('traffic reaches both real servers', await fetchAll(ctx, 6), [r1.ns, r2.ns]);
      const oursSn = (await ctx.sh('ipvsadm -Sn')).stdout;

      await ctx.sh(httpdStop(r1));
      await waitFor('r1 removed', async () => (await destinations(ctx)).join() === `${r2.ip}:80 2`, 20000, ctx);
      ctx.check('a stopped real server (TCP_CHECK) is removed', await destinations(ctx), [`${r2.ip}:80 2`]);
      ctx.check('traffic then goes only to the other', await fetchAll(ctx, 4), [r2.ns]);

      await ctx.sh(httpdStart(r1));
      await waitFor('r1 back', async () => (await destinations(ctx)).join() === both.join(), 20000, ctx);
      ctx.check('a restarted real server is added back', await destinations(ctx), both);

      await ctx.sh(`${httpdStop(r1)}; ${httpdStop(r2)}`);
      await waitFor('sorry server in', async () => (await destinations(ctx)).join() === `${sorry.ip}:80 1`, 20000, ctx);
      ctx.check('with every real server down the sorry server serves', await destinations(ctx), [`${sorry.ip}:80 1`]);
      ctx.check('traffic goes to the sorry server', await fetchAll(ctx, 2), [sorry.ns]);

      await ctx.sh(`${httpdStart(r1)} && ${httpdStart(r2)}`);
      await waitFor('real servers back', async () => (await destinations(ctx)).join() === both.join(), 20000, ctx);
      ctx.check('real servers back, sorry server out', await destinations(ctx), both);

      // ---- a destination deleted by hand is repaired ------------------------------------
      await ctx.sh(`ipvsadm -d -t ${VIP}:80 -r ${r2.ip}:80`);
      await waitFor('hand-deleted r2 restored', async () => (await destinations(ctx)).join() === both.join(), 20000, ctx);
      ctx.check('a destination deleted by hand with ipvsadm is restored', await destinations(ctx), both);

      // ---- restart: the table must not be touched ---------------------------------------
      await fetchAll(ctx, 4); // non-zero counters: a delete + add would zero them
      await first.engine.stop(); // --dont-release-ipvs: the table stays
      first.ipvs.close();
      await new Promise((r) => setTimeout(r, 2500)); // let the estimator fold the counters
      const before = (await ctx.sh('ipvsadm -Ln --stats --exact')).stdout;
      ctx.check('stopping with --dont-release-ipvs leaves the table', await destinations(ctx), both);
      const second = await start(false);
      await new Promise((r) => setTimeout(r, 4000)); // a few delay_loops of checks and two re-reads
      await second.engine.settled();
      const after = (await ctx.sh('ipvsadm -Ln --stats --exact')).stdout;
      ctx.log(before);
      ctx.check('a restarted checker leaves the table and its counters untouched', after, before);
      ctx.check('the restarted checker made no IPVS writes', second.engine.stats.applyWrites, 0);
      ctx.check('and it did re-read the kernel meanwhile', second.engine.stats.rereads > 1, true);

      await second.engine.stop();
      ctx.check('a stop without -I releases our services', (await ctx.sh('ipvsadm -Sn')).stdout.trim(), '');
      ctx.check('and stops the sync daemons', await syncDaemons(ctx), []);

      // ---- keepalived 2.2.7, same file -----------------------------------------------
      const ka = await ctx.sh('command -v keepalived');
      ctx.check('keepalived is installed in the guest (for the comparison)', ka.code, 0);
      if (ka.code === 0) {
        await ctx.shOk(`keepalived -n -l -C -f ${CONF} -p ${DIR}/ka.pid -c ${DIR}/ka-c.pid > ${DIR}/ka.log 2>&1 & echo $! > ${DIR}/ka.bg`);
        await waitFor('keepalived programmed', async () => (await destinations(ctx)).join() === both.join(), 60000, ctx);
        const theirsSn = (await ctx.sh('ipvsadm -Sn')).stdout;
        ctx.log(`ours:\n${oursSn}\nkeepalived:\n${theirsSn}`);
        const lines = (s: string) =>
          s
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
            .sort();
        ctx.check('keepalived 2.2.7 builds the same ipvsadm -Sn table', lines(oursSn), lines(theirsSn));
        await ctx.sh(`kill $(cat ${DIR}/ka.bg); rm -f ${DIR}/ka.bg; sleep 1; ipvsadm -C`);

        // ---- DR/TUN real servers on other ports than the service's: keepalived's table ----
        // (no checkers: every real server is up and in the table from the start)
        writeFileSync(PORTS_CONF, portsConf);
        const ports = loadConfig(PORTS_CONF, { configId: 'kt' });
        ctx.check(
          'the forwarding-ports config loads, with a warning per reset port',
          ports.diagnostics.map((d) => `${d.severity} ${d.code}`),
          Array(5).fill('warning port-reset'),
        );
        const ipvs = await IpvsClient.open();
        clients.push(ipvs);
        const engine = new CheckerEngine({ ipvs, owned: fileOwnedStore(`${DIR}/ports-owned.json`), log: logTo(ctx), runCheck, rereadIntervalMs: 60_000 });
        engines.push(engine);
        await engine.start(ports.config!);
        const oursPorts = (await ctx.sh('ipvsadm -Sn')).stdout;
        await engine.stop();
        await ctx.shOk(`keepalived -n -l -C -f ${PORTS_CONF} -p ${DIR}/ka.pid -c ${DIR}/ka-c.pid > ${DIR}/ka-ports.log 2>&1 & echo $! > ${DIR}/ka.bg`);
        const want = lines(oursPorts).length;
        await waitFor('keepalived programmed the ports config', async () => lines((await ctx.sh('ipvsadm -Sn')).stdout).length >= want, 60000, ctx);
        const theirsPorts = (await ctx.sh('ipvsadm -Sn')).stdout;
        ctx.log(`ours (ports):\n${oursPorts}\nkeepalived (ports):\n${theirsPorts}`);
        ctx.check('DR/TUN/fwmark/group real server ports: keepalived 2.2.7 builds the same ipvsadm -Sn table', lines(oursPorts), lines(theirsPorts));
      }
    } finally {
      for (const e of engines) await e.stop().catch(() => {});
      for (const c of clients) c.close();
      await ctx.sh(
        [
          `[ -f ${DIR}/ka.bg ] && kill $(cat ${DIR}/ka.bg) && sleep 1`,
          ...[client, ...servers].map((n) => `ip netns pids ${n.ns} | xargs -r kill; ip link del ${n.host}; ip netns del ${n.ns}`),
          `ip addr del ${VIP}/32 dev lo`,
          'ipvsadm -C',
          'ipvsadm --stop-daemon master 2>/dev/null',
          'ipvsadm --stop-daemon backup 2>/dev/null',
        ].join('; '),
      );
    }
  },
};
export default scenario;
