import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './ast.js';
import { splitStatements } from './build-testkit.js';
import { buildAndValidate } from './build-pipeline.js';
import type { KeepalivedConfig } from './model.js';

function load(text: string, ifaces: string[] | null = null) {
  const r = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'host1', ifaces ? new Set(ifaces) : null);
  return { config: r.config, msgs: r.diagnostics.map(formatDiagnostic) };
}
function ok(text: string): KeepalivedConfig {
  const r = load(text);
  expect(r.msgs.filter((m) => m.includes(': error: '))).toEqual([]);
  return r.config!;
}

const INSTANCE = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    10.0.0.10/24 dev eth0 label eth0:1
  }
}`;

describe('defaults', () => {
  it('fills keepalived defaults for an instance and globals', () => {
    const c = ok(INSTANCE);
    const i = c.vrrpInstances[0]!;
    expect(i).toMatchObject({
      state: 'BACKUP', priority: 100, advertIntMs: 1000, version: 2, family: 4,
      garpMasterDelayMs: 5000, garpMasterRepeat: 5, garpLowerPrioDelayMs: 5000, accept: true, nopreempt: false,
    });
    expect(i.virtualIpaddresses[0]).toMatchObject({ address: '10.0.0.10', prefix: 24, dev: 'eth0', label: 'eth0:1' });
    expect(c.globalDefs).toMatchObject({ routerId: 'host1', smtpHeloName: 'host1', vrrpMcastGroup4: '224.0.0.18', vrrpMcastGroup6: 'ff02::12', smtpConnectTimeoutMs: 30000 });
  });

  it('instances inherit global garp settings written after them', () => {
    const c = ok(`${INSTANCE}\nglobal_defs {\n vrrp_garp_master_delay 2\n vrrp_garp_master_repeat 3\n vrrp_version 3\n}`);
    expect(c.vrrpInstances[0]).toMatchObject({ garpMasterDelayMs: 2000, garpMasterRepeat: 3, version: 3 });
  });

  it('fills virtual/real server and checker defaults, inheriting along the way', () => {
    const c = ok(`virtual_server 10.0.0.1 80 {
  connect_timeout 7
  real_server 10.0.1.1 {
    retry 4
    TCP_CHECK {
    }
    HTTP_GET {
      url {
        path /
      }
    }
  }
  delay_loop 10
}`);
    const vs = c.virtualServers[0]!;
    expect(vs).toMatchObject({ delayLoopMs: 10000, lbAlgo: 'wlc', lbKind: 'NAT', protocol: 'TCP', quorum: 1, persistenceTimeoutS: null });
    const rs = vs.realServers[0]!;
    expect(rs).toMatchObject({ port: 80, weight: 1, delayLoopMs: 10000 });
    expect(rs.checkers[0]).toMatchObject({ type: 'TCP_CHECK', connectTimeoutMs: 7000, retry: 4, delayBeforeRetryMs: 1000, warmupMs: 10000 });
    expect(rs.checkers[1]).toMatchObject({ type: 'HTTP_GET', delayBeforeRetryMs: 3000, urls: [{ path: '/', statusCodes: [{ from: 200, to: 299 }] }] });
  });

  it('accepts old spellings, warning only where keepalived deprecates them', () => {
    const r = load(`virtual_server 10.0.0.1 80 {\n lb_algo rr\n lb_kind DR\n real_server 10.0.1.1 80 {\n  HTTP_GET {\n   nb_get_retry 2\n   url {\n    path /\n   }\n  }\n }\n}`);
    expect(r.config!.virtualServers[0]).toMatchObject({ lbAlgo: 'rr', lbKind: 'DR' });
    expect(r.config!.virtualServers[0]!.realServers[0]!.checkers[0]!.retry).toBe(2);
    expect(r.msgs).toContain('t.conf:6:4: warning: `nb_get_retry` is deprecated; write `retry`');
    expect(r.msgs.filter((m) => m.includes('lb_algo') || m.includes('lb_kind'))).toEqual([]);
  });
});

describe('errors', () => {
  it('suggests the nearest keyword', () => {
    expect(load(INSTANCE.replace('interface eth0', 'interface eth0\n  priorty 10')).msgs)
      .toContain('t.conf:3:3: error: unknown keyword `priorty` in vrrp_instance; did you mean `priority`?');
  });
  it('rejects an old spelling where keepalived ignores it, naming the new one', () => {
    expect(load(`virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 80 {\n  TCP_CHECK {\n   nb_get_retry 2\n  }\n }\n}`).msgs)
      .toContain('t.conf:4:4: error: `nb_get_retry` is not accepted in TCP_CHECK (keepalived ignores it here); write `retry`');
  });
  it('says where a misplaced keyword belongs', () => {
    expect(load(`global_defs {\n  virtual_router_id 5\n}`).msgs)
      .toContain('t.conf:2:3: error: `virtual_router_id` is not valid in global_defs; it belongs in vrrp_instance');
  });
  it('reports every error in one pass', () => {
    const r = load(INSTANCE.replace('virtual_router_id 51', 'virtual_router_id 300\n  priority 0'));
    expect(r.config).toBeNull();
    expect(r.msgs).toEqual(expect.arrayContaining([
      't.conf:3:21: error: `virtual_router_id` expects an integer 1-255, got `300`',
      't.conf:4:12: error: `priority` expects an integer 1-255, got `0`',
    ]));
  });
  it('warns on parsed-not-implemented keywords but accepts the config', () => {
    const r = load(`global_defs {\n  enable_snmp_vrrp\n}`);
    expect(r.config).not.toBeNull();
    expect(r.msgs).toEqual(['t.conf:2:3: warning: keepalived knows `enable_snmp_vrrp`; keepalived-ts does not implement it yet']);
  });
  it('checks interfaces against the host unless dynamic_interfaces', () => {
    expect(load(INSTANCE, ['lo']).msgs).toContain('t.conf:2:13: error: vrrp_instance VI_1 interface: interface `eth0` does not exist on this host (set `dynamic_interfaces` in global_defs if it appears later)');
    const r = load(`global_defs {\n dynamic_interfaces\n}\n${INSTANCE}`, ['lo']);
    expect(r.config).not.toBeNull();
  });
});
