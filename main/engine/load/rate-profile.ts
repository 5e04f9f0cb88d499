/** A rate change over time, with absolute times: `atMs` is epoch milliseconds like the engine's clock. */
export interface RatePoint {
  atMs: number;
  rateRps: number;
  transition: 'ramp' | 'step';
}

/**
 * A request rate that is piecewise linear in time: constant stretches, ramps and steps. Arrivals
 * are placed by inverting the cumulative rate: the next arrival falls where the expected number
 * of requests since the last one reaches a drawn amount. An exponential amount with mean 1 gives
 * a Poisson process with this rate, and an amount of exactly 1 spaces arrivals evenly.
 * Times only move forward, so a cursor keeps each lookup at O(1) amortized, with no allocation.
 */
export class RateProfile {
  /** Start of each segment, epoch milliseconds; the last segment runs forever. */
  private readonly startsMs: Float64Array;
  /** Rate at each segment's start, in requests per millisecond. */
  private readonly ratesPerMs: Float64Array;
  /** Change of the rate per millisecond within each segment. */
  private readonly slopes: Float64Array;
  private cursor = 0;

  /** Builds the profile that starts at `startMs` at `startRateRps` and passes through `points` in order. */
  constructor(startMs: number, startRateRps: number, points: readonly RatePoint[] = []) {
    const starts: number[] = [];
    const rates: number[] = [];
    const slopes: number[] = [];
    let previousMs = startMs;
    let previousRate = startRateRps / 1000;
    for (const point of points) {
      const rate = point.rateRps / 1000;
      const lengthMs = point.atMs - previousMs;
      if (lengthMs > 0) {
        starts.push(previousMs);
        rates.push(previousRate);
        slopes.push(point.transition === 'ramp' ? (rate - previousRate) / lengthMs : 0);
        previousMs = point.atMs;
      }
      previousRate = rate;
    }
    starts.push(previousMs);
    rates.push(previousRate);
    slopes.push(0);
    this.startsMs = Float64Array.from(starts);
    this.ratesPerMs = Float64Array.from(rates);
    this.slopes = Float64Array.from(slopes);
  }

  /** Returns the rate at `atMs` in requests per second (the start rate before the profile begins). */
  rateRpsAt(atMs: number): number {
    let i = 0;
    while (i + 1 < this.startsMs.length && this.startsMs[i + 1] <= atMs) i++;
    const offsetMs = Math.max(0, atMs - this.startsMs[i]);
    return (this.ratesPerMs[i] + this.slopes[i] * offsetMs) * 1000;
  }

  /**
   * Returns the time after `fromMs` by which `amount` requests are expected, or Infinity when
   * the rate stays at 0. Calls must not go back in time past an earlier call's result.
   */
  advance(fromMs: number, amount: number): number {
    const last = this.startsMs.length - 1;
    let i = this.cursor;
    while (i < last && this.startsMs[i + 1] <= fromMs) i++;
    let t = Math.max(fromMs, this.startsMs[i]);
    let remaining = amount;
    for (;;) {
      const slope = this.slopes[i];
      const rate = this.ratesPerMs[i] + slope * (t - this.startsMs[i]);
      const endMs = i < last ? this.startsMs[i + 1] : Infinity;
      let area: number;
      if (endMs === Infinity) {
        area = rate > 0 ? Infinity : 0;
      } else {
        const endRate = this.ratesPerMs[i] + slope * (endMs - this.startsMs[i]);
        area = ((rate + endRate) / 2) * (endMs - t);
      }
      if (area > 0 && area >= remaining) {
        this.cursor = i;
        // Solve rate * x + slope / 2 * x^2 = remaining for the smallest x >= 0, in the form that
        // stays exact when the slope is 0 or tiny.
        const root = Math.sqrt(Math.max(0, rate * rate + 2 * slope * remaining));
        const x = slope === 0 ? remaining / rate : (2 * remaining) / (rate + root);
        return Math.min(t + x, endMs);
      }
      if (endMs === Infinity) {
        this.cursor = i;
        return Infinity;
      }
      remaining -= area;
      t = endMs;
      i++;
    }
  }
}
