import type { Algorithm } from '../api/commands.ts';
import type { Random } from '../random.ts';
import type { Backend } from './backend.ts';

/** Picks one backend among those available now, or returns null when none is. */
export interface Picker {
  pick(backends: readonly Backend[], clientId: number, nowMs: number): Backend | null;
  /** Called when the set of backends changes. */
  reset(backends: readonly Backend[]): void;
}

export function createPicker(algorithm: Algorithm, random: Random, slowStartMs: () => number): Picker {
  switch (algorithm) {
    case 'round-robin':
      return new RoundRobin();
    case 'weighted-round-robin':
      return new SmoothWeightedRoundRobin(slowStartMs);
    case 'least-connections':
      return new LeastConnections();
    case 'power-of-two':
      return new PowerOfTwoChoices(random);
    case 'consistent-hash':
      return new ConsistentHash();
    default: {
      const unknown: never = algorithm;
      throw new TypeError(`Unknown balancer algorithm ${String(unknown)}`);
    }
  }
}

class RoundRobin implements Picker {
  private cursor = 0;

  pick(backends: readonly Backend[], _clientId: number, nowMs: number): Backend | null {
    const n = backends.length;
    for (let tried = 0; tried < n; tried++) {
      const backend = backends[this.cursor % n];
      this.cursor = (this.cursor + 1) % n;
      if (backend.isAvailable(nowMs)) return backend;
    }
    return null;
  }

  reset(): void {
    this.cursor = 0;
  }
}

/**
 * Smooth weighted round robin, as NGINX does it: every pick adds each backend's weight to its
 * running weight, takes the largest, and subtracts the total from it. Picks interleave in
 * proportion to the weights instead of coming in runs.
 */
class SmoothWeightedRoundRobin implements Picker {
  constructor(private readonly slowStartMs: () => number) {}

  pick(backends: readonly Backend[], _clientId: number, nowMs: number): Backend | null {
    let best: Backend | null = null;
    let total = 0;
    const slowStart = this.slowStartMs();
    for (const backend of backends) {
      if (!backend.isAvailable(nowMs)) continue;
      const weight = backend.weight * backend.slowStartFactor(nowMs, slowStart);
      backend.currentWeight += weight;
      total += weight;
      if (best === null || backend.currentWeight > best.currentWeight) best = backend;
    }
    if (best) best.currentWeight -= total;
    return best;
  }

  reset(backends: readonly Backend[]): void {
    for (const backend of backends) backend.currentWeight = 0;
  }
}

/** The backend with the least load (requests in flight plus recent failures); ties go round robin. */
class LeastConnections implements Picker {
  private cursor = 0;

  pick(backends: readonly Backend[], _clientId: number, nowMs: number): Backend | null {
    const n = backends.length;
    let best: Backend | null = null;
    let bestLoad = Infinity;
    for (let k = 0; k < n; k++) {
      const backend = backends[(this.cursor + k) % n];
      if (!backend.isAvailable(nowMs)) continue;
      const load = backend.load(nowMs);
      if (load < bestLoad) {
        best = backend;
        bestLoad = load;
      }
    }
    this.cursor = n > 0 ? (this.cursor + 1) % n : 0;
    return best;
  }

  reset(): void {
    this.cursor = 0;
  }
}

/** Two random backends, and the less loaded of the two: near least-connections balance at O(1) cost. */
class PowerOfTwoChoices implements Picker {
  constructor(private readonly random: Random) {}

  pick(backends: readonly Backend[], _clientId: number, nowMs: number): Backend | null {
    const first = this.randomAvailable(backends, nowMs, null);
    if (!first) return null;
    const second = this.randomAvailable(backends, nowMs, first);
    if (!second) return first;
    return second.load(nowMs) < first.load(nowMs) ? second : first;
  }

  reset(): void {}

  /** Returns a uniformly chosen available backend other than `except`, probing onwards from a random start. */
  private randomAvailable(backends: readonly Backend[], nowMs: number, except: Backend | null): Backend | null {
    const n = backends.length;
    const start = this.random.int(n);
    for (let k = 0; k < n; k++) {
      const backend = backends[(start + k) % n];
      if (backend !== except && backend.isAvailable(nowMs)) return backend;
    }
    return null;
  }
}

/** Points each backend has on the hash ring; more points spread keys more evenly. */
const RING_POINTS_PER_BACKEND = 160;

/**
 * Consistent hashing on the client id: a client always reaches the same backend while it is
 * available (sticky sessions), and when one leaves only its own clients move, to the next
 * available point clockwise on the ring.
 */
class ConsistentHash implements Picker {
  private points = new Uint32Array(0);
  private owners: Backend[] = [];

  pick(_backends: readonly Backend[], clientId: number, nowMs: number): Backend | null {
    const n = this.points.length;
    if (n === 0) return null;
    let index = lowerBound(this.points, hash32(clientId));
    for (let k = 0; k < n; k++, index++) {
      const owner = this.owners[index % n];
      if (owner.isAvailable(nowMs)) return owner;
    }
    return null;
  }

  reset(backends: readonly Backend[]): void {
    const entries: Array<[number, Backend]> = [];
    for (const backend of backends) {
      for (let p = 0; p < RING_POINTS_PER_BACKEND; p++) entries.push([hash32(backend.id * 1_000_003 + p), backend]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    this.points = Uint32Array.from(entries.map((entry) => entry[0]));
    this.owners = entries.map((entry) => entry[1]);
  }
}

/** A 32-bit integer hash (the finalizer of MurmurHash3), so nearby ids land far apart on the ring. */
export function hash32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function lowerBound(sorted: Uint32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
