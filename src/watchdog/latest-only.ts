// Reloads run one at a time, and only the newest one waiting runs next: a HUP (or a reload
// message) that comes while one runs is one more run after it, however many came. A storm
// of them costs one load at a time and never falls behind, and what runs last is what was
// asked last.
//
// A run starts on the event loop's next turn rather than inside the call that asks for it:
// signals and IPC messages that queued while the thread was busy (a load on this thread
// holds it) are delivered one callback after another in one turn, and each would otherwise
// start a run of its own before the next is delivered.

export interface LatestOnlyHooks<T> {
  /** Does the job; a rejection is the job's own business (`run` should catch what it reports). */
  run(job: T): Promise<void>;
  /** `dropped` waited and a newer job replaced it before it ran. */
  superseded?(dropped: T, by: T): void;
  /** When the next run starts (tests give a synchronous or manual one). */
  defer?(start: () => void): void;
}

export class LatestOnly<T> {
  private waiting: { job: T } | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly hooks: LatestOnlyHooks<T>) {}

  /** Asks for `job`: it runs after the one running, unless a newer one comes first. */
  offer(job: T): void {
    if (this.waiting) this.hooks.superseded?.(this.waiting.job, job);
    this.waiting = { job };
    if (this.running) return;
    this.running = new Promise<void>((resolve) => (this.hooks.defer ?? setImmediate)(() => void this.drain().then(resolve)));
  }

  /** True from an offer until the last run has finished. */
  get busy(): boolean {
    return this.running !== null;
  }

  /** Resolves once nothing runs or waits (at once when idle). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Drops what waits (a stop): the run under way finishes, nothing after it. */
  clear(): void {
    this.waiting = null;
  }

  private async drain(): Promise<void> {
    while (this.waiting) {
      const { job } = this.waiting;
      this.waiting = null;
      await this.hooks.run(job).catch(() => undefined);
    }
    this.running = null;
  }
}
