// The parent's own figures for /metrics and /status: reload outcomes and child restarts.
// Plain prom-client JSON (what a registry's getMetricsAsJSON returns), built without loading
// prom-client into the parent; the status server merges it with the children's.
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export type ReloadOutcome = 'applied' | 'refused' | 'failed';

/** Reload outcomes by process: the parent refuses a file that fails -t, a child reports its own. */
export class ReloadCounters {
  private readonly counts = new Map<string, number>();
  last: { at: string; process: string; outcome: ReloadOutcome; message: string | null } | null = null;

  record(process: string, outcome: ReloadOutcome, message: string | null = null, now = new Date()): void {
    const key = `${process}\0${outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.last = { at: now.toISOString(), process, outcome, message };
  }

  values(): MetricValue<string>[] {
    return [...this.counts].map(([key, value]) => {
      const [process, result] = key.split('\0');
      return { labels: { process: process!, result: result! }, value };
    });
  }

  /** For /status: counts by outcome, and the last reload. */
  summary(): Record<string, unknown> {
    const byOutcome: Record<ReloadOutcome, number> = { applied: 0, refused: 0, failed: 0 };
    for (const [key, n] of this.counts) byOutcome[key.split('\0')[1] as ReloadOutcome] += n;
    return { ...byOutcome, last: this.last };
  }
}

export interface ChildFigures {
  role: string;
  running: boolean;
  restarts: number;
}

/** As a registry's getMetricsAsJSON() has it at run time (prom-client's typings say an enum for `type`). */
interface MetricJson {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  aggregator: 'sum';
  values: MetricValue<string>[];
}

export function parentMetrics(reloads: ReloadCounters, children: readonly ChildFigures[]): MetricObjectWithValues<MetricValue<string>>[] {
  const metrics: MetricJson[] = [
    {
      name: 'keepalived_reloads_total',
      help: 'Reloads (HUP) by process and outcome: applied, refused (the file fails -t), failed',
      type: 'counter',
      aggregator: 'sum',
      values: reloads.values(),
    },
    {
      name: 'keepalived_child_restarts_total',
      help: 'Child processes restarted by the watchdog',
      type: 'counter',
      aggregator: 'sum',
      values: children.map((c) => ({ labels: { process: c.role }, value: c.restarts })),
    },
    {
      name: 'keepalived_child_running',
      help: '1 while the child process runs',
      type: 'gauge',
      aggregator: 'sum',
      values: children.map((c) => ({ labels: { process: c.role }, value: c.running ? 1 : 0 })),
    },
  ];
  return metrics as unknown as MetricObjectWithValues<MetricValue<string>>[];
}
