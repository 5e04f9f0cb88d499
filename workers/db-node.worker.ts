// A database node: a thread that owns one SQLite file, as primary or replica. Web server threads
// send it query batches over their own MessagePorts; a primary ships its log to replicas over
// ports of their own; the engine only hands out those ports, sends control messages (heartbeats,
// promotion, snapshots) and reads the node's counters.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { Applier } from './db-node/applier.ts';
import { openLayout } from './db-node/layouts.ts';
import { ReplicationLog } from './db-node/log.ts';
import { NodeState } from './db-node/node-state.ts';
import {
  NODE_STAT_CPU_BUSY_MS,
  NODE_STAT_READY,
  type DbControlMessage,
  type DbNodeMessage,
  type DbNodeWorkerData,
  type FollowReply,
  type LsnReply,
  type MissingReply,
} from './db-node/protocol.ts';
import { QueryServer } from './db-node/query-server.ts';
import { configure, countUsers, seed } from './db-node/schema.ts';
import { Shipper } from './db-node/shipper.ts';
import { VirtualCpu } from './web-server/virtual-cpu.ts';
import { nowMs } from './shared/wire.ts';

const config = workerData as DbNodeWorkerData;
const stats = new Float64Array(config.stats);
const state = new NodeState(config.nodeId, config.role, config.epoch, stats, (message) =>
  report({ type: 'notice', nodeId: config.nodeId, message }),
);

const db = new Database(config.file, config.nativeBinding ? { nativeBinding: config.nativeBinding } : {});
configure(db);
// A replica's file is a snapshot of a seeded primary, so seeding finds users and does nothing.
seed(db, config.layout, config.seedUsers, config.seed);
const log = new ReplicationLog(db);
state.lsn = log.lastLsn();
const layout = openLayout(db, config.layout);
const cpu = new VirtualCpu(config.vcpus);
const queries = new QueryServer(state, db, log, layout, cpu, {
  seedUsers: config.seedUsers,
  readCpuMs: config.readCpuMs,
  writeCpuMs: config.writeCpuMs,
});
const applier = new Applier(state, db, log, layout, cpu, config.writeCpuMs);
let mode = config.mode;
let ackTimeoutMs = config.ackTimeoutMs;
if (config.role === 'primary') queries.shipper = new Shipper(state, log, db, mode, ackTimeoutMs);

const publishCpu = (): void => {
  stats[NODE_STAT_CPU_BUSY_MS] = cpu.busyMsUntil(nowMs());
};
cpu.onIdleTick = publishCpu;
setInterval(publishCpu, 20);

parentPort!.on('message', (message: DbControlMessage) => {
  try {
    handle(message);
  } catch (error) {
    const e = error as Error & { code?: string };
    const serialized = { name: e.name, message: e.message, code: e.code };
    if ('seq' in message && message.type !== 'heartbeat') report({ type: 'reply', seq: message.seq, ok: false, error: serialized });
    else report({ type: 'error', nodeId: config.nodeId, error: serialized });
  }
});

stats[NODE_STAT_READY] = 1;
report({ type: 'ready', nodeId: config.nodeId, users: countUsers(db, config.layout), posts: 0, lsn: state.lsn });

function handle(message: DbControlMessage): void {
  switch (message.type) {
    case 'attach':
      queries.attach(message.port);
      return;
    case 'heartbeat':
      report({ type: 'heartbeat-ack', seq: message.seq });
      return;
    case 'stall':
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, message.durationMs);
      return;
    case 'ship-to':
      requirePrimary(message.type).add(message.replicaId, message.port, message.status, message.delayMs, message.cut);
      return;
    case 'unship':
      queries.shipper?.remove(message.replicaId);
      return;
    case 'set-link':
      queries.shipper?.setLink(message.replicaId, message.delayMs, message.cut);
      return;
    case 'set-mode':
      mode = message.mode;
      ackTimeoutMs = message.ackTimeoutMs;
      queries.shipper?.setMode(mode, ackTimeoutMs);
      return;
    case 'follow':
      reply(message.seq, follow(message));
      return;
    case 'promote':
      reply(message.seq, promote(message.epoch));
      return;
    case 'pause-writes':
      requirePrimary(message.type);
      state.writesPaused = true;
      // Writes whose vCPU time is over but that wait for the group commit are rejected now, so
      // the position in the reply is final.
      queries.commitPending();
      reply(message.seq, { lsn: state.lsn });
      return;
    case 'resume-writes':
      state.writesPaused = false;
      reply(message.seq, { lsn: state.lsn });
      return;
    case 'demote':
      queries.commitPending();
      queries.shipper?.close();
      queries.shipper = null;
      state.become('replica', message.epoch);
      reply(message.seq, { lsn: state.lsn });
      return;
    case 'snapshot':
      snapshot(message.seq, message.file);
      return;
    case 'find-missing':
      reply(message.seq, findMissing(message.writeIds));
      return;
    default: {
      const unknown: never = message;
      throw new TypeError(`Unknown control message ${JSON.stringify(unknown)}`);
    }
  }
}

function requirePrimary(request: string): Shipper {
  if (state.role !== 'primary' || !queries.shipper) {
    throw new Error(`Node ${config.nodeId} is a ${state.role} at epoch ${state.epoch}; "${request}" needs the primary`);
  }
  return queries.shipper;
}

/**
 * Follows a primary unless the own log holds entries the primary's history does not: those were
 * committed by a deposed primary, and the engine rebuilds such a node from a snapshot.
 */
function follow(message: Extract<DbControlMessage, { type: 'follow' }>): FollowReply {
  if (state.role === 'primary') throw new Error(`Node ${config.nodeId} is the primary at epoch ${state.epoch}; demote it before it follows`);
  const divergentWriteIds = log.divergentWriteIds(message.history);
  if (divergentWriteIds.length > 0) {
    message.port.close();
    return { divergentWriteIds, lsn: state.lsn };
  }
  state.become('replica', message.epoch);
  applier.follow(message.port);
  return { divergentWriteIds: [], lsn: state.lsn };
}

/** Applies every shipment that has arrived, stops following, and takes writes at `epoch`. */
function promote(epoch: number): LsnReply {
  if (state.role === 'primary') throw new Error(`Node ${config.nodeId} is already the primary at epoch ${state.epoch}`);
  applier.applyArrived();
  applier.stop();
  state.become('primary', epoch);
  queries.shipper = new Shipper(state, log, db, mode, ackTimeoutMs);
  return { lsn: state.lsn };
}

/** Copies the file with SQLite's online backup; the copy is consistent even while writes go on. */
function snapshot(seq: number, file: string): void {
  const lsn = state.lsn;
  db.backup(file).then(
    () => reply(seq, { lsn }),
    (error: Error) => report({ type: 'reply', seq, ok: false, error: { name: error.name, message: error.message } }),
  );
}

function findMissing(writeIds: Float64Array): MissingReply {
  const missing: number[] = [];
  for (const id of writeIds) if (!layout.hasWrite(id)) missing.push(id);
  return { missing: Float64Array.from(missing) };
}

function reply(seq: number, value: FollowReply | LsnReply | MissingReply | null): void {
  report({ type: 'reply', seq, ok: true, value });
}

function report(message: DbNodeMessage): void {
  parentPort!.postMessage(message);
}
