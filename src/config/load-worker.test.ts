// The loader's worker, from dist/ (a worker thread runs the module's JavaScript): a load from
// the disk comes back with the recording of what it read, a load of that recording gives
// the same answer without the disk, and what comes back is bounded.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from './ast.js';
import { diskTextSize, loadInThisThread, reportedDiagnostics } from './load-worker.js';

const built = fileURLToPath(new URL('../../dist/src/config/load-worker.js', import.meta.url));
let loader: typeof import('./load-worker.js');
const tmp = mkdtempSync(join(tmpdir(), 'kt-load-worker-'));
beforeAll(async () => {
  if (!existsSync(built)) throw new Error('run `npm run build` first (npm test does)');
  loader = (await import(built)) as typeof loader;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const d = (line: number, severity: 'error' | 'warning', ignored = false): Diagnostic => ({
  severity,
  code: 'x',
  pos: { file: 'k.conf', line, column: 1 },
  message: `line ${line}`,
  ...(ignored ? { ignored: true as const } : {}),
});

const CONF = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 150
  virtual_ipaddress {
    10.0.0.1/24
  }
}
virtual_server 10.0.0.1 80 {
  lb_kind DR
  protocol TCP
  real_server 10.0.0.5 80 {
  }
}
`;

describe('reportedDiagnostics', () => {
  it('keeps what refuses the config first, then skipped statements, then warnings, in file order', () => {
    const list = [d(1, 'warning'), d(2, 'error', true), d(3, 'warning'), d(4, 'error'), d(5, 'error', true), d(6, 'error')];
    const { shown, omitted } = reportedDiagnostics(list, 3);
    expect(shown.map((x) => x.pos.line)).toEqual([2, 4, 6]);
    expect(omitted).toEqual({ errors: 1, warnings: 2 });
    expect(reportedDiagnostics(list, 100)).toEqual({ shown: list, omitted: { errors: 0, warnings: 0 } });
  });
});

describe('loadInWorker', () => {
  it('loads from the disk with the recording, and the recording loads the same without the disk', async () => {
    const file = join(tmp, 'a.conf');
    writeFileSync(file, CONF);
    const disk = await loader.loadInWorker({ source: { kind: 'disk', path: file, configId: null }, tolerant: true, parts: [], maxDiagnostics: 10 });
    expect(disk.accepted).toBe(true);
    expect(disk.models).toEqual({});
    expect(disk.subsystems).toEqual({ vrrpInstances: 1, virtualServers: 1 });
    expect(disk.snapshot?.files.map((f) => f.path)).toEqual([file]);
    const snapshot = disk.snapshot!;
    writeFileSync(file, CONF.replace('priority 150', 'priority 50').replace('virtual_router_id 51', 'virtual_router_id 300'));
    const vrrp = await loader.loadInWorker({ source: { kind: 'snapshot', snapshot }, tolerant: true, parts: ['vrrp'], maxDiagnostics: 10 });
    expect(vrrp.models.vrrp?.vrrpInstances.map((i) => i.priority)).toEqual([150]);
    expect(vrrp.models.vrrp?.virtualServers).toEqual([]);
    expect(vrrp.snapshot).toBeNull();
    const all = await loader.loadInWorker({ source: { kind: 'snapshot', snapshot }, tolerant: true, parts: ['all', 'checker'], maxDiagnostics: 10 });
    expect(all.models.all?.virtualServers.length).toBe(1);
    expect(all.models.checker?.virtualServers.length).toBe(1);
    expect(all.models.checker?.vrrpInstances).toEqual([]);
  });

  it('a refused file comes back without a recording, its diagnostics bounded and counted', async () => {
    const file = join(tmp, 'b.conf');
    const junk = Array.from({ length: 300 }, (_, i) => `  junk_${i}`).join('\n');
    writeFileSync(file, CONF.replace('priority 150', `priority 150\n${junk}`).replace('virtual_router_id 51', 'virtual_router_id 300'));
    const r = await loader.loadInWorker({ source: { kind: 'disk', path: file, configId: null }, tolerant: true, parts: [], maxDiagnostics: 5 });
    expect(r.accepted).toBe(false);
    expect(r.snapshot).toBeNull();
    // a refused load skips nothing: each of its errors counts
    expect(r.fatalErrors).toBe(302);
    expect(r.diagnostics.map((x) => x.pos.line)).toEqual([1, 3, 5, 6, 7]);
    expect(r.omitted.errors).toBe(297);
  });
});

describe('loadInThisThread', () => {
  it("reports bgp_announce's drain time (the parent sizes a child's stop by it), null without the block", async () => {
    const file = join(tmp, 'drain.conf');
    writeFileSync(file, `${CONF}bgp_announce {\n  drain 7.5\n  prefix 10.0.0.1/32 {\n  }\n}\n`);
    const r = await loadInThisThread({ source: { kind: 'disk', path: file, configId: null }, tolerant: true, parts: [], maxDiagnostics: 10 });
    expect(r.accepted).toBe(true);
    expect(r.drainMs).toBe(7500);
    writeFileSync(file, CONF);
    const none = await loadInThisThread({ source: { kind: 'disk', path: file, configId: null }, tolerant: true, parts: [], maxDiagnostics: 10 });
    expect(none.drainMs).toBeNull();
  });
});

describe('diskTextSize', () => {
  it('sums the files the running config was read from, at their size now, each once; a file gone counts nothing', () => {
    const snapshot = {
      path: 'k.conf',
      configId: null,
      globs: [],
      files: [
        { path: 'k.conf', size: 10, deflated: new Uint8Array() },
        { path: 'inc/a.conf', size: 20, deflated: new Uint8Array() },
        { path: 'inc/gone.conf', error: 'ENOENT' },
      ],
    };
    const now: Record<string, number> = { 'k.conf': 5_000_000, 'inc/a.conf': 30 };
    expect(diskTextSize(snapshot, (p) => now[p] ?? null)).toBe(5_000_030);
  });
});
