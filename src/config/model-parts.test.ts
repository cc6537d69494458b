// The parts of the model the parent hands its children (load-worker.ts vrrpPart,
// checkerPart): each carries what its child runs and nothing of what only the other runs,
// and each crosses the parent-child channel (V8 serialization, the channel's `advanced`
// mode) unchanged.
import { deserialize, serialize } from 'node:v8';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInThisThread } from './load-worker.js';
import type { KeepalivedConfig } from './model.js';
import { checkerScriptUses, vrrpScriptUses } from '../script/index.js';
import { takeoverSysctls } from '../announce/takeover.js';

const tmp = mkdtempSync(join(tmpdir(), 'kt-model-parts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// a bit of everything: what only VRRP runs, what only the checker runs, what both read
const CONF = `global_defs {
  router_id parts
  lvs_sync_daemon eth0 VI_2 id 9
  script_user root
  enable_script_security
}
SSL {
  ca /etc/ssl/ca.pem
}
track_file weight_file {
  file /tmp/kt-model-parts-weight
}
vrrp_script chk_up {
  script "/bin/true"
  interval 2
}
static_routes {
  192.0.2.0/24 via 10.0.0.254 dev eth0
}
vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 150
  track_script {
    chk_up
  }
  track_file {
    weight_file weight 0
  }
  virtual_ipaddress {
    10.0.0.1/24
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  priority 100
  virtual_ipaddress {
    10.0.0.2/24
  }
  notify_master "/bin/true"
}
virtual_server_group WEB {
  10.0.0.1 80
  10.0.0.2 80
}
virtual_server group WEB {
  lb_kind DR
  protocol TCP
  real_server 10.0.0.5 80 {
    MISC_CHECK {
      misc_path "/bin/true"
    }
  }
}
virtual_server 10.0.0.3 443 {
  lb_kind DR
  protocol TCP
  quorum 1
  real_server 10.0.0.6 443 {
    SSL_GET {
      url {
        path /
        status_code 200
      }
    }
  }
  real_server 10.0.0.7 443 {
    FILE_CHECK {
      track_file weight_file
    }
  }
}
bgp_announce {
  prefix 10.0.0.3/32 {
  }
  prefix 10.0.0.1/32 {
    follow vrrp VI_1
  }
}
`;

async function parts(): Promise<Record<'all' | 'vrrp' | 'checker', KeepalivedConfig>> {
  const file = join(tmp, 'parts.conf');
  writeFileSync(file, CONF);
  const r = await loadInThisThread({
    source: { kind: 'disk', path: file, configId: null },
    tolerant: true,
    parts: ['all', 'vrrp', 'checker'],
    maxDiagnostics: 20,
  });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const { all, vrrp, checker } = r.models;
  if (!all || !vrrp || !checker) throw new Error('a part is missing');
  return { all, vrrp, checker };
}

describe('model parts', () => {
  it('the VRRP part: all the config but the virtual servers, their groups and SSL_GET client files', async () => {
    const { all, vrrp } = await parts();
    expect(all.virtualServers.length).toBe(2);
    expect(vrrp).toEqual({ ...all, virtualServers: [], virtualServerGroups: [], ssl: null });
    // what the VRRP child runs of it is all there
    expect(vrrpScriptUses(vrrp)).toEqual(vrrpScriptUses(all));
    expect(vrrp.vrrpInstances.map((i) => i.name)).toEqual(['VI_1', 'VI_2']);
    expect(vrrp.bgpAnnounce).toEqual(all.bgpAnnounce);
  });

  it('the checker part: the virtual servers and what they read; of the VRRP instances only the one lvs_sync_daemon follows', async () => {
    const { all, checker } = await parts();
    expect(checker.vrrpInstances.map((i) => i.name)).toEqual(['VI_2']);
    expect(checker.vrrpInstances[0]!.virtualIpaddresses).toEqual(all.vrrpInstances[1]!.virtualIpaddresses);
    const onlyVrrp = ['vrrpScripts', 'vrrpSyncGroups', 'trackProcesses', 'staticAddresses', 'staticRoutes', 'staticRules', 'staticTrackGroups'] as const;
    for (const k of onlyVrrp) expect(checker[k], k).toEqual([]);
    expect(all.vrrpScripts.length + all.vrrpSyncGroups.length + all.staticRoutes.length).toBe(3);
    const kept = Object.keys(all).filter((k) => k !== 'vrrpInstances' && !(onlyVrrp as readonly string[]).includes(k)) as (keyof KeepalivedConfig)[];
    for (const k of kept) expect(checker[k], k).toBe(all[k]);
    // what the checker runs of it is all there: its scripts, FILE_CHECK's track_file, SSL,
    // bgp_announce's quorum prefixes and the sysctls they need
    expect(checkerScriptUses(checker)).toEqual(checkerScriptUses(all));
    expect(checkerScriptUses(checker).length).toBe(1);
    expect(checker.trackFiles.map((t) => t.name)).toEqual(['weight_file']);
    expect(checker.ssl).toEqual(all.ssl);
    expect(takeoverSysctls(checker)).toEqual(takeoverSysctls(all));
    expect(checker.bgpAnnounce).toEqual(all.bgpAnnounce);
  });

  it('without lvs_sync_daemon the checker part carries no VRRP instance', async () => {
    const file = join(tmp, 'nosync.conf');
    writeFileSync(file, CONF.replace('  lvs_sync_daemon eth0 VI_2 id 9\n', ''));
    const r = await loadInThisThread({ source: { kind: 'disk', path: file, configId: null }, tolerant: true, parts: ['checker'], maxDiagnostics: 20 });
    expect(r.models.checker?.vrrpInstances).toEqual([]);
    expect(r.models.checker?.virtualServers.length).toBe(2);
  });

  it('the checker part shares identical checker blocks, and they stay shared across the channel (sent once)', async () => {
    const file = join(tmp, 'alike.conf');
    const rs = (ip: string) => `  real_server ${ip} 80 {\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n`;
    writeFileSync(
      file,
      `virtual_server 10.0.0.3 80 {\n  protocol TCP\n${rs('10.0.0.6')}${rs('10.0.0.7')}}\nvirtual_server 10.0.0.4 80 {\n  protocol TCP\n${rs('10.0.0.8')}}\n`,
    );
    const r = await loadInThisThread({ source: { kind: 'disk', path: file, configId: null }, tolerant: true, parts: ['checker'], maxDiagnostics: 20 });
    const sent = deserialize(serialize(r.models.checker)) as KeepalivedConfig;
    const lists = sent.virtualServers.flatMap((vs) => vs.realServers.map((x) => x.checkers));
    expect(lists).toHaveLength(3);
    expect(lists[0]!.map((c) => c.type)).toEqual(['TCP_CHECK']);
    expect(lists[1]).toBe(lists[0]);
    expect(lists[2]).toBe(lists[0]);
  });

  it('each part crosses the parent-child channel unchanged (V8 serialization, as the channel in `advanced` mode)', async () => {
    const p = await parts();
    for (const part of [p.vrrp, p.checker]) expect(deserialize(serialize(part))).toStrictEqual(part);
  });
});
