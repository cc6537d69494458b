// The parent daemon with stand-in children (the real child link, no sockets): start-up
// validation, HUP with a broken and a good file, what a respawned child is sent, stop. Pid
// files live in a temp dir.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDaemon, childStopTimeoutMs, LOGGED_DIAGNOSTICS, type DaemonHandle } from './parent.js';
import { childArgs, childrenFor } from './children.js';
import { parseChildArgs } from '../watchdog/child-args.js';
import { DRAIN_MAX_EXTRA_MS } from '../announce/drain.js';
import { defaultOptions, type CliOptions } from '../cli/options.js';
import { EXIT_CONFIG } from '../watchdog/exit-codes.js';
import { CHILD_NODE_FLAGS } from './node-flags.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const standIn = join(here, '../watchdog/testdata/child.mjs');
// the built loader: its worker thread runs the module's JavaScript
const builtLoader = join(here, '../../dist/src/config/load-worker.js');
let loader: typeof import('../config/load-worker.js');

// An interface that does not exist, with dynamic_interfaces: the VRRP child runs (its
// instance in FAULT) without touching the host's links (keepalived refuses VRRP on lo).
const GOOD = `global_defs {
  router_id test
  dynamic_interfaces
}
vrrp_instance VI_1 {
  state BACKUP
  interface kts-absent0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.10/32
  }
}
virtual_server 192.0.2.10 80 {
  lb_algo rr
  lb_kind NAT
  real_server 127.0.0.1 8080 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;

/** GOOD with the instance's priority, and 1 MB of comments: loaded in the worker loader. */
const PADDING = '# padding to make the file big enough for the worker loader\n'.repeat(20_000);
const big = (prio: number) => `${GOOD.replace('priority 100', `priority ${prio}`)}${PADDING}`;

let dir = '';
let handle: DaemonHandle | null = null;
const lines: string[] = [];
const marks = () => (existsSync(join(dir, 'marks')) ? readFileSync(join(dir, 'marks'), 'utf8').trim().split('\n') : []);
const until = async (cond: () => boolean, what: string, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; log:\n${lines.join('')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  if (!existsSync(join(here, '../../dist/src/watchdog/child-link.js'))) throw new Error('run `npm run build` first (npm test does)');
  loader = (await import(builtLoader)) as typeof loader;
});
afterEach(async () => {
  if (handle) {
    handle.stop();
    await handle.done;
    handle = null;
  }
  lines.length = 0;
});

function options(extra: Partial<CliOptions> = {}): CliOptions {
  dir = mkdtempSync(join(tmpdir(), 'kts-parent-'));
  writeFileSync(join(dir, 'keepalived.conf'), GOOD);
  process.env.CHILD_MARK = join(dir, 'marks');
  return {
    ...defaultOptions(),
    dontFork: true,
    useFile: join(dir, 'keepalived.conf'),
    pidFile: join(dir, 'keepalived.pid'),
    vrrpPidFile: join(dir, 'vrrp.pid'),
    checkersPidFile: join(dir, 'checkers.pid'),
    ...extra,
  };
}

async function start(opts: CliOptions, deps: Parameters<typeof runDaemon>[2] = {}): Promise<DaemonHandle | number> {
  const r = await runDaemon(opts, [], {
    childModules: { vrrp: standIn, checker: standIn },
    logWrite: (l) => lines.push(l),
    loadInWorker: loader.loadInWorker,
    ...deps,
  });
  if (typeof r !== 'number') handle = r;
  return r;
}

describe('parent daemon', () => {
  it('starts one child per configured subsystem and writes every pid file', async () => {
    const opts = options();
    await start(opts);
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    const childPids = marks()
      .filter((l) => l.endsWith(' ready'))
      .map((l) => Number(l.split(' ')[0]));
    expect(readFileSync(opts.pidFile, 'utf8').trim()).toBe(String(process.pid));
    await until(() => existsSync(opts.vrrpPidFile) && existsSync(opts.checkersPidFile), 'child pid files');
    expect([Number(readFileSync(opts.vrrpPidFile, 'utf8')), Number(readFileSync(opts.checkersPidFile, 'utf8'))].sort()).toEqual(childPids.sort());
    // each child runs with its memory flags (node-flags.ts), not the parent's own execArgv
    const argvOf = (pidFile: string) => readFileSync(`/proc/${readFileSync(pidFile, 'utf8').trim()}/cmdline`, 'utf8').split('\0');
    const vrrpArgv = argvOf(opts.vrrpPidFile);
    expect(vrrpArgv.slice(1, 1 + CHILD_NODE_FLAGS.vrrp.length)).toEqual([...CHILD_NODE_FLAGS.vrrp]);
    expect(vrrpArgv[1 + CHILD_NODE_FLAGS.vrrp.length]).toBe(standIn);
    const checkerArgv = argvOf(opts.checkersPidFile);
    expect(checkerArgv.slice(1, 1 + CHILD_NODE_FLAGS.checker.length)).toEqual([...CHILD_NODE_FLAGS.checker]);
    expect(checkerArgv[1 + CHILD_NODE_FLAGS.checker.length]).toBe(standIn);
  });

  it('-P starts only the VRRP child', () => {
    const config = { vrrpInstances: 1, virtualServers: 1 };
    expect(childrenFor(config, { vrrpOnly: true, checkOnly: false, allConfig: false })).toEqual(['vrrp']);
    expect(childrenFor(config, { vrrpOnly: false, checkOnly: true, allConfig: false })).toEqual(['checker']);
    const empty = { vrrpInstances: 0, virtualServers: 0 };
    expect(childrenFor(empty, { vrrpOnly: false, checkOnly: false, allConfig: false })).toEqual([]);
  });

  it('refuses to start on a broken config, naming file:line:column', async () => {
    const opts = options();
    // keepalived would skip this instance (no usable VRID); we refuse to run without it
    writeFileSync(opts.useFile, GOOD.replace('virtual_router_id 51', 'virtual_router_id 300'));
    expect(await start(opts)).toBe(EXIT_CONFIG);
    expect(lines.join('')).toMatch(/keepalived\.conf:8:\d+: error: .*virtual_router_id/);
    expect(existsSync(opts.pidFile)).toBe(false);
  });

  it('starts despite a mistyped keyword, as keepalived does: the statement is skipped and logged with a suggestion', async () => {
    const opts = options();
    writeFileSync(opts.useFile, GOOD.replace('virtual_router_id 51', 'virtual_router_id 51\n  priorty 101'));
    await start(opts);
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    expect(lines.join('')).toMatch(/keepalived\.conf:9:3: error: unknown keyword `priorty`.*did you mean `priority`.*statement ignored/);
    // a front-end error (an unterminated quote) is still fatal; a missing `}` is not (keepalived reads on)
    handle!.stop();
    await handle!.done;
    handle = null;
    writeFileSync(opts.useFile, GOOD.replace('virtual_router_id 51', 'virtual_router_id 51\n  notify "/bin/true'));
    expect(await start(opts)).toBe(EXIT_CONFIG);
  });

  it('HUP with a broken file keeps the running config and children; a good file reaches them', async () => {
    const opts = options();
    await start(opts);
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    expect(marks().filter((l) => l.endsWith(' config gen=1 priority=100')).length).toBe(2);
    // what would stop a start: the VRID out of range leaves the instance without one
    writeFileSync(opts.useFile, GOOD.replace('virtual_router_id 51', 'virtual_router_id 300'));
    handle!.reload();
    await until(() => lines.some((l) => l.includes('new configuration rejected')), 'rejection');
    expect(lines.join('')).toMatch(/keepalived\.conf:8:\d+: error: .*virtual_router_id/);
    await new Promise((r) => setTimeout(r, 300));
    expect(marks().some((l) => l.includes('reload'))).toBe(false);

    writeFileSync(opts.useFile, GOOD.replace('priority 100', 'priority 110'));
    handle!.reload();
    await until(() => marks().filter((l) => l.endsWith(' reload gen=2 priority=110')).length === 2, 'both children reloaded');
    await until(() => lines.filter((l) => l.includes('reload applied')).length === 2, 'reload acks');
    expect(marks().filter((l) => l.endsWith(' ready')).length).toBe(2);
  });

  it('HUPs while a reload runs are one more reload, of the last file written: nothing lost, nothing stale', async () => {
    const opts = options();
    // the reload loads in the (gated) worker loader
    writeFileSync(opts.useFile, big(100));
    let loaded = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gatedLoader: typeof loader.loadInWorker = async (req) => {
      const r = await loader.loadInWorker(req);
      loaded++;
      await gate; // the load has read the file; it ends when the test says
      return r;
    };
    await start(opts, { loadInWorker: gatedLoader });
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    writeFileSync(opts.useFile, big(110));
    handle!.reload();
    await until(() => loaded === 1, 'the first reload read its file');
    // while it runs: two more edits, four HUPs
    writeFileSync(opts.useFile, big(120));
    handle!.reload();
    handle!.reload();
    writeFileSync(opts.useFile, big(130));
    handle!.reload();
    handle!.reload();
    release();
    await until(() => marks().filter((l) => l.endsWith(' reload gen=3 priority=130')).length === 2, 'both children run the last file');
    await until(() => lines.filter((l) => l.includes('reload applied') && l.includes('"generation":3')).length === 2, 'reload acks');
    await new Promise((r) => setTimeout(r, 300));
    expect(loaded).toBe(2);
    const reloads = marks()
      .filter((l) => / (reload|model) gen=/.test(l))
      .map((l) => l.split(' ').slice(1).join(' '));
    // each child: the first file, then the last (the one in between was never loaded)
    expect(reloads.filter((l) => l.startsWith('reload'))).toEqual([
      'reload gen=2 priority=110',
      'reload gen=2 priority=110',
      'reload gen=3 priority=130',
      'reload gen=3 priority=130',
    ]);
    // each child got its part of the model with each, built from the same bytes
    expect(reloads.filter((l) => l.startsWith('model')).sort()).toEqual([
      'model gen=2 role=checker instances=0 priority=- vs=1',
      'model gen=2 role=vrrp instances=1 priority=110 vs=0',
      'model gen=3 role=checker instances=0 priority=- vs=1',
      'model gen=3 role=vrrp instances=1 priority=130 vs=0',
    ]);
  });

  it('HUPs delivered while the parent is busy are one reload, however many', async () => {
    const opts = options();
    await start(opts);
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    writeFileSync(opts.useFile, GOOD.replace('priority 100', 'priority 140'));
    // real signals, sent while this thread is held: they wait in the event loop and come together
    for (let i = 0; i < 3; i++) process.kill(process.pid, 'SIGHUP');
    for (const end = Date.now() + 200; Date.now() < end;);
    await until(() => marks().filter((l) => l.endsWith(' reload gen=2 priority=140')).length === 2, 'both children reloaded');
    await new Promise((r) => setTimeout(r, 500));
    expect(lines.filter((l) => l.includes('Reloading')).length).toBe(1);
    expect(marks().filter((l) => l.includes(' reload gen=')).length).toBe(2);
  });

  it('reloads a file with a statement the start skips, as the start does: logged again, and the rest applied', async () => {
    const opts = options();
    const tolerated = GOOD.replace('virtual_router_id 51', 'virtual_router_id 51\n  priorty 101');
    writeFileSync(opts.useFile, tolerated);
    await start(opts);
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    const mark = lines.length;
    writeFileSync(opts.useFile, tolerated.replace('priority 100', 'priority 120'));
    handle!.reload();
    await until(() => marks().filter((l) => l.endsWith(' reload gen=2 priority=120')).length === 2, 'both children reloaded');
    const logged = lines.slice(mark).join('');
    expect(logged).toMatch(/keepalived\.conf:9:3: error: unknown keyword `priorty`.*did you mean `priority`.*statement ignored/);
    expect(logged).not.toMatch(/rejected/);
  });

  it('a child respawned after a refused HUP gets the last accepted config, not the file on the disk', async () => {
    const opts = options();
    await start(opts);
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    writeFileSync(opts.useFile, GOOD.replace('priority 100', 'priority 110'));
    handle!.reload();
    await until(() => marks().filter((l) => l.endsWith(' reload gen=2 priority=110')).length === 2, 'both children reloaded');
    writeFileSync(opts.useFile, GOOD.replace('priority 100', 'priority 50').replace('virtual_router_id 51', 'virtual_router_id 300'));
    handle!.reload();
    await until(() => lines.some((l) => l.includes('new configuration rejected')), 'rejection');
    process.kill(Number(readFileSync(opts.vrrpPidFile, 'utf8')), 'SIGKILL');
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 3, 'the respawned child');
    const sentAtStart = marks()
      .filter((l) => / config gen=/.test(l))
      .map((l) => l.split(' ').slice(1).join(' '));
    expect(sentAtStart).toEqual(['config gen=1 priority=100', 'config gen=1 priority=100', 'config gen=2 priority=110']);
  });

  it('gives every start of each child its part of the model, respawns too: the VRRP part without virtual servers, the checker part without VRRP instances', async () => {
    const opts = options();
    await start(opts);
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    const firstModels = () =>
      marks()
        .filter((l) => l.includes(' first-model '))
        .map((l) => l.split(' ').slice(1).join(' '));
    const vrrpPart = 'first-model gen=1 role=vrrp instances=1 priority=100 vs=0';
    const checkerPart = 'first-model gen=1 role=checker instances=0 priority=- vs=1';
    expect(firstModels().sort()).toEqual([checkerPart, vrrpPart]);
    // each respawn: the part loaded again from the accepted bytes (the parent keeps none)
    process.kill(Number(readFileSync(opts.vrrpPidFile, 'utf8')), 'SIGKILL');
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 3, 'the respawned VRRP child');
    process.kill(Number(readFileSync(opts.checkersPidFile, 'utf8')), 'SIGKILL');
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 4, 'the respawned checker');
    expect(marks().filter((l) => / config gen=1 priority=100$/.test(l))).toHaveLength(4);
    expect(firstModels().sort()).toEqual([checkerPart, checkerPart, vrrpPart, vrrpPart]);
  });

  it('a child respawned after an accepted HUP gets the part of that config', async () => {
    const opts = options();
    await start(opts);
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    writeFileSync(opts.useFile, GOOD.replace('priority 100', 'priority 110'));
    handle!.reload();
    await until(() => marks().filter((l) => l.endsWith(' reload gen=2 priority=110')).length === 2, 'both children reloaded');
    process.kill(Number(readFileSync(opts.vrrpPidFile, 'utf8')), 'SIGKILL');
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 3, 'the respawned VRRP child');
    const firstModels = marks().filter((l) => l.includes(' first-model '));
    expect(firstModels.at(-1)?.split(' ').slice(1).join(' ')).toBe('first-model gen=2 role=vrrp instances=1 priority=110 vs=0');
  });

  it('a child respawned while a reload is loaded starts with the newer config and its part, nothing older', async () => {
    const opts = options();
    // a respawned child's part is loaded in the (gated) worker loader
    writeFileSync(opts.useFile, big(100));
    let partLoads = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const gatedLoader: typeof loader.loadInWorker = async (req) => {
      if (req.parts.length === 1) {
        partLoads++;
        await held; // a respawned child's part: loaded once the test says
      }
      return loader.loadInWorker(req);
    };
    await start(opts, { loadInWorker: gatedLoader });
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    const dead = Number(readFileSync(opts.vrrpPidFile, 'utf8'));
    process.kill(dead, 'SIGKILL');
    await until(() => partLoads === 1, "the respawned child's part being loaded");
    writeFileSync(opts.useFile, big(110));
    handle!.reload();
    await until(() => lines.some((l) => l.includes('new configuration accepted')), 'the reload accepted');
    release();
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 3, 'the respawned child');
    const successor = Number(readFileSync(opts.vrrpPidFile, 'utf8'));
    const itsMarks = marks()
      .filter((l) => l.startsWith(`${successor} `))
      .map((l) => l.split(' ').slice(1).join(' '));
    expect(itsMarks.filter((l) => / gen=/.test(l))).toEqual(['config gen=2 priority=110', 'first-model gen=2 role=vrrp instances=1 priority=110 vs=0']);
  });

  it('logs a bounded number of diagnostics and counts the rest', async () => {
    const opts = options();
    const junk = Array.from({ length: 500 }, (_, i) => `  bogus_keyword_${i} 1`).join('\n');
    writeFileSync(opts.useFile, GOOD.replace('virtual_router_id 51', `virtual_router_id 51\n${junk}`));
    await start(opts);
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    const text = lines.join('');
    expect(text.match(/unknown keyword `bogus_keyword_/g)?.length).toBe(LOGGED_DIAGNOSTICS);
    // GOOD's own warnings are counted in the rest too
    expect(text).toMatch(new RegExp(`\\.\\.\\. and \\d+ more \\(${500 - LOGGED_DIAGNOSTICS} errors(, \\d+ warnings?)?\\): \`keepalived-ts -t -f `));
  });

  it('serves merged child metrics and status on the optional endpoint', async () => {
    const opts = options();
    let port = 0;
    await start(opts, {
      statusListen: '127.0.0.1:0',
      onStatusServer: (s) => {
        port = (s.address() as { port: number }).port;
      },
    });
    await until(() => port !== 0 && marks().filter((l) => l.endsWith(' ready')).length === 2, 'endpoint and children');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('standin_up{role="vrrp"} 1');
    expect(metrics).toContain('standin_up{role="checker"} 1');
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Record<string, { pid: number }>;
    expect(status.pid).toBe(process.pid);
    expect(status.vrrp!.pid).toBeGreaterThan(0);
    expect(status.checker!.pid).toBeGreaterThan(0);

    // reloads and restarts are counted: one refused by the parent, one applied by each child
    writeFileSync(opts.useFile, GOOD.replace('virtual_router_id 51', 'virtual_router_id 300'));
    handle!.reload();
    await until(() => lines.some((l) => l.includes('new configuration rejected')), 'rejection');
    writeFileSync(opts.useFile, GOOD.replace('priority 100', 'priority 110'));
    handle!.reload();
    await until(() => lines.filter((l) => l.includes('reload applied')).length === 2, 'reload acks');
    const after = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(after).toContain('keepalived_reloads_total{process="parent",result="refused"} 1');
    expect(after).toContain('keepalived_reloads_total{process="vrrp",result="applied"} 1');
    expect(after).toContain('keepalived_reloads_total{process="checker",result="applied"} 1');
    expect(after).toContain('keepalived_child_restarts_total{process="vrrp"} 0');
    expect(after).toContain('keepalived_child_running{process="checker"} 1');
    const s2 = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
      reloads: Record<string, unknown>;
      children: Record<string, { restarts: number; running: boolean }>;
    };
    expect(s2.reloads).toMatchObject({ applied: 2, refused: 1, failed: 0, last: { outcome: 'applied' } });
    expect(s2.children.vrrp).toMatchObject({ restarts: 0, running: true });
  });

  it('tells systemd: READY=1 once both children run, RELOADING=1/READY=1 around a HUP, STOPPING=1', async () => {
    const opts = options();
    const sent: string[] = [];
    await start(opts, { notifier: { notify: (...l) => sent.push(l.join(' ')) > 0, close: () => undefined } });
    await until(() => sent.some((l) => l.startsWith('READY=1')), 'READY=1');
    expect(marks().filter((l) => l.endsWith(' ready')).length).toBe(2);
    // what would stop a start: the VRID out of range leaves the instance without one
    writeFileSync(opts.useFile, GOOD.replace('virtual_router_id 51', 'virtual_router_id 300'));
    handle!.reload();
    await until(() => sent.length === 3, 'the refusal told');
    expect(sent.slice(1).map((l) => l.split(' ')[0])).toEqual(['RELOADING=1', 'READY=1']);
    expect(sent[2]).toMatch(/reload refused \(\d+ errors? in .*keepalived\.conf\)/);
    writeFileSync(opts.useFile, GOOD.replace('priority 100', 'priority 110'));
    handle!.reload();
    await until(() => sent.length === 5, 'both children reloaded');
    expect(sent.slice(3).map((l) => l.split(' ')[0])).toEqual(['RELOADING=1', 'READY=1']);
    expect(sent[4]).toContain('configuration reloaded');
    handle!.stop();
    await handle!.done;
    handle = null;
    expect(sent.at(-1)).toMatch(/^STOPPING=1/);
  });

  it('stop: children get TERM, pid files are removed, exit code 0', async () => {
    const opts = options();
    await start(opts);
    await until(() => marks().filter((l) => l.endsWith(' ready')).length === 2, 'two children');
    await until(() => existsSync(opts.vrrpPidFile) && existsSync(opts.checkersPidFile), 'child pid files');
    handle!.stop();
    expect(await handle!.done).toBe(0);
    handle = null;
    expect(marks().filter((l) => l.endsWith('shutdown SIGTERM')).length).toBe(2);
    for (const f of [opts.pidFile, opts.vrrpPidFile, opts.checkersPidFile]) expect(existsSync(f)).toBe(false);
  });
});

describe('childStopTimeoutMs', () => {
  it("gives a child bgp_announce's drain and its longest wait for late traffic beyond the usual 5 s", () => {
    expect(childStopTimeoutMs(null)).toBe(5_000);
    expect(childStopTimeoutMs(2_000)).toBe(5_000 + 2_000 + DRAIN_MAX_EXTRA_MS);
  });
});

describe('childArgs', () => {
  it('asks the children to keep metrics only when the status endpoint is on (prom-client stays unloaded otherwise)', () => {
    const opts = { ...defaultOptions(), useFile: '/etc/keepalived/keepalived.conf' };
    expect(childArgs('vrrp', opts, { metrics: true })).toEqual(['--config', '/etc/keepalived/keepalived.conf', '--config-from-parent', '--metrics']);
    expect(childArgs('vrrp', opts)).not.toContain('--metrics');
    expect(childArgs('checker', opts, { metrics: true })).toContain('--metrics');
  });

  it('hands each child the options it reads, as the children parse them', () => {
    const opts = {
      ...defaultOptions(),
      useFile: '/k.conf',
      configId: 'lb1',
      dontReleaseVrrp: true,
      dontReleaseIpvs: false,
      logConsole: true,
      logDetail: true,
      logJson: true,
      noSyslog: true,
      logFacility: '4',
      namespace: 'blue',
      dumpConf: true,
    };
    const common = {
      config: '/k.conf',
      configId: 'lb1',
      configFromParent: true,
      logConsole: true,
      logDetail: true,
      logJson: true,
      noSyslog: true,
      logFacility: '4',
      namespace: 'blue',
      dumpConf: true,
    };
    expect(parseChildArgs('vrrp', childArgs('vrrp', opts, { metrics: true }))).toEqual({ ...common, dontRelease: true, metrics: true, ownedState: null });
    expect(parseChildArgs('checker', childArgs('checker', opts))).toEqual({ ...common, dontRelease: false, metrics: false, ownedState: null });
  });
});
