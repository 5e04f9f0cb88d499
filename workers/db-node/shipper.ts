import type Database from 'better-sqlite3';
import type { MessagePort } from 'node:worker_threads';
import type { ReplicationLog } from './log.ts';
import type { NodeState } from './node-state.ts';
import {
  LINK_STAT_ACKED_LSN,
  LINK_STAT_IN_SYNC_SET,
  LINK_STAT_LAG_MS,
  LINK_STAT_SENT_LSN,
  LOG_LSN,
  LOG_STRIDE,
  NODE_STAT_SEMI_SYNC_FALLEN_BACK,
  type ReplicationMessage,
  type ReplicationMode,
} from './protocol.ts';
import { nowMs } from '../shared/wire.ts';

/** Entries per shipment; a replica far behind catches up in several shipments. */
const SHIPMENT_ENTRIES = 1000;
/** Shipments per link and pass, so a long catch-up is split across passes instead of blocking the thread. */
const SHIPMENTS_PER_PASS = 8;
/** How often the primary ships backlogs and refreshes each link's lag. */
const PASS_INTERVAL_MS = 25;

/** A write waiting for the replica acknowledgements its replication mode needs. */
interface Waiter {
  lsn: number;
  deadlineMs: number;
  release: () => void;
}

/** The primary's end of one replication link. */
class ReplicaLink {
  /** The last position put on the wire; -1 until the replica reported its applied position. */
  sentLsn = -1;
  ackedLsn = 0;
  /** Raised when entries in transit must be dropped (link cut, resend after a gap). */
  generation = 0;
  /** When the last shipment arrives; later shipments never overtake it. */
  lastArrivalMs = 0;
  /** In synchronous mode, whether writes wait for this replica. */
  inSyncSet = false;
  /**
   * A replica outside the synchronous set joins once it has acknowledged this position: the
   * primary's position when the replica connected or left the set. Under steady writes a replica
   * is never fully caught up, so "caught up" cannot be the rule.
   */
  joinLsn = Infinity;
  closed = false;

  constructor(
    readonly replicaId: number,
    readonly port: MessagePort,
    readonly status: Float64Array,
    public delayMs: number,
    public cut: boolean,
  ) {}
}

/**
 * The primary's log shipping: it sends committed log entries to every replica in order, after the
 * link's one-way delay, and delays each write's acknowledgement until its replication mode is met.
 * Asynchronous: at once. Semi-synchronous: once one replica has applied it, or after the ack
 * timeout, when the primary falls back to asynchronous until a replica catches up. Synchronous:
 * once every replica in the synchronous set has applied it; a replica that misses the ack timeout
 * leaves the set, so one slow replica cannot stop all writes.
 */
export class Shipper {
  private readonly links = new Map<number, ReplicaLink>();
  private waiters: Waiter[] = [];
  private waiterTimer: NodeJS.Timeout | undefined;
  private readonly passTimer: NodeJS.Timeout;
  private semiSyncFallenBack = false;
  /**
   * The primary's log position when semi-synchronous replication last fell back. The first replica
   * to acknowledge it brings semi-synchronous replication back. Under steady writes a replica
   * behind a link delay is never fully caught up, so "caught up" cannot be the rule.
   */
  private semiSyncResumeLsn = 0;
  private aloneNoticed = false;
  private readonly committedAt: Database.Statement;

  constructor(
    private readonly state: NodeState,
    private readonly log: ReplicationLog,
    db: Database.Database,
    private mode: ReplicationMode,
    private ackTimeoutMs: number,
  ) {
    this.committedAt = db.prepare('SELECT committed_ms FROM replication_log WHERE lsn = ?').pluck();
    this.passTimer = setInterval(() => this.pass(), PASS_INTERVAL_MS);
  }

  add(replicaId: number, port: MessagePort, status: SharedArrayBuffer, delayMs: number, cut: boolean): void {
    this.remove(replicaId);
    const link = new ReplicaLink(replicaId, port, new Float64Array(status), delayMs, cut);
    this.links.set(replicaId, link);
    port.on('message', (message: ReplicationMessage) => this.onMessage(link, message));
    port.on('close', () => this.dropLink(link));
  }

  remove(replicaId: number): void {
    const link = this.links.get(replicaId);
    if (!link) return;
    this.dropLink(link);
    link.port.close();
  }

  setLink(replicaId: number, delayMs: number, cut: boolean): void {
    const link = this.links.get(replicaId);
    if (!link) return;
    link.delayMs = delayMs;
    if (cut && !link.cut) {
      // Entries in transit on a cut link never arrive; after the link returns, shipping restarts
      // from what the replica acknowledged.
      link.generation++;
      link.sentLsn = link.ackedLsn;
      link.lastArrivalMs = 0;
    }
    link.cut = cut;
    this.ship(link);
  }

  setMode(mode: ReplicationMode, ackTimeoutMs: number): void {
    // Switching to synchronous puts every connected replica in the set at once, so writes from
    // now on wait for all of them. A replica that cannot keep up leaves the set at the ack timeout.
    if (mode === 'synchronous' && this.mode !== 'synchronous') {
      for (const link of this.links.values()) {
        if (link.sentLsn < 0) continue;
        link.inSyncSet = true;
        link.status[LINK_STAT_IN_SYNC_SET] = 1;
      }
    }
    this.mode = mode;
    this.ackTimeoutMs = ackTimeoutMs;
    this.semiSyncFallenBack = false;
    this.aloneNoticed = false;
    this.checkWaiters();
  }

  /** Ships new entries after a commit of positions up to `lsn`. */
  committed(): void {
    for (const link of this.links.values()) this.ship(link);
  }

  /** Calls `release` once the write at `lsn` may be acknowledged to its client. */
  whenReplicated(lsn: number, release: () => void): void {
    if (this.mode === 'asynchronous' || this.isReplicated(lsn)) {
      release();
      return;
    }
    this.waiters.push({ lsn, deadlineMs: nowMs() + this.ackTimeoutMs, release });
    this.armWaiterTimer();
  }

  /** Closes every link and releases waiting writes (the node stops being primary). */
  close(): void {
    clearInterval(this.passTimer);
    clearTimeout(this.waiterTimer);
    for (const link of [...this.links.values()]) this.remove(link.replicaId);
    for (const waiter of this.waiters.splice(0)) waiter.release();
  }

  private onMessage(link: ReplicaLink, message: ReplicationMessage): void {
    if (link.closed) return;
    if (message.type === 'hello') {
      // The replica starts following or found a gap: resend from what it has applied.
      link.generation++;
      link.lastArrivalMs = 0;
      link.sentLsn = message.appliedLsn;
      if (!link.inSyncSet) link.joinLsn = Math.min(link.joinLsn, this.state.lsn);
      this.onAck(link, message.appliedLsn);
      this.ship(link);
    } else if (message.type === 'ack') {
      this.onAck(link, message.appliedLsn);
    }
  }

  private onAck(link: ReplicaLink, appliedLsn: number): void {
    link.ackedLsn = Math.max(link.ackedLsn, appliedLsn);
    link.status[LINK_STAT_ACKED_LSN] = link.ackedLsn;
    if (this.mode === 'synchronous' && !link.inSyncSet && link.ackedLsn >= link.joinLsn) {
      link.inSyncSet = true;
      link.joinLsn = Infinity;
      link.status[LINK_STAT_IN_SYNC_SET] = 1;
      this.aloneNoticed = false;
      this.state.notice(`Replica ${link.replicaId} joined the synchronous set at log position ${link.ackedLsn}`);
    }
    if (this.mode === 'semi-synchronous' && this.semiSyncFallenBack && link.ackedLsn >= this.semiSyncResumeLsn) {
      this.semiSyncFallenBack = false;
      this.state.stats[NODE_STAT_SEMI_SYNC_FALLEN_BACK] = 0;
      this.state.notice(
        `Semi-synchronous replication resumed: replica ${link.replicaId} acknowledged log position ${link.ackedLsn} (the primary was at ${this.semiSyncResumeLsn} when it fell back)`,
      );
    }
    this.checkWaiters();
  }

  private dropLink(link: ReplicaLink): void {
    if (link.closed) return;
    link.closed = true;
    link.generation++;
    this.links.delete(link.replicaId);
    this.checkWaiters();
  }

  private ship(link: ReplicaLink): void {
    if (link.closed || link.cut || link.sentLsn < 0) return;
    for (let pass = 0; pass < SHIPMENTS_PER_PASS && link.sentLsn < this.state.lsn; pass++) {
      const entries = this.log.entriesAfter(link.sentLsn, SHIPMENT_ENTRIES);
      const count = entries.length / LOG_STRIDE;
      if (count === 0) return;
      link.sentLsn = entries[(count - 1) * LOG_STRIDE + LOG_LSN];
      link.status[LINK_STAT_SENT_LSN] = link.sentLsn;
      this.send(link, { type: 'log', epoch: this.state.epoch, entries });
    }
  }

  private send(link: ReplicaLink, message: Extract<ReplicationMessage, { type: 'log' }>): void {
    const now = nowMs();
    const arrivalMs = Math.max(now + link.delayMs, link.lastArrivalMs);
    link.lastArrivalMs = arrivalMs;
    if (arrivalMs <= now) {
      link.port.postMessage(message, [message.entries.buffer as ArrayBuffer]);
      return;
    }
    // Entries wait here for the link's delay, so a primary that crashes loses the ones in transit.
    const generation = link.generation;
    setTimeout(() => {
      if (link.closed || link.generation !== generation) return;
      link.port.postMessage(message, [message.entries.buffer as ArrayBuffer]);
    }, arrivalMs - now);
  }

  /** Ships backlogs, refreshes each link's lag, and expires waiters whose ack timeout passed. */
  private pass(): void {
    const now = nowMs();
    for (const link of this.links.values()) {
      this.ship(link);
      let lagMs = 0;
      if (link.ackedLsn < this.state.lsn) {
        const committedMs = this.committedAt.get(link.ackedLsn + 1) as number | undefined;
        lagMs = committedMs === undefined ? 0 : Math.max(0, now - committedMs);
      }
      link.status[LINK_STAT_LAG_MS] = lagMs;
      link.status[LINK_STAT_IN_SYNC_SET] = link.inSyncSet ? 1 : 0;
    }
    this.checkWaiters();
  }

  private isReplicated(lsn: number): boolean {
    if (this.mode === 'asynchronous') return true;
    if (this.mode === 'semi-synchronous') {
      if (this.semiSyncFallenBack) return true;
      for (const link of this.links.values()) if (link.ackedLsn >= lsn) return true;
      return false;
    }
    let members = 0;
    for (const link of this.links.values()) {
      if (!link.inSyncSet) continue;
      members++;
      if (link.ackedLsn < lsn) return false;
    }
    if (members === 0 && !this.aloneNoticed) {
      this.aloneNoticed = true;
      this.state.notice('Synchronous replication has no replica in the synchronous set: writes are acknowledged by the primary alone');
    }
    return true;
  }

  private checkWaiters(): void {
    if (this.waiters.length === 0) return;
    const now = nowMs();
    let released = 0;
    while (released < this.waiters.length) {
      const waiter = this.waiters[released];
      if (!this.isReplicated(waiter.lsn)) {
        if (waiter.deadlineMs > now) break;
        this.onAckTimeout(waiter.lsn);
        if (!this.isReplicated(waiter.lsn)) break;
      }
      waiter.release();
      released++;
    }
    if (released > 0) this.waiters.splice(0, released);
    this.armWaiterTimer();
  }

  private onAckTimeout(lsn: number): void {
    if (this.mode === 'semi-synchronous') {
      this.semiSyncFallenBack = true;
      this.state.stats[NODE_STAT_SEMI_SYNC_FALLEN_BACK] = 1;
      this.semiSyncResumeLsn = this.state.lsn;
      this.state.notice(
        `Semi-synchronous replication fell back to asynchronous: no replica acknowledged log position ${lsn} within ${this.ackTimeoutMs} ms`,
      );
      return;
    }
    for (const link of this.links.values()) {
      if (link.inSyncSet && link.ackedLsn < lsn) {
        link.inSyncSet = false;
        link.joinLsn = this.state.lsn;
        link.status[LINK_STAT_IN_SYNC_SET] = 0;
        this.state.notice(
          `Replica ${link.replicaId} left the synchronous set: it did not acknowledge log position ${lsn} within ${this.ackTimeoutMs} ms`,
        );
      }
    }
  }

  private armWaiterTimer(): void {
    clearTimeout(this.waiterTimer);
    this.waiterTimer = undefined;
    if (this.waiters.length === 0) return;
    const delay = Math.max(0, this.waiters[0].deadlineMs - nowMs());
    this.waiterTimer = setTimeout(() => this.checkWaiters(), delay + 1);
  }
}
