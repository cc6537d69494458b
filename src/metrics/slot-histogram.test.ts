import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SlotHistogram } from './slot-histogram.js';

const buckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
const series = [
  { virtual_server: '[10.0.0.1]:tcp:80', real_server: '[10.0.1.1]:tcp:80', checker: 'TCP_CHECK' },
  { virtual_server: '[10.0.0.1]:tcp:80', real_server: '[10.0.1.2]:tcp:80', checker: 'HTTP_GET' },
  { virtual_server: 'FWM 5', real_server: '[2001:db8::1]:tcp:0', checker: 'MISC_CHECK' },
];

function both() {
  const theirs = new Registry();
  const ours = new Registry();
  const h = new Histogram({ name: 'x_seconds', help: 'Duration', labelNames: ['virtual_server', 'real_server', 'checker'], buckets, registers: [theirs] });
  const s = new SlotHistogram('x_seconds', 'Duration', buckets, [ours]);
  s.labelsOf = (slot) => series[slot] ?? null;
  const observe = (slot: number, v: number) => {
    h.observe(series[slot]!, v);
    s.observe(slot, v);
  };
  return { theirs, ours, h, s, observe };
}

describe('SlotHistogram', () => {
  it("reads back exactly as prom-client's Histogram with the same observations, as JSON and as text", async () => {
    const { theirs, ours, observe } = both();
    for (const [slot, v] of [
      [0, 0.0004],
      [0, 0.003],
      [2, 7],
      [0, 0.2],
      [2, 0.001],
      [0, 5],
    ] as const)
      observe(slot, v);
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toContain('10.0.1.2'); // never observed: no series
  });

  it("merges in the parent's AggregatorRegistry as prom-client's Histogram does", async () => {
    const { theirs, ours, observe } = both();
    observe(0, 0.002);
    observe(2, 0.7);
    const merged = async (r: Registry) => AggregatorRegistry.aggregate([await r.getMetricsAsJSON(), await r.getMetricsAsJSON()]).metrics();
    expect(await merged(ours)).toBe(await merged(theirs));
  });

  it('keeps its counts across reserve()', async () => {
    const { theirs, ours, s, observe } = both();
    observe(0, 0.003);
    observe(2, 7);
    s.reserve(10_000);
    observe(2, 0.02);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('forgets a removed series, which starts from zero when used again', async () => {
    const { theirs, ours, h, s, observe } = both();
    observe(0, 0.002);
    observe(1, 0.02);
    h.remove(series[0]!);
    s.remove(0);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    observe(0, 0.3);
    // the same lines; prom-client lists a re-created series last, this by slot
    const lines = async (r: Registry) => (await r.metrics()).split('\n').sort();
    expect(await lines(ours)).toEqual(await lines(theirs));
    expect(await ours.metrics()).toContain('x_seconds_count{virtual_server="[10.0.0.1]:tcp:80",real_server="[10.0.1.1]:tcp:80",checker="TCP_CHECK"} 1');
  });

  it('grows past its first allocation', async () => {
    const s = new SlotHistogram('y', 'y', buckets);
    s.labelsOf = (slot) => ({ n: String(slot) });
    s.observe(1000, 0.5);
    const v = (await s.get()).values.filter((x) => x.metricName === 'y_count');
    expect(v).toEqual([{ value: 1, metricName: 'y_count', exemplar: undefined, labels: { n: '1000' } }]);
  });
});
