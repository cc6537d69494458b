/**
 * When a withdrawn prefix is drained (pure): the upstream has moved the traffic once no
 * packet has reached the prefix's IPVS services for `quietMs`, and not before the `drain`
 * the config asks for. IPVS folds its counters in every 2 s (the estimator), so quiet has
 * to outlast one such period to mean anything. A prefix still fed after `maxExtraMs` more
 * (some path the withdrawal does not cover) is given up on: the stop goes ahead.
 */
export type DrainVerdict = 'draining' | 'drained' | 'gave-up';

export const DRAIN_QUIET_MS = 2500;
export const DRAIN_MAX_EXTRA_MS = 30_000;

export class DrainWatch {
  private lastPackets: bigint | null = null;
  private quietSince: number;

  constructor(
    private readonly startMs: number,
    private readonly minMs: number,
    private readonly quietMs = DRAIN_QUIET_MS,
    private readonly maxExtraMs = DRAIN_MAX_EXTRA_MS,
  ) {
    this.quietSince = startMs;
  }

  /** One reading of the packet counters (null: unreadable, then only `drain` counts). */
  observe(nowMs: number, packets: bigint | null): DrainVerdict {
    const elapsed = nowMs - this.startMs;
    if (packets === null) return elapsed >= this.minMs ? 'drained' : 'draining';
    if (this.lastPackets === null || packets !== this.lastPackets) {
      if (this.lastPackets !== null) this.quietSince = nowMs;
      this.lastPackets = packets;
    }
    if (elapsed >= this.minMs && nowMs - this.quietSince >= this.quietMs) return 'drained';
    return elapsed >= this.minMs + this.maxExtraMs ? 'gave-up' : 'draining';
  }
}
