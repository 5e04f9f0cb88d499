import { Worker, type MessagePort } from 'node:worker_threads';
import { subsystemLogger } from '../log.ts';
import {
  DB_STAT_BUSY_ERRORS,
  DB_STAT_FIELDS,
  DB_STAT_READS,
  DB_STAT_WRITES,
  type DbControlMessage,
  type DbNodeMessage,
  threadEntry,
  type DbNodeWorkerData,
} from '../../../workers/shared/wire.ts';

const log = subsystemLogger('database');

export interface DbNodeOptions {
  nodeId: number;
  file: string;
  workerFile: string;
  loader?: string;
  seedUsers: number;
  seed: number;
  nativeBinding?: string;
}

/**
 * The engine's handle on one database node thread. The engine hands the node the ports web
 * server threads open to it and reads its counters; it never carries queries itself.
 */
export class DbNode {
  state: 'starting' | 'up' | 'down' = 'starting';
  private readonly worker: Worker;
  private readonly stats = new SharedArrayBuffer(DB_STAT_FIELDS * 8);
  private readonly counters = new Float64Array(this.stats);
  private lastReads = 0;
  private lastWrites = 0;
  readonly ready: Promise<void>;

  constructor(readonly options: DbNodeOptions) {
    const entry = threadEntry(options.workerFile, options.loader);
    const workerData: DbNodeWorkerData = {
      tsEntry: entry.tsEntry,
      nodeId: options.nodeId,
      file: options.file,
      seedUsers: options.seedUsers,
      seed: options.seed,
      stats: this.stats,
      nativeBinding: options.nativeBinding,
    };
    this.worker = new Worker(entry.filename, { workerData });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (message: DbNodeMessage) => {
        if (message.type === 'ready') {
          this.state = 'up';
          log.info({ nodeId: options.nodeId, users: message.users, posts: message.posts }, 'database node ready');
          resolve();
        } else if (message.type === 'error') {
          log.error({ nodeId: options.nodeId, error: message.error }, 'database node reported an error');
        }
      });
      this.worker.on('error', (error) => {
        log.error({ nodeId: options.nodeId, err: error }, 'database node thread failed');
        this.state = 'down';
        reject(annotateBindingError(error, options.nativeBinding));
      });
      this.worker.on('exit', (code) => {
        if (this.state !== 'down') log.warn({ nodeId: options.nodeId, code }, 'database node thread exited');
        this.state = 'down';
        reject(new Error(`database node ${options.nodeId} exited with code ${code} before it was ready`));
      });
    });
  }

  get nodeId(): number {
    return this.options.nodeId;
  }

  /** Gives the node the end of a web server thread's direct link. */
  attach(serverId: number, port: MessagePort): void {
    if (this.state === 'down') {
      port.close();
      return;
    }
    const message: DbControlMessage = { type: 'attach', serverId, port };
    this.worker.postMessage(message, [port]);
  }

  /** Returns reads and writes per second since the last call, and the busy-error count. */
  rates(tickMs: number): { readsPerSec: number; writesPerSec: number; busyErrors: number } {
    const reads = this.counters[DB_STAT_READS];
    const writes = this.counters[DB_STAT_WRITES];
    const result = {
      readsPerSec: ((reads - this.lastReads) * 1000) / tickMs,
      writesPerSec: ((writes - this.lastWrites) * 1000) / tickMs,
      busyErrors: this.counters[DB_STAT_BUSY_ERRORS],
    };
    this.lastReads = reads;
    this.lastWrites = writes;
    return result;
  }

  /** Terminates the node's thread; its file stays on disk, as a crashed machine's disk would. */
  async stop(): Promise<void> {
    this.state = 'down';
    await this.worker.terminate();
  }
}

/** Names the native binding file in the error when better-sqlite3 could not load it. */
function annotateBindingError(error: Error, nativeBinding: string | undefined): Error {
  if (!/better_sqlite3|NODE_MODULE_VERSION|invalid ELF|was compiled against/i.test(error.message)) return error;
  const file = nativeBinding ?? 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
  return new Error(`Failed to load the better-sqlite3 native binding from ${file}: ${error.message}`);
}
