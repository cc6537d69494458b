// Our dumps against keepalived 2.2.7's own, captured for test/fixtures/keepalived-dumps/
// keepalived.conf (MASTER with one VIP and a weight-10 track script, 2 adverts sent).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatDataTopology, formatJson, formatStats } from './vrrp-dumps.js';
import { emptyStats, type VrrpInstanceSnapshot } from './vrrp-snapshot.js';
import { formatGlobalSection } from './global-section.js';
import { defaultGlobalDefs } from '../config/build.js';

const fixture = (f: string) => readFileSync(fileURLToPath(new URL(`../../test/fixtures/keepalived-dumps/${f}`, import.meta.url)), 'utf8');

const snapshot: VrrpInstanceSnapshot = {
  name: 'VI_1',
  interface: 'eth0',
  vrid: 51,
  version: 2,
  family: 4,
  state: 'MASTER',
  wantState: 'MASTER',
  basePriority: 150,
  effectivePriority: 160,
  masterPriority: 0,
  masterAddress: null,
  masterDownUs: 3375000,
  trackFaults: 0,
  scriptsInit: 0,
  advertIntMs: 1000,
  masterAdvertIntMs: 1000,
  lastTransition: 1795322690.247636,
  garpDelayS: 5,
  garpRepeat: 5,
  garpRefreshS: 0,
  garpRefreshRepeat: 1,
  garpLowerPrioDelayS: 5,
  garpLowerPrioRepeat: 5,
  lowerPrioNoAdvert: false,
  higherPrioSendAdvert: false,
  dontTrackPrimary: false,
  skipCheckAdvAddr: false,
  strictMode: false,
  accept: true,
  nopreempt: false,
  preemptDelayS: 0,
  smtpAlert: false,
  srcIp: '10.203.0.1',
  srcIpFromConfig: false,
  mcastGroup: '224.0.0.18',
  unicastPeers: [],
  checkUnicastSrc: false,
  auth: { type: 'PASS', pass: 'secret' },
  vips: ['10.203.0.100/24 dev eth0 scope global label eth0:vip set'],
  trackScripts: [{ name: 'chk', command: "'/usr/bin/true'", weight: 10 }],
  stats: { ...emptyStats(), advertSent: 2, becomeMaster: 1 },
};

describe('dump files', () => {
  it("keepalived.stats is byte-identical to keepalived 2.2.7's", () => {
    expect(formatStats([snapshot])).toBe(fixture('keepalived.stats'));
  });

  it("keepalived.json has keepalived's structure and values", () => {
    const ours = formatJson([snapshot]);
    expect(JSON.parse(ours)).toEqual(JSON.parse(fixture('keepalived.json')));
    expect(ours).toBe(fixture('keepalived.json'));
  });

  it("keepalived.data topology is keepalived's line for line, its timer queue and socket numbers aside", () => {
    process.env.TZ = 'UTC'; // the fixture was captured on a UTC host
    const section = fixture('keepalived.data').split('\n------< VRRP Sockpool')[0]!.split('------< VRRP Topology >------\n')[1]!;
    const theirs = section.split('\n').filter((l) => !/^ +(Read timeout|fd_in)/.test(l));
    expect(formatDataTopology([snapshot]).split('\n')).toEqual(['------< VRRP Topology >------', ...theirs, '']);
  });

  it('a strict-mode instance says so before its source address, as keepalived (vrrp_data.c) does', () => {
    const lines = formatDataTopology([{ ...snapshot, strictMode: true }]).split('\n');
    const at = lines.indexOf('   Enforcing strict VRRP compliance');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ {3}Using src_ip = /);
  });
});

describe('keepalived.data global definitions', () => {
  const config = { globalDefs: { ...defaultGlobalDefs('host'), routerId: 'LVS_TEST' } };
  const resolver = { scriptPath: (p: string) => p, userIds: () => ({ uid: 0, gid: 0 }) };

  it("are keepalived 2.2.7's VRRP process's, line for line", () => {
    const theirs = fixture('keepalived.data').split('\n------< VRRP Topology')[0]!.split('\n');
    expect(formatGlobalSection({ config, umask: 0o177, namespace: null, process: 'vrrp', ...resolver })).toEqual(theirs);
  });

  it('name the namespace of -s', () => {
    expect(formatGlobalSection({ config, umask: 0o177, namespace: 'blue', process: 'vrrp', ...resolver })[1]).toBe(' Network namespace = blue');
  });
});
