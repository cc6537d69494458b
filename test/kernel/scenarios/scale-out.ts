/**
 * Active-active directors on real IPVS: two directors announce one VIP (`follow quorum`)
 * through BIRD to an FRR upstream with ECMP and BFD (test/scale-out/lab.ts, the shipped
 * examples), and forward by DR with `mh` (mh-port) to two real servers; `sloppy_tcp` lets a
 * director pick up a connection another one started, and mh sends it to the same server.
 * A client keeps long-lived TCP connections open and opens short ones all along.
 *
 *   - kill -9 of a whole director (keepalived-ts and BIRD): BFD drops its next hop and no
 *     connection breaks: those it carried re-land on the same real servers;
 *   - quorum loss on one director (its health checks blocked): only its route goes; it
 *     comes back when the checks pass;
 *   - a graceful stop and a restart under traffic: withdrawn, drained, no connection broken.
 *
 * Lean for the TCG guest: two directors (the host tests run three), their checkers started
 * one at a time and without the watchdog parent (a TCG start outlasts its heartbeat limits),
 * the upstream's FIB read every 500 ms, one node process per peer role.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { ScaleOutLab, VIP, type Director } from '../../scale-out/lab.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/test/kernel/scenarios
const PEERS = join(here, '..', 'scale-out-peers.js');
/** The guest's last run, readable on the host (the project is shared read-write). */
const DEBUG = join(here, '..', '..', '..', '..', '.cache', 'scale-out-guest.log');
const PORT = 7000;
const HEALTH_PORT = 7001;
const LONG = 12;
/**
 * The default: the checker drains until its IPVS counters stand still, which in the TCG
 * guest (a withdrawal takes seconds to reach the upstream's FIB there) is far longer.
 */
const DRAIN_S = 2;
/** BFD intervals: shorter ones make false downs while the guest starts a node process. */
const BFD_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const conf = (d: Director, servers: string[]) => `global_defs {
  router_id ${d.name}
}
virtual_server ${VIP} ${PORT} {
  delay_loop 2
  lvs_sched mh
  mh-port
  lvs_method DR
  protocol TCP
  inhibit_on_failure
${servers
  .map(
    (ip) => `  real_server ${ip} ${PORT} {
    TCP_CHECK {
      connect_port ${HEALTH_PORT}
      connect_timeout 1
      retry 0
    }
  }`,
  )
  .join('\n')}
}
bgp_announce {
  drain ${DRAIN_S}
  prefix ${VIP}/32 {
  }
}
`;

interface PeerStats {
  long: { open: number; broken: number; reasons: string[]; byServer: Record<string, number> };
  short: { ok: number; failed: number; reasons: string[] };
}

const timeline: string[] = [];
function progress(ctx: ScenarioContext, m: string): void {
  ctx.log(m);
  timeline.push(`${new Date().toISOString()} ${m}`);
  console.log(`scale-out: ${m}`);
}

const scenario: Scenario = {
  name: 'scale-out',
  timeoutMs: 900_000,
  async run(ctx) {
    mkdirSync(dirname(DEBUG), { recursive: true });
    const lab = new ScaleOutLab('kso-vm');
    const out = join(lab.run, 'client.json');
    let peerErrors = '';
    const stats = (): PeerStats => JSON.parse(existsSync(out) ? readFileSync(out, 'utf8') || '{}' : '{}') as PeerStats;
    const waitStats = async (what: string, cond: (s: PeerStats) => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        try {
          if (cond(stats())) return;
        } catch {
          /* not written yet */
        }
        await sleep(500);
      }
      throw new Error(`${what}: not within ${ms} ms (${JSON.stringify(stats())}) ${peerErrors}`);
    };
    try {
      await ctx.shOk('modprobe -a tun ip_vs ip_vs_mh');
      await lab.setup(['bird', 'bird'], { realServers: 2, pollMs: 500, bfdIntervalMs: BFD_MS });
      /** When the upstream's FIB next changes for the VIP (`ip monitor`, not polling). */
      const fibWatch = (): Promise<number> =>
        new Promise((resolve) => {
          const mon = lab.net.spawn(lab.upstream, ['ip', '-o', 'monitor', 'route']);
          mon.stdout!.on('data', (b: Buffer) => {
            if (!b.toString().includes(VIP)) return;
            resolve(Date.now());
            mon.kill();
          });
        });
      const [d1, d2] = lab.directors as [Director, Director];
      const all = lab.directors.map((d) => d.ip);
      const servers = lab.realServers.map((r) => r.ip);
      for (const d of lab.directors) lab.net.exec(d.ns, 'ipvsadm -Ln >/dev/null && sysctl -qw net.ipv4.vs.sloppy_tcp=1');
      for (const r of lab.realServers) lab.net.spawn(r.ns, [process.execPath, PEERS, 'echo', r.name, String(PORT), String(HEALTH_PORT)]);
      const start = async (d: Director) => {
        const t0 = Date.now();
        await lab.startChecker(d, conf(d, servers), 300_000);
        progress(ctx, `${d.name}: checker started after ${Date.now() - t0} ms`);
      };
      for (const d of lab.directors) {
        await lab.startRouting(d);
        await start(d);
      }
      const announced = await lab.waitNextHops(all, 120_000);
      progress(ctx, `both next hops ${announced} ms after the last start`);
      ctx.check('the upstream routes the VIP over both directors', lab.nextHops(), [...all].sort());

      const peer = lab.net.spawn(lab.client, [process.execPath, PEERS, 'client', VIP, String(PORT), out, String(LONG), '500']);
      peer.stderr!.on('data', (b: Buffer) => {
        peerErrors += b.toString();
      });
      peer.on('exit', (code, signal) => {
        peerErrors += `\nclient exited: ${code ?? signal}`;
      });
      await waitStats('long connections open', (s) => s.long.open === LONG, 60_000);
      await sleep(2000);
      const spread = stats().long.byServer;
      progress(ctx, `long connections by real server: ${JSON.stringify(spread)}`);
      ctx.check('long connections reach both real servers', Object.keys(spread).sort(), ['r1', 'r2']);

      // ---- quorum loss on one director ------------------------------------------------------
      progress(ctx, 'quorum loss on d2');
      lab.net.exec(
        d2.ns,
        `nft add table inet kso && nft add chain inet kso out '{ type filter hook output priority 0; }' && nft add rule inet kso out tcp dport ${HEALTH_PORT} drop`,
      );
      await lab.waitNextHops([d1.ip], 30_000);
      ctx.check('quorum lost on d2: only its next hop goes', lab.nextHops(), [d1.ip]);
      lab.net.exec(d2.ns, 'nft delete table inet kso');
      await lab.waitNextHops(all, 30_000);
      ctx.check('quorum back on d2: announced again', lab.nextHops(), [...all].sort());

      // ---- graceful stop and restart under traffic ------------------------------------------
      const beforeStop = stats();
      progress(ctx, `graceful stop of d1; so far ${JSON.stringify(beforeStop)}`);
      let fibChange = fibWatch();
      await sleep(1500); // `ip monitor` listening
      const stopT0 = Date.now();
      const stopping = d1.daemon!.stop();
      await lab.waitNextHops([d2.ip], 30_000);
      progress(ctx, `FIGURE withdraw-stop ${(await fibChange) - stopT0} ms (TERM to the upstream's FIB change, TCG guest)`);
      await stopping;
      progress(ctx, `d1 stopped after ${Date.now() - stopT0} ms`);
      await start(d1);
      await lab.waitNextHops(all, 120_000);
      await sleep(3000);
      const afterStop = stats();
      progress(ctx, `after stop and restart: ${JSON.stringify(afterStop)}`);
      const brokenStop = afterStop.long.broken - beforeStop.long.broken + afterStop.short.failed - beforeStop.short.failed;
      ctx.check('graceful stop and restart: no long connection broken', afterStop.long.broken - beforeStop.long.broken, 0);
      ctx.check('graceful stop and restart: no short connection failed', afterStop.short.failed - beforeStop.short.failed, 0);
      ctx.check('short connections kept being served', afterStop.short.ok > beforeStop.short.ok, true);

      // ---- kill -9 of a whole director ----------------------------------------------------
      const beforeKill = stats();
      progress(ctx, `kill -9 of d2; so far ${JSON.stringify(beforeKill)}`);
      fibChange = fibWatch();
      await sleep(1500);
      const killT0 = Date.now();
      lab.killDirector(d2);
      await lab.waitNextHops([d1.ip], 20_000);
      progress(ctx, `FIGURE withdraw-kill ${(await fibChange) - killT0} ms (kill -9 to the upstream's FIB change: BFD ${BFD_MS} ms x 3, TCG guest)`);
      await sleep(5000);
      const afterKill = stats();
      progress(ctx, `after kill: ${JSON.stringify(afterKill)}`);
      const brokenKill = afterKill.long.broken - beforeKill.long.broken + afterKill.short.failed - beforeKill.short.failed;
      ctx.check(
        'kill -9 of a director: no long connection broken, its share re-landed on the same real servers',
        afterKill.long.broken - beforeKill.long.broken,
        0,
      );
      ctx.check('kill -9 of a director: no short connection failed', afterKill.short.failed - beforeKill.short.failed, 0);
      progress(ctx, `FIGURE broken-kill ${brokenKill} broken-stop ${brokenStop}`);
    } finally {
      // the guest's view for whoever reads the run: the host echoes only FIGURE lines
      const tryRun = (f: () => string) => {
        try {
          return f();
        } catch (e) {
          return (e as Error).message;
        }
      };
      writeFileSync(DEBUG, [...timeline, JSON.stringify(stats()), tryRun(() => lab.upstreamVtysh('show bfd peers')), lab.describe()].join('\n'));
      lab.cleanup();
    }
  },
};
export default scenario;
