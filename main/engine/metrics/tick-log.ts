import type { TickSnapshot } from '../api/protocol.ts';

/** Ticks kept in full; four per second, so one hour of a run. */
const MAX_TICKS = 14_400;

/**
 * The ticks a run keeps for its report, bounded in memory: once full, every other tick is
 * dropped and only every second new one is kept, so a long run keeps an evenly thinned history.
 * The books in each kept tick are cumulative, so thinning loses no request.
 */
export class TickLog {
  private ticks: TickSnapshot[] = [];
  private keepEvery = 1;
  private seen = 0;

  push(tick: TickSnapshot): void {
    if (this.seen++ % this.keepEvery !== 0) return;
    this.ticks.push(tick);
    if (this.ticks.length >= MAX_TICKS) {
      this.ticks = this.ticks.filter((_, i) => i % 2 === 0);
      this.keepEvery *= 2;
    }
  }

  all(): TickSnapshot[] {
    return this.ticks;
  }
}
