// The parent's own stalls, kept apart from its children's silence. The supervisor learns
// that a child is alive from heartbeats it reads on its event loop; when that loop is held
// (a synchronous burst, a swapping host) the heartbeats wait unread in the channel and the
// next watch tick, which runs before they are read, would see a silent child and kill a
// healthy one. Each tick measures how late it ran; the lateness is a stall of the parent,
// and a child is charged only the silence the parent was there to hear. Pure.

export interface StallLedger {
  /** When the watch last ran. */
  lastTickAt: number;
  /** The parent's stalls so far: the sum of every tick's lateness. */
  stalledMs: number;
}

/** A moment as the ledger saw it: when something was heard from a child. */
export interface Heard {
  at: number;
  /** The ledger's stalledMs then. */
  stalledMs: number;
}

export function openLedger(now: number): StallLedger {
  return { lastTickAt: now, stalledMs: 0 };
}

/** The watch ran at `now`, due `tickMs` after the previous run. */
export function recordTick(l: StallLedger, now: number, tickMs: number): StallLedger {
  const late = now - l.lastTickAt - tickMs;
  return { lastTickAt: now, stalledMs: l.stalledMs + Math.max(0, late) };
}

export function heardNow(l: StallLedger, now: number): Heard {
  return { at: now, stalledMs: l.stalledMs };
}

/** Silence since `h` the parent can vouch for: the wall time less its own stalls since. */
export function chargeableSilence(l: StallLedger, now: number, h: Heard): number {
  return Math.max(0, now - h.at - (l.stalledMs - h.stalledMs));
}
