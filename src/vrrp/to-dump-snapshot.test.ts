// The engine's view of an instance, through the snapshot and the dump formatters, against
// keepalived 2.2.7's own dump of the same config (test/fixtures/keepalived-dumps).
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { emptyStats } from '../dump/vrrp-snapshot.js';
import { formatJson, formatStats } from '../dump/vrrp-dumps.js';
import { createMachine } from './fsm.js';
import { instanceSpecFromConfig } from './instance-spec.js';
import { configOf, removeConfigFiles } from './engine-testkit.js';
import { commandText, formatVip, instanceSnapshot, resolveCommand } from './to-dump-snapshot.js';

const fixture = (f: string) => readFileSync(fileURLToPath(new URL(`../../test/fixtures/keepalived-dumps/${f}`, import.meta.url)), 'utf8');
afterAll(removeConfigFiles);

describe('dump snapshot of an engine instance', () => {
  it("gives keepalived's JSON and stats dumps for the fixture config, MASTER with its script GOOD", () => {
    const config = configOf(fixture('keepalived.conf'));
    const cfg = config.vrrpInstances[0]!;
    const m0 = createMachine(instanceSpecFromConfig(cfg, config, { localAddress: '10.203.0.1' }));
    const machine = { ...m0, state: 'MASTER' as const, started: true, effective: { ...m0.effective, priority: 160 } };
    const snap = instanceSnapshot(
      {
        cfg,
        machine,
        source: '10.203.0.1',
        stats: { ...emptyStats(), advertSent: 2, becomeMaster: 1 },
        lastTransition: 1795322690.247636,
        masterPriority: 0,
        vipsSet: true,
      },
      config,
      (p) => (p === '/bin/true' ? '/usr/bin/true' : p),
    );
    expect(formatJson([snap])).toBe(fixture('keepalived.json'));
    expect(formatStats([snap])).toBe(fixture('keepalived.stats'));
  });

  it("VIPs print as keepalived's format_ipaddress: scope, label, broadcast, IPv6 lifetime, set", () => {
    const cfg = configOf(`vrrp_instance V { interface eth0
  virtual_router_id 9
  priority 100
  virtual_ipaddress {
    10.1.0.5/24 brd + dev eth1 label eth1:x
    10.1.0.6
    10.1.0.7 dev eth1 no_track use_vmac
  }
}`).vrrpInstances[0]!;
    expect(cfg.virtualIpaddresses.map((v) => formatVip(cfg, v, true))).toEqual([
      '10.1.0.5/24 brd 10.1.0.255 dev eth1 scope global label eth1:x set',
      '10.1.0.6 dev eth0 scope global set',
      '10.1.0.7 dev eth1 use_vmac scope global no_track set',
    ]);
    const v6 = configOf(`vrrp_instance V { interface eth0
  virtual_router_id 9
  priority 100
  virtual_ipaddress {
    fd00::5/64
    fd00::6
  }
}`).vrrpInstances[0]!;
    expect(v6.virtualIpaddresses.map((v) => formatVip(v6, v, false))).toEqual([
      'fd00::5/64 dev eth0 scope global preferred_lft forever',
      'fd00::6 dev eth0 scope global deprecated',
    ]);
  });

  it('script commands: every word quoted, the program found in PATH with symlinks resolved', () => {
    expect(commandText({ command: '', argv: ['/x/chk', 'a b', '-v'], user: null, group: null }, (p) => p)).toBe("'/x/chk' 'a b' '-v'");
    const sh = resolveCommand('sh');
    expect(sh.startsWith('/')).toBe(true);
    expect(resolveCommand(sh)).toBe(sh);
  });
});
