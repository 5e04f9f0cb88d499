import type { MessagePort } from 'node:worker_threads';
import type { ThreadEntryData } from '../shared/wire.ts';

// Messages between the engine and a database node thread, and between a primary and its replicas.
// Counters travel in SharedArrayBuffers so the engine can read them at every tick without a
// message round trip; log entries travel as flat Float64Arrays, one fixed-width record each.

export type DbRole = 'primary' | 'replica';
export type DataLayout = 'relational' | 'key-value';
export type ReplicationMode = 'asynchronous' | 'semi-synchronous' | 'synchronous';

/** The first log position of each epoch, in epoch order. Entry e is valid from firstLsn(e) up to firstLsn(e + 1) - 1. */
export interface EpochStart {
  epoch: number;
  firstLsn: number;
}

export interface DbNodeWorkerData extends ThreadEntryData {
  nodeId: number;
  file: string;
  role: DbRole;
  epoch: number;
  layout: DataLayout;
  /** Users to seed into an empty file; a replica's file comes from a snapshot and is never seeded. */
  seedUsers: number;
  seed: number;
  vcpus: number;
  /** Modelled vCPU milliseconds of one feed read and of one post write on this layout. */
  readCpuMs: number;
  writeCpuMs: number;
  mode: ReplicationMode;
  /** How long a semi-synchronous or synchronous write waits for replica acknowledgements. */
  ackTimeoutMs: number;
  /** Float64Array over SharedArrayBuffer with the NODE_STAT_* fields. */
  stats: SharedArrayBuffer;
  /** Path of a better-sqlite3 native binding to load instead of the default (Electron needs its own). */
  nativeBinding?: string;
}

/** Fields of a node's statistics buffer. Only the node writes them; the engine reads. */
export const NODE_STAT_READS = 0;
export const NODE_STAT_WRITES = 1;
export const NODE_STAT_BUSY_ERRORS = 2;
export const NODE_STAT_FAILED = 3;
export const NODE_STAT_READY = 4;
/** The last log position committed (primary) or applied (replica). */
export const NODE_STAT_LSN = 5;
export const NODE_STAT_EPOCH = 6;
/** 1 for a primary, 2 for a replica. */
export const NODE_STAT_ROLE = 7;
/** Cumulative virtual vCPU-busy milliseconds. */
export const NODE_STAT_CPU_BUSY_MS = 8;
/** Writes rejected because of their epoch, role or paused writes. */
export const NODE_STAT_FENCED = 9;
/** Read-your-writes reads this node could not serve yet. */
export const NODE_STAT_BEHIND = 10;
/** Log entries applied from a primary. */
export const NODE_STAT_APPLIED = 11;
/** Shipments rejected because they came from a primary of an older epoch. */
export const NODE_STAT_FENCED_SHIPMENTS = 12;
/** 1 while a semi-synchronous primary has fallen back to asynchronous replication. */
export const NODE_STAT_SEMI_SYNC_FALLEN_BACK = 13;
export const NODE_STAT_FIELDS = 14;

export const ROLE_PRIMARY = 1;
export const ROLE_REPLICA = 2;

/** Fields of the status buffer of one replication link, written by the primary that ships on it. */
export const LINK_STAT_ACKED_LSN = 0;
export const LINK_STAT_SENT_LSN = 1;
/** Milliseconds since the oldest log entry the replica has not acknowledged was committed; 0 when caught up. */
export const LINK_STAT_LAG_MS = 2;
/** 1 while the replica is in the synchronous set (synchronous mode only). */
export const LINK_STAT_IN_SYNC_SET = 3;
export const LINK_STAT_FIELDS = 4;

/** Fields of one log entry record. */
export const LOG_LSN = 0;
export const LOG_EPOCH = 1;
/** The node that committed the write as primary. */
export const LOG_ORIGIN = 2;
export const LOG_WRITE_ID = 3;
export const LOG_USER = 4;
/** When the primary committed the entry, in epoch milliseconds. */
export const LOG_COMMITTED_MS = 5;
export const LOG_STRIDE = 6;

/** Control messages from the engine to a node thread. Those with a `seq` get a `reply` with the same seq. */
export type DbControlMessage =
  | { type: 'attach'; serverId: number; port: MessagePort }
  | { type: 'heartbeat'; seq: number }
  /** Blocks the node's thread for `durationMs`, as a long pause (a stop-the-world collection, a frozen VM) would. */
  | { type: 'stall'; durationMs: number }
  /** Primary: ship the log to a replica over `port`, publishing the link's state in `status`. */
  | { type: 'ship-to'; replicaId: number; port: MessagePort; status: SharedArrayBuffer; delayMs: number; cut: boolean }
  | { type: 'unship'; replicaId: number }
  /** Primary: change one link's one-way delay or cut it (entries in transit on a cut link are lost). */
  | { type: 'set-link'; replicaId: number; delayMs: number; cut: boolean }
  | { type: 'set-mode'; mode: ReplicationMode; ackTimeoutMs: number }
  /** Replica: follow the primary at the other end of `port`, after checking the own log against `history`. */
  | { type: 'follow'; seq: number; port: MessagePort; epoch: number; history: EpochStart[] }
  /** Replica: apply what has arrived, then take writes as primary of `epoch`. */
  | { type: 'promote'; seq: number; epoch: number }
  /** Primary: reject new writes; reply once every write in progress has been answered. */
  | { type: 'pause-writes'; seq: number }
  | { type: 'resume-writes'; seq: number }
  /** Paused primary: become a replica of `epoch`; its replication links close. */
  | { type: 'demote'; seq: number; epoch: number }
  /** Primary: copy the file with SQLite's online backup to `file` (a replica's new file). */
  | { type: 'snapshot'; seq: number; file: string }
  /** Reply with the write ids of `writeIds` that this node's data does not contain. */
  | { type: 'find-missing'; seq: number; writeIds: Float64Array };

/** Values of the replies, by request type. */
export interface FollowReply {
  /** Write ids in this node's log that the new primary's history does not contain; the node did not follow when non-empty. */
  divergentWriteIds: number[];
  lsn: number;
}
export interface LsnReply {
  lsn: number;
}
export interface MissingReply {
  missing: Float64Array;
}

/** Messages a node thread posts to the engine. */
export type DbNodeMessage =
  | { type: 'ready'; nodeId: number; users: number; posts: number; lsn: number }
  | { type: 'heartbeat-ack'; seq: number }
  | { type: 'reply'; seq: number; ok: true; value: FollowReply | LsnReply | MissingReply | null }
  | { type: 'reply'; seq: number; ok: false; error: SerializedNodeError }
  /** A change the node made by itself, such as a semi-synchronous fallback; the engine records it as an event. */
  | { type: 'notice'; nodeId: number; message: string }
  | { type: 'error'; nodeId: number; error: SerializedNodeError };

export interface SerializedNodeError {
  name: string;
  message: string;
  code?: string;
}

/** Messages on a replication link. */
export type ReplicationMessage =
  /** Primary to replica: log entries in order, sent by a primary of `epoch`. */
  | { type: 'log'; epoch: number; entries: Float64Array }
  /** Replica to primary: where it stands, sent when it starts following and after a gap. */
  | { type: 'hello'; appliedLsn: number }
  | { type: 'ack'; appliedLsn: number };
