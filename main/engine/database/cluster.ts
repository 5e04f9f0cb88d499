import { rmSync } from 'node:fs';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { DatabaseNodeSnapshot, DatabaseReport, DatabaseSnapshot, FailoverRecord, RunEventKind } from '../api/protocol.ts';
import { DATABASE_COMMAND_TYPES, dbCpuMs, type DatabaseConfig, type ReplicationModeName } from '../api/database-config.ts';
import type { Command } from '../api/commands.ts';
import { subsystemLogger } from '../log.ts';
import type { QueryOutcome } from '../servers/web-server.ts';
import { DbNode } from './db-node.ts';
import { WriteLedger } from './ledger.ts';
import { NodeMonitor } from './monitor.ts';
import { nowMs, type DbLinkMessage, type DbRoute } from '../../../workers/shared/wire.ts';
import {
  LINK_STAT_FIELDS,
  LINK_STAT_IN_SYNC_SET,
  LINK_STAT_LAG_MS,
  NODE_STAT_APPLIED,
  NODE_STAT_BUSY_ERRORS,
  NODE_STAT_SEMI_SYNC_FALLEN_BACK,
  NODE_STAT_CPU_BUSY_MS,
  NODE_STAT_EPOCH,
  NODE_STAT_FENCED,
  NODE_STAT_LSN,
  NODE_STAT_READS,
  NODE_STAT_WRITES,
  type DbRole,
  type EpochStart,
  type FollowReply,
  type LsnReply,
  type MissingReply,
} from '../../../workers/db-node/protocol.ts';

const log = subsystemLogger('database');

/** Write ids a failover record lists; the count is exact whatever the length of the list. */
export const RPO_IDS_LISTED = 1000;
/** How long after a promotion the RPO is first checked, so acknowledgements already on their way are in the ledger. */
const RPO_SETTLE_MS = 300;
/** The route is rebuilt at most this often; a read-your-writes replica double-checks its position anyway. */
const ROUTE_REFRESH_MS = 5;

export interface ClusterOptions {
  dataDir: string;
  workerFile: string;
  loader?: string;
  seed: number;
  nativeBinding?: string;
  /** Records a run event. */
  onEvent?: (kind: RunEventKind, message: string, nodeId?: number) => void;
}

export type DatabaseCommand = Extract<Command, { type: (typeof DATABASE_COMMAND_TYPES)[number] }>;

/** The engine's record of one node: its thread, its role, the monitor's view, and its replication link. */
interface NodeEntry {
  id: number;
  file: string;
  role: DbRole;
  state: DatabaseNodeSnapshot['state'];
  handle: DbNode | null;
  /** Written by the primary shipping to this replica. */
  linkStatus: Float64Array;
  delayMs: number;
  linkCut: boolean;
  /** Counters at the last tick, for per-second rates. */
  last: { reads: number; writes: number; applied: number; cpuBusyMs: number };
}

/** A failover record with what the engine needs while it is still open. */
interface OpenFailover {
  record: FailoverRecord;
  /** Every acknowledged write id missing from the new primary (the record lists at most RPO_IDS_LISTED). */
  missing: number[];
  resumeAfterMs: number;
}

/**
 * The data tier of a run: a primary and its replicas, each a thread with its own SQLite file; where
 * web server threads send queries; the heartbeat monitor and failover; and the ledger of writes
 * acknowledged to clients, against which every failover's RPO is counted.
 */
export class DatabaseCluster {
  private readonly nodes = new Map<number, NodeEntry>();
  private readonly ledger = new WriteLedger();
  private readonly monitor: NodeMonitor;
  private readonly failovers: OpenFailover[] = [];
  private readonly history: EpochStart[] = [{ epoch: 1, firstLsn: 1 }];
  private primaryId = 1;
  private epoch = 1;
  private nextNodeId = 1;
  private mode: ReplicationModeName;
  private readYourWrites: boolean;
  private automaticFailover: boolean;
  private writesPaused = false;
  /** When the current primary was crashed by a fault, for the failover timeline. */
  private primaryLostAtMs: number | null = null;
  private cachedRoute: DbRoute | null = null;
  private routeBuiltAtMs = 0;
  /** Serializes operations that take time (failover, switchover, adding and rebuilding replicas). */
  private operations: Promise<void> = Promise.resolve();
  private discardedWrites = 0;
  private discardedAcknowledgedWrites = 0;
  private maxLagLsn = 0;
  private maxLagMs = 0;
  private stopped = false;
  private defaultDelayMs: number;

  constructor(
    private readonly config: DatabaseConfig,
    private readonly options: ClusterOptions,
  ) {
    this.mode = config.replication.mode;
    this.defaultDelayMs = config.replication.delay;
    this.readYourWrites = config.readYourWrites;
    this.automaticFailover = config.failover.automatic;
    this.monitor = new NodeMonitor(config.failover.heartbeatInterval, config.failover.missedHeartbeats, (id) => this.onNodeDown(id));
  }

  /** Starts the primary, then each replica from a snapshot of it; resolves once all follow the primary. */
  async start(): Promise<void> {
    const primary = this.newEntry('primary');
    this.primaryId = primary.id;
    await this.startThread(primary);
    primary.state = 'up';
    for (let i = 0; i < this.config.replicas; i++) await this.addReplica();
    this.monitor.start(() => this.monitoredNodes());
  }

  /** Returns where web server threads send queries now. */
  route(): DbRoute {
    const now = nowMs();
    if (this.cachedRoute && now - this.routeBuiltAtMs < ROUTE_REFRESH_MS) return this.cachedRoute;
    const readers = [...this.nodes.values()].filter((node) => node.role === 'replica' && node.state === 'up');
    this.cachedRoute = {
      primaryNodeId: this.primaryId,
      epoch: this.epoch,
      readNodeIds: readers.map((node) => node.id),
      readNodeLsns: readers.map((node) => node.handle?.counters[NODE_STAT_LSN] ?? 0),
      readYourWrites: this.readYourWrites,
    };
    this.routeBuiltAtMs = now;
    return this.cachedRoute;
  }

  /** Hands a web server thread's link to the node it names; a link to an unknown or dead node is closed. */
  attach(message: DbLinkMessage): void {
    const handle = this.nodes.get(message.nodeId)?.handle;
    if (!handle) {
      message.port.close();
      return;
    }
    handle.attach(message.serverId, message.port);
  }

  /** The log position of the session's last acknowledged write, 0 when it has none. */
  sessionMinLsn(clientId: number): number {
    return this.ledger.sessionMinLsn(clientId);
  }

  /** Records a write that a client received an ok for, by its write id (the request id). */
  acknowledgeWrite(writeId: number, clientId = 0, query?: QueryOutcome): void {
    this.ledger.acknowledge(writeId, clientId, query);
    if (query) this.noteWritesResumed(query);
  }

  /** Records a read that ended ok, to count stale reads. */
  recordRead(query: QueryOutcome): void {
    this.ledger.recordRead(query);
  }

  /** Returns the ids of writes acknowledged to clients, in acknowledgement order. */
  acknowledgedWriteIds(): readonly number[] {
    return this.ledger.ids;
  }

  /** Returns the epoch each acknowledged write was committed at, in the order of acknowledgedWriteIds. */
  acknowledgedWriteEpochs(): readonly number[] {
    return this.ledger.epochs;
  }

  /** The primary's SQLite file. */
  primaryFile(): string {
    return this.nodes.get(this.primaryId)!.file;
  }

  /** Every node's SQLite file by node id, including nodes that are down. */
  nodeFiles(): Map<number, string> {
    return new Map([...this.nodes.values()].map((node) => [node.id, node.file]));
  }

  primaryNodeId(): number {
    return this.primaryId;
  }

  failoverRecords(): FailoverRecord[] {
    return this.failovers.map((open) => open.record);
  }

  /** Applies a data tier command; rejects with a RangeError naming the field when it names no such node. */
  async command(command: DatabaseCommand): Promise<void> {
    switch (command.type) {
      case 'crash-primary':
        return this.crashPrimary();
      case 'stall-primary':
        return this.stallPrimary(command.duration);
      case 'crash-replica':
        return this.crashReplica(command.node);
      case 'restart-db-node': {
        // Checked here as well as when the restart runs, so the caller gets the error, not only the event log.
        const node = this.requireNode(command.node, 'node');
        if (node.handle && node.handle.thread !== 'down') {
          throw new RangeError(`node: database node ${command.node} is running; only a node that is down can be restarted`);
        }
        this.enqueue(() => this.restartNode(command.node));
        return;
      }
      case 'cut-replication':
      case 'restore-replication':
        return this.setLink(this.requireReplica(command.node), { cut: command.type === 'cut-replication' });
      case 'set-replication-delay': {
        const targets = command.node === undefined ? this.replicas() : [this.requireReplica(command.node)];
        for (const node of targets) this.setLink(node, { delayMs: command.delay });
        if (command.node === undefined) this.defaultDelayMs = command.delay;
        this.event('database', `Replication delay set to ${command.delay} ms${command.node === undefined ? '' : ` for replica ${command.node}`}`);
        return;
      }
      case 'set-replication-mode':
        this.mode = command.mode;
        for (const node of this.nodes.values()) node.handle?.post({ type: 'set-mode', mode: command.mode, ackTimeoutMs: this.config.replication.ackTimeout });
        this.event('database', `Replication mode set to ${command.mode}`);
        return;
      case 'set-replicas':
        this.enqueue(() => this.setReplicaCount(command.count));
        return;
      case 'set-read-your-writes':
        this.readYourWrites = command.enabled;
        this.cachedRoute = null;
        this.event('database', `Read-your-writes ${command.enabled ? 'on' : 'off'}`);
        return;
      case 'set-automatic-failover':
        this.automaticFailover = command.enabled;
        this.event('failover', `Automatic failover ${command.enabled ? 'on' : 'off'}`);
        return;
      case 'switchover':
        if (command.node !== undefined) this.requireReplica(command.node);
        this.enqueue(() => this.switchover(command.node));
        return;
      default: {
        const unknown: never = command;
        throw new TypeError(`Unknown database command ${JSON.stringify(unknown)}`);
      }
    }
  }

  snapshot(tickMs: number): DatabaseSnapshot {
    const primary = this.nodes.get(this.primaryId)!;
    const primaryLsn = primary.handle?.counters[NODE_STAT_LSN] ?? 0;
    const nodes = [...this.nodes.values()].map((node) => this.nodeSnapshot(node, tickMs, primaryLsn));
    let fencedWrites = 0;
    let busyErrors = 0;
    for (const node of this.nodes.values()) {
      fencedWrites += node.handle?.counters[NODE_STAT_FENCED] ?? 0;
      busyErrors += node.handle?.counters[NODE_STAT_BUSY_ERRORS] ?? 0;
    }
    const staleReadsPerSec = (this.ledger.tickStaleReads * 1000) / tickMs;
    this.ledger.tickStaleReads = 0;
    return {
      state: primary.state === 'up' ? 'up' : 'down',
      readsPerSec: nodes.reduce((sum, node) => sum + node.readsPerSec, 0),
      writesPerSec: nodes.reduce((sum, node) => sum + node.writesPerSec, 0),
      acknowledgedWrites: this.ledger.size,
      layout: this.config.layout,
      replicationMode: this.mode,
      effectiveReplicationMode: this.mode === 'semi-synchronous' && primary.handle?.counters[NODE_STAT_SEMI_SYNC_FALLEN_BACK] === 1 ? 'asynchronous' : this.mode,
      readYourWrites: this.readYourWrites,
      automaticFailover: this.automaticFailover,
      primaryNodeId: this.primaryId,
      epoch: this.epoch,
      writesAvailable: primary.state === 'up' && !this.writesPaused,
      primaryLsn,
      nodes,
      staleReadsPerSec,
      staleReads: this.ledger.staleReads,
      fencedWrites: this.fencedTotal + fencedWrites,
      busyErrors: this.busyTotal + busyErrors,
      failovers: this.failovers.length,
    };
  }

  report(): DatabaseReport {
    let fencedWrites = this.fencedTotal;
    let busyErrors = this.busyTotal;
    for (const node of this.nodes.values()) {
      fencedWrites += node.handle?.counters[NODE_STAT_FENCED] ?? 0;
      busyErrors += node.handle?.counters[NODE_STAT_BUSY_ERRORS] ?? 0;
    }
    return {
      layout: this.config.layout,
      failovers: this.failoverRecords(),
      acknowledgedWrites: this.ledger.size,
      staleReads: this.ledger.staleReads,
      fencedWrites,
      busyErrors,
      discardedWrites: this.discardedWrites,
      discardedAcknowledgedWrites: this.discardedAcknowledgedWrites,
      maxLagLsn: this.maxLagLsn,
      maxLagMs: this.maxLagMs,
    };
  }

  /** Waits for running operations, checks every failover's RPO once more against the full ledger, and stops every node. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.monitor.stop();
    await this.operations;
    for (const open of this.failovers) await this.checkRpo(open, true);
    for (const node of this.nodes.values()) this.retireCounters(node);
    await Promise.all([...this.nodes.values()].map((node) => node.handle?.terminate()));
  }

  // Faults and live changes.

  /** Counters of threads that ended, so totals survive a node's restart. */
  private fencedTotal = 0;
  private busyTotal = 0;

  private crashPrimary(): void {
    const primary = this.nodes.get(this.primaryId)!;
    if (!primary.handle || primary.handle.thread === 'down') throw new Error(`The primary (node ${primary.id}) is already down`);
    this.primaryLostAtMs = nowMs();
    this.event('fault', `Primary (node ${primary.id}) crashed`, primary.id);
    this.retireCounters(primary);
    void primary.handle.terminate();
  }

  private stallPrimary(durationMs: number): void {
    const primary = this.nodes.get(this.primaryId)!;
    if (!primary.handle || primary.handle.thread === 'down') throw new Error(`The primary (node ${primary.id}) is down`);
    this.event('fault', `Primary (node ${primary.id}) stalls for ${durationMs} ms`, primary.id);
    primary.handle.post({ type: 'stall', durationMs });
  }

  private crashReplica(id: number): void {
    const node = this.requireReplica(id);
    if (!node.handle || node.handle.thread === 'down') throw new Error(`Replica ${id} is already down`);
    this.event('fault', `Replica ${id} crashed`, id);
    this.retireCounters(node);
    void node.handle.terminate();
  }

  private setLink(node: NodeEntry, change: { cut?: boolean; delayMs?: number }): void {
    if (change.cut !== undefined && change.cut !== node.linkCut) {
      this.event('fault', `Replication link to replica ${node.id} ${change.cut ? 'cut' : 'restored'}`, node.id);
    }
    node.linkCut = change.cut ?? node.linkCut;
    node.delayMs = change.delayMs ?? node.delayMs;
    this.nodes.get(this.primaryId)?.handle?.post({ type: 'set-link', replicaId: node.id, delayMs: node.delayMs, cut: node.linkCut });
  }

  private async setReplicaCount(count: number): Promise<void> {
    const replicas = this.replicas().sort((a, b) => a.id - b.id);
    if (count > replicas.length) {
      if (!this.livePrimary()) {
        this.event('database', 'A replica cannot be added while the primary is down');
        return;
      }
      this.event('database', `Adding ${count - replicas.length} replicas, each from a snapshot of the primary`);
      for (let i = replicas.length; i < count; i++) await this.addReplica();
    } else if (count < replicas.length) {
      for (const node of replicas.slice(count).reverse()) {
        this.nodes.get(this.primaryId)?.handle?.post({ type: 'unship', replicaId: node.id });
        this.retireCounters(node);
        await node.handle?.terminate();
        this.nodes.delete(node.id);
        this.cachedRoute = null;
        this.event('database', `Replica ${node.id} removed`, node.id);
      }
    }
  }

  /** Adds a replica: a snapshot of the primary with SQLite's online backup, then catch-up from the log. */
  private async addReplica(): Promise<void> {
    const primary = this.livePrimary();
    if (!primary) {
      this.event('database', 'A replica cannot be added while the primary is down');
      return;
    }
    const node = this.newEntry('replica');
    node.state = 'rebuilding';
    await this.copySnapshot(primary, node);
    await this.startThread(node);
    await this.connectReplica(node);
  }

  /** Starts a node that is down again from its own file; a deposed primary comes back as a replica. */
  private async restartNode(id: number): Promise<void> {
    const node = this.requireNode(id, 'node');
    if (node.handle && node.handle.thread !== 'down') throw new Error(`Node ${id} is running; only a node that is down can be restarted`);
    this.event('database', `Node ${id} restarting from its file`, id);
    const wasPrimary = id === this.primaryId;
    node.role = wasPrimary ? 'primary' : 'replica';
    await this.startThread(node);
    if (wasPrimary) {
      // No replica was promoted while it was down, so it still has every write it acknowledged.
      node.state = 'up';
      this.primaryLostAtMs = null;
      this.cachedRoute = null;
      const open = this.failovers.at(-1);
      if (open && open.record.outcome !== 'promoted' && open.record.writesResumedAtMs === null) open.resumeAfterMs = nowMs();
      this.event('failover', `Primary (node ${id}) is back at epoch ${this.epoch}; writes resume`, id);
      for (const replica of this.replicas()) if (replica.handle?.thread === 'up') await this.connectReplica(replica);
      return;
    }
    if (this.livePrimary()) await this.connectReplica(node);
    else node.state = 'up';
  }

  // Failover and switchover.

  private onNodeDown(id: number): void {
    const node = this.nodes.get(id);
    if (!node || node.state === 'down' || this.stopped) return;
    node.state = 'down';
    this.cachedRoute = null;
    if (id !== this.primaryId) {
      this.event('database', `Replica ${id} declared down after ${this.config.failover.missedHeartbeats} missed heartbeats`, id);
      this.nodes.get(this.primaryId)?.handle?.post({ type: 'unship', replicaId: id });
      return;
    }
    const detectedAtMs = nowMs();
    this.enqueue(() => this.failover(node, detectedAtMs));
  }

  private async failover(lost: NodeEntry, detectedAtMs: number): Promise<void> {
    const failover = this.config.failover;
    const lostAtMs = this.primaryLostAtMs ?? detectedAtMs;
    const open = this.openRecord('failover', lost, lostAtMs);
    open.record.detectedAtMs = this.runMs(detectedAtMs);
    this.event(
      'failover',
      `Primary (node ${lost.id}) declared down after ${failover.missedHeartbeats} missed heartbeats of ${failover.heartbeatInterval} ms`,
      lost.id,
    );
    if (!this.automaticFailover) {
      this.closeWithoutPromotion(open, 'automatic-failover-off', 'Automatic failover is off: writes stay unavailable until the primary is restarted');
      return;
    }
    const deadline = nowMs() + failover.promotionTimeout;
    for (;;) {
      const best = this.mostAdvancedReplica();
      const lagLsn = best ? open.record.lostPrimaryLsn - best.handle!.counters[NODE_STAT_LSN] : Infinity;
      if (best && lagLsn <= failover.maxLagLsn) {
        await this.fence(lost);
        await this.promote(best, open);
        return;
      }
      if (nowMs() >= deadline || this.stopped) {
        const reason = best
          ? `No replica is eligible for promotion: the most advanced, node ${best.id}, is ${lagLsn} log positions behind (maximum ${failover.maxLagLsn}); writes stay unavailable`
          : 'No replica is eligible for promotion: no replica is up; writes stay unavailable';
        this.closeWithoutPromotion(open, 'no-eligible-replica', reason);
        return;
      }
      await sleep(20);
    }
  }

  /**
   * Stops a primary declared down whose thread still runs (missed heartbeats on a loaded host
   * are not a crash). Left running, it would go on taking writes at its old epoch from routes
   * built before the failover. Stopping it is fencing by power-off (STONITH), and a restart
   * brings it back as a replica.
   */
  private async fence(lost: NodeEntry): Promise<void> {
    if (!lost.handle || lost.handle.thread === 'down') return;
    this.event('failover', `Primary (node ${lost.id}) still runs although declared down: stopped before the promotion (fencing)`, lost.id);
    this.retireCounters(lost);
    await lost.handle.terminate();
  }

  /** Planned switchover: pause writes, let the target catch up, fence the old primary, promote, resume. */
  private async switchover(targetId: number | undefined): Promise<void> {
    const primary = this.livePrimary();
    if (!primary) {
      this.event('failover', 'Switchover not possible: the primary is down');
      return;
    }
    const target = targetId === undefined ? this.mostAdvancedReplica() : this.nodes.get(targetId);
    if (!target || target.role !== 'replica' || target.state !== 'up') {
      this.event('failover', `Switchover not possible: ${targetId === undefined ? 'no replica is up' : `replica ${targetId} is not up`}`);
      return;
    }
    const open = this.openRecord('switchover', primary, nowMs());
    this.writesPaused = true;
    this.event('failover', `Switchover from node ${primary.id} to node ${target.id}: writes paused`, primary.id);
    const paused = await primary.handle!.request<LsnReply>({ type: 'pause-writes' });
    open.record.lostPrimaryLsn = paused.lsn;
    open.record.detectedAtMs = open.record.lostAtMs;
    const deadline = nowMs() + this.config.failover.promotionTimeout;
    while (target.handle!.counters[NODE_STAT_LSN] < paused.lsn) {
      if (nowMs() >= deadline || target.state !== 'up') {
        await primary.handle!.request<LsnReply>({ type: 'resume-writes' });
        this.writesPaused = false;
        this.closeWithoutPromotion(open, 'aborted', `Switchover aborted: node ${target.id} did not reach log position ${paused.lsn} in time; writes resume on node ${primary.id}`);
        open.resumeAfterMs = nowMs();
        return;
      }
      await sleep(2);
    }
    // Fence first: once demoted, the old primary rejects every write, whatever epoch it carries.
    await primary.handle!.request<LsnReply>({ type: 'demote', epoch: this.epoch + 1 });
    primary.role = 'replica';
    await this.promote(target, open);
    this.writesPaused = false;
    await this.connectReplica(primary);
  }

  private async promote(node: NodeEntry, open: OpenFailover): Promise<void> {
    const epoch = this.epoch + 1;
    const reply = await node.handle!.request<LsnReply>({ type: 'promote', epoch });
    this.history.push({ epoch, firstLsn: reply.lsn + 1 });
    this.epoch = epoch;
    // The deposed primary comes back, if it does, as a replica of the new one.
    this.nodes.get(this.primaryId)!.role = 'replica';
    this.primaryId = node.id;
    node.role = 'primary';
    this.primaryLostAtMs = null;
    this.cachedRoute = null;
    const record = open.record;
    record.outcome = 'promoted';
    record.toNodeId = node.id;
    record.toEpoch = epoch;
    record.promotedAtLsn = reply.lsn;
    record.promotedAtMs = this.runMs(nowMs());
    open.resumeAfterMs = nowMs();
    this.event('failover', `Node ${node.id} promoted to primary at epoch ${epoch}, log position ${reply.lsn}`, node.id);
    for (const replica of this.replicas()) {
      if (replica.state === 'up' || replica.state === 'starting') await this.connectReplica(replica);
    }
    setTimeout(() => void this.checkRpo(open, false), RPO_SETTLE_MS);
  }

  /**
   * Counts the acknowledged writes missing from the new primary: ledger entries acknowledged at
   * an older epoch that its data lacks, less those an earlier failover already counted.
   */
  private async checkRpo(open: OpenFailover, final: boolean): Promise<void> {
    const record = open.record;
    if (record.outcome !== 'promoted' || record.toNodeId === null || record.toEpoch === null) return;
    const handle = this.nodes.get(record.toNodeId)?.handle;
    if (!handle || handle.thread !== 'up') return;
    const counted = new Set<number>();
    for (const other of this.failovers) if (other !== open && other.record.toEpoch !== null && other.record.toEpoch < record.toEpoch) for (const id of other.missing) counted.add(id);
    const candidates = this.ledger.idsBeforeEpoch(record.toEpoch).filter((id) => !counted.has(id));
    let reply: MissingReply;
    try {
      reply = await handle.request<MissingReply>({ type: 'find-missing', writeIds: Float64Array.from(candidates) });
    } catch (error) {
      log.warn({ err: error, nodeId: record.toNodeId }, 'RPO check failed');
      return;
    }
    const missing = [...reply.missing];
    const previous = record.rpoWrites;
    open.missing = missing;
    record.rpoWrites = missing.length;
    record.rpoWriteIds = missing.slice(0, RPO_IDS_LISTED);
    if (previous === null) {
      this.event('failover', `RPO: ${missing.length} acknowledged writes missing from node ${record.toNodeId} (checked against the clients' ledger)`, record.toNodeId);
    } else if (final && previous !== missing.length) {
      this.event('failover', `RPO revised to ${missing.length} acknowledged writes after late acknowledgements reached the ledger`, record.toNodeId);
    }
  }

  private noteWritesResumed(query: QueryOutcome): void {
    const open = this.failovers.at(-1);
    if (!open || open.record.writesResumedAtMs !== null || query.nodeId !== this.primaryId || query.epoch !== this.epoch) return;
    const now = nowMs();
    if (now < open.resumeAfterMs) return;
    const record = open.record;
    record.writesResumedAtMs = this.runMs(now);
    record.rtoMs = record.writesResumedAtMs - record.lostAtMs;
    this.event('failover', `Writes resumed on node ${this.primaryId}: RTO ${Math.round(record.rtoMs)} ms`, this.primaryId);
  }

  private openRecord(kind: FailoverRecord['kind'], from: NodeEntry, lostAtMs: number): OpenFailover {
    const open: OpenFailover = {
      record: {
        kind,
        outcome: 'aborted',
        fromNodeId: from.id,
        toNodeId: null,
        fromEpoch: this.epoch,
        toEpoch: null,
        replicationMode: this.mode,
        lostAtMs: this.runMs(lostAtMs),
        detectedAtMs: null,
        promotedAtMs: null,
        writesResumedAtMs: null,
        rtoMs: null,
        lostPrimaryLsn: from.handle?.counters[NODE_STAT_LSN] ?? 0,
        promotedAtLsn: null,
        rpoWrites: null,
        rpoWriteIds: [],
      },
      missing: [],
      resumeAfterMs: Infinity,
    };
    this.failovers.push(open);
    return open;
  }

  private closeWithoutPromotion(open: OpenFailover, outcome: FailoverRecord['outcome'], reason: string): void {
    open.record.outcome = outcome;
    open.record.reason = reason;
    this.event('failover', reason, open.record.fromNodeId);
  }

  // Nodes and links.

  private newEntry(role: DbRole): NodeEntry {
    const id = this.nextNodeId++;
    const entry: NodeEntry = {
      id,
      file: path.join(this.options.dataDir, `node-${id}.sqlite`),
      role,
      state: 'starting',
      handle: null,
      linkStatus: new Float64Array(LINK_STAT_FIELDS),
      delayMs: this.defaultDelayMs,
      linkCut: false,
      last: { reads: 0, writes: 0, applied: 0, cpuBusyMs: 0 },
    };
    this.nodes.set(id, entry);
    return entry;
  }

  private async startThread(node: NodeEntry): Promise<void> {
    const cpu = dbCpuMs(this.config);
    const handle = new DbNode({
      nodeId: node.id,
      file: node.file,
      workerFile: this.options.workerFile,
      loader: this.options.loader,
      nativeBinding: this.options.nativeBinding,
      role: node.role,
      epoch: this.epoch,
      layout: this.config.layout,
      seedUsers: this.config.seedUsers,
      seed: this.options.seed,
      vcpus: this.config.vcpus,
      readCpuMs: cpu.read,
      writeCpuMs: cpu.write,
      mode: this.mode,
      ackTimeoutMs: this.config.replication.ackTimeout,
    });
    handle.onNotice = (message) => this.event('database', message, node.id);
    node.handle = handle;
    node.last = { reads: 0, writes: 0, applied: 0, cpuBusyMs: 0 };
    await handle.ready;
  }

  /**
   * Makes a running replica follow the primary. A replica whose log contains writes the primary's
   * history lacks (a deposed primary's unshipped writes) is rebuilt from a snapshot instead, and
   * those writes are counted as discarded.
   */
  private async connectReplica(node: NodeEntry): Promise<void> {
    const primary = this.livePrimary();
    if (!primary || !node.handle || node.handle.thread !== 'up') return;
    const channel = new MessageChannel();
    const status = new SharedArrayBuffer(LINK_STAT_FIELDS * 8);
    node.linkStatus = new Float64Array(status);
    const reply = await node.handle.request<FollowReply>(
      { type: 'follow', port: channel.port2, epoch: this.epoch, history: this.history },
      [channel.port2],
    );
    if (reply.divergentWriteIds.length > 0) {
      channel.port1.close();
      await this.rebuild(node, reply.divergentWriteIds);
      return;
    }
    primary.handle!.post(
      { type: 'ship-to', replicaId: node.id, port: channel.port1, status, delayMs: node.delayMs, cut: node.linkCut },
      [channel.port1],
    );
    node.role = 'replica';
    node.state = 'up';
    this.cachedRoute = null;
  }

  private async rebuild(node: NodeEntry, divergentWriteIds: number[]): Promise<void> {
    const acknowledged = this.ledger.countAcknowledged(divergentWriteIds);
    this.discardedWrites += divergentWriteIds.length;
    this.discardedAcknowledgedWrites += acknowledged;
    this.event(
      'failover',
      `Node ${node.id} held ${divergentWriteIds.length} writes the primary lacks (${acknowledged} acknowledged to clients); they are discarded and the node is rebuilt from a snapshot`,
      node.id,
    );
    node.state = 'rebuilding';
    this.retireCounters(node);
    await node.handle?.terminate();
    const primary = this.livePrimary();
    if (!primary) return;
    await this.copySnapshot(primary, node);
    node.role = 'replica';
    await this.startThread(node);
    await this.connectReplica(node);
  }

  private async copySnapshot(primary: NodeEntry, node: NodeEntry): Promise<void> {
    for (const suffix of ['', '-wal', '-shm']) rmSync(node.file + suffix, { force: true });
    const reply = await primary.handle!.request<LsnReply>({ type: 'snapshot', file: node.file });
    log.info({ nodeId: node.id, fromNodeId: primary.id, lsn: reply.lsn }, 'replica file copied from a snapshot of the primary');
  }

  private nodeSnapshot(node: NodeEntry, tickMs: number, primaryLsn: number): DatabaseNodeSnapshot {
    const counters = node.handle?.counters;
    const alive = node.handle?.thread === 'up';
    const reads = counters?.[NODE_STAT_READS] ?? 0;
    const writes = counters?.[NODE_STAT_WRITES] ?? 0;
    const applied = counters?.[NODE_STAT_APPLIED] ?? 0;
    const cpuBusyMs = counters?.[NODE_STAT_CPU_BUSY_MS] ?? 0;
    const perSecond = 1000 / tickMs;
    const snapshot: DatabaseNodeSnapshot = {
      id: node.id,
      role: node.role,
      state: node.state,
      vcpus: this.config.vcpus,
      utilization: alive ? clamp01((cpuBusyMs - node.last.cpuBusyMs) / (tickMs * this.config.vcpus)) : 0,
      readsPerSec: Math.max(0, reads - node.last.reads) * perSecond,
      writesPerSec: Math.max(0, writes - node.last.writes) * perSecond,
      appliedPerSec: Math.max(0, applied - node.last.applied) * perSecond,
      lsn: counters?.[NODE_STAT_LSN] ?? 0,
      epoch: counters?.[NODE_STAT_EPOCH] ?? 0,
      lagLsn: 0,
      lagMs: 0,
      delayMs: node.delayMs,
      linkCut: node.linkCut,
      inSyncSet: false,
    };
    node.last = { reads, writes, applied, cpuBusyMs };
    if (node.role === 'replica') {
      snapshot.lagLsn = Math.max(0, primaryLsn - snapshot.lsn);
      snapshot.lagMs = snapshot.lagLsn > 0 ? node.linkStatus[LINK_STAT_LAG_MS] : 0;
      snapshot.inSyncSet = this.mode === 'synchronous' && node.linkStatus[LINK_STAT_IN_SYNC_SET] === 1;
      if (node.state === 'up') {
        this.maxLagLsn = Math.max(this.maxLagLsn, snapshot.lagLsn);
        this.maxLagMs = Math.max(this.maxLagMs, snapshot.lagMs);
      }
    }
    return snapshot;
  }

  /** Adds a node's error counters to the run totals before its thread (and its counters) go away. */
  private retireCounters(node: NodeEntry): void {
    const counters = node.handle?.counters;
    if (!counters || node.handle?.thread === 'down') return;
    this.fencedTotal += counters[NODE_STAT_FENCED];
    this.busyTotal += counters[NODE_STAT_BUSY_ERRORS];
    counters[NODE_STAT_FENCED] = 0;
    counters[NODE_STAT_BUSY_ERRORS] = 0;
  }

  private monitoredNodes(): Array<{ id: number; handle: DbNode }> {
    const list: Array<{ id: number; handle: DbNode }> = [];
    for (const node of this.nodes.values()) if (node.state === 'up' && node.handle) list.push({ id: node.id, handle: node.handle });
    return list;
  }

  private mostAdvancedReplica(): NodeEntry | undefined {
    let best: NodeEntry | undefined;
    for (const node of this.replicas()) {
      if (node.state !== 'up' || node.handle?.thread !== 'up') continue;
      if (!best || node.handle.counters[NODE_STAT_LSN] > best.handle!.counters[NODE_STAT_LSN]) best = node;
    }
    return best;
  }

  private livePrimary(): NodeEntry | undefined {
    const primary = this.nodes.get(this.primaryId);
    return primary && primary.state === 'up' && primary.handle?.thread === 'up' ? primary : undefined;
  }

  private replicas(): NodeEntry[] {
    return [...this.nodes.values()].filter((node) => node.id !== this.primaryId);
  }

  private requireNode(id: number, field: string): NodeEntry {
    const node = this.nodes.get(id);
    if (!node) {
      const ids = [...this.nodes.keys()].sort((a, b) => a - b);
      throw new RangeError(`${field}: database node ${id} does not exist (nodes now: ${ids.join(', ') || 'none'})`);
    }
    return node;
  }

  private requireReplica(id: number): NodeEntry {
    const node = this.requireNode(id, 'node');
    if (id === this.primaryId) throw new RangeError(`node: node ${id} is the primary; expected a replica`);
    return node;
  }

  private enqueue(operation: () => Promise<void>): void {
    this.operations = this.operations.then(operation).catch((error: Error) => {
      log.error({ err: error }, 'database operation failed');
      this.event('database', `Database operation failed: ${error.message}`);
    });
  }

  /** Resolves once the operations queued so far (failovers, switchovers, replica changes) have ended. */
  settled(): Promise<void> {
    return this.operations;
  }

  private startMs = nowMs();

  /** Sets the run's start time, which failover timelines count from. */
  setRunStart(startMs: number): void {
    this.startMs = startMs;
  }

  private runMs(atMs: number): number {
    return Math.max(0, atMs - this.startMs);
  }

  private event(kind: RunEventKind, message: string, nodeId?: number): void {
    log.info({ kind, nodeId }, message);
    this.options.onEvent?.(kind, message, nodeId);
  }
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
