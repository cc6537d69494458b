// A histogram with one series per small integer (a slot: the checker observer gives every
// checker one), its counts in typed arrays and its labels asked for only at a scrape.
// prom-client's Histogram keeps per series a labels object, a hash string and a bucket
// object with a property per bound, per series, times every checker, for a metric that is
// read once every scrape. This keeps 4 bytes per bound plus 12: the per-checker cost of a
// metric becomes a small fraction of prom-client's.
//
// It registers with a prom-client Registry like any metric and reads back exactly as a
// prom-client Histogram with the same name, help, buckets and observations would
// (getMetricsAsJSON, text), so the parent's AggregatorRegistry merges it as before.
import type { Registry } from 'prom-client';

export type Labels = Record<string, string>;

interface Value {
  value: number;
  metricName: string;
  exemplar: null | undefined;
  labels: Labels;
}

export class SlotHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly stride: number;
  /**
   * Per slot: one count per bound (not cumulative), then the total count. 32 bits: a series
   * observed every second would take 136 years to wrap. 44 bytes a series with the sum,
   * where Float64 counts took 80.
   */
  private counts: Uint32Array;
  /** Per slot: the sum of the values observed. */
  private sums: Float64Array;
  /** The labels of a slot, asked at a scrape; null: the slot has no series. */
  labelsOf: (slot: number) => Labels | null = () => null;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registers: readonly Registry[] = [],
  ) {
    this.stride = bounds.length + 1;
    this.counts = new Uint32Array(this.stride * 64);
    this.sums = new Float64Array(64);
    for (const r of registers) r.registerMetric(this as never);
  }

  observe(slot: number, value: number): void {
    const base = slot * this.stride;
    if (base + this.stride > this.counts.length) this.grow(slot);
    const c = this.counts;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        c[base + i]!++;
        break;
      }
    }
    c[base + b.length]!++;
    this.sums[slot]! += value;
  }

  /** The slot's series is gone: its counts start from zero if it is used again. */
  remove(slot: number): void {
    const base = slot * this.stride;
    if (base < this.counts.length) this.counts.fill(0, base, base + this.stride);
    if (slot < this.sums.length) this.sums[slot] = 0;
  }

  reset(): void {
    this.counts.fill(0);
    this.sums.fill(0);
  }

  /** prom-client's Histogram.get() shape: every bucket (cumulative), +Inf, sum, count per series. */
  get(): Promise<{ name: string; help: string; type: 'histogram'; values: Value[]; aggregator: 'sum' }> {
    const values: Value[] = [];
    const c = this.counts;
    const n = this.bounds.length;
    for (let base = 0, slot = 0; base < c.length; base += this.stride, slot++) {
      const count = c[base + n]!;
      if (count === 0) continue;
      const labels = this.labelsOf(slot);
      if (!labels) continue;
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += c[base + i]!;
        values.push({ value: acc, metricName: `${this.name}_bucket`, exemplar: null, labels: { le: this.bounds[i] as unknown as string, ...labels } });
      }
      values.push({ value: count, metricName: `${this.name}_bucket`, exemplar: null, labels: { le: '+Inf', ...labels } });
      values.push({ value: this.sums[slot]!, metricName: `${this.name}_sum`, exemplar: undefined, labels: { ...labels } });
      values.push({ value: count, metricName: `${this.name}_count`, exemplar: undefined, labels: { ...labels } });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** Room for slots 0 .. n - 1, sized exactly (the observer knows its checkers). */
  reserve(n: number): void {
    if (n > this.sums.length) this.resize(n);
  }

  private grow(slot: number): void {
    let size = this.sums.length;
    while (size <= slot) size *= 2;
    this.resize(size);
  }

  private resize(slots: number): void {
    const counts = new Uint32Array(slots * this.stride);
    counts.set(this.counts);
    this.counts = counts;
    const sums = new Float64Array(slots);
    sums.set(this.sums);
    this.sums = sums;
  }
}
