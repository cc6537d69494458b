// Our keepalived_check.data against keepalived 2.2.7's own, captured in the test/kernel VM
// for the two configs beside them in test/fixtures/keepalived-dumps/ (see their headers).
// Each test gives the formatter the state keepalived was in at the capture (which real
// servers and checkers were up, what ran when) and compares the whole file.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import type { RealServer, VirtualServer } from '../config/model.js';
import { healthKey, type RealServerHealth } from '../checker/desired.js';
import { dumpTableState } from '../checker/dump-state.js';
import { type CheckerView, formatCheckDump, lastRanText, notRunView } from './check-dump.js';

process.env.TZ = 'UTC'; // the guest that made the captures runs in UTC

const fixture = (f: string) => fileURLToPath(new URL(`../../test/fixtures/keepalived-dumps/${f}`, import.meta.url));

function load(file: string) {
  const r = loadConfig(fixture(file), {});
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.config!;
}

const ran = (extra: Partial<CheckerView> = {}): CheckerView => ({ ...notRunView(), hasRun: true, ...extra });
const io = {
  ipvsVersion: '1.2.1',
  umask: 0o177,
  namespace: null,
  // /bin is a link to /usr/bin on the capturing system: keepalived prints the resolved directory
  scriptPath: (p: string) => p.replace(/^\/bin\//, '/usr/bin/'),
  userIds: (user: string) => (user === 'nobody' ? { uid: 65534, gid: 65534 } : null),
};

/** Views by "rs address#checker index", health by real server address. */
function stateOf(views: Record<string, CheckerView>, health: Record<string, RealServerHealth>, config: ReturnType<typeof load>) {
  const h = new Map<string, RealServerHealth>();
  for (const vs of config.virtualServers) for (const rs of vs.realServers) if (health[rs.address]) h.set(healthKey(vs, rs), health[rs.address]!);
  return {
    ...dumpTableState(h),
    checker: (_vs: VirtualServer, rs: RealServer, i: number) => views[`${rs.address}#${i}`] ?? notRunView(),
  };
}

describe('keepalived_check.data', () => {
  it("is byte-identical to keepalived 2.2.7's for a NAT service with HTTP_GET, TCP_CHECK, fwmark + MISC_CHECK and a group", () => {
    const config = load('keepalived_check.conf');
    const text = formatCheckDump({
      config,
      ...io,
      trackFileValue: () => null,
      ...stateOf(
        {
          '127.0.0.1#0': ran(),
          '127.0.0.2#0': ran({ up: false }),
          '127.0.0.3#0': ran({ lastRan: 1795332750.451151, lastStatus: 0 }),
        },
        {
          '127.0.0.1': { up: true, dynamicWeight: null },
          '127.0.0.2': { up: false, dynamicWeight: null },
        },
        config,
      ),
    });
    expect(text).toBe(readFileSync(fixture('keepalived_check.data'), 'utf8'));
  });

  it("matches keepalived 2.2.7's line for line on IPv6, TUN, groups with ranges and fwmarks, every checker type and a track file", () => {
    const config = load('keepalived_check-wide.conf');
    const text = formatCheckDump({
      config,
      ...io,
      trackFileValue: (name) => (name === 'tf1' ? 1 : null),
      ...stateOf(
        {
          // keepalived's retry counter overshoots to retry + 1 once down; ours stops at retry
          '2001:db8:9::21#0': ran({ up: false, retryIt: 3, failedUrl: '/health' }),
          '127.0.0.5#0': { ...notRunView(), enabled: false }, // ha_suspend, the VIP is not on the host
          '127.0.0.7#0': ran({ up: false }),
          '127.0.0.7#1': ran({ up: false }),
          '127.0.0.8#0': ran(),
          '127.0.0.8#1': ran({ weight: -2 }),
          '127.0.0.8#2': ran({ weight: 2, lastRan: 1795334358.100535, lastStatus: 4 }),
        },
        {
          '2001:db8:9::21': { up: false, dynamicWeight: null },
          '127.0.0.7': { up: false, dynamicWeight: null },
          '127.0.0.8': { up: true, dynamicWeight: 0 },
        },
        config,
      ),
    });
    const theirs = readFileSync(fixture('keepalived_check-wide.data'), 'utf8').split('\n');
    const ours = text.split('\n');
    // What our model cannot know: keepalived had no `keepalived_script` user and so ignored the
    // quorum/notify scripts of this config (its dump leaves them out; ours prints them).
    const onlyOurs = [
      "   Quorum up notify script = '/usr/bin/true' 'up', uid:gid 0:0",
      "   Quorum down notify script = '/usr/bin/true' 'down', uid:gid 0:0",
      "     RS up notify script = '/usr/bin/true' 'rsup', uid:gid 0:0",
      "     RS down notify script = '/usr/bin/true' 'rsdown', uid:gid 0:0",
    ];
    expect(ours.filter((l) => !onlyOurs.includes(l))).toEqual(theirs);
    expect(ours.filter((l) => onlyOurs.includes(l))).toEqual(onlyOurs);
  });

  it('stamps "Last ran" as keepalived does: seconds.microseconds, then the local time with the microseconds after the year', () => {
    expect(lastRanText(1795332750.451151)).toBe('1795332750.451151 (Sun Nov 22 07:32:30 2026.451151)');
    expect(lastRanText(1795332750)).toBe('1795332750.000000 (Sun Nov 22 07:32:30 2026.000000)');
  });
});
