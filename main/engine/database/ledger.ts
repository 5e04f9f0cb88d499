import type { QueryOutcome } from '../servers/web-server.ts';

/**
 * The clients' ledger: every write a client received an ok for, with the epoch, node and log
 * position the database reported for it, and each session's (client id's) last acknowledged
 * write. Failover RPO is counted against this ledger, never against what the database says of itself.
 */
export class WriteLedger {
  readonly ids: number[] = [];
  readonly epochs: number[] = [];
  readonly nodeIds: number[] = [];
  readonly lsns: number[] = [];
  private readonly sessionLsn = new Map<number, number>();
  /** Reads that saw an older log position than their session's last acknowledged write. */
  staleReads = 0;
  tickStaleReads = 0;

  get size(): number {
    return this.ids.length;
  }

  acknowledge(writeId: number, clientId: number, query: QueryOutcome | undefined): void {
    this.ids.push(writeId);
    this.epochs.push(query?.epoch ?? 0);
    this.nodeIds.push(query?.nodeId ?? 0);
    this.lsns.push(query?.lsn ?? 0);
    if (query && query.lsn > (this.sessionLsn.get(clientId) ?? 0)) this.sessionLsn.set(clientId, query.lsn);
  }

  /** Counts a read as stale when its node had applied less than the session's last write when the read was sent. */
  recordRead(query: QueryOutcome): void {
    if (query.minLsn > 0 && query.lsn < query.minLsn) {
      this.staleReads++;
      this.tickStaleReads++;
    }
  }

  sessionMinLsn(clientId: number): number {
    return this.sessionLsn.get(clientId) ?? 0;
  }

  /** Returns the ids of writes acknowledged at an epoch below `epoch`. */
  idsBeforeEpoch(epoch: number): number[] {
    const ids: number[] = [];
    for (let i = 0; i < this.ids.length; i++) if (this.epochs[i] < epoch) ids.push(this.ids[i]);
    return ids;
  }

  /** Returns how many of `writeIds` are in the ledger. */
  countAcknowledged(writeIds: readonly number[]): number {
    const wanted = new Set(writeIds);
    let count = 0;
    for (const id of this.ids) if (wanted.has(id)) count++;
    return count;
  }
}
