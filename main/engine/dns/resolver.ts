import type { DnsTarget } from '../api/scenario.ts';

/** The answer that means "the load balancer" rather than one server. */
export const BALANCER_ANSWER = 0;

/**
 * The clients' DNS. Each client caches the site's answer for the TTL; a lookup on a cold or
 * expired cache costs `lookupMs` before the request can leave the client. The answer is the
 * balancer, one fixed server, or each registered server in turn (DNS round robin). DNS does no
 * health checking: a client keeps using a dead server's address until its TTL runs out.
 * Typed arrays hold the per-client state, so a million clients cost 9 MB and no objects.
 */
export class DnsResolver {
  /** The server id (or BALANCER_ANSWER) of the last call to resolve. */
  answer = BALANCER_ANSWER;
  lookups = 0;

  private readonly expiresAt: Float64Array;
  private readonly answers: Uint8Array;
  private records: number[] = [];
  private cursor = 0;

  constructor(
    clients: number,
    private readonly ttlMs: number,
    private readonly lookupMs: number,
    readonly target: DnsTarget,
  ) {
    this.expiresAt = new Float64Array(clients);
    this.answers = new Uint8Array(clients);
  }

  /** Sets the servers the site's name resolves to (used when the target is not the balancer). */
  setRecords(serverIds: number[]): void {
    this.records = [...serverIds].sort((a, b) => a - b);
  }

  /**
   * Returns the delay a request from `clientId` due at `dueMs` spends on name resolution, and
   * leaves the address the client uses in `answer`.
   */
  resolve(clientId: number, dueMs: number): number {
    if (this.expiresAt[clientId] > dueMs) {
      this.answer = this.answers[clientId];
      return 0;
    }
    this.lookups++;
    this.expiresAt[clientId] = dueMs + this.lookupMs + this.ttlMs;
    this.answer = this.answers[clientId] = this.lookupAnswer();
    return this.lookupMs;
  }

  private lookupAnswer(): number {
    if (this.target === 'balancer' || this.records.length === 0) return BALANCER_ANSWER;
    if (this.target === 'first-server') return this.records[0];
    const answer = this.records[this.cursor % this.records.length];
    this.cursor = (this.cursor + 1) % this.records.length;
    return answer;
  }
}
