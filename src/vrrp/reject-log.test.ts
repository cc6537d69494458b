// The rejection log: first of an episode in full, then a summary per window, bounded
// whatever the number of sources. The clock is the test's (numbers passed in, ms).
import { describe, expect, it } from 'vitest';
import { RejectionLog, SOURCES_COUNTED, summaryText, type RejectionSummary } from './reject-log.js';

const W = 10_000;

describe('RejectionLog', () => {
  it('logs the first refusal of a kind in full, counts the rest and summarises them at the window end', () => {
    const log = new RejectionLog();
    expect(log.record('bad-ttl', '10.0.0.2', 0)).toBe(true);
    for (let i = 0; i < 9; i++) expect(log.record('bad-ttl', '10.0.0.2', 1_000 * (i + 1))).toBe(false);
    // another kind starts its own episode
    expect(log.record('auth-mismatch', '10.0.0.3', 5_000)).toBe(true);
    const s = log.rollover(W);
    expect(s).toEqual([{ key: 'bad-ttl', dropped: 10, sources: 1, moreSources: false, examples: ['10.0.0.2'], seconds: 10 }]);
    // auth-mismatch had one refusal, already logged in full: nothing more to say
  });

  it('keeps an episode going while refusals continue, and ends it after a window without any', () => {
    const log = new RejectionLog();
    expect(log.record('bad-ttl', 'a', 0)).toBe(true);
    log.rollover(W);
    // still going: counted, summarised, never logged in full again
    expect(log.record('bad-ttl', 'a', W + 1)).toBe(false);
    expect(log.rollover(2 * W)).toMatchObject([{ key: 'bad-ttl', dropped: 1, sources: 1 }]);
    expect(log.active).toBe(true);
    // a quiet window ends it
    expect(log.rollover(3 * W)).toEqual([]);
    expect(log.active).toBe(false);
    expect(log.record('bad-ttl', 'a', 3 * W + 5)).toBe(true);
  });

  it('opens a window at the first refusal after a quiet spell, so the summary covers that window only', () => {
    const log = new RejectionLog();
    expect(log.record('bad-checksum', 'a', 3_600_000)).toBe(true);
    log.record('bad-checksum', 'b', 3_604_000);
    expect(log.rollover(3_610_000)).toMatchObject([{ dropped: 2, sources: 2, seconds: 10 }]);
  });

  it('counts distinct sources exactly up to a cap, then says "more than", in bounded memory', () => {
    const log = new RejectionLog();
    const n = SOURCES_COUNTED * 50;
    for (let i = 0; i < n; i++) log.record('bad-ttl', `198.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i / 10);
    log.record('bad-ttl', '198.0.0.0', 5_000); // seen before: no new source
    const [s] = log.rollover(W);
    expect(s).toMatchObject({ dropped: n + 1, sources: SOURCES_COUNTED, moreSources: true, examples: ['198.0.0.0', '198.0.0.1', '198.0.0.2'] });
    expect(summaryText(s!, 'bad-ttl')).toBe('50,001 adverts dropped for bad-ttl from more than 1,000 sources in the last 10 s');
    // the next window starts from nothing
    log.record('bad-ttl', 'x', W + 1);
    expect(log.rollover(2 * W)).toMatchObject([{ dropped: 1, sources: 1, moreSources: false }]);
  });

  it('keeps one tally per kind, however many sources and windows', () => {
    const log = new RejectionLog();
    const kinds = ['bad-ttl', 'bad-checksum', 'auth-mismatch', 'address-list-mismatch'];
    let summaries: RejectionSummary[] = [];
    for (let w = 0; w < 20; w++) {
      for (let i = 0; i < 5_000; i++) log.record(kinds[i % 4]!, `src-${w}-${i}`, w * W + i);
      summaries = log.rollover((w + 1) * W);
    }
    expect(summaries.map((s) => s.key).sort()).toEqual([...kinds].sort());
    expect(summaries.every((s) => s.dropped === 1_250 && s.sources === 1_000 && s.moreSources)).toBe(true);
  });
});

describe('summaryText', () => {
  const base: RejectionSummary = { key: 'k', dropped: 1_234_567, sources: 412, moreSources: false, examples: [], seconds: 10.2 };
  it('writes counts with separators and the window rounded to seconds', () => {
    expect(summaryText(base, 'bad-ttl')).toBe('1,234,567 adverts dropped for bad-ttl from 412 sources in the last 10 s');
  });
  it('says one source and one advert in the singular', () => {
    expect(summaryText({ ...base, dropped: 1, sources: 1 }, 'auth-mismatch')).toBe('1 advert dropped for auth-mismatch from 1 source in the last 10 s');
  });
});
