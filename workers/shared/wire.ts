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
export const REQ_STRIDE = 5;

/** Fields of one result record, in the same order as the batch's requests. */
export const RES_STATUS = 0;
/** When the response left the server, in epoch milliseconds. */
export const RES_END = 1;
export const RES_STRIDE = 2;

/** Result statuses. The engine adds its own outcomes (timeout, server down, overloaded). */
export const STATUS_OK = 0;
export const STATUS_SERVER_ERROR = 1;
export const STATUS_DB_UNAVAILABLE = 2;

/** Where a web server thread sends queries; it travels with every batch, so a change reaches every thread. */
export interface DbRoute {
  /** The node that takes writes (and reads when no replica can). */
  primaryNodeId: number;
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

export type WebServerTask = ServeTask | PingTask;

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
export const OP_STRIDE = 3;
/** Fields of one query record: opcode, user id, write id (0 for reads). */
export const OP_CODE = 0;
export const OP_USER = 1;
export const OP_WRITE_ID = 2;

export interface QueryBatch {
  type: 'queries';
  seq: number;
  ops: Float64Array;
}

/** Per-op outcome of a query batch: OPR_STRIDE values per op. */
export const OPR_STATUS = 0;
export const OPR_ROWS = 1;
export const OPR_STRIDE = 2;
export const QUERY_OK = 0;
export const QUERY_BUSY = 1;
export const QUERY_FAILED = 2;

export interface QueryResults {
  type: 'results';
  seq: number;
  results: Float64Array;
}

export interface DbNodeWorkerData extends ThreadEntryData {
  nodeId: number;
  file: string;
  seedUsers: number;
  seed: number;
  /** Float64Array over SharedArrayBuffer with the DB_STAT_* counters. */
  stats: SharedArrayBuffer;
  /** Path of a better-sqlite3 native binding to load instead of the default (Electron needs its own). */
  nativeBinding?: string;
}

export const DB_STAT_READS = 0;
export const DB_STAT_WRITES = 1;
export const DB_STAT_BUSY_ERRORS = 2;
export const DB_STAT_FAILED = 3;
export const DB_STAT_READY = 4;
export const DB_STAT_FIELDS = 5;

/** Control messages from the engine to a database node thread. */
export type DbControlMessage = { type: 'attach'; serverId: number; port: MessagePort };

/** Messages a database node thread posts to the engine. */
export type DbNodeMessage =
  | { type: 'ready'; nodeId: number; users: number; posts: number }
  | { type: 'error'; nodeId: number; error: { name: string; message: string; code?: string } };
