// The command line end to end (dist/ build): -t, -d, --keywords, -v, -h, --signum, -T (genhash)
// and a daemon start on a broken file, run as the user runs them.
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/keepalived-ts');
const built = existsSync(join(ROOT, 'dist/src/cli/main.js'));
if (!built) console.warn('cli.test: skipped: dist/ is not built (npm run build)');
const dir = mkdtempSync(join(tmpdir(), 'kt-cfg-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe.skipIf(!built)('keepalived-ts command line', () => {
  it('-t on a missing file fails with 4, the code keepalived means for it (it exits 0 there)', () => {
    const r = run('-t', '-f', join(dir, 'absent.conf'));
    expect(r.status).toBe(4);
    expect(r.stderr).toContain(`${join(dir, 'absent.conf')}:0:0: error: configuration file`);
  });

  it('-t lists every error with its position, exits as keepalived -t does (4: would not start, 5: would start with errors, 6: scripts without script security); warnings alone do not fail', () => {
    const bad = write('bad.conf', 'vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 300\n  priorty 5\n}\n');
    const r = run('-t', '-f', bad);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain('configuration not usable: the daemon would not start');
    const starts = write(
      'starts.conf',
      'global_defs {\n  dynamic_interfaces\n}\nvrrp_instance VI_1 {\n  interface kt-cfg-none0\n  virtual_router_id 51\n  priorty 5\n  state MASTER priority 150\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n',
    );
    const t = run('-t', '-f', starts);
    expect([t.status, t.stderr.split('\n').filter((l) => l.startsWith('keepalived-ts:'))]).toEqual([
      5,
      [`keepalived-ts: ${starts}: 2 errors; the daemon would start (as keepalived does), ignoring 1 statement and working around 1 more as the messages say`],
    ]);
    const scripts = write(
      'scripts.conf',
      'global_defs {\n  dynamic_interfaces\n}\nvrrp_instance VI_1 {\n  interface kt-cfg-none0\n  virtual_router_id 51\n  notify_master /bin/true\n}\n',
    );
    expect(run('-t', '-f', scripts).status).toBe(6);
    expect(r.stderr).toContain(`${bad}:3:21: error: \`virtual_router_id\` expects an integer 1-255, got \`300\``);
    expect(r.stderr).toContain(`${bad}:4:3: error: unknown keyword \`priorty\` in vrrp_instance; did you mean \`priority\`?`);
    const warn = write('warn.conf', 'global_defs {\n  enable_snmp_vrrp\n}\n');
    const w = run('-t', '-f', warn);
    expect(w.status).toBe(0);
    expect(w.stderr).toContain(`${warn}:2:3: warning: keepalived knows \`enable_snmp_vrrp\``);
  });

  it('-t checks interfaces against the host', () => {
    const f = write('iface.conf', 'vrrp_instance VI_1 {\n  interface kt-cfg-none0\n  virtual_router_id 5\n}\n');
    const r = run('-t', '-f', f);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain(`${f}:2:13: error: vrrp_instance VI_1 interface: interface \`kt-cfg-none0\` does not exist on this host`);
    const ok = write(
      'dyn.conf',
      'global_defs {\n  dynamic_interfaces\n}\nvrrp_instance VI_1 {\n  interface kt-cfg-none0\n  virtual_router_id 5\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n',
    );
    expect(run('-t', '-f', ok).status).toBe(0);
    const lo = write('lo.conf', 'vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 5\n}\n');
    const l = run('-t', '-f', lo);
    expect(l.status).toBe(4);
    expect(l.stderr).toContain(`${lo}:2:13: error: vrrp_instance VI_1 interface: VRRP cannot run on the loopback interface \`lo\``);
  });

  it('--dump-json prints the model as JSON with defaults filled', () => {
    const f = write(
      'ok.conf',
      'global_defs {\n  dynamic_interfaces\n}\nvrrp_instance VI_1 {\n  interface kt-cfg-none0\n  virtual_router_id 7\n  virtual_ipaddress {\n    192.0.2.1/24\n  }\n}\n',
    );
    const r = run('--dump-json', '-f', f);
    expect(r.status).toBe(0);
    const model = JSON.parse(r.stdout) as { vrrpInstances: unknown[]; files: string[] };
    expect(model.vrrpInstances[0]).toMatchObject({
      name: 'VI_1',
      virtualRouterId: 7,
      priority: 100,
      advertIntMs: 1000,
      virtualIpaddresses: [{ address: '192.0.2.1', prefix: 24 }],
    });
    expect(model.files).toEqual([f]);
  });

  it('-v, -h, --keywords, --signum', () => {
    // keepalived writes -v and -h to stderr; exporters parse -v's first line
    const v = run('-v');
    expect([v.status, v.stdout]).toEqual([0, '']);
    expect(v.stderr.split('\n')[0]).toBe((spawnSync('keepalived', ['-v'], { encoding: 'utf8' }).stderr ?? '').split('\n')[0]);
    expect(v.stderr).toMatch(/^keepalived-ts v\d+\.\d+\.\d+: /m);
    expect(run('-h').stderr).toContain('-t, --config-test');
    expect(run('--keywords').stdout).toContain('virtual_router_id <vrid>');
    expect(run('--signum=RELOAD').stdout).toBe('1\n');
    // keepalived's real-time numbers, the same as keepalived 2.2.7 prints
    const theirs = (name: string) => spawnSync('keepalived', [`--signum=${name}`], { encoding: 'utf8' }).stdout;
    expect([run('--signum=JSON').stdout, run('--signum=STATS_CLEAR').stdout]).toEqual([theirs('JSON'), theirs('STATS_CLEAR')]);
    expect(run('--signum=JSON').stdout).toBe('36\n');
    const bad = run('--signum=NOPE');
    expect([bad.status, bad.stderr]).toEqual([1, 'Unknown sigfunc NOPE\n']);
  });

  it('the daemon refuses to start on a broken file, in the foreground and before forking', () => {
    const bad = write('start-bad.conf', 'vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 300\n}\n');
    for (const fork of [['-n'], []]) {
      const r = run(...fork, '-l', '-f', bad, '-p', join(dir, 'p.pid'));
      expect(r.status).toBe(4);
      // -l: keepalived's console lines, on stderr as keepalived writes them
      expect(r.stderr).toContain(`${bad}:3:21: error: \`virtual_router_id\` expects an integer 1-255, got \`300\``);
      expect(existsSync(join(dir, 'p.pid'))).toBe(false);
    }
  });

  it("-T prints the same digest as keepalived's genhash for the same page", async () => {
    const body = 'keepalived-ts genhash test page\n'.repeat(100);
    const server = createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = String((server.address() as { port: number }).port);
    try {
      const ours = await promisify(execFile)(process.execPath, [BIN, '-T', '-s', '127.0.0.1', '-p', port, '-u', '/index.html']);
      const theirs = await promisify(execFile)('genhash', ['-s', '127.0.0.1', '-p', port, '-u', '/index.html']);
      expect(ours.stdout).toMatch(/^[0-9a-f]{32}\n$/);
      expect(theirs.stdout).toContain(ours.stdout.trim());
    } finally {
      server.close();
    }
    const refused = run('-T', '-s', '127.0.0.1', '-p', '1', '-u', '/');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('genhash: 127.0.0.1:1/: connect ECONNREFUSED');
  });

  it('rejects an unknown option with the usage', () => {
    const r = run('-Z');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('keepalived-ts: invalid option `-Z`');
  });
});
