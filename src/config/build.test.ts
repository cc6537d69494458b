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
      state: 'BACKUP',
      priority: 100,
      advertIntMs: 1000,
      version: 2,
      family: 4,
      garpMasterDelayMs: 5000,
      garpMasterRepeat: 5,
      garpLowerPrioDelayMs: 5000,
      accept: true,
      nopreempt: false,
    });
    expect(i.virtualIpaddresses[0]).toMatchObject({ address: '10.0.0.10', prefix: 24, dev: 'eth0', label: 'eth0:1' });
    expect(c.globalDefs).toMatchObject({
      notificationEmailFrom: 'keepalived@host1',
      routerId: 'host1',
      smtpHeloName: 'host1',
      vrrpMcastGroup4: '224.0.0.18',
      vrrpMcastGroup6: 'ff02::12',
      smtpConnectTimeoutMs: 30000,
    });
  });

  it("lvs_flush_on_stop: off by default, full alone, VS with its argument; lvs_flush_onstop is keepalived's other spelling", () => {
    expect(ok('global_defs {\n router_id a\n}').globalDefs.lvsFlushOnStop).toBe('off');
    expect(ok('global_defs {\n lvs_flush_on_stop\n}').globalDefs.lvsFlushOnStop).toBe('full');
    expect(ok('global_defs {\n lvs_flush_on_stop VS\n}').globalDefs.lvsFlushOnStop).toBe('vs');
    const r = load('global_defs {\n lvs_flush_onstop\n}');
    expect(r.msgs).toEqual([]);
    expect(r.config!.globalDefs.lvsFlushOnStop).toBe('full');
  });

  it('instances inherit global garp settings written after them', () => {
    const c = ok(`${INSTANCE}\nglobal_defs {\n vrrp_garp_master_delay 2\n vrrp_garp_master_repeat 3\n vrrp_version 3\n}`);
    expect(c.vrrpInstances[0]).toMatchObject({ garpMasterDelayMs: 2000, garpMasterRepeat: 3, version: 3 });
  });

  it('fills virtual/real server and checker defaults, inheriting along the way', () => {
    const c = ok(`virtual_server 10.0.0.1 80 {
  protocol TCP
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
    const r = load(
      `virtual_server 10.0.0.1 80 {\n lb_algo rr\n lb_kind DR\n real_server 10.0.1.1 80 {\n  HTTP_GET {\n   nb_get_retry 2\n   url {\n    path /\n   }\n  }\n }\n}`,
    );
    expect(r.config!.virtualServers[0]).toMatchObject({ lbAlgo: 'rr', lbKind: 'DR' });
    expect(r.config!.virtualServers[0]!.realServers[0]!.checkers[0]!.retry).toBe(2);
    expect(r.msgs).toContain('t.conf:6:4: warning: `nb_get_retry` is deprecated; write `retry`');
    expect(r.msgs.filter((m) => m.includes('lb_algo') || m.includes('lb_kind'))).toEqual([]);
  });
});

describe('errors', () => {
  it('suggests the nearest keyword', () => {
    expect(load(INSTANCE.replace('interface eth0', 'interface eth0\n  priorty 10')).msgs).toContain(
      't.conf:3:3: error: unknown keyword `priorty` in vrrp_instance; did you mean `priority`?',
    );
  });
  it('rejects an old spelling where keepalived ignores it, naming the new one', () => {
    expect(load(`virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 80 {\n  TCP_CHECK {\n   nb_get_retry 2\n  }\n }\n}`).msgs).toContain(
      't.conf:4:4: error: `nb_get_retry` is not accepted in TCP_CHECK (keepalived ignores it here); write `retry`',
    );
  });
  it('says where a misplaced keyword belongs', () => {
    expect(load(`global_defs {\n  virtual_router_id 5\n}`).msgs).toContain(
      't.conf:2:3: error: `virtual_router_id` is not valid in global_defs; it belongs in vrrp_instance',
    );
  });
  it('reports every error in one pass', () => {
    const r = load(INSTANCE.replace('virtual_router_id 51', 'virtual_router_id 300\n  priority 0'));
    expect(r.config).toBeNull();
    expect(r.msgs).toEqual(
      expect.arrayContaining([
        't.conf:3:21: error: `virtual_router_id` expects an integer 1-255, got `300`',
        't.conf:4:12: error: `priority` expects an integer 1-255, got `0`',
      ]),
    );
  });
  it('warns on parsed-not-implemented keywords but accepts the config', () => {
    const r = load(`global_defs {\n  enable_snmp_vrrp\n}`);
    expect(r.config).not.toBeNull();
    expect(r.msgs).toEqual(['t.conf:2:3: warning: keepalived knows `enable_snmp_vrrp`; keepalived-ts does not implement it yet: it is ignored']);
  });
  it('checks interfaces against the host unless dynamic_interfaces', () => {
    expect(load(INSTANCE, ['lo']).msgs).toContain(
      't.conf:2:13: error: vrrp_instance VI_1 interface: interface `eth0` does not exist on this host (set `dynamic_interfaces` in global_defs if it appears later)',
    );
    const r = load(`global_defs {\n dynamic_interfaces\n}\n${INSTANCE}`, ['lo']);
    expect(r.config).not.toBeNull();
  });
});

describe('semantic traps and derived values', () => {
  it('reports that nopreempt does nothing with state MASTER, and clears it as keepalived does (which starts)', () => {
    const text = INSTANCE.replace('interface eth0', 'state MASTER\n  nopreempt\n  interface eth0');
    expect(load(text).msgs).toContain(
      't.conf:3:3: error: vrrp_instance VI_1: `nopreempt` has no effect with `state MASTER` (keepalived reports it and clears it); write `state BACKUP` on every node for nopreempt to work',
    );
    const started = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'host1', null, true);
    expect(started.config!.vrrpInstances[0]!.nopreempt).toBe(false);
  });
  it('runs IPv6 instances as VRRPv3 and takes the family from the VIPs', () => {
    const c = ok(INSTANCE.replace('10.0.0.10/24 dev eth0 label eth0:1', 'FD00::10/64'));
    expect(c.vrrpInstances[0]).toMatchObject({ family: 6, version: 3, virtualIpaddresses: [{ address: 'fd00::10', prefix: 64, family: 6 }] });
  });
  it('runs a virtual server without `protocol` as UDP, as keepalived 2.2.7 does, with a warning', () => {
    // keepalived 2.2.7 -t on this block: "no protocol set - defaulting to UDP"
    const r = load(
      'virtual_server 10.0.0.1 80 {\n real_server 10.0.1.9 80 {\n }\n}\nvirtual_server_group G {\n 10.0.0.2 80\n}\nvirtual_server group G {\n real_server 10.0.1.9 80 {\n }\n}',
    );
    expect(r.config!.virtualServers.map((v) => v.protocol)).toEqual(['UDP', 'UDP']);
    expect(r.msgs).toEqual([
      't.conf:1:1: warning: virtual_server has no `protocol`: keepalived 2.2.7 then uses UDP (and its -t fails on it); write `protocol TCP` or `protocol UDP`',
      't.conf:8:1: warning: virtual_server has no `protocol`: keepalived 2.2.7 then uses UDP (and its -t fails on it); write `protocol TCP` or `protocol UDP`',
    ]);
  });
  it('keeps a written protocol, and gives a fwmark service no protocol warning', () => {
    // keepalived compares the protocol case-insensitively (strcasecmp): `udp` is UDP
    const rs = ' real_server 10.0.1.9 80 {\n }\n';
    const r = load(
      `virtual_server 10.0.0.1 80 {\n protocol TCP\n${rs}}\nvirtual_server 10.0.0.1 53 {\n protocol SCTP\n${rs}}\nvirtual_server fwmark 3 {\n${rs}}\nvirtual_server 10.0.0.1 54 {\n protocol udp\n${rs}}`,
    );
    expect(r.config!.virtualServers.map((v) => v.protocol)).toEqual(['TCP', 'SCTP', 'TCP', 'UDP']);
    expect(r.msgs).toEqual([]);
  });
  it("DR and TUN real servers take the service's port, as keepalived resets them (NAT keeps its own)", () => {
    const r = load(
      [
        'virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_kind DR',
        ' real_server 10.0.1.1 8080 {\n  TCP_CHECK {\n  }\n }\n real_server 10.0.1.2 {\n }\n real_server 10.0.1.3 8081 {\n  lb_kind NAT\n }\n}',
        'virtual_server fwmark 7 {\n lb_kind TUN\n real_server 10.0.1.4 80 {\n }\n}',
        'virtual_server 10.0.0.2 80 {\n protocol TCP\n lb_kind NAT\n real_server 10.0.1.5 8080 {\n }\n}',
        'virtual_server_group G {\n 10.0.0.3 80\n 10.0.0.4 8000\n}\nvirtual_server group G {\n protocol TCP\n lb_kind DR\n real_server 10.0.1.6 8080 {\n }\n}',
      ].join('\n'),
    );
    const [dr, fwm, nat, grp] = r.config!.virtualServers;
    expect(dr!.realServers.map((rs) => rs.port)).toEqual([80, 80, 8081]);
    expect(dr!.realServers[0]!.checkers[0]).toMatchObject({ type: 'TCP_CHECK', connectPort: 8080 }); // as keepalived's checker
    expect(fwm!.realServers[0]!.port).toBe(0);
    expect(nat!.realServers[0]!.port).toBe(8080);
    expect(grp!.realServers[0]!.port).toBe(8080); // each member service gives its own port in IPVS
    expect(r.msgs).toEqual([
      "t.conf:4:2: warning: real_server 10.0.1.1 8080: with lb_kind DR a real server gets the virtual server's port; 80 is used in IPVS, its checkers keep 8080 (as keepalived does): write 80, or use lb_kind NAT to change ports",
      "t.conf:16:2: warning: real_server 10.0.1.4 80: a fwmark service has no port and lb_kind TUN keeps the packet's own, so the port is cleared in IPVS, its checkers keep 80 (as keepalived does)",
      "t.conf:32:2: warning: real_server 10.0.1.6 8080: with lb_kind DR it gets each group member's port in IPVS (80, 8000); 8080 is used by its checkers only",
    ]);
  });
  it('links sync group members back to their group', () => {
    const c = ok(`vrrp_sync_group G {\n group {\n  VI_1\n }\n notify_master "/bin/n.sh master G"\n}\n${INSTANCE}`);
    expect(c.vrrpInstances[0]!.syncGroup).toBe('G');
    expect(c.vrrpSyncGroups[0]!.notifyMaster).toEqual({
      command: '/bin/n.sh master G',
      argv: ['/bin/n.sh', 'master', 'G'],
      user: null,
      group: null,
      pos: { file: 't.conf', line: 5, column: 2 },
    });
  });
  it('reads persistence, groups, fwmarks and sorry servers', () => {
    const c = ok(
      `virtual_server_group G {\n 10.0.0.1-20 80\n fwmark 7\n}\nvirtual_server group G {\n protocol TCP\n persistence_timeout\n sorry_server 10.0.9.9\n real_server 10.0.1.9 80 {\n }\n}\nvirtual_server fwmark 3 {\n lb_kind TUN type gre\n real_server 10.0.1.9 80 {\n }\n}`,
    );
    expect(c.virtualServerGroups[0]!.members).toMatchObject([
      { kind: 'range', address: '10.0.0.1', rangeEnd: 20, port: 80 },
      { kind: 'fwmark', fwmark: 7 },
    ]);
    expect(c.virtualServers[0]).toMatchObject({ key: { kind: 'group', group: 'G' }, persistenceTimeoutS: 360, sorryServer: { address: '10.0.9.9', port: 0 } });
    expect(c.virtualServers[1]).toMatchObject({ key: { kind: 'fwmark', fwmark: 3, family: 4 }, lbKind: 'TUN' });
  });
  it('reads global LVS and SMTP settings with their defaults', () => {
    const c = ok(`global_defs {\n smtp_server 10.0.0.5\n lvs_sync_daemon eth0 VI_1 id 9 port 8849\n}\n${INSTANCE}`);
    expect(c.globalDefs.smtpServer).toEqual({ host: '10.0.0.5', port: 25 });
    expect(c.globalDefs.lvsSyncDaemon).toEqual({ interface: 'eth0', instance: 'VI_1', syncId: 9, maxlen: null, port: 8849, ttl: null, group: null });
  });
  it('defaults the LVS sync id to the instance VRID and the port to 8848', () => {
    const c = ok(`global_defs {\n lvs_sync_daemon eth0 VI_1\n}\n${INSTANCE}`);
    expect(c.globalDefs.lvsSyncDaemon).toMatchObject({ interface: 'eth0', instance: 'VI_1', syncId: 51, port: 8848 });
  });
  it('splits scripts the way keepalived does, quotes kept together', () => {
    const c = ok(`vrrp_script chk {\n script "/usr/bin/check --name 'a b'"\n interval 2.5\n weight -10 reverse\n}`);
    expect(c.vrrpScripts[0]).toMatchObject({
      script: { argv: ['/usr/bin/check', '--name', 'a b'] },
      intervalMs: 2500,
      timeoutMs: 2500,
      weight: -10,
      weightReverse: true,
    });
  });
});

describe('UDP_CHECK hex strings', () => {
  const udp = (body: string) => load(`virtual_server 10.0.0.1 53 {\n protocol UDP\n real_server 10.0.1.1 53 {\n  UDP_CHECK {\n${body}\n  }\n }\n}`);
  const check = (r: ReturnType<typeof udp>) =>
    r.config!.virtualServers[0]!.realServers[0]!.checkers[0] as { payloadHex: string | null; requireReplyHex: string | null };

  it("reads the payload as keepalived does: split over words, odd digits a byte alone (the manual's example)", () => {
    const r = udp('   payload Ab12f 3 456 546443123\n   require_reply');
    expect(r.msgs).toEqual([]);
    // keepalived.conf(5): "Ab12f 3 456 546443123" is AB 12 0F 03 45 06 54 64 43 12 03
    expect(check(r).payloadHex).toBe('ab120f03450654644312' + '03');
    expect(check(r).requireReplyHex).toBe('');
  });

  it('takes x as an ignored digit in require_reply only, and quoted hex with blanks inside', () => {
    const r = udp('   payload "01 02"\n   require_reply 0a Xb "ff  x"');
    expect(r.msgs).toEqual([]);
    expect(check(r)).toMatchObject({ payloadHex: '0102', requireReplyHex: '0axbff0x' });
  });

  it('reports a word that is not hex where it is written', () => {
    const r = udp('   payload 0a1b zz\n   require_reply 00 g1');
    expect(r.config).toBeNull();
    expect(r.msgs).toEqual([
      't.conf:5:17: error: UDP_CHECK `payload` expects hex digits, two to a byte (blanks may separate bytes, as in `0a1b 2c`), got `zz`',
      't.conf:6:21: error: UDP_CHECK `require_reply` expects hex digits, two to a byte (blanks may separate bytes, as in `0a1b 2c`, x for a digit to ignore), got `g1`',
    ]);
    expect(udp('   payload 0x').msgs).toEqual([
      't.conf:5:12: error: UDP_CHECK `payload` expects hex digits, two to a byte (blanks may separate bytes, as in `0a1b 2c`), got `0x`',
    ]);
  });
});

describe('notify FIFOs, notify_priority_changes, smtp_alert_vrrp', () => {
  it('FIFOs take their scripts (in either order; the first of each kept) and owners, with no "not applied" warning', () => {
    const r = load(`global_defs {
  notify_fifo_script "/bin/reader --x" nobody
  notify_fifo /run/ka.fifo
  vrrp_notify_fifo /run/v.fifo nobody nogroup
  vrrp_notify_fifo /run/other.fifo
  vrrp_notify_fifo_script /bin/vreader
  lvs_notify_fifo /run/l.fifo keepalived_script
  vrrp_notify_priority_changes
  smtp_alert_vrrp off
}
${INSTANCE.replace('interface eth0', 'interface eth0\n  notify_priority_changes false')}`);
    const g = r.config!.globalDefs;
    expect(g.notifyFifo).toMatchObject({ path: '/run/ka.fifo', script: { argv: ['/bin/reader', '--x'], user: 'nobody' } });
    expect(g.vrrpNotifyFifo).toMatchObject({ path: '/run/v.fifo', script: { argv: ['/bin/vreader'] }, owner: { user: 'nobody', group: 'nogroup' } });
    expect(g.lvsNotifyFifo).toEqual({ path: '/run/l.fifo', script: null, owner: { user: 'keepalived_script', group: null } });
    expect(g.notifyFifo!.owner).toBeNull();
    expect(g.vrrpNotifyPriorityChanges).toBe(true);
    expect(g.smtpAlertVrrp).toBe(false);
    expect(r.config!.vrrpInstances[0]!.notifyPriorityChanges).toBe(false);
    expect(r.msgs.filter((m) => /fifo|priority_changes|smtp_alert_vrrp/.test(m))).toEqual([]);
  });
});

describe('track_group and static_ipaddress (keepalived vrrp_parser.c, vrrp_ipaddress.c)', () => {
  const GROUP = 'track_group G {\n  group {\n    VI_1\n  }\n}\n';

  it('a track_group block lists its instances; a static address names it', () => {
    const { config, msgs } = load(`${GROUP}static_ipaddress {\n  10.0.9.1/24 dev eth2 track_group G\n}\n${INSTANCE}`);
    expect(config!.staticTrackGroups).toMatchObject([{ name: 'G', instances: ['VI_1'] }]);
    expect(config!.staticAddresses[0]).toMatchObject({ dev: 'eth2', trackGroup: 'G', noTrack: false });
    expect(msgs).toEqual([]);
  });

  it("what keepalived drops: an unknown group, a second track_group, a second block of the same name, track_group on an instance's VIP", () => {
    const text = `${GROUP}${GROUP}static_ipaddress {\n  10.0.9.1/24 dev eth2 track_group nope\n  10.0.9.2/24 dev eth2 track_group G track_group G\n}\n${INSTANCE.replace('label eth0:1', 'track_group G')}`;
    // -t refuses the file; the daemon (tolerant) runs it as keepalived does
    expect(load(text).config).toBeNull();
    const r = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'host1', null, true);
    const config = r.config;
    const msgs = r.diagnostics.map(formatDiagnostic);
    expect(config!.staticTrackGroups).toHaveLength(1);
    expect(config!.staticAddresses.map((a) => a.trackGroup)).toEqual([null, 'G']);
    expect(msgs.join('\n')).toContain('t.conf:6:1: error: track_group G already defined: keepalived skips this one');
    expect(msgs.join('\n')).toContain('track_group nope not found: keepalived tracks nothing for this address');
    expect(msgs.join('\n')).toContain('track_group G is a duplicate: keepalived ignores the rest of the line');
    expect(msgs.join('\n')).toContain('unknown virtual_ipaddress option `track_group`');
  });
});
