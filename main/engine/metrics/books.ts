import { emptyErrorCounts, type ErrorCounts, type ErrorKind } from '../api/protocol.ts';
import { LatencyHistogram } from './latency.ts';

/**
 * The run's books: every request is counted once when sent and once when it ends, ok or as one
 * named error, so sent = ok + errors + in flight holds at any moment.
 */
export class Books {
  sent = 0;
  ok = 0;
  readonly errors: ErrorCounts = emptyErrorCounts();
  errorsTotal = 0;

  tickSent = 0;
  tickOk = 0;
  tickErrors: ErrorCounts = emptyErrorCounts();
  readonly tickLatency = new LatencyHistogram();
  readonly runLatency = new LatencyHistogram();

  get inFlight(): number {
    return this.sent - this.ok - this.errorsTotal;
  }

  recordSent(): void {
    this.sent++;
    this.tickSent++;
  }

  recordOk(latencyMs: number): void {
    this.ok++;
    this.tickOk++;
    this.tickLatency.record(latencyMs);
  }

  recordError(kind: ErrorKind): void {
    this.errors[kind]++;
    this.errorsTotal++;
    this.tickErrors[kind]++;
  }

  /** Closes the tick: folds its latencies into the run's histogram and clears the tick counters. */
  closeTick(): void {
    this.runLatency.merge(this.tickLatency);
    this.tickLatency.reset();
    this.tickSent = 0;
    this.tickOk = 0;
    this.tickErrors = emptyErrorCounts();
  }
}
