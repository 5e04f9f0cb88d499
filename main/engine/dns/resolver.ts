/**
 * The clients' DNS: each client caches the site's answer for the TTL. A lookup on a cold or
 * expired cache costs `lookupMs` before the request can leave the client. One Float64Array entry
 * per client keeps a million clients at 8 MB with no object per client.
 */
export class DnsResolver {
  private readonly expiresAt: Float64Array;
  lookups = 0;

  constructor(
    clients: number,
    private readonly ttlMs: number,
    private readonly lookupMs: number,
  ) {
    this.expiresAt = new Float64Array(clients);
  }

  /** Returns the delay a request from `clientId` due at `dueMs` spends on name resolution. */
  resolveDelayMs(clientId: number, dueMs: number): number {
    if (this.expiresAt[clientId] > dueMs) return 0;
    this.lookups++;
    this.expiresAt[clientId] = dueMs + this.lookupMs + this.ttlMs;
    return this.lookupMs;
  }
}
