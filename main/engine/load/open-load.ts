import type { Random } from '../random.ts';
import type { LoadGenerator } from './load-generator.ts';
import { RateProfile, type RatePoint } from './rate-profile.ts';

/**
 * Open-model arrivals: requests are due at a set rate whether or not earlier ones got a response,
 * so a stalled system keeps receiving load, as it would from real users. The rate follows a
 * profile of steps and ramps over time. Poisson arrivals have exponential gaps in the expected
 * request count; constant arrivals are evenly spaced in it.
 */
export class OpenLoad implements LoadGenerator {
  readonly model = 'open';
  readonly users = null;
  private profile: RateProfile;
  private nextDueMs: number;
  private lastPullMs: number;

  constructor(
    rateRps: number,
    private readonly arrival: 'poisson' | 'constant',
    private readonly clients: number,
    private readonly random: Random,
    startMs: number,
    points: readonly RatePoint[] = [],
  ) {
    this.profile = new RateProfile(startMs, rateRps, points);
    this.lastPullMs = startMs;
    this.nextDueMs = this.profile.advance(startMs, this.gapAmount());
  }

  /** The rate the profile sets at the last pull, in requests per second. */
  get rateRps(): number {
    return this.profile.rateRpsAt(this.lastPullMs);
  }

  /**
   * Sets a constant rate from `nowMs` on and ends any profile, because a live change takes over
   * from the scenario's plan. Poisson gaps are memoryless, so the next gap is drawn anew.
   */
  setRate(rateRps: number, nowMs: number): void {
    this.profile = new RateProfile(nowMs, rateRps);
    this.lastPullMs = nowMs;
    this.nextDueMs = this.profile.advance(nowMs, this.gapAmount());
  }

  setUsers(): void {
    throw new RangeError('users: this run uses the open load model, which has a rate, not users; use set-load to change its rate');
  }

  /** Calls `emit` for every arrival due up to `nowMs`, in order, each from a random client. */
  pull(nowMs: number, emit: (dueMs: number, clientId: number) => void): void {
    this.lastPullMs = nowMs;
    while (this.nextDueMs <= nowMs) {
      const due = this.nextDueMs;
      this.nextDueMs = this.profile.advance(due, this.gapAmount());
      emit(due, this.random.int(this.clients));
    }
  }

  /** Open-model clients do not wait for responses, so an ending request changes nothing. */
  onRequestEnd(): void {}

  /** Returns the due time of the next arrival (Infinity while the rate stays at 0). */
  peekDueMs(): number {
    return this.nextDueMs;
  }

  /** Expected requests between two arrivals: exponential with mean 1 for Poisson, exactly 1 for constant. */
  private gapAmount(): number {
    return this.arrival === 'poisson' ? this.random.exponential(1) : 1;
  }
}
