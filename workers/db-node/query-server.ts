import type Database from 'better-sqlite3';
import type { MessagePort } from 'node:worker_threads';
import type { Layout } from './layouts.ts';
import type { ReplicationLog } from './log.ts';
import type { NodeState } from './node-state.ts';
import {
  NODE_STAT_BEHIND,
  NODE_STAT_BUSY_ERRORS,
  NODE_STAT_FAILED,
  NODE_STAT_FENCED,
  NODE_STAT_READS,
  NODE_STAT_WRITES,
} from './protocol.ts';
import type { Shipper } from './shipper.ts';
import { isBusyError, writeTransaction } from './transactions.ts';
import { userIdForClient } from './schema.ts';
import type { VirtualCpu } from '../web-server/virtual-cpu.ts';
import {
  OP_CODE,
  OP_EPOCH,
  OP_MIN_LSN,
  OP_POST,
  OP_STRIDE,
  OP_USER,
  OP_WRITE_ID,
  QUERY_BEHIND,
  QUERY_BUSY,
  QUERY_FAILED,
  QUERY_FENCED,
  QUERY_OK,
  nowMs,
  type QueryBatch,
  type QueryResults,
} from '../shared/wire.ts';

export interface QueryServerOptions {
  seedUsers: number;
  readCpuMs: number;
  writeCpuMs: number;
}

/** A write whose vCPU time is over, waiting for the next group commit. */
interface PendingWrite {
  replies: ReplyQueue;
  seq: number;
  index: number;
  userId: number;
  writeId: number;
  epoch: number;
}

/**
 * Serves query batches from web server threads. Each query holds one of the node's vCPUs for its
 * modelled CPU time before it runs, so a database can be the bottleneck. Reads then run at once;
 * writes that finish in the same macrotask are committed together in one BEGIN IMMEDIATE
 * transaction (group commit), each with its own log position, and answered once the replication
 * mode allows.
 */
export class QueryServer {
  private pendingWrites: PendingWrite[] = [];
  private commitScheduled = false;
  shipper: Shipper | null = null;

  constructor(
    private readonly state: NodeState,
    private readonly db: Database.Database,
    private readonly log: ReplicationLog,
    private readonly layout: Layout,
    private readonly cpu: VirtualCpu,
    private readonly options: QueryServerOptions,
  ) {}

  attach(port: MessagePort): void {
    const replies = new ReplyQueue(port);
    port.on('message', (batch: QueryBatch) => this.serve(replies, batch));
  }

  /** Commits the writes waiting for a group commit now (before the node changes role). */
  commitPending(): void {
    this.commitScheduled = false;
    const writes = this.pendingWrites;
    this.pendingWrites = [];
    if (writes.length > 0) this.commit(writes);
  }

  private serve(replies: ReplyQueue, batch: QueryBatch): void {
    const ops = batch.ops;
    const count = ops.length / OP_STRIDE;
    const arrivalMs = nowMs();
    for (let i = 0; i < count; i++) {
      const base = i * OP_STRIDE;
      const userId = userIdForClient(ops[base + OP_USER], this.options.seedUsers);
      if (ops[base + OP_CODE] === OP_POST) {
        const epoch = ops[base + OP_EPOCH];
        // A write this node cannot take is rejected before it costs any vCPU time.
        if (!this.state.acceptsWrite(epoch)) {
          this.reject(replies, batch.seq, i);
          continue;
        }
        const write: PendingWrite = { replies, seq: batch.seq, index: i, userId, writeId: ops[base + OP_WRITE_ID], epoch };
        const endMs = this.cpu.schedule(arrivalMs, this.options.writeCpuMs * this.layout.writeUnits(userId));
        this.cpu.at(endMs, () => this.queueWrite(write));
      } else {
        const minLsn = ops[base + OP_MIN_LSN];
        const endMs = this.cpu.schedule(arrivalMs, this.options.readCpuMs);
        this.cpu.at(endMs, () => this.read(replies, batch.seq, i, userId, minLsn));
      }
    }
  }

  private read(replies: ReplyQueue, seq: number, index: number, userId: number, minLsn: number): void {
    const stats = this.state.stats;
    if (this.state.role === 'replica' && this.state.lsn < minLsn) {
      stats[NODE_STAT_BEHIND]++;
      replies.add(seq, index, QUERY_BEHIND, 0, this.state.lsn, this.state.epoch);
      return;
    }
    try {
      const rows = this.layout.readFeed(userId);
      stats[NODE_STAT_READS]++;
      replies.add(seq, index, QUERY_OK, rows, this.state.lsn, this.state.epoch);
    } catch {
      stats[NODE_STAT_FAILED]++;
      replies.add(seq, index, QUERY_FAILED, 0, this.state.lsn, this.state.epoch);
    }
  }

  private reject(replies: ReplyQueue, seq: number, index: number): void {
    this.state.stats[NODE_STAT_FENCED]++;
    replies.add(seq, index, QUERY_FENCED, 0, this.state.lsn, this.state.epoch);
  }

  private queueWrite(write: PendingWrite): void {
    this.pendingWrites.push(write);
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      if (this.commitScheduled) this.commitPending();
    });
  }

  /**
   * Commits a group of writes. The role and epoch are checked again here: a node that was demoted
   * or paused while the writes held its vCPUs must not commit them.
   */
  private commit(writes: PendingWrite[]): void {
    const accepted: PendingWrite[] = [];
    for (const write of writes) {
      if (this.state.acceptsWrite(write.epoch)) accepted.push(write);
      else this.reject(write.replies, write.seq, write.index);
    }
    if (accepted.length === 0) return;
    const stats = this.state.stats;
    const committedMs = nowMs();
    const firstLsn = this.state.lsn + 1;
    try {
      writeTransaction(this.db, () => {
        for (let i = 0; i < accepted.length; i++) {
          const write = accepted[i];
          this.layout.writePost(write.userId, write.writeId, committedMs);
          this.log.record({
            lsn: firstLsn + i,
            epoch: this.state.epoch,
            origin: this.state.nodeId,
            writeId: write.writeId,
            userId: write.userId,
            committedMs,
          });
        }
      });
    } catch (error) {
      const busy = isBusyError(error);
      stats[busy ? NODE_STAT_BUSY_ERRORS : NODE_STAT_FAILED] += accepted.length;
      for (const write of accepted) write.replies.add(write.seq, write.index, busy ? QUERY_BUSY : QUERY_FAILED, 0, 0, this.state.epoch);
      return;
    }
    this.state.lsn = firstLsn + accepted.length - 1;
    stats[NODE_STAT_WRITES] += accepted.length;
    const epoch = this.state.epoch;
    this.shipper?.committed();
    for (let i = 0; i < accepted.length; i++) {
      const write = accepted[i];
      const lsn = firstLsn + i;
      const release = (): void => write.replies.add(write.seq, write.index, QUERY_OK, 1, lsn, epoch);
      if (this.shipper) this.shipper.whenReplicated(lsn, release);
      else release();
    }
  }
}

/** Results for one web server thread's link, sent together once per macrotask. */
class ReplyQueue {
  private values: number[] = [];
  private scheduled = false;

  constructor(private readonly port: MessagePort) {}

  add(seq: number, index: number, status: number, rows: number, lsn: number, epoch: number): void {
    this.values.push(seq, index, status, rows, lsn, epoch);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.values.length === 0) return;
    const results = Float64Array.from(this.values);
    this.values = [];
    const message: QueryResults = { type: 'results', results };
    this.port.postMessage(message, [results.buffer as ArrayBuffer]);
  }
}
