import type { WebServer } from '../servers/web-server.ts';

/** Half-life of the failure penalty least connections adds to a backend's load. */
const FAILURE_PENALTY_HALF_LIFE_MS = 1000;
/**
 * Cap of the failure penalty. A refused pick adds 1, so a dead server's penalty settles near the
 * cap and it still gets a trickle of picks; the cap also bounds how long a server that failed a
 * burst of requests waits, after it recovered, before least connections picks it again (a few
 * half-lives).
 */
const MAX_FAILURE_PENALTY = 20;

/**
 * The balancer's view of one server: what the balancer has learned from health checks, from
 * failed requests and from the operator, which is not always the server's true state.
 */
export class Backend {
  /** Weight for weighted round robin; defaults to the server's vCPUs. */
  weight: number;
  /** Smooth weighted round robin's running weight. */
  currentWeight = 0;

  /** False after `fall` failed health checks in a row, true again after `rise` passed ones. */
  healthy = true;
  consecutiveCheckFailures = 0;
  consecutiveCheckPasses = 0;
  /** When the server last went from responding to not responding, as the engine saw it (for detection times). */
  failingSinceMs: number | null = null;

  /** Passive ejection: consecutive request errors, and until when the backend is ejected. */
  consecutiveErrors = 0;
  ejectedUntilMs = 0;
  ejections = 0;

  /** When the backend (re)joined the rotation, for slow start. */
  joinedAtMs: number;

  private failurePenalty = 0;
  private failurePenaltyAtMs = 0;

  constructor(
    readonly server: WebServer,
    nowMs: number,
  ) {
    this.weight = server.vcpus;
    this.joinedAtMs = nowMs;
  }

  get id(): number {
    return this.server.id;
  }

  isEjected(nowMs: number): boolean {
    return this.ejectedUntilMs > nowMs;
  }

  /** True when the balancer may send this backend new requests. */
  isAvailable(nowMs: number): boolean {
    return this.server.inRotation && this.healthy && this.ejectedUntilMs <= nowMs;
  }

  /**
   * Returns the share of its full weight the backend gets during slow start: it grows linearly
   * from 10 % to 100 % over `slowStartMs` after the backend joined or returned.
   */
  slowStartFactor(nowMs: number, slowStartMs: number): number {
    if (slowStartMs <= 0) return 1;
    const elapsed = nowMs - this.joinedAtMs;
    if (elapsed >= slowStartMs) return 1;
    return 0.1 + (0.9 * Math.max(0, elapsed)) / slowStartMs;
  }

  /**
   * Returns the load least connections compares: requests in flight plus a decaying count of
   * recent failures. A server that refuses connections fails at once and so has nothing in
   * flight; without the penalty it would look idle and attract traffic.
   */
  load(nowMs: number): number {
    return this.server.inFlight + this.decayedPenalty(nowMs);
  }

  recordFailure(nowMs: number): void {
    this.failurePenalty = Math.min(MAX_FAILURE_PENALTY, this.decayedPenalty(nowMs) + 1);
    this.failurePenaltyAtMs = nowMs;
  }

  private decayedPenalty(nowMs: number): number {
    if (this.failurePenalty === 0) return 0;
    return this.failurePenalty * Math.pow(2, -(nowMs - this.failurePenaltyAtMs) / FAILURE_PENALTY_HALF_LIFE_MS);
  }
}
