import { pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';

// Wire formats shared by the engine thread and the worker threads. Requests and results travel
// as flat Float64Arrays, one fixed-width record per request, because structured clone of one
// typed array costs a copy while an array of objects costs an allocation per field.

/** Milliseconds since the Unix epoch with sub-millisecond resolution, comparable across threads. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Request kinds as numbers on the wire; the order matches REQUEST_KINDS. */
export const KIND_HTML = 0;
export const KIND_API_READ = 1;
export const KIND_API_WRITE = 2;
export const KIND_STATIC = 3;

/** Fields of one request record in a batch. */
export const REQ_ID = 0;
export const REQ_KIND = 1;
/** When the request reaches the server, in epoch milliseconds (due time plus modelled network time). */
export const REQ_ARRIVAL = 2;
export const REQ_CPU_MS = 3;
export const REQ_CLIENT = 4;
/**
 * The log position (LSN) of the session's last acknowledged write when the request was sent, 0
 * when it has none. A read that sees an older log position is stale for that session.
 */
export const REQ_MIN_LSN = 5;
export const REQ_STRIDE = 6;

/** Fields of one result record, in the same order as the batch's requests. */
export const RES_STATUS = 0;
/** When the response left the server, in epoch milliseconds. */
export const RES_END = 1;
/** For a write, the log position it committed at; for a read, the log position its node had applied. 0 without a query. */
export const RES_DB_LSN = 2;
/** The epoch of the node that ran the query, 0 without a query. */
export const RES_DB_EPOCH = 3;
/** The database node that ran the query, 0 without a query. */
export const RES_DB_NODE = 4;
export const RES_STRIDE = 5;

/** Result statuses. The engine adds its own outcomes (timeout, server down, overloaded). */
export const STATUS_OK = 0;
export const STATUS_SERVER_ERROR = 1;
export const STATUS_DB_UNAVAILABLE = 2;
/** The client had given up before a vCPU was free, so the server dropped the request unserved. */
export const STATUS_ABANDONED = 3;

/** Where a web server thread sends queries; it travels with every batch, so a change reaches every thread. */
export interface DbRoute {
  /** The node that takes writes (and reads when no replica can). */
  primaryNodeId: number;
  /** The primary's epoch. Writes carry it, and a node rejects a write whose epoch is not its own. */
  epoch: number;
  /** Replicas that serve reads, in round-robin order; empty when reads go to the primary. */
  readNodeIds: number[];
  /**
   * The log position each replica in `readNodeIds` had applied when the route was built. Applied
   * positions only grow, so a replica listed at or above a session's last write has that write.
   */
  readNodeLsns: number[];
  /** When true, a session's read goes only to a node that has applied its last write. */
  readYourWrites: boolean;
}

/** A batch of requests for one server, as one piscina task. */
export interface ServeTask {
  type: 'serve';
  requests: Float64Array;
  db: DbRoute;
}

export interface PingTask {
  type: 'ping';
}

/** A health check probe, which gets its response at once unless the server hangs. */
export interface HealthTask {
  type: 'health';
}

export type WebServerTask = ServeTask | PingTask | HealthTask;

/** Worker data every thread may carry: the TypeScript entry the tsx loader imports, when one is used. */
export interface ThreadEntryData {
  tsEntry?: string;
}

export interface WebServerWorkerData extends ThreadEntryData {
  serverId: number;
  cpuModel: 'virtual' | 'real';
  /** vCPUs this thread models; in the real model each thread is one vCPU. */
  vcpusPerThread: number;
  /** Float64Array over SharedArrayBuffer: STATS_SLOT_SIZE values per thread slot, slot 0 is the claim counter. */
  stats: SharedArrayBuffer;
  /** Int32Array over SharedArrayBuffer: fault controls written by the engine (CONTROL_* fields). */
  control: SharedArrayBuffer;
  /** Milliseconds a database query may take before it ends as "database unavailable". */
  dbTimeoutMs: number;
  /**
   * Milliseconds after its arrival at which a request's client gives up. A request that would
   * only reach a vCPU later is dropped without using it, as a server does when it finds the
   * connection closed.
   */
  abandonAfterMs: number;
}

/** Per-thread statistics slots. Each thread writes only its own slot, so no atomics are needed for the floats. */
export const STATS_SLOTS = 65;
export const STATS_SLOT_SIZE = 4;
/** Cumulative vCPU-busy milliseconds. */
export const STAT_BUSY_MS = 0;
/** vCPUs busy at the last update. */
export const STAT_BUSY_VCPUS = 1;
/** Requests accepted but not yet answered at the last update. */
export const STAT_IN_SERVER = 2;
export const STAT_UPDATED_AT = 3;

/** Fault controls, read by workers at every batch and completion. */
export const CONTROL_HANG = 0;
/** CPU-time multiplier in thousandths (1000 = normal speed). */
export const CONTROL_SLOW_PERMILLE = 1;
/** Share of requests answered "server error", in parts per million. */
export const CONTROL_ERROR_PPM = 2;
/** Set to a non-zero value to make every thread of the server call process.exit (for crash tests). */
export const CONTROL_EXIT = 3;
export const CONTROL_FIELDS = 4;

/**
 * Returns the file a thread starts from and the worker data that goes with it: the file itself,
 * or the TypeScript loader with the file as its entry.
 */
export function threadEntry(file: string, loader: string | undefined): { filename: string; tsEntry?: string } {
  if (!loader) return { filename: file };
  return { filename: loader, tsEntry: pathToFileURL(file).href };
}

/** A message a web server thread posts to the engine to open a direct link to a database node. */
export interface DbLinkMessage {
  type: 'db-link';
  serverId: number;
  nodeId: number;
  port: MessagePort;
}

// Web server thread <-> database node messages, over the direct MessagePort.

/** Query operations on the wire. */
export const OP_FEED = 0;
export const OP_POST = 1;
/** Fields of one query record: opcode, user id, write id (0 for reads), epoch, minimum log position. */
export const OP_CODE = 0;
export const OP_USER = 1;
export const OP_WRITE_ID = 2;
/** The epoch of the route the web server thread used; a write whose epoch is not the node's is rejected. */
export const OP_EPOCH = 3;
/** A read the node may serve only once it has applied this log position (read-your-writes); 0 for any. */
export const OP_MIN_LSN = 4;
export const OP_STRIDE = 5;

export interface QueryBatch {
  type: 'queries';
  seq: number;
  ops: Float64Array;
}

/**
 * Per-op outcomes, OPR_STRIDE values per op. A node answers ops as they finish, so the ops of one
 * batch may come back in several messages and one message may carry ops of several batches:
 * OPR_SEQ and OPR_INDEX name the batch and the op in it.
 */
export const OPR_SEQ = 0;
export const OPR_INDEX = 1;
export const OPR_STATUS = 2;
export const OPR_ROWS = 3;
/** For a write, the log position it committed at; for a read, the node's applied log position. */
export const OPR_LSN = 4;
export const OPR_EPOCH = 5;
export const OPR_STRIDE = 6;
export const QUERY_OK = 0;
/** SQLite answered SQLITE_BUSY (or LOCKED); counted as an error, never retried by the node. */
export const QUERY_BUSY = 1;
export const QUERY_FAILED = 2;
/** A write that this node does not accept: it is not the primary, its writes are paused, or the epoch differs. */
export const QUERY_FENCED = 3;
/** A read-your-writes read that reached a node which has not yet applied the session's last write. */
export const QUERY_BEHIND = 4;
/** Set by the web server thread, never by a node: the link closed or the query timed out. */
export const QUERY_UNREACHABLE = 5;

export interface QueryResults {
  type: 'results';
  results: Float64Array;
}

// The engine <-> database node and node <-> node protocols live in workers/db-node/protocol.ts.
