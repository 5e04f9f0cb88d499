import { REQUEST_KINDS, type RequestKind } from '../api/scenario.ts';
import type { Random } from '../random.ts';

/** Picks request kinds by weight. Kinds are numbered in REQUEST_KINDS order, as on the wire. */
export class RequestMix {
  private readonly cumulative: Float64Array;

  constructor(weights: Record<RequestKind, number>) {
    this.cumulative = new Float64Array(REQUEST_KINDS.length);
    let total = 0;
    REQUEST_KINDS.forEach((kind, i) => {
      total += weights[kind];
      this.cumulative[i] = total;
    });
    for (let i = 0; i < this.cumulative.length; i++) this.cumulative[i] /= total;
  }

  pick(random: Random): number {
    const x = random.next();
    for (let i = 0; i < this.cumulative.length - 1; i++) if (x < this.cumulative[i]) return i;
    return this.cumulative.length - 1;
  }
}
