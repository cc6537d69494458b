// What the VRRP child logs about the adverts it refuses, in bounded lines and memory
// whatever arrives. Every refusal is counted (stats dump, /metrics); the log gets, per kind
// of refusal (a reason, plus the fixed text that tells two causes of one reason apart):
//   - the first one of an episode in full (source, instance, interface), at once, so one
//     misconfigured peer is diagnosable from a single line;
//   - then one summary per window while it goes on: "1,234,567 adverts dropped for bad-ttl
//     from more than 1,000 sources in the last 10 s".
// An episode ends with a window without any refusal of that kind. Sources are counted
// exactly up to a cap, which bounds the memory of a flood of forged source addresses.
// Pure: the caller passes the clock's readings and calls rollover() once per window.

/** Length of a summary window. */
export const REJECT_LOG_WINDOW_MS = 10_000;
/** Distinct sources counted per kind and window; beyond, the summary says "more than". */
export const SOURCES_COUNTED = 1_000;
/** Source addresses a summary names as examples. */
const EXAMPLES = 3;

export interface RejectionSummary {
  /** The key given to record(). */
  key: string;
  dropped: number;
  /** Distinct sources, at most SOURCES_COUNTED (then `moreSources`). */
  sources: number;
  moreSources: boolean;
  /** The first few distinct sources of the window. */
  examples: string[];
  /** The window's length, seconds. */
  seconds: number;
}

interface Tally {
  dropped: number;
  /** Refusals of this window already logged in full (0 or 1). */
  loggedInFull: number;
  sources: Set<string>;
  moreSources: boolean;
}

export class RejectionLog {
  private readonly tallies = new Map<string, Tally>();
  private windowStart = 0;

  /** Whether any kind is in an episode (the caller keeps its window timer running while so). */
  get active(): boolean {
    return this.tallies.size > 0;
  }

  /**
   * Counts one refusal of kind `key` from `source`; true when it starts an episode and is to
   * be logged in full now. The first refusal after a quiet spell opens a window at `now`.
   */
  record(key: string, source: string, now: number): boolean {
    if (this.tallies.size === 0) this.windowStart = now;
    let t = this.tallies.get(key);
    const first = t === undefined;
    if (!t) {
      t = { dropped: 0, loggedInFull: 0, sources: new Set(), moreSources: false };
      this.tallies.set(key, t);
    }
    t.dropped++;
    // once the count is capped, a new source only confirms "more than": no lookup
    if (!t.moreSources && !t.sources.has(source)) {
      if (t.sources.size < SOURCES_COUNTED) t.sources.add(source);
      else t.moreSources = true;
    }
    if (first) t.loggedInFull = 1;
    return first;
  }

  /**
   * Ends the window at `now`: a summary for each kind with refusals not yet logged, and the
   * end of the episode of each kind that had none.
   */
  rollover(now: number): RejectionSummary[] {
    const seconds = Math.max(0, now - this.windowStart) / 1000;
    this.windowStart = now;
    const out: RejectionSummary[] = [];
    for (const [key, t] of this.tallies) {
      if (t.dropped === 0) {
        this.tallies.delete(key);
        continue;
      }
      if (t.dropped > t.loggedInFull) {
        const examples = [...t.sources].slice(0, EXAMPLES);
        out.push({ key, dropped: t.dropped, sources: t.sources.size, moreSources: t.moreSources, examples, seconds });
      }
      t.dropped = 0;
      t.loggedInFull = 0;
      t.sources.clear();
      t.moreSources = false;
    }
    return out;
  }
}

const count = (n: number) => n.toLocaleString('en-US');

/** "1,234,567 adverts dropped for bad-ttl from more than 1,000 sources in the last 10 s". */
export function summaryText(s: RejectionSummary, what: string): string {
  const adverts = s.dropped === 1 ? 'advert' : 'adverts';
  const sources = s.moreSources ? `more than ${count(s.sources)} sources` : `${count(s.sources)} ${s.sources === 1 ? 'source' : 'sources'}`;
  return `${count(s.dropped)} ${adverts} dropped for ${what} from ${sources} in the last ${Math.round(s.seconds)} s`;
}
