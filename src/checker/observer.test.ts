import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CheckerState } from '../probe/checker-state.js';
import type { CheckOutcome } from '../probe/outcome.js';
import { loadConfig } from '../config/index.js';
import type { HealthCheck, KeepalivedConfig } from '../config/model.js';
import type { ServiceEntry } from '../ipvs/model.js';
import { createCheckerMetrics } from '../metrics/checker-metrics.js';
import { healthKey } from './desired.js';
import { CheckerObserver, SnapshotBuilder } from './observer.js';

// 10.97.0.1:80 (HTTP_GET retry 1 on 127.0.0.1:8080, TCP_CHECK retry 0 on 127.0.0.2:8081),
// fwmark 5 (MISC_CHECK on 127.0.0.3), group VSG_1 (127.0.0.4:443, no checker)
function config(): KeepalivedConfig {
  const r = loadConfig(fileURLToPath(new URL('../../test/fixtures/keepalived-dumps/keepalived_check.conf', import.meta.url)), {});
  return r.config!;
}

function setup() {
  const cfg = config();
  const metrics = createCheckerMetrics();
  let wall = 1_795_000_000_000;
  let mono = 0;
  const observer = new CheckerObserver({ wall: () => wall, mono: () => mono });
  observer.attachMetrics(metrics);
  observer.install(cfg);
  // a runner whose answer and duration each test scripts
  const answers = new Map<HealthCheck, CheckOutcome>();
  const run = observer.wrap(async (checker) => {
    mono += 7; // every attempt takes 7 ms
    return answers.get(checker) ?? { up: true, reason: 'ok' };
  });
  const [web, fwm] = cfg.virtualServers;
  const http = web!.realServers[0]!;
  const tcp = web!.realServers[1]!;
  const misc = fwm!.realServers[0]!;
  const attempt = (rs: typeof http, o: CheckOutcome) => {
    answers.set(rs.checkers[0]!, o);
    wall += 1000;
    return run(rs.checkers[0]!, rs, {});
  };
  return { cfg, metrics, observer, web: web!, fwm: fwm!, http, tcp, misc, attempt };
}

async function metricValue(metrics: ReturnType<typeof createCheckerMetrics>, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const all = await metrics.registry.getMetricsAsJSON();
  const m = all.find((x) => x.name === name);
  return m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
}

describe('checker observer', () => {
  it('steps each checker through the retry machine: HTTP_GET with retry 1, once up, goes down on the second failure, not the first', async () => {
    const { observer, web, http, attempt } = setup();
    expect(observer.view(web, http, 0)).toMatchObject({ up: true, hasRun: false });
    await attempt(http, { up: true, reason: '/: status 200' });
    expect(observer.view(web, http, 0)).toMatchObject({ up: true, hasRun: true, retryIt: 0 });
    await attempt(http, { up: false, reason: '/: status 503' });
    expect(observer.view(web, http, 0)).toMatchObject({ up: true, hasRun: true, retryIt: 1, failedUrl: null });
    await attempt(http, { up: false, reason: '/: status 503' });
    expect(observer.view(web, http, 0)).toMatchObject({ up: false, retryIt: 0, failedUrl: '/' });
    await attempt(http, { up: true, reason: '/: status 200' });
    expect(observer.view(web, http, 0)).toMatchObject({ up: true, failedUrl: null });
  });

  it('counts failures and times every attempt per virtual server, real server and checker', async () => {
    const { metrics, tcp, attempt } = setup();
    await attempt(tcp, { up: false, reason: 'ECONNREFUSED connect' });
    await attempt(tcp, { up: false, reason: 'ECONNREFUSED connect' });
    await attempt(tcp, { up: true, reason: 'connected' });
    const labels = { virtual_server: '[10.97.0.1]:tcp:80', real_server: '[127.0.0.2]:tcp:8081', checker: 'TCP_CHECK' };
    expect(await metricValue(metrics, 'keepalived_check_failures_total', labels)).toBe(2);
    const hist = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'keepalived_check_duration_seconds')!;
    const count = hist.values.find(
      (v) => (v as { metricName?: string }).metricName === 'keepalived_check_duration_seconds_count' && v.labels.real_server === labels.real_server,
    );
    const sum = hist.values.find(
      (v) => (v as { metricName?: string }).metricName === 'keepalived_check_duration_seconds_sum' && v.labels.real_server === labels.real_server,
    );
    expect(count?.value).toBe(3);
    expect(sum?.value).toBeCloseTo(0.021, 6);
  });

  it("keeps MISC_CHECK's last run time and exit status for the dump", async () => {
    const { observer, fwm, misc, attempt } = setup();
    await attempt(misc, { up: false, reason: 'exit 3' });
    const v = observer.view(fwm, misc, 0);
    expect(v.lastStatus).toBe(3);
    expect(v.lastRan).toBe(1_795_000_001);
  });

  it("with the engine: attempts give times and durations, the retry state is read from the engine's scheduler", () => {
    const cfg = config();
    const observer = new CheckerObserver({ wall: () => 1_795_000_000_000, mono: () => 0 });
    observer.install(cfg);
    const [web] = cfg.virtualServers;
    const tcp = web!.realServers[1]!;
    const kept = new Map<string, CheckerState>();
    observer.readStatesFrom((vs, rs, i) => kept.get(`${healthKey(vs, rs)}#${i}`));
    // not run yet, and the engine has nothing: the initial state
    expect(observer.view(web!, tcp, 0)).toMatchObject({ up: true, hasRun: false, lastRan: null });
    kept.set(`${healthKey(web!, tcp)}#0`, { up: false, hasRun: true, retryIt: 0, weight: null, weightMode: null, lastReason: 'ECONNREFUSED connect' });
    observer.attempted(tcp, 0, tcp.checkers[0]!, { up: false, reason: 'ECONNREFUSED connect' }, 250);
    expect(observer.view(web!, tcp, 0)).toMatchObject({ up: false, hasRun: true, lastRan: 1_794_999_999.75 });
    expect(observer.checkerStatus(web!, tcp, 0)).toMatchObject({ up: false, lastReason: 'ECONNREFUSED connect', lastDurationMs: 250 });
  });

  it('tells apart real servers that share one checker object (the checker child shares identical blocks)', async () => {
    const cfg = config();
    const [web] = cfg.virtualServers;
    const [http, tcp] = web!.realServers;
    tcp!.checkers = http!.checkers; // one array, one HTTP_GET object, two real servers
    const metrics = createCheckerMetrics();
    const observer = new CheckerObserver({ wall: () => 1_795_000_000_000, mono: () => 0 });
    observer.attachMetrics(metrics);
    observer.install(cfg);
    observer.attempted(tcp!, 0, tcp!.checkers[0]!, { up: false, reason: '/: status 503' }, 40);
    observer.attempted(http!, 0, http!.checkers[0]!, { up: true, reason: 'ok' }, 10);
    expect(observer.checkerStatus(web!, tcp!, 0)).toMatchObject({ lastDurationMs: 40 });
    expect(observer.checkerStatus(web!, http!, 0)).toMatchObject({ lastDurationMs: 10 });
    const vs = '[10.97.0.1]:tcp:80';
    expect(await metricValue(metrics, 'keepalived_check_failures_total', { virtual_server: vs, real_server: '[127.0.0.2]:tcp:8081' })).toBe(1);
    expect(await metricValue(metrics, 'keepalived_check_failures_total', { virtual_server: vs, real_server: '[127.0.0.1]:tcp:8080' })).toBeUndefined();
  });

  it("carries a checker's state over a reload that keeps it, and ignores late results of replaced checkers", async () => {
    const { observer, tcp, attempt } = setup();
    await attempt(tcp, { up: false, reason: 'refused' });
    const next = config();
    observer.install(next);
    const [web2] = next.virtualServers;
    expect(observer.view(web2!, web2!.realServers[1]!, 0)).toMatchObject({ up: false, hasRun: true });
    await attempt(tcp, { up: true, reason: 'late answer of the old checker' }); // old HealthCheck object
    expect(observer.view(web2!, web2!.realServers[1]!, 0)).toMatchObject({ up: false });
  });

  it('drops the series of a checker a reload removed, and keeps those of checkers it kept', async () => {
    const { observer, metrics, http, tcp, attempt } = setup();
    await attempt(http, { up: false, reason: '/: status 503' });
    await attempt(tcp, { up: false, reason: 'ECONNREFUSED connect' });
    const next = config();
    next.virtualServers[0]!.realServers.splice(1, 1); // 127.0.0.2:8081 (TCP_CHECK) is gone
    observer.install(next);
    const vs = '[10.97.0.1]:tcp:80';
    expect(await metricValue(metrics, 'keepalived_check_failures_total', { virtual_server: vs, real_server: '[127.0.0.2]:tcp:8081' })).toBeUndefined();
    expect(await metricValue(metrics, 'keepalived_check_failures_total', { virtual_server: vs, real_server: '[127.0.0.1]:tcp:8080' })).toBe(1);
    const counts = async () =>
      (await metrics.registry.getMetricsAsJSON())
        .find((x) => x.name === 'keepalived_check_duration_seconds')!
        .values.filter((v) => (v as { metricName?: string }).metricName === 'keepalived_check_duration_seconds_count')
        .map((v) => [v.labels.real_server, v.value]);
    expect(await counts()).toEqual([['[127.0.0.1]:tcp:8080', 1]]);
    await attempt(next.virtualServers[0]!.realServers[0]!, { up: true, reason: '/: status 200' }); // the kept checker's series goes on
    expect(await counts()).toEqual([['[127.0.0.1]:tcp:8080', 2]]);
  });

  it("builds /status and the gauges from the engine's health and the kernel table; the write counter only grows by what is new", async () => {
    const { cfg, metrics, observer, web, http, tcp } = setup();
    const builder = new SnapshotBuilder(metrics, observer);
    const health = new Map([[healthKey(web, tcp), { up: false, dynamicWeight: null }]]);
    const stats = (writes: number) => ({ applyWrites: writes, opsApplied: 9, rereads: 2, repairs: 0, checksRun: 5 });
    const zero = { inPkts: 0n, outPkts: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };
    const table: ServiceEntry[] = [
      {
        service: {
          family: 'inet',
          protocol: 'tcp',
          address: '10.97.0.1',
          port: 80,
          scheduler: 'wrr',
          flags: { persistent: true, onePacket: false, schedFallback: false, schedPort: false, sched3: false },
          timeout: 50,
          prefix: 32,
          pe: null,
        },
        destinations: [
          {
            family: 'inet',
            address: '127.0.0.1',
            port: 8080,
            forwarding: 'masquerade',
            weight: 2,
            upperThreshold: 0,
            lowerThreshold: 0,
            tunnel: null,
            stats: { conns: 42n, inBytes: 1000n, outBytes: 5000n, ...zero },
          },
        ],
      },
    ];
    const status = builder.build(cfg, { health, stats: stats(1) }, table) as { virtualServers: { realServers: Record<string, unknown>[] }[] };
    const rs = { virtual_server: '[10.97.0.1]:tcp:80', real_server: '[127.0.0.1]:tcp:8080' };
    expect(await metricValue(metrics, 'keepalived_real_server_up', rs)).toBe(1);
    expect(await metricValue(metrics, 'keepalived_real_server_up', { real_server: '[127.0.0.2]:tcp:8081' })).toBe(0);
    expect(await metricValue(metrics, 'keepalived_ipvs_connections_total', rs)).toBe(42);
    expect(await metricValue(metrics, 'keepalived_ipvs_bytes_total', { ...rs, direction: 'out' })).toBe(5000);
    expect(status.virtualServers[0]!.realServers.map((r) => [r.realServer, r.up, r.inTable])).toEqual([
      ['[127.0.0.1]:tcp:8080', true, true],
      ['[127.0.0.2]:tcp:8081', false, true], // inhibit_on_failure keeps it at weight 0
    ]);
    builder.build(cfg, { health, stats: stats(1) }, table);
    builder.build(cfg, { health, stats: stats(3) }, table);
    expect(await metricValue(metrics, 'keepalived_ipvs_netlink_writes_total', {})).toBe(3);
    expect(http.checkers[0]!.type).toBe('HTTP_GET');
  });
});
