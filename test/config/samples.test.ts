// Every keepalived sample config (Debian's /usr/share/doc/keepalived/samples) and every
// example must pass our `-t` wherever keepalived 2.2.7's own `-t` passes, both run in one
// network namespace holding eth0..eth3. keepalived's verdict is taken live, never recorded.
// Then the model of each file is checked against what the file says.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, loadConfig } from '../../src/config/index.js';
import type { KeepalivedConfig } from '../../src/config/model.js';
import { createNs, netnsUnavailable, type TestNs } from './netns.js';

const SAMPLES = '/usr/share/doc/keepalived/samples';
const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/keepalived-ts');
const EXAMPLES = join(ROOT, 'examples');

const sampleFiles = existsSync(SAMPLES)
  ? readdirSync(SAMPLES)
      .filter((f) => f.startsWith('keepalived.conf.'))
      .map((f) => join(SAMPLES, f))
  : [];
const exampleFiles = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.conf'))
  .map((f) => join(EXAMPLES, f));

/** Extra command-line words per file (conditional_conf is written for `-i high` / `-i low`). */
const RUNS: Record<string, string[][]> = {
  'keepalived.conf.conditional_conf': [[], ['-i', 'high'], ['-i', 'low']],
};

const why =
  netnsUnavailable() ??
  (existsSync('/usr/sbin/keepalived') ? null : 'keepalived 2.2.7 (/usr/sbin/keepalived) is not installed') ??
  (existsSync(join(ROOT, 'dist/src/cli/main.js')) ? null : 'dist/ is not built (npm run build)');
if (why) console.warn(`samples.test: skipped: ${why}`);

const base = (f: string) => f.split('/').pop()!;
const rs = (c: KeepalivedConfig, vs = 0, r = 0) => c.virtualServers[vs]!.realServers[r]!;

/** Arguments for reading the model (conditional_conf is only complete for a given config id). */
const DUMP_ARGS: Record<string, string[]> = { 'keepalived.conf.conditional_conf': ['-i', 'high'] };

/**
 * Samples that are wrong (keepalived's -t also fails on them): -d must refuse them, with
 * these diagnostics (`line:column: error: message`).
 */
const REJECTED: Record<string, string[]> = {
  'keepalived.conf.vrrp.lvs_syncd': [
    '4:3: error: unknown keyword `VI_2` in vrrp_sync_group; sync group members are listed inside `group { }`',
    '5:3: error: unknown keyword `VI_3` in vrrp_sync_group; sync group members are listed inside `group { }`',
  ],
  // `192.168.100./24` is no address: keepalived logs it, -t exits 5, and the daemon runs without those rules
  'keepalived.conf.vrrp.rules': [
    '11:8: error: rule `192.168.100./24` is not a valid to address: keepalived ignores this rule',
    '26:12: error: rule `192.168.200./24` is not a valid to address: keepalived ignores this rule',
  ],
};

/** What each file's `-d` model must hold: a few meaningful values read from the file. */
const MODEL_CHECKS: Record<string, (c: KeepalivedConfig) => void> = {
  'keepalived.conf.HTTP_GET.port': (c) => {
    expect(c.virtualServers[0]).toMatchObject({
      key: { kind: 'ip', address: '192.168.200.100', port: 443 },
      lbAlgo: 'rr',
      lbKind: 'NAT',
      persistenceTimeoutS: 50,
      delayLoopMs: 6000,
    });
    expect(rs(c).checkers[0]).toMatchObject({
      type: 'SSL_GET',
      connectPort: 444,
      retry: 3,
      delayBeforeRetryMs: 3000,
      urls: [{ path: '/', digest: 'ff20ad2481f97b1754ef3e12ecd3a9cc' }],
    });
  },
  'keepalived.conf.IPv6': (c) => {
    expect(c.virtualServerGroups[0]).toMatchObject({
      name: 'IPv6_group',
      members: [
        { kind: 'range', address: 'ae00::2', rangeEnd: 9, port: 80, family: 6 },
        { kind: 'ip', address: 'ae00::1', port: 80 },
      ],
    });
    expect(c.virtualServers[0]!.key).toMatchObject({ kind: 'ip', address: 'ae00::1', port: 80, family: 6 });
    expect(rs(c)).toMatchObject({ address: 'ae00::10', port: 25, family: 6 });
    expect(rs(c).checkers[0]).toMatchObject({ type: 'SMTP_CHECK', heloName: 'foo.bar.com', retry: 3 });
  },
  'keepalived.conf.PING_CHECK': (c) => {
    expect(c.virtualServers[0]).toMatchObject({ protocol: 'UDP', key: { port: 1358 } });
    expect(rs(c).checkers[0]).toMatchObject({ type: 'PING_CHECK', retry: 4 });
  },
  'keepalived.conf.SMTP_CHECK': (c) => {
    expect(c.virtualServers[0]).toMatchObject({ delayLoopMs: 60000, key: { port: 25 } });
    expect(c.virtualServers[0]!.realServers.map((r) => r.address)).toEqual(['172.16.1.10', '172.16.1.11', '172.16.1.12']);
    const smtp = rs(c, 0, 1).checkers[0]!;
    expect(smtp).toMatchObject({ type: 'SMTP_CHECK', retry: 2, delayBeforeRetryMs: 5000, heloName: 'foo.bar.com' });
    expect(smtp.type === 'SMTP_CHECK' && smtp.hosts.map((h) => h.connectIp)).toEqual(['172.16.1.11', '192.168.155.10', '64.233.167.99']);
  },
  'keepalived.conf.SSL_GET': (c) => {
    expect(c.vrrpInstances[0]).toMatchObject({ name: 'VI_1', state: 'MASTER', virtualRouterId: 51, authentication: { type: 'AH' } });
    expect(rs(c).checkers[0]).toMatchObject({ type: 'SSL_GET', urls: [{ path: '/' }, { path: '/mrtg/', digest: '9b3a0c85a887a256d6939da88aabd8cd' }] });
  },
  'keepalived.conf.UDP_CHECK': (c) => {
    expect(rs(c).checkers[0]).toMatchObject({
      type: 'UDP_CHECK',
      connectTimeoutMs: 3000,
      retry: 3,
      requireReplyHex: null,
      minReplyLength: 0,
      maxReplyLength: 255,
    });
  },
  'keepalived.conf.conditional_conf': (c) => {
    // dumped with `-i high`: the @high lines are kept, the @low ones dropped
    expect(c.vrrpScripts[0]).toMatchObject({
      name: 'check_VI_0',
      script: { command: '/etc/keepalived/scripts/check_high_VI_0.sh' },
      timeoutMs: 10000,
      rise: 3,
      fall: 3,
    });
    expect(c.vrrpInstances[0]).toMatchObject({ name: 'VI_0', version: 3, advertIntMs: 12000, priority: 170 });
    expect(c.vrrpInstances[0]!.trackInterfaces).toMatchObject([
      { name: 'eth3', weight: null },
      { name: 'eth2', weight: 20 },
    ]);
  },
  'keepalived.conf.fwmark': (c) => {
    expect(c.virtualServers[0]).toMatchObject({ key: { kind: 'fwmark', fwmark: 1 }, persistenceTimeoutS: 900 });
    expect(rs(c)).toMatchObject({ address: '192.168.201.100', port: 0 });
    expect(rs(c).checkers[0]).toMatchObject({ type: 'TCP_CHECK', connectPort: 80 });
  },
  'keepalived.conf.inhibit': (c) => {
    expect(rs(c)).toMatchObject({ inhibitOnFailure: true, port: 1358 });
    expect(rs(c).checkers[0]).toMatchObject({ type: 'HTTP_GET', urls: [{ path: '/testurl3/test.jsp', digest: '640205b7b0fc66c1ea91c463fac6334d' }] });
  },
  'keepalived.conf.misc_check': (c) => {
    expect(rs(c).checkers[0]).toMatchObject({
      type: 'MISC_CHECK',
      miscPath: { command: '/usr/local/bin/script.sh', argv: ['/usr/local/bin/script.sh'] },
      retry: 0,
    });
  },
  'keepalived.conf.misc_check_arg': (c) => {
    expect(rs(c).checkers[0]).toMatchObject({ type: 'MISC_CHECK', miscPath: { argv: ['/usr/local/bin/script.sh', 'arg1', 'arg2'] } });
  },
  'keepalived.conf.quorum': (c) => {
    expect(c.virtualServers[0]).toMatchObject({
      lbAlgo: 'wrr',
      alpha: true,
      omega: true,
      quorum: 7,
      hysteresis: 2,
      quorumUp: { command: '/usr/local/sbin/quorum-up.sh' },
    });
    expect(c.virtualServers[0]!.realServers.length).toBeGreaterThanOrEqual(5);
    expect(rs(c)).toMatchObject({ address: '10.0.0.1', port: 8080, alpha: true });
  },
  'keepalived.conf.sample': (c) => {
    expect(c.vrrpInstances[0]).toMatchObject({ interface: 'eth0', nopreempt: true, priority: 100 });
    expect(c.vrrpInstances[0]!.virtualIpaddresses.map((v) => v.address)).toEqual(['192.168.200.11', '192.168.200.12', '192.168.200.13']);
    expect(c.virtualServers[0]!.sorryServer).toMatchObject({ address: '192.168.200.200', port: 1358 });
  },
  'keepalived.conf.status_code': (c) => {
    const chk = rs(c).checkers[0]!;
    expect(chk.type === 'SSL_GET' && chk.urls.map((u) => u.statusCodes)).toEqual([
      [
        { from: 200, to: 299 },
        { from: 400, to: 499 },
        { from: 503, to: 503 },
        { from: 505, to: 505 },
      ],
      [{ from: 200, to: 200 }],
    ]);
  },
  'keepalived.conf.track_interface': (c) => {
    expect(c.vrrpInstances[0]).toMatchObject({ interface: 'eth0.1', state: 'MASTER' });
  },
  'keepalived.conf.virtual_server_group': (c) => {
    expect(c.virtualServerGroups[0]!.members).toMatchObject([
      { kind: 'ip', address: '10.0.0.1', port: 8080 },
      { kind: 'ip', address: '10.0.0.2', port: 80 },
      { kind: 'ip', address: '192.168.200.1', port: 1358 },
      { kind: 'range', address: '192.168.200.3', rangeEnd: 10, port: 80 },
      { kind: 'fwmark', fwmark: 1 },
      { kind: 'fwmark', fwmark: 2 },
    ]);
    expect(c.virtualServers[0]!.key).toEqual({ kind: 'group', group: 'VSG_1' });
  },
  'keepalived.conf.virtualhost': (c) => {
    expect(c.virtualServers[0]).toMatchObject({ virtualhost: 'www.firewall.loc' });
  },
  'keepalived.conf.vrrp': (c) => {
    expect(c.vrrpInstances.map((i) => [i.name, i.interface, i.virtualRouterId])).toEqual([
      ['VI_1', 'eth0', 51],
      ['VI_2', 'eth0', 50],
      ['VI_3', 'eth1', 52],
      ['VI_4', 'eth1', 53],
    ]);
    expect(c.vrrpInstances[0]).toMatchObject({ garpMasterDelayMs: 10000, authentication: { type: 'PASS', pass: '1111' } });
    expect(c.vrrpInstances[0]!.virtualIpaddresses[3]).toMatchObject({ address: '192.168.200.18', label: 'eth0:1', prefix: 32 });
    expect(c.vrrpInstances[1]).toMatchObject({ state: 'BACKUP', priority: 50 });
  },
  'keepalived.conf.vrrp.localcheck': (c) => {
    expect(c.vrrpScripts[0]).toMatchObject({ name: 'chk_sshd', script: { command: 'killall -0 sshd' }, intervalMs: 2000, weight: -4, fall: 2, rise: 2 });
    expect(c.vrrpInstances[0]!.trackInterfaces).toMatchObject([
      { name: 'eth1', weight: 2 },
      { name: 'eth2', weight: -2 },
      { name: 'eth3', weight: null },
    ]);
    expect(c.vrrpInstances[0]!.trackScripts.slice(0, 2)).toMatchObject([
      { name: 'chk_sshd', weight: null },
      { name: 'chk_haproxy', weight: 2 },
    ]);
  },
  'keepalived.conf.vrrp.routes': (c) => {
    const routes = c.vrrpInstances[0]!.virtualRoutes;
    expect(routes[0]).toMatchObject({
      src: '192.168.100.1',
      destination: { address: '192.168.109.0', prefix: 24 },
      via: { address: '192.168.200.254' },
      dev: 'eth1',
    });
    expect(routes.find((r) => r.type === 6)).toMatchObject({ destination: { address: '192.168.113.1', prefix: 32 } });
    expect(routes.at(-1)).toMatchObject({ destination: { address: '0.0.0.0', prefix: 0 }, via: { address: '192.168.0.1' }, table: 100 });
    expect(c.staticRoutes.map((r) => `${r.destination.address}/${r.destination.prefix}`)).toEqual([
      '192.168.209.0/24',
      '192.168.210.0/24',
      '192.168.211.0/24',
      '192.168.212.0/24',
      '192.168.213.0/24',
    ]);
    expect(c.vrrpInstances[0]!.virtualIpaddresses[1]).toMatchObject({ address: '192.168.200.17', dev: 'eth1' });
  },
  'keepalived.conf.vrrp.scripts': (c) => {
    expect(c.vrrpSyncGroups[0]).toMatchObject({ name: 'G1', group: ['VI_2', 'VI_3'], notifyMaster: { argv: ['/usr/local/bin/vrrp.mast', 'arg1', 'arg2'] } });
    expect(c.vrrpInstances[0]!.notifyMaster).toMatchObject({ argv: ['/usr/local/bin/vrrp.sh', 'MASTER', 'VI_1'] });
    expect(c.vrrpInstances.find((i) => i.name === 'VI_2')!.syncGroup).toBe('G1');
  },
  'keepalived.conf.vrrp.static_ipaddress': (c) => {
    expect(c.vrrpInstances[0]!.virtualIpaddresses[0]).toMatchObject({ address: '192.168.200.20' });
    expect(c.vrrpInstances[0]!.virtualRoutes.length).toBeGreaterThan(0);
  },
  'keepalived.conf.vrrp.sync': (c) => {
    expect(c.vrrpSyncGroups.map((g) => [g.name, g.group])).toEqual([
      ['G1', ['VI_1', 'VI_2', 'VI_5', 'VI_6', 'VI_7', 'VI_8', 'VI_9']],
      ['G2', ['VI_3', 'VI_4']],
    ]);
    expect(c.vrrpInstances[0]!.virtualIpaddresses[0]).toMatchObject({ address: '192.168.200.18', prefix: 25 });
    expect(c.vrrpInstances.find((i) => i.name === 'VI_3')!.syncGroup).toBe('G2');
  },
  'dr-director-pair.conf': (c) => {
    expect(c.vrrpInstances[0]).toMatchObject({ state: 'MASTER', interface: 'eth0', virtualRouterId: 51, priority: 100 });
    expect(c.virtualServers[0]).toMatchObject({ lbKind: 'DR', lbAlgo: 'wlc', persistenceTimeoutS: 600, delayLoopMs: 6000 });
    expect(c.virtualServers[0]!.realServers.map((r) => [r.address, r.weight, r.checkers[0]!.type, r.checkers[0]!.connectTimeoutMs])).toEqual([
      ['200.222.0.87', 100, 'TCP_CHECK', 3000],
      ['200.222.0.89', 100, 'TCP_CHECK', 3000],
    ]);
  },
  'unicast-peer-pair-node1.conf': (c) => {
    expect(c.vrrpInstances[0]).toMatchObject({ state: 'MASTER', priority: 100, unicastSrcIp: '200.222.0.73', unicastPeers: [{ address: '200.222.0.74' }] });
  },
  'unicast-peer-pair-node2.conf': (c) => {
    expect(c.vrrpInstances[0]).toMatchObject({ state: 'BACKUP', priority: 99, unicastSrcIp: '200.222.0.74', unicastPeers: [{ address: '200.222.0.73' }] });
  },
  'nat.conf': (c) => {
    expect(c.vrrpSyncGroups[0]).toMatchObject({ name: 'NAT_DIRECTOR', group: ['VI_PUBLIC', 'VI_GATEWAY'] });
    expect(c.virtualServers[0]).toMatchObject({ lbKind: 'NAT', lbAlgo: 'rr', key: { address: '207.175.44.110', port: 80 } });
    expect(c.virtualServers[0]!.realServers.map((r) => r.address)).toEqual(['192.168.10.1', '192.168.10.2', '192.168.10.3']);
  },
  'k8s-apiserver-ssl-get.conf': (c) => {
    expect(c.globalDefs).toMatchObject({
      routerId: 'oxygen',
      lvsTimeouts: { tcpS: 7200, tcpfinS: 120, udpS: 300 },
      lvsSyncDaemon: { interface: 'eth0', instance: 'apiserver', syncId: 51 },
    });
    expect(c.vrrpInstances[0]!.virtualIpaddresses.map((v) => [v.address, v.label])).toEqual([
      ['10.0.10.1', 'eth0:k8s'],
      ['10.0.10.2', 'eth0:etcd'],
      ['10.0.10.3', 'eth0:ceph'],
    ]);
    expect(c.virtualServers.map((v) => v.key.kind === 'ip' && v.key.port)).toEqual([6443, 2379, 6789]);
    expect(rs(c).checkers[0]).toMatchObject({ type: 'SSL_GET', retry: 3, urls: [{ path: '/healthz', statusCodes: [{ from: 200, to: 200 }] }] });
    expect(c.virtualServers[2]!.persistenceTimeoutS).toBe(300);
  },
  'three-masters-checks.conf': (c) => {
    expect(c.virtualServers[0]!.realServers.map((r) => r.checkers.map((k) => k.type))).toEqual([
      ['TCP_CHECK'],
      ['HTTP_GET', 'SSL_GET'],
      ['MISC_CHECK', 'SMTP_CHECK'],
    ]);
    expect(rs(c, 0, 2).checkers[0]).toMatchObject({ miscTimeoutMs: 10000, miscDynamic: true });
    expect(rs(c, 0, 2).checkers[1]).toMatchObject({ heloName: 'hello', hosts: [{ connectIp: '192.168.0.4', connectPort: 25 }] });
    expect(c.globalDefs).toMatchObject({ enableScriptSecurity: true, scriptUser: { user: 'root' } });
  },
};

/**
 * Runs where keepalived's -t checks nothing: with `-i high` / `-i low` the file sets
 * `net_namespace`, which -t cannot enter here, and it exits 0 at once. Ours checks the file
 * against this host; the only errors it may give are the scripts missing here.
 */
const UNCHECKED_BY_KEEPALIVED = new Set(['keepalived.conf.conditional_conf -i high', 'keepalived.conf.conditional_conf -i low']);

describe.skipIf(why !== null)('keepalived samples and examples under -t, compared live with keepalived 2.2.7', () => {
  let ns: TestNs;
  beforeAll(() => {
    ns = createNs(4);
  });
  afterAll(() => {
    ns?.remove();
  });

  for (const file of [...sampleFiles, ...exampleFiles]) {
    for (const extra of RUNS[base(file)] ?? [[]]) {
      it(`${base(file)} ${extra.join(' ')}`.trim(), () => {
        const theirs = ns.run('/usr/sbin/keepalived', ['-t', ...extra, '-f', file]);
        const ours = ns.run(process.execPath, [BIN, '-t', ...extra, '-f', file]);
        const errors = ours.stderr.split('\n').filter((l) => l.includes(': error: '));
        if (UNCHECKED_BY_KEEPALIVED.has(`${base(file)} ${extra.join(' ')}`)) {
          expect(theirs.status).toBe(0);
          expect(errors.filter((l) => !/is not found on this host/.test(l))).toEqual([]);
        } else if (theirs.status === 0) {
          expect(errors).toEqual([]);
          expect(ours.status).toBe(0);
        } else {
          // keepalived rejects it: we may too, with keepalived's -t codes and located
          // diagnostics (6 alone: scripts run without script security), not a crash.
          expect([0, 4, 5, 6]).toContain(ours.status);
          if (ours.status === 4 || ours.status === 5) expect(ours.stderr).toMatch(/:\d+:\d+: error: /);
        }
      });
    }
  }

  it('has a model check for every sample and example', () => {
    expect(sampleFiles.length).toBe(25);
    for (const f of [...sampleFiles, ...exampleFiles]) expect([...Object.keys(MODEL_CHECKS), ...Object.keys(REJECTED)]).toContain(base(f));
  });

  for (const [name, lines] of Object.entries(REJECTED)) {
    it(`--dump-json refuses ${name} with located errors`, () => {
      const file = join(SAMPLES, name);
      const r = ns.run(process.execPath, [BIN, '--dump-json', '-f', file]);
      expect([4, 5]).toContain(r.status);
      expect(r.stdout).toBe('');
      for (const l of lines) expect(r.stderr).toContain(`${file}:${l}`);
    });
  }

  for (const file of [...sampleFiles, ...exampleFiles].filter((f) => MODEL_CHECKS[base(f)])) {
    it(`model of ${base(file)}`, () => {
      // what the file says, read without this host's facts (its interfaces and scripts)
      const configId = (DUMP_ARGS[base(file)] ?? [])[1];
      const r = loadConfig(file, configId ? { configId } : {});
      expect(r.config, r.diagnostics.map(formatDiagnostic).join('\n')).not.toBeNull();
      MODEL_CHECKS[base(file)]!(r.config!);
    });
  }
});
