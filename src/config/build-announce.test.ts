import { describe, expect, it } from 'vitest';
import { BLOCKS, ROOT } from '../../grammar/keywords.js';
import { formatDiagnostic } from './ast.js';
import { splitStatements } from './build-testkit.js';
import { buildAndValidate } from './build-pipeline.js';

function load(text: string, tolerant = false) {
  const r = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'host1', null, tolerant);
  return { config: r.config, msgs: r.diagnostics.map(formatDiagnostic) };
}

const VS = (address: string, sched = 'mh', kind = 'DR') => `virtual_server ${address} 80 {
  lvs_sched ${sched}
${sched === 'mh' || sched === 'sh' ? `  ${sched}-fallback\n` : ''}  lvs_method ${kind}
  protocol TCP
  inhibit_on_failure
  real_server 10.0.1.1 80 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}`;

const INSTANCE = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    10.0.1.200/32
  }
}`;

describe('bgp_announce', () => {
  it('builds prefixes with their follow rule and MED; globals take their defaults', () => {
    const r = load(`${VS('10.0.0.100')}
${INSTANCE}
bgp_announce {
  prefix 10.0.0.100/32 {
    med 10
  }
  prefix 10.0.0.200 {
    follow vrrp VI_1
  }
}`);
    expect(r.msgs).toEqual([]);
    expect(r.config!.bgpAnnounce).toMatchObject({
      table: 254,
      routeProtocol: 249,
      drainMs: 2000,
      anycastDevice: 'kt-anycast',
      vrrpDevice: 'kt-vrrp',
      prefixes: [
        { address: '10.0.0.100', prefix: 32, family: 4, follow: { kind: 'quorum' }, med: 10 },
        { address: '10.0.0.200', prefix: 32, family: 4, follow: { kind: 'vrrp', instance: 'VI_1' }, med: 0 },
      ],
    });
  });

  it('takes table, route_protocol, drain and device names', () => {
    const r = load(`${VS('2001:db8::10')}
bgp_announce {
  table 200
  route_protocol 250
  drain 0.5
  anycast_device kt-aa
  vrrp_device kt-l3
  prefix 2001:db8::/64 {
  }
}`);
    expect(r.msgs).toEqual([]);
    expect(r.config!.bgpAnnounce).toMatchObject({
      table: 200,
      routeProtocol: 250,
      drainMs: 500,
      anycastDevice: 'kt-aa',
      vrrpDevice: 'kt-l3',
      prefixes: [{ address: '2001:db8::', prefix: 64, family: 6 }],
    });
  });

  it('a config without the block has none', () => {
    expect(load(VS('10.0.0.100')).config!.bgpAnnounce).toBeNull();
  });

  it('refuses a block it cannot build, each error at its place', () => {
    const r = load(`${VS('10.0.0.100')}
bgp_announce {
  prefix 10.0.0.100 {
    follow vrrp
  }
  anycast_device a/b
}`);
    expect(r.config).toBeNull();
    expect(r.msgs).toEqual([
      't.conf:15:12: error: `follow vrrp` needs the vrrp_instance name: `follow vrrp VI_1`',
      't.conf:17:18: error: `anycast_device` expects an interface name (1-15 characters, no `/`, `:` or blanks), got `a/b`',
    ]);
  });

  it('refuses prefixes that cannot be announced: unknown instance, host bits, no virtual server, twice', () => {
    const r = load(`${VS('10.0.0.100')}
bgp_announce {
  prefix 10.0.0.200/32 {
    follow vrrp VI_9
  }
  prefix 10.0.0.100/24 {
  }
  prefix 192.0.2.0/24 {
  }
  prefix 10.0.0.100/32 {
  }
  prefix 10.0.0.100/32 {
  }
}`);
    expect(r.config).toBeNull();
    expect(r.msgs).toEqual([
      't.conf:14:10: error: prefix 10.0.0.200/32 follows vrrp_instance `VI_9`, which is not defined',
      't.conf:17:10: error: prefix 10.0.0.100/24 has host bits set: the kernel takes no such route; write 10.0.0.0/24',
      't.conf:19:10: error: prefix 192.0.2.0/24 follows quorum, but no virtual_server has an address in it: it would never be announced',
      't.conf:23:10: error: prefix 10.0.0.100/32 is already announced at line 21',
    ]);
  });

  it('-t warns when an active-active virtual server breaks consistent hashing or NAT without sync', () => {
    const r = load(`${VS('10.0.0.100', 'wlc', 'NAT')}
${VS('10.0.0.101')}
bgp_announce {
  prefix 10.0.0.100/31 {
  }
}`);
    expect(r.config).not.toBeNull();
    expect(r.msgs).toEqual([
      't.conf:1:1: warning: virtual_server is announced active-active (prefix 10.0.0.100/31) but uses `lvs_sched wlc`: a flow that ECMP moves to another director then lands on another real server; use `lvs_sched mh` (or `sh`) with the same real servers on every director',
      "t.conf:1:1: warning: virtual_server is announced active-active (prefix 10.0.0.100/31) with `lvs_method NAT` but without `lvs_sync_daemon`: a director that receives another one's flow has no NAT entry for it; set up lvs_sync_daemon or use DR/TUN",
    ]);
  });

  it('-t warns when an mh virtual server announced active-active lets failed real servers leave the list', () => {
    const r = load(`${VS('10.0.0.100').replace('  inhibit_on_failure\n', '')}
bgp_announce {
  prefix 10.0.0.100/32 {
  }
}`);
    expect(r.msgs).toEqual([
      "t.conf:1:1: warning: virtual_server is announced active-active (prefix 10.0.0.100/32) without `inhibit_on_failure`: a real server that fails leaves the IPVS list and comes back at its end, the directors' lists then differ in order, and mh, whose table depends on that order, sends a moved flow to another real server; set inhibit_on_failure (weight 0 keeps its place)",
    ]);
  });

  it('-t warns when an mh virtual server announced active-active refuses the share of a failed real server (no mh-fallback)', () => {
    const r = load(`${VS('10.0.0.100').replace('  mh-fallback\n', '')}
bgp_announce {
  prefix 10.0.0.100/32 {
  }
}`);
    expect(r.msgs).toEqual([
      "t.conf:1:1: warning: virtual_server is announced active-active (prefix 10.0.0.100/32) with inhibit_on_failure but without `mh-fallback`: a failed real server keeps its share of mh's table at weight 0 and every director refuses the new connections hashed to it; add mh-fallback (on every director)",
    ]);
  });

  it('sh hashes as consistently as mh: no scheduler warning, the same inhibit_on_failure one', () => {
    const r = load(`${VS('10.0.0.100', 'sh').replace('  inhibit_on_failure\n', '')}
bgp_announce {
  prefix 10.0.0.100/32 {
  }
}`);
    expect(r.msgs).toEqual([
      "t.conf:1:1: warning: virtual_server is announced active-active (prefix 10.0.0.100/32) without `inhibit_on_failure`: a real server that fails leaves the IPVS list and comes back at its end, the directors' lists then differ in order, and sh, whose table depends on that order, sends a moved flow to another real server; set inhibit_on_failure (weight 0 keeps its place)",
    ]);
  });

  it('a vrrp-only block does not warn about schedulers', () => {
    const r = load(`${VS('10.0.0.200', 'rr', 'NAT')}
${INSTANCE}
bgp_announce {
  prefix 10.0.0.200/32 {
    follow vrrp VI_1
  }
}`);
    expect(r.msgs).toEqual([]);
  });

  it('-t warns about a virtual_ipaddress inside a prefix its instance announces (FRR would export the address instead)', () => {
    const r = load(`${INSTANCE.replace('10.0.1.200/32', '10.0.1.200/32\n    10.0.0.200/32')}
bgp_announce {
  prefix 10.0.0.200/32 {
    follow vrrp VI_1
  }
}`);
    expect(r.config).not.toBeNull();
    expect(r.msgs).toEqual([
      't.conf:6:5: warning: virtual_ipaddress 10.0.0.200 lies in the announced prefix 10.0.0.200/32: FRR then exports its connected route, not the announcement (no MED, no withdrawal when keepalived-ts dies); leave it out, bgp_announce makes the prefix local while VI_1 is MASTER',
    ]);
  });

  it('a virtual_server_group range counts by its addresses', () => {
    const r = load(`virtual_server_group G {
  10.0.0.1-20 80
}
virtual_server group G {
  lvs_sched mh
  mh-fallback
  lvs_method DR
  protocol TCP
  real_server 10.0.1.1 80 {
    inhibit_on_failure
  }
}
bgp_announce {
  prefix 10.0.0.16/28 {
  }
}`);
    expect(r.msgs).toEqual([]);
  });

  it('is written once', () => {
    const r = load('bgp_announce {\n}\nbgp_announce {\n}');
    expect(r.msgs).toEqual(['t.conf:3:1: error: `bgp_announce` is already written at t.conf:1; write one block']);
  });

  // keepalived 2.2.7 reads every line of the block as a top-level keyword: one of its own
  // there would be acted on (`instance`, `virtual_server`, ... start real objects)
  it('no keyword inside the block is a keepalived top-level keyword', () => {
    const rootWords = new Set(BLOCKS.get(ROOT)!.keywords.flatMap((k) => [k.name, ...(k.aliases ?? [])]));
    const inner = ['bgp_announce', 'bgp_announce_prefix'].flatMap((b) => BLOCKS.get(b)!.keywords.map((k) => k.name));
    expect(inner.filter((w) => rootWords.has(w))).toEqual([]);
  });
});
