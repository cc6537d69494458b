import { describe, expect, it } from 'vitest';
import { splitStatements } from '../config/build-testkit.js';
import { buildAndValidate } from '../config/build-pipeline.js';
import type { KeepalivedConfig, VirtualServer } from '../config/model.js';
import { kernelMetric, quorumRoutes, routeChanges, vrrpMetric, vrrpRoutes, type InstanceAnnounceState, type VirtualServerReadiness } from './decide.js';
import { networkOf, prefixContains } from '../ip/prefix.js';

function config(text: string): KeepalivedConfig {
  const r = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'h', null);
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}

const vs = (address: string, port: number) => `virtual_server ${address} ${port} {
  lvs_sched mh
  lvs_method DR
  protocol TCP
  real_server 10.0.1.1 ${port} {
  }
}`;

const CONF = config(`${vs('10.0.0.100', 80)}
${vs('10.0.0.100', 443)}
${vs('10.0.0.101', 80)}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.200
  }
}
bgp_announce {
  prefix 10.0.0.100/32 {
    med 20
  }
  prefix 10.0.0.101/32 {
  }
  prefix 10.0.0.200/32 {
    follow vrrp VI_1
    med 5
  }
}`);
const announce = CONF.bgpAnnounce!;
const READY: VirtualServerReadiness = { quorum: true, installed: true, settled: true, written: true };

function readiness(over: (vs: VirtualServer) => Partial<VirtualServerReadiness>) {
  return (vs: VirtualServer): VirtualServerReadiness => ({ ...READY, ...over(vs) });
}
const port = (vs: VirtualServer) => (vs.key.kind === 'ip' ? `${vs.key.address}:${vs.key.port}` : '');

const announced = (routes: { kind: string; network: string }[]) => routes.filter((r) => r.kind === 'announce').map((r) => r.network);
const local = (routes: { kind: string; network: string }[]) => routes.filter((r) => r.kind === 'local').map((r) => r.network);

describe('quorumRoutes (active-active)', () => {
  it('announces every quorum prefix whose virtual servers are all ready, with its MED; every one is local', () => {
    expect(quorumRoutes(announce, CONF, () => READY, 'running')).toEqual([
      { kind: 'local', family: 4, network: '10.0.0.100', length: 32, metric: 0 },
      { kind: 'announce', family: 4, network: '10.0.0.100', length: 32, metric: 20 },
      { kind: 'local', family: 4, network: '10.0.0.101', length: 32, metric: 0 },
      { kind: 'announce', family: 4, network: '10.0.0.101', length: 32, metric: 0 },
    ]);
  });

  it('one virtual server of a prefix without quorum withdraws that prefix only; it stays local', () => {
    const r = quorumRoutes(
      announce,
      CONF,
      readiness((v) => (port(v) === '10.0.0.100:443' ? { quorum: false } : {})),
      'running',
    );
    expect(announced(r)).toEqual(['10.0.0.101']);
    expect(local(r)).toEqual(['10.0.0.100', '10.0.0.101']);
  });

  it('a service not installed in IPVS, or whose real servers have no verdict yet, is not announced', () => {
    expect(
      announced(
        quorumRoutes(
          announce,
          CONF,
          readiness((v) => (port(v) === '10.0.0.101:80' ? { installed: false } : {})),
          'running',
        ),
      ),
    ).toEqual(['10.0.0.100']);
    expect(
      announced(
        quorumRoutes(
          announce,
          CONF,
          readiness((v) => (port(v) === '10.0.0.101:80' ? { settled: false } : {})),
          'running',
        ),
      ),
    ).toEqual(['10.0.0.100']);
  });

  it('a verdict not yet written to the kernel holds back a new announcement, never withdraws one', () => {
    const pending = readiness((v) => (port(v) === '10.0.0.101:80' ? { written: false } : {}));
    expect(announced(quorumRoutes(announce, CONF, pending, 'running'))).toEqual(['10.0.0.100']);
    expect(announced(quorumRoutes(announce, CONF, pending, 'running', new Set(['10.0.0.101/32'])))).toEqual(['10.0.0.100', '10.0.0.101']);
  });

  it('a draining checker announces nothing and stays local', () => {
    const r = quorumRoutes(announce, CONF, () => READY, 'draining');
    expect(announced(r)).toEqual([]);
    expect(local(r)).toEqual(['10.0.0.100', '10.0.0.101']);
  });
});

describe('vrrpRoutes (VRRP over L3)', () => {
  const state = (s: InstanceAnnounceState | undefined) => (name: string) => (name === 'VI_1' ? s : undefined);

  it('announces while the instance is MASTER, the metric falling as the priority rises', () => {
    expect(vrrpRoutes(announce, state({ priority: 200, announce: true, local: true }))).toEqual([
      { kind: 'local', family: 4, network: '10.0.0.200', length: 32, metric: 0 },
      { kind: 'announce', family: 4, network: '10.0.0.200', length: 32, metric: 5 + 55 },
    ]);
    expect(vrrpMetric(0, 255)).toBeLessThan(vrrpMetric(0, 100));
  });

  it('draining or yielding: local only; BACKUP or an unknown instance: nothing', () => {
    expect(vrrpRoutes(announce, state({ priority: 0, announce: false, local: true }))).toEqual([
      { kind: 'local', family: 4, network: '10.0.0.200', length: 32, metric: 0 },
    ]);
    expect(vrrpRoutes(announce, state({ priority: 100, announce: false, local: false }))).toEqual([]);
    expect(vrrpRoutes(announce, state(undefined))).toEqual([]);
  });
});

describe('routeChanges', () => {
  const r = (network: string, metric: number, kind: 'announce' | 'local' = 'announce') => ({ kind, family: 4 as const, network, length: 32, metric });
  it('adds what is missing, removes what is extra, and a new metric is an add plus a remove', () => {
    expect(routeChanges([r('10.0.0.1', 0), r('10.0.0.2', 5)], [r('10.0.0.2', 7), r('10.0.0.3', 0)])).toEqual({
      add: [r('10.0.0.1', 0), r('10.0.0.2', 5)],
      remove: [r('10.0.0.2', 7), r('10.0.0.3', 0)],
    });
    expect(routeChanges([r('10.0.0.1', 0)], [r('10.0.0.1', 0)])).toEqual({ add: [], remove: [] });
  });

  it('a local route and an announcement of the same prefix are different routes', () => {
    expect(routeChanges([r('10.0.0.1', 0, 'local')], [r('10.0.0.1', 0)])).toEqual({ add: [r('10.0.0.1', 0, 'local')], remove: [r('10.0.0.1', 0)] });
  });

  it("an IPv6 metric 0 is the kernel's 1024", () => {
    expect(kernelMetric({ family: 6, metric: 0 })).toBe(1024);
    expect(kernelMetric({ family: 4, metric: 0 })).toBe(0);
  });
});

describe('prefix arithmetic', () => {
  it('networks and containment, both families', () => {
    expect(networkOf('10.1.2.3', 24)).toBe('10.1.2.0');
    expect(networkOf('2001:db8::1:2', 112)).toBe('2001:db8::1:0');
    expect(prefixContains('10.1.2.0', 24, 4, '10.1.2.200')).toBe(true);
    expect(prefixContains('10.1.2.0', 24, 4, '10.1.3.1')).toBe(false);
    expect(prefixContains('10.1.2.0', 24, 4, '2001:db8::1')).toBe(false);
    expect(prefixContains('2001:db8::', 64, 6, '2001:db8::5')).toBe(true);
  });
});
