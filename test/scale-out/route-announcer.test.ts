/**
 * RouteAnnouncer against the kernel, in a namespace of its own (one node process run there,
 * compiled from dist/): the routes it keeps through its device, a metric change made before
 * broken, repairs of what is removed by hand, and nothing left after close() or a kill -9.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab, netnsAvailable, sh, until } from '../helpers/netns.js';

const ANNOUNCER = fileURLToPath(new URL('../../dist/src/announce/route-announcer.js', import.meta.url));
const why = netnsAvailable() ?? (existsSync(ANNOUNCER) ? null : 'dist/ missing: run `npm run build` first');
if (why) console.warn(`test/scale-out/route-announcer.test.ts SKIPPED: ${why}`);

/** Steps run by the child: each `await step(name)` prints the routes and link state. */
const script = (steps: string) => `
import { RouteAnnouncer } from ${JSON.stringify(ANNOUNCER)};
import { RouteNetlink } from ${JSON.stringify(fileURLToPath(new URL('../../dist/src/netlink/index.js', import.meta.url)))};
import { execSync } from 'node:child_process';
const rtnl = RouteNetlink.open();
const log = { info() {}, warn() {}, error(o, m) { console.error(m, JSON.stringify(o)); } };
const a = new RouteAnnouncer({ rtnl, device: 'kt-test', table: 254, protocol: 249, log, repairIntervalMs: 200 });
const r = (kind, network, metric) => ({ kind, family: 4, network, length: 32, metric });
const show = (name) => console.log(JSON.stringify({ name,
  routes: execSync('ip route show proto 249 table all').toString().split('\\n').map((l) => l.trim()).filter(Boolean),
  link: execSync('ip -o link show').toString().includes('kt-test') }));
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
${steps}
`;

function run(ns: string, steps: string): { name: string; routes: string[]; link: boolean }[] {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script(steps)], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { name: string; routes: string[]; link: boolean });
}

describe.skipIf(why !== null)('RouteAnnouncer on a real kernel', () => {
  const lab = new NetnsLab('ksor');
  let ns = '';
  beforeAll(() => {
    ns = lab.ns('a');
  });
  afterAll(() => lab.cleanup());

  it('routes through its device; a new metric replaces the old; repairs what is removed by hand; close() leaves nothing', () => {
    const out = run(
      ns,
      `
      await a.set([r('local', '10.99.0.1', 0), r('announce', '10.99.0.1', 10)]); show('announced');
      await a.set([r('local', '10.99.0.1', 0), r('announce', '10.99.0.1', 20)]); show('new metric');
      execSync('ip route del 10.99.0.1/32 dev kt-test proto 249 metric 20'); await sleep(600); show('repaired route');
      execSync('ip link del kt-test'); await sleep(600); show('repaired device');
      await a.set([r('local', '10.99.0.1', 0)]); show('withdrawn, still local');
      await a.close(); show('closed');
      rtnl.close();
    `,
    );
    expect(out).toEqual([
      { name: 'announced', routes: ['10.99.0.1 dev kt-test scope link metric 10', 'local 10.99.0.1 dev kt-test table local scope host'], link: true },
      { name: 'new metric', routes: ['10.99.0.1 dev kt-test scope link metric 20', 'local 10.99.0.1 dev kt-test table local scope host'], link: true },
      { name: 'repaired route', routes: ['10.99.0.1 dev kt-test scope link metric 20', 'local 10.99.0.1 dev kt-test table local scope host'], link: true },
      { name: 'repaired device', routes: ['10.99.0.1 dev kt-test scope link metric 20', 'local 10.99.0.1 dev kt-test table local scope host'], link: true },
      { name: 'withdrawn, still local', routes: ['local 10.99.0.1 dev kt-test table local scope host'], link: true },
      { name: 'closed', routes: [], link: false },
    ]);
  });

  it('kill -9 of the process takes its device and every route through it', async () => {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        '--input-type=module',
        '-e',
        script(`
      await a.set([r('local', '10.99.0.2', 0), r('announce', '10.99.0.2', 0)]); show('announced');
      setInterval(() => {}, 1000);
    `),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until(() => out.includes('announced'), 15_000, 'announced');
    expect(sh(`ip -n ${ns} route show proto 249 table all`)).toContain('10.99.0.2 dev kt-test');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(sh(`ip -n ${ns} route show proto 249 table all`)).toBe('');
    expect(sh(`ip -n ${ns} -o link show`)).not.toContain('kt-test');
  });
});
