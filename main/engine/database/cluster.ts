import path from 'node:path';
import type { DatabaseSnapshot } from '../api/protocol.ts';
import type { Scenario } from '../api/scenario.ts';
import type { DbLinkMessage, DbRoute } from '../../../workers/shared/wire.ts';
import { DbNode } from './db-node.ts';

export interface ClusterOptions {
  dataDir: string;
  workerFile: string;
  loader?: string;
  seed: number;
  nativeBinding?: string;
}

/**
 * The data tier of a run: the database nodes, where web server threads send their queries, and
 * the ledger of writes acknowledged to clients.
 */
export class DatabaseCluster {
  private readonly primary: DbNode;
  private readonly acknowledged: number[] = [];

  constructor(
    private readonly config: Scenario['database'],
    private readonly options: ClusterOptions,
  ) {
    this.primary = new DbNode({
      nodeId: 1,
      file: path.join(options.dataDir, 'primary.sqlite'),
      workerFile: options.workerFile,
      loader: options.loader,
      seedUsers: config.seedUsers,
      seed: options.seed,
      nativeBinding: options.nativeBinding,
    });
  }

  /** Resolves once every node has opened and seeded its file. */
  start(): Promise<void> {
    return this.primary.ready;
  }

  /** Returns where web server threads send queries now. */
  route(): DbRoute {
    return { primaryNodeId: this.primary.nodeId };
  }

  /** Hands a web server thread's link to the node it names; a link to an unknown node is closed. */
  attach(message: DbLinkMessage): void {
    if (message.nodeId !== this.primary.nodeId) {
      message.port.close();
      return;
    }
    this.primary.attach(message.serverId, message.port);
  }

  /** Records a write that a client received an ok for, by its write id (the request id). */
  acknowledgeWrite(writeId: number): void {
    this.acknowledged.push(writeId);
  }

  /** Returns the ids of writes acknowledged to clients, in acknowledgement order. */
  acknowledgedWriteIds(): readonly number[] {
    return this.acknowledged;
  }

  /** The primary's SQLite file. */
  primaryFile(): string {
    return this.primary.options.file;
  }

  snapshot(tickMs: number): DatabaseSnapshot {
    const rates = this.primary.rates(tickMs);
    return {
      state: this.primary.state === 'up' ? 'up' : 'down',
      readsPerSec: rates.readsPerSec,
      writesPerSec: rates.writesPerSec,
      acknowledgedWrites: this.acknowledged.length,
    };
  }

  async stop(): Promise<void> {
    await this.primary.stop();
  }
}
