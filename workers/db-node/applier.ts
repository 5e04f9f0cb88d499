import type Database from 'better-sqlite3';
import type { MessagePort } from 'node:worker_threads';
import type { Layout } from './layouts.ts';
import { entryAt, type ReplicationLog } from './log.ts';
import type { NodeState } from './node-state.ts';
import { NODE_STAT_APPLIED, NODE_STAT_FAILED, NODE_STAT_FENCED_SHIPMENTS, LOG_STRIDE, type ReplicationMessage } from './protocol.ts';
import { writeTransaction } from './transactions.ts';
import type { VirtualCpu } from '../web-server/virtual-cpu.ts';
import { nowMs } from '../shared/wire.ts';

/** A shipment waiting for its modelled apply time on the node's vCPUs. */
interface Shipment {
  entries: Float64Array;
  ready: boolean;
}

/**
 * A replica's end of its replication link: it applies shipped log entries strictly in log order,
 * each shipment after the vCPU time its writes cost, in one transaction that writes the data and
 * the log rows, then acknowledges the last applied position. Shipments from a primary of an older
 * epoch are rejected, so a deposed primary can never change a replica.
 */
export class Applier {
  private upstream: MessagePort | null = null;
  private queue: Shipment[] = [];

  constructor(
    private readonly state: NodeState,
    private readonly db: Database.Database,
    private readonly log: ReplicationLog,
    private readonly layout: Layout,
    private readonly cpu: VirtualCpu,
    private readonly writeCpuMs: number,
  ) {}

  /** Starts following the primary at the other end of `port`, from the own last applied position. */
  follow(port: MessagePort): void {
    this.stop();
    this.upstream = port;
    port.on('message', (message: ReplicationMessage) => {
      if (port === this.upstream && message.type === 'log') this.receive(message.epoch, message.entries);
    });
    port.on('close', () => {
      if (port === this.upstream) this.upstream = null;
    });
    this.send({ type: 'hello', appliedLsn: this.state.lsn });
  }

  /** Applies every shipment that has arrived, without waiting for its modelled time (before a promotion). */
  applyArrived(): void {
    const shipments = this.queue;
    this.queue = [];
    for (const shipment of shipments) this.apply(shipment.entries);
  }

  /** Stops following; shipments not yet applied are dropped. */
  stop(): void {
    this.queue = [];
    const port = this.upstream;
    this.upstream = null;
    port?.close();
  }

  private receive(epoch: number, entries: Float64Array): void {
    if (epoch < this.state.epoch) {
      this.state.stats[NODE_STAT_FENCED_SHIPMENTS]++;
      return;
    }
    let units = 0;
    const count = entries.length / LOG_STRIDE;
    for (let i = 0; i < count; i++) units += this.layout.writeUnits(entryAt(entries, i).userId);
    const shipment: Shipment = { entries, ready: false };
    this.queue.push(shipment);
    const queue = this.queue;
    const endMs = this.cpu.schedule(nowMs(), units * this.writeCpuMs);
    this.cpu.at(endMs, () => {
      shipment.ready = true;
      if (queue === this.queue) this.drain();
    });
  }

  private drain(): void {
    while (this.queue.length > 0 && this.queue[0].ready) this.apply(this.queue.shift()!.entries);
  }

  private apply(entries: Float64Array): void {
    const count = entries.length / LOG_STRIDE;
    let lsn = this.state.lsn;
    let gap = false;
    try {
      writeTransaction(this.db, () => {
        for (let i = 0; i < count; i++) {
          const entry = entryAt(entries, i);
          if (entry.lsn <= lsn) continue; // already applied (a resend)
          if (entry.lsn !== lsn + 1) {
            gap = true;
            break;
          }
          this.layout.writePost(entry.userId, entry.writeId, entry.committedMs);
          this.log.record(entry);
          lsn = entry.lsn;
        }
      });
    } catch (error) {
      // Nothing of the shipment was applied; the primary resends from the acknowledged position.
      this.state.stats[NODE_STAT_FAILED]++;
      this.state.notice(`Replica ${this.state.nodeId} failed to apply a shipment: ${(error as Error).message}`);
      this.send({ type: 'hello', appliedLsn: this.state.lsn });
      return;
    }
    this.state.stats[NODE_STAT_APPLIED] += lsn - this.state.lsn;
    this.state.lsn = lsn;
    this.send(gap ? { type: 'hello', appliedLsn: lsn } : { type: 'ack', appliedLsn: lsn });
  }

  private send(message: ReplicationMessage): void {
    this.upstream?.postMessage(message);
  }
}
