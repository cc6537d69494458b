import { describe, expect, it } from 'vitest';
import { splitStatements } from '../config/build-testkit.js';
import { buildAndValidate } from '../config/build-pipeline.js';
import type { KeepalivedConfig } from '../config/model.js';
import { createLogger } from '../log/logger.js';
import { ensureTakeoverSysctls, takeoverSysctls } from './takeover.js';

function config(text: string): KeepalivedConfig {
  const r = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'h', null);
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}

const vs = (address: string, protocol: string) => `virtual_server ${address} 80 {
  lvs_sched mh
  mh-fallback
  lvs_method DR
  protocol ${protocol}
  inhibit_on_failure
  real_server 10.0.1.1 80 {
  }
}`;

describe('takeoverSysctls', () => {
  it('asks for sloppy scheduling of the protocols announced active-active only', () => {
    const conf = config(`${vs('10.0.0.100', 'TCP')}
${vs('10.0.0.101', 'UDP')}
${vs('10.0.0.102', 'SCTP')}
bgp_announce {
  prefix 10.0.0.100/32 {
  }
  prefix 10.0.0.101/32 {
  }
}`);
    expect(takeoverSysctls(conf)).toEqual(['sloppy_tcp']);
    expect(takeoverSysctls({ ...conf, bgpAnnounce: { ...conf.bgpAnnounce!, prefixes: [] } })).toEqual([]);
    const sctp = config(`${vs('10.0.0.102', 'SCTP')}
bgp_announce {
  prefix 10.0.0.102/32 {
  }
}`);
    expect(takeoverSysctls(sctp)).toEqual(['sloppy_sctp']);
  });

  it('no bgp_announce, nothing to set', () => {
    expect(takeoverSysctls(config(vs('10.0.0.100', 'TCP')))).toEqual([]);
  });
});

describe('ensureTakeoverSysctls', () => {
  const logs: string[] = [];
  const log = createLogger({
    proc: 'checker',
    write: (line) => {
      const r = JSON.parse(line) as { level: number; msg: string };
      logs.push(`${r.level >= 40 ? 'warn' : 'info'} ${r.msg}`);
    },
  });

  it('writes 1 where the value is 0, leaves a 1 alone, and warns when the kernel refuses', () => {
    logs.length = 0;
    const values = new Map([
      ['/proc/sys/net/ipv4/vs/sloppy_tcp', '0\n'],
      ['/proc/sys/net/ipv4/vs/sloppy_sctp', '1\n'],
    ]);
    const writes: string[] = [];
    const sysctl = {
      read: (p: string) => {
        const v = values.get(p);
        if (v === undefined) throw new Error(`ENOENT: ${p}`);
        return v;
      },
      write: (p: string, v: string) => {
        writes.push(`${p}=${v}`);
        values.set(p, v);
      },
    };
    ensureTakeoverSysctls(['sloppy_sctp', 'sloppy_tcp'], log, sysctl);
    expect(writes).toEqual(['/proc/sys/net/ipv4/vs/sloppy_tcp=1']);
    expect(logs).toEqual(['info bgp_announce: set net.ipv4.vs.sloppy_tcp=1 so that this director carries on the flows another director started']);
    ensureTakeoverSysctls(['sloppy_tcp'], log, sysctl);
    expect(writes).toHaveLength(1);

    logs.length = 0;
    values.clear(); // IPVS not loaded: no such file
    ensureTakeoverSysctls(['sloppy_tcp'], log, sysctl);
    expect(logs).toEqual(['warn bgp_announce: cannot set net.ipv4.vs.sloppy_tcp=1: flows moved here from another director will be reset']);
  });
});
