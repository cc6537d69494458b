// NftablesFirewall on a fake `nft`: the commands each change sends, stale tables, a failed
// change rebuilt, the tables removed at close. The real `nft` in a namespace:
// test/vrrp/strict-firewall.test.ts.
import { describe, expect, it } from 'vitest';
import type { VirtualIp, VrrpFirewallSettings, VrrpInstance } from '../config/model.js';
import { createLogger, type LogRecord } from '../log/logger.js';
import { NftablesFirewall } from './nftables.js';
import { firewallRules } from './rules.js';

const settings: VrrpFirewallSettings = { table: 'keepalived', priority: -1, counters: false, ifindex: false };
const instance = { name: 'VI', interface: 'eth0', priority: 100, accept: false, dontTrackPrimary: false } as VrrpInstance;
const vip = (address: string) => ({ address, prefix: 24, family: 4, dev: null }) as VirtualIp;
const rules = (...addresses: string[]) => firewallRules(settings, [{ instance, vips: addresses.map(vip) }]);

function rig(tables = '', failOn: RegExp | null = null) {
  const calls: string[] = [];
  const logs: LogRecord[] = [];
  const fw = new NftablesFirewall(
    (args, input) => {
      calls.push(input ?? args.join(' '));
      if (args[0] === 'list') return Promise.resolve(tables);
      if (failOn && input && failOn.test(input)) return Promise.reject(new Error('nft -f - failed: Error: Could not process rule: No such file or directory'));
      return Promise.resolve('');
    },
    createLogger({ proc: 'vrrp', collect: (r) => logs.push(r) }),
  );
  return { fw, calls, logs };
}

describe('NftablesFirewall', () => {
  it('the first change replaces tables an earlier run left, saying so as keepalived does', async () => {
    const r = rig('table ip keepalived\ntable inet filter\n');
    await r.fw.apply(rules());
    expect(r.calls).toEqual(['list tables', 'table ip keepalived {}\ndelete table ip keepalived\ntable ip6 keepalived {}\ndelete table ip6 keepalived\n']);
    expect(r.logs.map((l) => l.msg)).toEqual(['Deleting old ip keepalived table']);
  });

  it('follows the addresses: table made, elements added and deleted, tables removed at close', async () => {
    const r = rig();
    await r.fw.apply(rules());
    await r.fw.apply(rules('10.0.0.1'));
    expect(r.calls[2]).toMatch(/^table ip keepalived \{\}\ndelete table ip keepalived\ntable ip keepalived \{\n\tset vips \{/);
    await r.fw.apply(rules('10.0.0.1', '10.0.0.2'));
    await r.fw.apply(rules());
    expect(r.calls.slice(3)).toEqual(['add element ip keepalived vips { 10.0.0.2 }\n', 'delete element ip keepalived vips { 10.0.0.1, 10.0.0.2 }\n']);
    await r.fw.close();
    expect(r.calls.at(-1)).toBe('table ip keepalived {}\ndelete table ip keepalived\ntable ip6 keepalived {}\ndelete table ip6 keepalived\n');
  });

  it('a change nft refuses (the table edited behind its back) is rebuilt whole', async () => {
    const r = rig('', /^delete element/);
    await r.fw.apply(rules('10.0.0.1'));
    await r.fw.apply(rules());
    expect(r.logs.some((l) => /rebuilding table keepalived/.test(l.msg))).toBe(true);
    expect(r.calls.at(-1)).toMatch(
      /delete table ip6 keepalived\ntable ip keepalived \{\}\ndelete table ip keepalived\ntable ip keepalived \{\n\tset vips \{\n\t\ttype ipv4_addr\n\t\}/,
    );
  });

  it('a new table name or priority: the old tables go, the new one is made whole', async () => {
    const r = rig();
    await r.fw.apply(rules('10.0.0.1'));
    const moved = firewallRules({ ...settings, table: 'fw', priority: 10 }, [{ instance, vips: [vip('10.0.0.1')] }]);
    await r.fw.apply(moved);
    const last = r.calls.at(-1)!;
    expect(last.startsWith('table ip keepalived {}\ndelete table ip keepalived\ntable ip6 keepalived {}\ndelete table ip6 keepalived\n')).toBe(true);
    expect(last).toContain('table ip fw {\n');
    expect(last).toContain('priority 10;');
  });

  it('no firewall any more: the tables go; never one: nft is not run', async () => {
    const r = rig();
    await r.fw.apply(null);
    expect(r.calls).toEqual([]);
    await r.fw.apply(rules('10.0.0.1'));
    await r.fw.apply(null);
    expect(r.calls.at(-1)).toBe('table ip keepalived {}\ndelete table ip keepalived\ntable ip6 keepalived {}\ndelete table ip6 keepalived\n');
  });
});
