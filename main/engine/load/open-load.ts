import type { Random } from '../random.ts';
import type { LoadGenerator } from './load-generator.ts';

/**
 * Open-model arrivals: requests are due at a set rate whether or not earlier ones were answered,
 * so a stalled system keeps receiving load, as it would from real users. Poisson arrivals have
 * exponential gaps; constant arrivals are evenly spaced.
 */
export class OpenLoad implements LoadGenerator {
  readonly model = 'open';
  private nextDueMs: number;

  constructor(
    public rateRps: number,
    private readonly arrival: 'poisson' | 'constant',
    private readonly clients: number,
    private readonly random: Random,
    startMs: number,
  ) {
    this.nextDueMs = startMs + this.gapMs();
  }

  /** Changes the rate from `nowMs` on; Poisson gaps are memoryless, so the next gap is drawn anew. */
  setRate(rateRps: number, nowMs: number): void {
    this.rateRps = rateRps;
    this.nextDueMs = nowMs + this.gapMs();
  }

  /** Calls `emit` for every arrival due up to `nowMs`, in order, each from a random client. */
  pull(nowMs: number, emit: (dueMs: number, clientId: number) => void): void {
    while (this.nextDueMs <= nowMs) {
      const due = this.nextDueMs;
      this.nextDueMs = due + this.gapMs();
      emit(due, this.random.int(this.clients));
    }
  }

  /** Open-model clients do not wait for answers, so an ending request changes nothing. */
  onRequestEnd(): void {}

  /** Returns the due time of the next arrival (Infinity at rate 0). */
  peekDueMs(): number {
    return this.nextDueMs;
  }

  private gapMs(): number {
    if (this.rateRps <= 0) return Infinity;
    const meanMs = 1000 / this.rateRps;
    return this.arrival === 'poisson' ? this.random.exponential(meanMs) : meanMs;
  }
}
