// strict_mode / vrrp_strict and the VRRP firewall settings, as keepalived 2.2.7 completes an
// instance (vrrp.c vrrp_complete_instance): what it reports (keepalived -t exits non-zero on
// each, the daemon runs) and the value it runs with.
import { describe, expect, it } from 'vitest';
import { buildAndValidate } from './build-pipeline.js';
import { splitStatements } from './build-testkit.js';

function load(text: string) {
  const strictRead = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'host1', null, false);
  const daemon = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'host1', null, true);
  const errors = strictRead.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.pos.line}: ${d.message}`);
  const warnings = strictRead.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.pos.line}: ${d.message}`);
  return { config: daemon.config, errors, warnings };
}

let vrid = 50;
const instance = (body: string, name = 'VI', vips = '10.0.0.100/24') => `vrrp_instance ${name} {
  interface eth0
  virtual_router_id ${++vrid}
${body}
  virtual_ipaddress {
    ${vips}
  }
}
`;

describe('strict mode resets what the RFCs forbid, reported where it is written', () => {
  // keepalived -t on this file reports every line below (exit 5) and its daemon runs
  const text = `global_defs {
  vrrp_strict
}
${instance(`  state MASTER
  priority 100
  preempt_delay 5
  accept
  garp_lower_prio_repeat 3
  garp_lower_prio_delay 2
  higher_prio_send_advert
  lower_prio_no_advert false
  authentication {
    auth_type PASS
    auth_pass secret
  }`)}`;
  const { config, errors } = load(text);
  const inst = config!.vrrpInstances[0]!;

  it('state MASTER must be the address owner: starts BACKUP (line 7)', () => {
    expect(inst.state).toBe('BACKUP');
    expect(errors.some((e) => e.startsWith('7: ') && /address owner/.test(e))).toBe(true);
  });
  it('no authentication (line 15)', () => {
    expect(inst.authentication).toBeNull();
    expect(errors.some((e) => e.startsWith('15: ') && /authentication/.test(e))).toBe(true);
  });
  it('no preempt_delay (line 9)', () => {
    expect(inst.preemptDelayMs).toBe(0);
    expect(errors.some((e) => e.startsWith('9: ') && /preempt_delay/.test(e))).toBe(true);
  });
  it('no accept mode with VRRPv2 below priority 255 (line 10)', () => {
    expect(inst.accept).toBe(false);
    expect(errors.some((e) => e.startsWith('10: ') && /RFC 3768/.test(e))).toBe(true);
  });
  it('no repeated lower-priority GARPs (lines 13, 14)', () => {
    expect([inst.garpLowerPrioRepeat, inst.garpLowerPrioDelayMs]).toEqual([0, 0]);
    expect(errors.some((e) => e.startsWith('11: ') && /garp_lower_prio_repeat/.test(e))).toBe(true);
    expect(errors.some((e) => e.startsWith('12: ') && /garp_lower_prio_delay/.test(e))).toBe(true);
  });
  it('lower_prio_no_advert on, higher_prio_send_advert off (lines 13, 14)', () => {
    expect([inst.lowerPrioNoAdvert, inst.higherPrioSendAdvert]).toEqual([true, false]);
    expect(errors.some((e) => e.startsWith('13: ') && /higher_prio_send_advert/.test(e))).toBe(true);
    expect(errors.some((e) => e.startsWith('14: ') && /lower_prio_no_advert/.test(e))).toBe(true);
  });
  it('the daemon runs the file (the errors are tolerated)', () => {
    expect(config).not.toBeNull();
    expect(errors).toHaveLength(8);
  });
});

describe('strict mode defaults', () => {
  it('without strict mode: accept on, the global advert settings, no firewall', () => {
    const { config, errors } = load(`global_defs {\n  vrrp_higher_prio_send_advert\n}\n${instance('  priority 100')}`);
    const inst = config!.vrrpInstances[0]!;
    expect(errors).toEqual([]);
    expect([inst.accept, inst.lowerPrioNoAdvert, inst.higherPrioSendAdvert, inst.strictMode]).toEqual([true, false, true, false]);
    expect(config!.globalDefs.vrrpFirewall).toBeNull();
  });
  it('strict_mode on one instance: no accept below 255, RFC advert rules, none of the global GARP repeats', () => {
    const { config, errors } = load(
      `global_defs {\n  vrrp_garp_lower_prio_repeat 4\n}\n${instance('  priority 100\n  strict_mode')}${instance('  priority 255', 'OWNER', '10.0.0.101')}`,
    );
    const [strict, owner] = config!.vrrpInstances;
    expect(errors).toEqual([]);
    expect([strict!.accept, strict!.lowerPrioNoAdvert, strict!.higherPrioSendAdvert, strict!.garpLowerPrioRepeat]).toEqual([false, true, false, 0]);
    expect([owner!.strictMode, owner!.accept, owner!.garpLowerPrioRepeat]).toEqual([false, true, 4]);
  });
  it('the address owner accepts in strict mode; VRRPv3 may accept', () => {
    const { config, errors } = load(
      `global_defs {\n  vrrp_strict\n}\n${instance('  state MASTER\n  priority 255')}${instance('  version 3\n  priority 100\n  accept', 'V3', '10.0.0.101')}`,
    );
    const [owner, v3] = config!.vrrpInstances;
    expect(errors).toEqual([]);
    expect([owner!.accept, v3!.accept]).toEqual([true, true]);
  });
  it('no_accept without strict mode turns accept off', () => {
    const { config } = load(instance('  priority 100\n  no_accept'));
    expect(config!.vrrpInstances[0]!.accept).toBe(false);
  });
  it('IPv6 with version 2 in strict mode: VRRPv3, reported; a first VIP not link-local is reported', () => {
    const { config, errors } = load(`global_defs {\n  vrrp_strict\n}\n${instance('  priority 100\n  version 2', 'V6', '2001:db8::1')}`);
    expect(config!.vrrpInstances[0]!.version).toBe(3);
    expect(errors.some((e) => /VRRPv3/.test(e))).toBe(true);
    expect(errors.some((e) => e.startsWith('10: ') && /link-local/.test(e))).toBe(true);
  });
  it('unicast peers run in strict mode (keepalived 2.2.7 tests the unicast flag before it sets it)', () => {
    const { config, errors } = load(`global_defs {\n  vrrp_strict\n}\n${instance('  priority 100\n  unicast_peer {\n    10.0.0.2\n  }')}`);
    expect(errors).toEqual([]);
    expect(config!.vrrpInstances[0]!.unicastPeers).toHaveLength(1);
  });
  it('an instance with no VIP is refused in strict mode', () => {
    const { config } = load(`global_defs {\n  vrrp_strict\n}\nvrrp_instance VI {\n  interface eth0\n  virtual_router_id 5\n}\n`);
    expect(config).toBeNull();
  });
});

describe('the VRRP firewall settings', () => {
  it('vrrp_strict alone: keepalived picks its nftables table, and says so at the instance', () => {
    const { config, warnings } = load(`global_defs {\n  vrrp_strict\n}\n${instance('  priority 100')}`);
    expect(config!.globalDefs.vrrpFirewall).toEqual({ table: 'keepalived', priority: -1, counters: false, ifindex: false });
    expect(warnings.some((w) => w.startsWith('4: ') && /nftables table `keepalived`/.test(w))).toBe(true);
  });
  it('nftables with its table, priority, counters and ifindex', () => {
    const { config, errors } = load(
      `global_defs {\n  nftables fw\n  nftables_priority -5\n  nftables_counters\n  nftables_ifindex\n}\n${instance('  priority 100')}`,
    );
    expect(errors).toEqual([]);
    expect(config!.globalDefs.vrrpFirewall).toEqual({ table: 'fw', priority: -5, counters: true, ifindex: true });
  });
  it('nftables resets a priority written before it (keepalived reads them in order); a second one is ignored', () => {
    const { config, errors } = load(`global_defs {\n  nftables_priority 7\n  nftables one\n  nftables two\n}\n${instance('  priority 100')}`);
    expect(config!.globalDefs.vrrpFirewall).toMatchObject({ table: 'one', priority: -1 });
    expect(errors.some((e) => e.startsWith('4: ') && /already given/.test(e))).toBe(true);
  });
  it('vrrp_iptables is taken as nftables, reported (Debian builds keepalived without iptables)', () => {
    const { config, errors } = load(`global_defs {\n  vrrp_iptables INPUT OUTPUT\n}\n${instance('  priority 100')}`);
    expect(config!.globalDefs.vrrpFirewall).toMatchObject({ table: 'keepalived', priority: -1 });
    expect(errors.some((e) => e.startsWith('2: ') && /nftables/.test(e))).toBe(true);
  });
  it('vrrp_ipsets is not applied, and says so', () => {
    const { warnings } = load(`global_defs {\n  vrrp_ipsets keepalived\n}\n${instance('  priority 100')}`);
    expect(warnings.some((w) => w.startsWith('2: ') && /ipset/.test(w))).toBe(true);
  });
});
