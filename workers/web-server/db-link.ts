import { MessageChannel, parentPort, type MessagePort } from 'node:worker_threads';
import {
  OPR_STATUS,
  OPR_STRIDE,
  QUERY_OK,
  type DbLinkMessage,
  type QueryBatch,
  type QueryResults,
} from '../shared/wire.ts';

type QueryCallback = (ok: boolean) => void;

interface Pending {
  callbacks: QueryCallback[];
  timer: NodeJS.Timeout;
}

/**
 * Direct links from this web server thread to database nodes. Queries issued in the same
 * macrotask go out as one message per node; each batch of queries has its own timeout, and a
 * link whose node thread dies fails its pending queries at once.
 */
export class DbLink {
  private readonly links = new Map<number, NodeLink>();

  constructor(
    private readonly serverId: number,
    private readonly timeoutMs: number,
  ) {}

  submit(nodeId: number, op: number, userId: number, writeId: number, callback: QueryCallback): void {
    let link = this.links.get(nodeId);
    if (!link) {
      link = new NodeLink(this.serverId, nodeId, this.timeoutMs, () => this.links.delete(nodeId));
      this.links.set(nodeId, link);
    }
    link.submit(op, userId, writeId, callback);
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

  submit(op: number, userId: number, writeId: number, callback: QueryCallback): void {
    if (this.closed) {
      callback(false);
      return;
    }
    this.ops.push(op, userId, writeId);
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
    this.pending.set(seq, { callbacks, timer });
    const batch: QueryBatch = { type: 'queries', seq, ops };
    this.port.postMessage(batch);
  }

  private onResults(message: QueryResults): void {
    const pending = this.pending.get(message.seq);
    if (!pending) return; // already timed out
    this.pending.delete(message.seq);
    clearTimeout(pending.timer);
    const results = message.results;
    for (let i = 0; i < pending.callbacks.length; i++) {
      pending.callbacks[i](results[i * OPR_STRIDE + OPR_STATUS] === QUERY_OK);
    }
  }

  private fail(seq: number): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq);
    for (const callback of pending.callbacks) callback(false);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    for (const [seq, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.fail(seq);
    }
    for (const callback of this.callbacks.splice(0)) callback(false);
  }
}
