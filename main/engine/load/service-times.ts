import { REQUEST_KINDS, type RequestKind, type ServiceTime } from '../api/scenario.ts';
import type { Random } from '../random.ts';

const CONSTANT = 0;
const EXPONENTIAL = 1;
const LOGNORMAL = 2;
const DISTRIBUTION_CODES: Record<ServiceTime['distribution'], number> = { constant: CONSTANT, exponential: EXPONENTIAL, lognormal: LOGNORMAL };

/**
 * Draws each request's CPU time from its kind's distribution. Kinds are numbered in
 * REQUEST_KINDS order, as on the wire. Parameters live in typed arrays and the draws use the
 * run's seeded generator, so the per-request path allocates nothing and a seed replays exactly.
 */
export class ServiceTimes {
  private readonly codes: Uint8Array;
  private readonly meansMs: Float64Array;
  /** Mean of the underlying normal distribution, for lognormal kinds: ln(mean) - sigma^2 / 2. */
  private readonly mus: Float64Array;
  private readonly sigmas: Float64Array;

  constructor(byKind: Record<RequestKind, ServiceTime>) {
    const count = REQUEST_KINDS.length;
    this.codes = new Uint8Array(count);
    this.meansMs = new Float64Array(count);
    this.mus = new Float64Array(count);
    this.sigmas = new Float64Array(count);
    REQUEST_KINDS.forEach((kind, i) => {
      const time = byKind[kind];
      this.meansMs[i] = time.meanMs;
      this.sigmas[i] = time.sigma;
      this.mus[i] = Math.log(time.meanMs) - (time.sigma * time.sigma) / 2;
      this.codes[i] = DISTRIBUTION_CODES[time.distribution];
    });
  }

  /** Returns the mean CPU time of kind number `kind`, in milliseconds. */
  meanMs(kind: number): number {
    return this.meansMs[kind];
  }

  /** Draws the CPU time in milliseconds of one request of kind number `kind`. */
  draw(kind: number, random: Random): number {
    switch (this.codes[kind]) {
      case EXPONENTIAL:
        return random.exponential(this.meansMs[kind]);
      case LOGNORMAL:
        // A mean of 0 gives mu = -Infinity, and the draw is exactly 0.
        return Math.exp(this.mus[kind] + this.sigmas[kind] * random.normal());
      default:
        return this.meansMs[kind];
    }
  }
}
