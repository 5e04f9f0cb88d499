import { MessageChannel, parentPort, type MessagePort } from 'node:worker_threads';
import {
  OPR_EPOCH,
  OPR_INDEX,
  OPR_LSN,
  OPR_SEQ,
  OPR_STATUS,
  OPR_STRIDE,
  OP_FEED,
  OP_POST,
  QUERY_BUSY,
  QUERY_FAILED,
  QUERY_OK,
  QUERY_UNREACHABLE,
  type DbLinkMessage,
  type DbRoute,
  type QueryBatch,
  type QueryResults,
} from '../shared/wire.ts';

/** Receives one query's outcome: a QUERY_* status, the log position and epoch the node reported. */
export type QueryCallback = (status: number, lsn: number, epoch: number) => void;

interface Pending {
  callbacks: Array<QueryCallback | null>;
  remaining: number;
  timer: NodeJS.Timeout;
}

/**
 * Direct links from this web server thread to database nodes. Queries issued in the same
 * macrotask go out as one message per node; each batch of queries has its own timeout, and a
 * link whose node thread dies fails its pending queries at once with QUERY_UNREACHABLE.
 */
export class DbLink {
  private readonly links = new Map<number, NodeLink>();

  constructor(
    private readonly serverId: number,
    private readonly timeoutMs: number,
  ) {}

  submit(nodeId: number, op: number, userId: number, writeId: number, epoch: number, minLsn: number, callback: QueryCallback): void {
    let link = this.links.get(nodeId);
    if (!link) {
      link = new NodeLink(this.serverId, nodeId, this.timeoutMs, () => this.links.delete(nodeId));
      this.links.set(nodeId, link);
    }
    link.submit(op, userId, writeId, epoch, minLsn, callback);
  }
}

class NodeLink {
  private readonly port: MessagePort;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private ops: number[] = [];
  private callbacks: QueryCallback[] = [];
  private flushScheduled = false;
  private closed = false;

  constructor(
    serverId: number,
    nodeId: number,
    private readonly timeoutMs: number,
    private readonly onClose: () => void,
  ) {
    // The engine forwards the other end to the node's thread; messages posted before it arrives
    // wait in the port's queue, so queries can go out at once.
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.port.on('message', (message: QueryResults) => this.onResults(message));
    this.port.on('close', () => this.close());
    const link: DbLinkMessage = { type: 'db-link', serverId, nodeId, port: channel.port2 };
    parentPort!.postMessage(link, [channel.port2]);
  }

  submit(op: number, userId: number, writeId: number, epoch: number, minLsn: number, callback: QueryCallback): void {
    if (this.closed) {
      callback(QUERY_UNREACHABLE, 0, 0);
      return;
    }
    this.ops.push(op, userId, writeId, epoch, minLsn);
    this.callbacks.push(callback);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.callbacks.length === 0) return;
    const seq = ++this.seq;
    const ops = Float64Array.from(this.ops);
    const callbacks = this.callbacks;
    this.ops = [];
    this.callbacks = [];
    const timer = setTimeout(() => this.fail(seq), this.timeoutMs);
    this.pending.set(seq, { callbacks, remaining: callbacks.length, timer });
    const batch: QueryBatch = { type: 'queries', seq, ops };
    this.port.postMessage(batch, [ops.buffer as ArrayBuffer]);
  }

  private onResults(message: QueryResults): void {
    const results = message.results;
    for (let base = 0; base < results.length; base += OPR_STRIDE) {
      const seq = results[base + OPR_SEQ];
      const pending = this.pending.get(seq);
      if (!pending) continue; // already timed out
      const index = results[base + OPR_INDEX];
      const callback = pending.callbacks[index];
      if (!callback) continue;
      pending.callbacks[index] = null;
      if (--pending.remaining === 0) {
        clearTimeout(pending.timer);
        this.pending.delete(seq);
      }
      callback(results[base + OPR_STATUS], results[base + OPR_LSN], results[base + OPR_EPOCH]);
    }
  }

  private fail(seq: number): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq);
    clearTimeout(pending.timer);
    for (const callback of pending.callbacks) callback?.(QUERY_UNREACHABLE, 0, 0);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    for (const seq of [...this.pending.keys()]) this.fail(seq);
    for (const callback of this.callbacks.splice(0)) callback(QUERY_UNREACHABLE, 0, 0);
    this.ops = [];
  }
}

/** Receives a request's database outcome: a QUERY_* status, the log position, epoch and node. */
export type AnswerCallback = (status: number, lsn: number, epoch: number, nodeId: number) => void;

/**
 * Chooses the node for each query from the route of the batch it came with. Writes go to the
 * primary with the route's epoch. Reads go round robin to the route's replicas; with
 * read-your-writes only to a replica whose applied position is at or past the session's last
 * write. A read a replica cannot serve (unreachable, behind) is retried once on the primary.
 */
export class DbRouter {
  private readCursor = 0;

  constructor(private readonly link: DbLink) {}

  write(route: DbRoute, clientId: number, writeId: number, done: AnswerCallback): void {
    const nodeId = route.primaryNodeId;
    this.link.submit(nodeId, OP_POST, clientId, writeId, route.epoch, 0, (status, lsn, epoch) => done(status, lsn, epoch, nodeId));
  }

  read(route: DbRoute, clientId: number, minLsn: number, done: AnswerCallback): void {
    const nodeId = this.pickReadNode(route, minLsn);
    const primary = route.primaryNodeId;
    if (nodeId === primary) {
      this.link.submit(primary, OP_FEED, clientId, 0, route.epoch, 0, (status, lsn, epoch) => done(status, lsn, epoch, primary));
      return;
    }
    const required = route.readYourWrites ? minLsn : 0;
    this.link.submit(nodeId, OP_FEED, clientId, 0, route.epoch, required, (status, lsn, epoch) => {
      if (status === QUERY_OK || status === QUERY_BUSY || status === QUERY_FAILED) {
        done(status, lsn, epoch, nodeId);
        return;
      }
      this.link.submit(primary, OP_FEED, clientId, 0, route.epoch, 0, (retryStatus, retryLsn, retryEpoch) =>
        done(retryStatus, retryLsn, retryEpoch, primary),
      );
    });
  }

  private pickReadNode(route: DbRoute, minLsn: number): number {
    const count = route.readNodeIds.length;
    for (let tried = 0; tried < count; tried++) {
      const i = this.readCursor++ % count;
      if (!route.readYourWrites || route.readNodeLsns[i] >= minLsn) return route.readNodeIds[i];
    }
    return route.primaryNodeId;
  }
}
