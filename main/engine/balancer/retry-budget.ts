import type { BalancerConfig } from '../api/balancer-config.ts';
import type { ErrorKind } from '../api/protocol.ts';
import type { Random } from '../random.ts';
import { KIND_API_WRITE } from '../../../workers/shared/wire.ts';

/** Outcomes worth another attempt on another server; "overloaded" is the balancer's own refusal. */
const RETRYABLE: ReadonlySet<ErrorKind> = new Set(['serverDown', 'serverError', 'timeout', 'databaseUnavailable']);

/** Tokens the ratio budget can bank while traffic is quiet, so an idle period cannot fund a storm. */
const MAX_BANKED_RETRIES = 10;

/**
 * Decides whether a failed idempotent request may try again, under two budgets. The concurrency
 * budget caps retries waiting in backoff or in flight at a share of all requests in flight; the
 * ratio budget lets each new request deposit that share of a token and each retry spend one, so
 * over a run attempts stay within (1 + share) times the requests plus a small bank.
 */
export class RetryBudget {
  /** Attempts made, first attempts included. */
  attempts = 0;
  retries = 0;
  /** Retries refused because a budget was spent. */
  refused = 0;
  /** Retries waiting in backoff or in flight now. */
  active = 0;
  private tokens = 0;

  constructor(
    private config: BalancerConfig['retries'],
    private readonly random: Random,
  ) {}

  update(config: BalancerConfig['retries']): void {
    this.config = config;
  }

  /** Counts a request's first attempt, and deposits its share of a retry token. */
  onRequest(): void {
    this.attempts++;
    this.tokens = Math.min(MAX_BANKED_RETRIES, this.tokens + this.config.budgetPercent / 100);
  }

  /**
   * Returns true and reserves a retry if request kind `kind`, which failed with `outcome` on
   * attempt `attempt`, may try again while `inFlight` requests are in flight.
   */
  tryAcquire(kind: number, outcome: ErrorKind, attempt: number, inFlight: number): boolean {
    const config = this.config;
    if (!config.enabled || kind === KIND_API_WRITE || !RETRYABLE.has(outcome) || attempt >= config.maxAttempts) return false;
    const concurrencyLimit = Math.max(config.minRetryConcurrency, (config.budgetPercent / 100) * inFlight);
    if (this.active >= concurrencyLimit || this.tokens < 1) {
      this.refused++;
      return false;
    }
    this.tokens -= 1;
    this.active++;
    this.retries++;
    this.attempts++;
    return true;
  }

  /** Releases a retry's place in the concurrency budget once its attempt has ended. */
  release(): void {
    this.active--;
  }

  /** Returns the backoff before retry number `attempt` (1 for the first retry): exponential with full jitter. */
  backoffMs(attempt: number): number {
    const ceiling = Math.min(this.config.backoffMax, this.config.backoffBase * 2 ** (attempt - 1));
    return this.random.next() * ceiling;
  }
}
