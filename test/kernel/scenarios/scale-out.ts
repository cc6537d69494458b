/**
 * Active-active directors on real IPVS: three directors announce one VIP (`follow quorum`)
 * through BIRD to an FRR upstream with ECMP and BFD (test/scale-out/lab.ts, the shipped
 * examples), and forward by DR with `mh` (mh-port, mh-fallback) to three real servers. The
 * checker itself sets `net.ipv4.vs.sloppy_tcp=1`, so a director picks up a connection another
 * one started, and mh sends it to the same real server. A client keeps long-lived TCP
 * connections open and opens short ones all along.
 *
 *   - quorum loss on one director (its health checks blocked): only its route goes; it
 *     comes back when the checks pass;
 *   - a graceful stop and a `systemctl restart`-style start again under traffic: withdrawn,
 *     drained, announced again once its table is complete, no connection broken;
 *   - kill -9 of a whole director (keepalived-ts and BIRD): BFD drops its next hop and no
 *     connection breaks: those it carried re-land on the same real servers.
 *
 * Every long connection is followed by its client port: which real server answers it (the
 * client), and which director holds it towards which real server (`ipvsadm -Lnc` on each
 * director, read at each step and whenever a connection breaks). The run's account goes to
 * .cache/scale-out-guest.log on the host.
 *
 * Lean for the TCG guest: the checkers started one at a time and without the watchdog
 * parent (a TCG start outlasts its heartbeat limits), the upstream's FIB read every 500 ms,
 * one node process per peer role.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { CLIENT, ScaleOutLab, VIP, type Director } from '../../scale-out/lab.js';

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
  mh-fallback
  lvs_method DR
  protocol TCP
  inhibit_on_failure
${servers
  .map(
    (ip) => `  real_server ${ip} ${PORT} {
    TCP_CHECK {
      connect_port ${HEALTH_PORT}
      connect_timeout 3
      retry 2
      delay_before_retry 1
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

interface LongConn {
  port: number | null;
  server: string | null;
  openedAt: string | null;
  brokenAt: string | null;
  broken: string | null;
}

interface PeerStats {
  long: { open: number; broken: number; reasons: string[]; byServer: Record<string, number>; conns: LongConn[] };
  short: { ok: number; failed: number; reasons: string[] };
}

/** `ipvsadm -Lnc` of one director: the client port of each connection to the VIP, its real server and state. */
function connectionsByPort(text: string, client: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !f[3]!.startsWith(`${client}:`)) continue;
    out.set(Number(f[3]!.slice(client.length + 1)), `${f[5]!.split(':')[0]} ${f[2]}`);
  }
  return out;
}

const timeline: string[] = [];
function progress(ctx: ScenarioContext, m: string): void {
  ctx.log(m);
  timeline.push(`${new Date().toISOString()} ${m}`);
  console.log(`scale-out: ${m}`);
}

const scenario: Scenario = {
  name: 'scale-out',
  timeoutMs: 1_500_000,
  async run(ctx) {
    mkdirSync(dirname(DEBUG), { recursive: true });
    const lab = new ScaleOutLab('kso-vm');
    const out = join(lab.run, 'client.json');
    let peerErrors = '';
    const stats = (): PeerStats => JSON.parse(existsSync(out) ? readFileSync(out, 'utf8') || '{}' : '{}') as PeerStats;
    const serverName = new Map<string, string>();
    /**
     * Where each long connection is: the real server that answers it (client side) and, on
     * each director, the real server and state of its IPVS entry (by client port).
     */
    const whereAreTheConnections = (label: string) => {
      const tables = lab.directors.map((d) => {
        try {
          return { d, conns: connectionsByPort(lab.net.exec(d.ns, 'ipvsadm -Lnc'), CLIENT), weights: lab.net.exec(d.ns, `ipvsadm -Ln -t ${VIP}:${PORT}`) };
        } catch (e) {
          return { d, conns: new Map<number, string>(), weights: (e as Error).message.split('\n')[0] ?? '' };
        }
      });
      const lines = [`-- ${label}`];
      for (const t of tables) lines.push(`${t.d.name} table: ${t.weights.split('\n').slice(2).join(' | ').replace(/\s+/g, ' ')}`);
      for (const c of stats().long?.conns ?? []) {
        const held = tables.map((t) => {
          const e = c.port === null ? undefined : t.conns.get(c.port);
          return `${t.d.name}:${e ? `${serverName.get(e.split(' ')[0]!) ?? e.split(' ')[0]} ${e.split(' ')[1]}` : '-'}`;
        });
        lines.push(`  port ${c.port} answered by ${c.server}${c.broken ? ` BROKEN at ${c.brokenAt}: ${c.broken}` : ''}; ${held.join(' ')}`);
      }
      timeline.push(`${new Date().toISOString()} ${lines.join('\n')}`);
    };
    let brokenSeen = 0;
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
    /** Sleeps `ms`, reading the directors' tables as soon as a connection breaks. */
    const watch = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const broken = stats().long?.broken ?? 0;
        if (broken > brokenSeen) {
          brokenSeen = broken;
          whereAreTheConnections(`${broken} long connection(s) broken`);
        }
        await sleep(Math.min(1000, Math.max(0, end - Date.now())));
      }
    };
    try {
      await ctx.shOk('modprobe -a tun ip_vs ip_vs_mh');
      await lab.setup(['bird', 'bird', 'bird'], { realServers: 3, pollMs: 500, bfdIntervalMs: BFD_MS });
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
      const [d1, d2, d3] = lab.directors as [Director, Director, Director];
      const all = lab.directors.map((d) => d.ip);
      const servers = lab.realServers.map((r) => r.ip);
      for (const r of lab.realServers) serverName.set(r.ip, r.name);
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
      progress(ctx, `three next hops ${announced} ms after the last start`);
      ctx.check('the upstream routes the VIP over the three directors', lab.nextHops(), [...all].sort());
      ctx.check(
        'each checker set net.ipv4.vs.sloppy_tcp=1 (active-active takes over flows)',
        lab.directors.map((d) => lab.net.exec(d.ns, 'cat /proc/sys/net/ipv4/vs/sloppy_tcp').trim()),
        ['1', '1', '1'],
      );

      const peer = lab.net.spawn(lab.client, [process.execPath, PEERS, 'client', VIP, String(PORT), out, String(LONG), '1000']);
      peer.stderr!.on('data', (b: Buffer) => {
        peerErrors += b.toString();
      });
      peer.on('exit', (code, signal) => {
        peerErrors += `\nclient exited: ${code ?? signal}`;
      });
      await waitStats('long connections open', (s) => s.long.open === LONG, 60_000);
      await watch(2000);
      whereAreTheConnections('all long connections open');
      const spread = stats().long.byServer;
      progress(ctx, `long connections by real server: ${JSON.stringify(spread)}`);
      ctx.check('long connections reach every real server', Object.keys(spread).sort(), ['r1', 'r2', 'r3']);

      // ---- quorum loss on one director ------------------------------------------------------
      progress(ctx, 'quorum loss on d3');
      lab.net.exec(
        d3.ns,
        `nft add table inet kso && nft add chain inet kso out '{ type filter hook output priority 0; }' && nft add rule inet kso out tcp dport ${HEALTH_PORT} drop`,
      );
      await lab.waitNextHops([d1.ip, d2.ip], 60_000);
      ctx.check('quorum lost on d3: only its next hop goes', lab.nextHops(), [d1.ip, d2.ip]);
      lab.net.exec(d3.ns, 'nft delete table inet kso');
      await lab.waitNextHops(all, 60_000);
      ctx.check('quorum back on d3: announced again', lab.nextHops(), [...all].sort());
      await watch(3000);
      whereAreTheConnections('after quorum loss and back on d3');

      // ---- graceful stop and restart under traffic ------------------------------------------
      const beforeStop = stats();
      progress(ctx, `graceful stop of d1; so far ${JSON.stringify({ long: { ...beforeStop.long, conns: undefined }, short: beforeStop.short })}`);
      let fibChange = fibWatch();
      await sleep(1500); // `ip monitor` listening
      const stopT0 = Date.now();
      const stopping = d1.daemon!.stop();
      await lab.waitNextHops([d2.ip, d3.ip], 30_000);
      progress(ctx, `FIGURE withdraw-stop ${(await fibChange) - stopT0} ms (TERM to the upstream's FIB change, TCG guest)`);
      await stopping;
      progress(ctx, `d1 stopped after ${Date.now() - stopT0} ms; started again (systemctl restart)`);
      whereAreTheConnections('d1 stopped');
      await start(d1);
      await lab.waitNextHops(all, 120_000);
      progress(ctx, `d1 announced again ${Date.now() - stopT0} ms after its stop`);
      await watch(5000);
      whereAreTheConnections('d1 back');
      const afterStop = stats();
      progress(ctx, `after stop and restart: long broken ${afterStop.long.broken}, short ${JSON.stringify(afterStop.short)}`);
      const brokenStop = afterStop.long.broken - beforeStop.long.broken + afterStop.short.failed - beforeStop.short.failed;
      ctx.check('graceful stop and restart: no long connection broken', afterStop.long.broken - beforeStop.long.broken, 0);
      ctx.check('graceful stop and restart: no short connection failed', afterStop.short.failed - beforeStop.short.failed, 0);
      ctx.check('short connections kept being served', afterStop.short.ok > beforeStop.short.ok, true);

      // ---- kill -9 of a whole director ----------------------------------------------------
      const beforeKill = stats();
      progress(ctx, `kill -9 of d2`);
      fibChange = fibWatch();
      await sleep(1500);
      const killT0 = Date.now();
      lab.killDirector(d2);
      await lab.waitNextHops([d1.ip, d3.ip], 30_000);
      progress(ctx, `FIGURE withdraw-kill ${(await fibChange) - killT0} ms (kill -9 to the upstream's FIB change: BFD ${BFD_MS} ms x 3, TCG guest)`);
      await watch(8000);
      whereAreTheConnections('d2 killed');
      const afterKill = stats();
      progress(ctx, `after kill: long broken ${afterKill.long.broken}, short ${JSON.stringify(afterKill.short)}`);
      const brokenKill = afterKill.long.broken - beforeKill.long.broken + afterKill.short.failed - beforeKill.short.failed;
      ctx.check(
        'kill -9 of a director: no long connection broken, its share re-landed on the same real servers',
        afterKill.long.broken - beforeKill.long.broken,
        0,
      );
      ctx.check('kill -9 of a director: no short connection failed', afterKill.short.failed - beforeKill.short.failed, 0);
      const moved = afterKill.long.conns.filter((c) => c.server !== null && !c.broken).length;
      ctx.check('every long connection still answered by its first real server', moved, LONG);
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
      writeFileSync(
        DEBUG,
        [
          ...timeline,
          JSON.stringify(stats()),
          tryRun(() => lab.upstreamVtysh('show bfd peers brief')),
          lab.describe(),
          ...lab.directors.flatMap((d) => [...d.history.map((h, i) => `${d.name} full log ${i + 1}:\n${h}`), `${d.name} full log:\n${d.daemon?.log ?? ''}`]),
        ].join('\n'),
      );
      lab.cleanup();
    }
  },
};
export default scenario;
