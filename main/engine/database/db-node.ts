import { Worker, type MessagePort, type Transferable } from 'node:worker_threads';
import { subsystemLogger } from '../log.ts';
import { threadEntry } from '../../../workers/shared/wire.ts';
import {
  NODE_STAT_FIELDS,
  type DbControlMessage,
  type DbNodeMessage,
  type DbNodeWorkerData,
} from '../../../workers/db-node/protocol.ts';

const log = subsystemLogger('database');

export type DbNodeOptions = Omit<DbNodeWorkerData, 'stats' | 'tsEntry'> & {
  workerFile: string;
  loader?: string;
};

/** A control message without its sequence number; `request` adds one. */
type ControlRequest = DbControlMessage extends infer M ? (M extends { seq: number } ? Omit<M, 'seq'> : never) : never;

/**
 * The engine's handle on one database node thread. The engine hands the node the ports that web
 * server threads and other nodes open to it, sends control requests and heartbeats, and reads its
 * counters; it never carries queries itself.
 */
export class DbNode {
  /** The thread's own state; the heartbeat monitor's view of the node is kept by the cluster. */
  thread: 'starting' | 'up' | 'down' = 'starting';
  readonly ready: Promise<void>;
  readonly counters: Float64Array;
  /** Called with every notice the node sends (fallbacks, synchronous set changes). */
  onNotice: (message: string) => void = () => {};
  /** The sequence number of the heartbeat not yet answered, 0 when none is outstanding. */
  heartbeatPending = 0;

  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextSeq = 1;

  constructor(readonly options: DbNodeOptions) {
    const stats = new SharedArrayBuffer(NODE_STAT_FIELDS * 8);
    this.counters = new Float64Array(stats);
    const entry = threadEntry(options.workerFile, options.loader);
    const { workerFile: _workerFile, loader: _loader, ...nodeOptions } = options;
    const workerData: DbNodeWorkerData = { ...nodeOptions, tsEntry: entry.tsEntry, stats };
    this.worker = new Worker(entry.filename, { workerData });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (message: DbNodeMessage) => {
        if (message.type === 'ready') {
          this.thread = 'up';
          log.info({ nodeId: options.nodeId, role: options.role, lsn: message.lsn, users: message.users }, 'database node ready');
          resolve();
          return;
        }
        this.onMessage(message);
      });
      this.worker.on('error', (error) => {
        log.error({ nodeId: options.nodeId, err: error }, 'database node thread failed');
        reject(annotateBindingError(error, options.nativeBinding));
      });
      this.worker.on('exit', (code) => {
        if (this.thread !== 'down') log.warn({ nodeId: options.nodeId, code }, 'database node thread exited');
        this.thread = 'down';
        const error = new Error(`Database node ${options.nodeId} exited with code ${code}`);
        for (const waiter of this.pending.values()) waiter.reject(error);
        this.pending.clear();
        reject(new Error(`Database node ${options.nodeId} exited with code ${code} before it was ready`));
      });
    });
  }

  get nodeId(): number {
    return this.options.nodeId;
  }

  /** Gives the node the end of a web server thread's direct link; a node that is down closes it, as a refused connection. */
  attach(serverId: number, port: MessagePort): void {
    if (this.thread === 'down') {
      port.close();
      return;
    }
    this.post({ type: 'attach', serverId, port }, [port]);
  }

  post(message: DbControlMessage, transfer: Transferable[] = []): void {
    if (this.thread === 'down') {
      for (const item of transfer) (item as MessagePort).close?.();
      return;
    }
    this.worker.postMessage(message, transfer);
  }

  /** Sends a control request and resolves with the node's reply value; rejects if the node fails or exits. */
  request<T>(message: ControlRequest, transfer: Transferable[] = []): Promise<T> {
    if (this.thread === 'down') return Promise.reject(new Error(`Database node ${this.nodeId} is down`));
    const seq = this.nextSeq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...message, seq }, transfer);
    });
  }

  /** Sends a heartbeat; the monitor counts it as missed while `heartbeatPending` stays set. */
  heartbeat(seq: number): void {
    this.heartbeatPending = seq;
    this.post({ type: 'heartbeat', seq });
  }

  /** Terminates the thread, as a crash would; the file stays on disk. */
  async terminate(): Promise<void> {
    this.thread = 'down';
    await this.worker.terminate();
  }

  private onMessage(message: DbNodeMessage): void {
    switch (message.type) {
      case 'heartbeat-ack':
        if (message.seq === this.heartbeatPending) this.heartbeatPending = 0;
        return;
      case 'reply': {
        const waiter = this.pending.get(message.seq);
        if (!waiter) return;
        this.pending.delete(message.seq);
        if (message.ok) waiter.resolve(message.value);
        else waiter.reject(rebuildNodeError(message.error));
        return;
      }
      case 'notice':
        this.onNotice(message.message);
        return;
      case 'error':
        log.error({ nodeId: this.nodeId, error: message.error }, 'database node reported an error');
        return;
      case 'ready':
        return;
      default: {
        const unknown: never = message;
        log.warn({ nodeId: this.nodeId, message: unknown }, 'unknown message from a database node');
      }
    }
  }
}

function rebuildNodeError(data: { name: string; message: string; code?: string }): Error {
  const error = new Error(data.message) as Error & { code?: string };
  error.name = data.name;
  if (data.code) error.code = data.code;
  return error;
}

/** Names the native binding file in the error when better-sqlite3 could not load it. */
function annotateBindingError(error: Error, nativeBinding: string | undefined): Error {
  if (!/better_sqlite3|NODE_MODULE_VERSION|invalid ELF|was compiled against/i.test(error.message)) return error;
  const file = nativeBinding ?? 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
  return new Error(`Failed to load the better-sqlite3 native binding from ${file}: ${error.message}`);
}
