// Applies the VRRP firewall (rules.ts) with the `nft` tool, each change one nft transaction.
// The first change replaces tables of the same name left by an earlier run (a crash leaves
// them); close() deletes the tables. A change that fails (the tables edited behind our back)
// is retried once as a whole rebuild from what should be there.
import { spawn } from 'node:child_process';
import type { Logger } from '../log/logger.js';
import { EMPTY_LAYOUT, dropTable, transition, type FirewallLayout, type FirewallRules } from './rules.js';

/** What the VRRP engine asks of a firewall (engine-ports.ts). */
export interface FirewallPort {
  /** Makes the tables drop exactly these addresses; null: no firewall (tables removed). */
  apply(rules: FirewallRules | null): Promise<void>;
  /** Removes the tables (at stop). */
  close(): Promise<void>;
}

/** Runs `nft` with these arguments and this standard input; rejects with nft's own words. */
export type NftRun = (args: readonly string[], input?: string) => Promise<string>;

export function nftCommand(binary = 'nft'): NftRun {
  return (args, input) =>
    new Promise((resolve, reject) => {
      const child = spawn(binary, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', (e) => reject(new Error(`cannot run ${binary}: ${e.message}`)));
      child.on('close', (code) => {
        if (code === 0) resolve(out);
        else reject(new Error(`${binary} ${args.join(' ')} failed: ${err.trim().split('\n').slice(0, 3).join(' / ') || `exit ${code}`}`));
      });
      child.stdin.on('error', () => {}); // nft may exit before reading it all; its exit code says why
      child.stdin.end(input ?? '');
    });
}

export class NftablesFirewall implements FirewallPort {
  private layout: FirewallLayout = EMPTY_LAYOUT;
  private applied: FirewallRules | null = null;
  /** The table name whose stale copies were cleared (once per name). */
  private cleared: string | null = null;

  constructor(
    private readonly run: NftRun,
    private readonly log: Logger,
  ) {}

  async apply(rules: FirewallRules | null): Promise<void> {
    const was = this.applied?.settings;
    const now = rules?.settings;
    let script = '';
    // another table, priority or counters: the old tables go, the new ones are made whole
    if (was && (!now || was.table !== now.table || was.priority !== now.priority || was.counters !== now.counters || was.ifindex !== now.ifindex)) {
      script += this.dropAll(was.table);
      this.layout = EMPTY_LAYOUT;
      this.applied = null;
    }
    if (!rules) {
      if (script) await this.run(['-f', '-'], script);
      return;
    }
    if (this.cleared !== rules.settings.table) {
      script += await this.clearStale(rules.settings.table);
      this.cleared = rules.settings.table;
    }
    const step = transition(this.layout, this.applied, rules);
    try {
      if (script + step.script) await this.run(['-f', '-'], script + step.script);
    } catch (err) {
      // rebuilt whole: whatever the tables hold now, they end as they should be
      this.log.warn(`VRRP firewall: ${(err as Error).message}; rebuilding table ${rules.settings.table}`);
      const rebuild = transition(this.layout, null, rules);
      await this.run(['-f', '-'], this.dropAll(rules.settings.table) + rebuild.script);
      this.layout = rebuild.layout;
      this.applied = rules;
      return;
    }
    this.layout = step.layout;
    this.applied = rules;
  }

  async close(): Promise<void> {
    const settings = this.applied?.settings;
    if (!settings) return;
    this.applied = null;
    this.layout = EMPTY_LAYOUT;
    await this.run(['-f', '-'], this.dropAll(settings.table));
  }

  private dropAll(table: string): string {
    return dropTable('ip', table) + dropTable('ip6', table);
  }

  /** Commands removing tables of this name an earlier run left, each logged as keepalived does. */
  private async clearStale(table: string): Promise<string> {
    let listed = '';
    try {
      listed = await this.run(['list', 'tables']);
    } catch {
      // nothing listed: the drop below still removes any
    }
    for (const family of ['ip', 'ip6'] as const) {
      if (new RegExp(`^table ${family} ${table.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').test(listed))
        this.log.info(`Deleting old ${family} ${table} table`);
    }
    return this.dropAll(table);
  }
}
