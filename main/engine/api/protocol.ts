import { z } from 'zod';
import type { Algorithm, Command, CommandInput } from './commands.ts';
import { commandSchema } from './commands.ts';
import type { LoadModel, RequestKind, Scenario, ScenarioInput } from './scenario.ts';
import type { DataLayoutName, ReplicationModeName } from './database-config.ts';

// Types of what the engine reports. The engine produces these, so they are plain interfaces; input
// that crosses a boundary towards the engine is described by the zod schemas further down.

export const ERROR_KINDS = ['serverDown', 'timeout', 'overloaded', 'databaseUnavailable', 'serverError'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];
export type ErrorCounts = Record<ErrorKind, number>;

/** Human wording of each error outcome, for charts, tables and reports. */
export const ERROR_LABELS: Record<ErrorKind, string> = {
  serverDown: 'server down',
  timeout: 'timeout',
  overloaded: 'overloaded',
  databaseUnavailable: 'database unavailable',
  serverError: 'server error',
};

export type ServerState = 'up' | 'down' | 'starting' | 'draining';

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface ServerSnapshot {
  id: number;
  state: ServerState;
  vcpus: number;
  /** Share of vCPU time busy during the tick, 0 to 1. */
  utilization: number;
  inFlight: number;
  /** Requests waiting for a free vCPU. */
  queue: number;
  /** Requests that ended ok during the tick, per second. */
  okRps: number;
  /** Requests that ended in an error during the tick, per second. */
  errorRps: number;
  /** Share of the balancer's picks during the tick, 0 to 1. */
  pickShare: number;
  /** The balancer's view of the server, which may differ from its true state. */
  balancer: BackendView;
  /** Weight for weighted round robin. */
  weight: number;
}

/**
 * The balancer's view of a server: taking new requests, failed by health checks, ejected after
 * consecutive errors, taken out by the operator (draining, resizing), or warming up in slow start.
 */
export type BackendView = 'in-rotation' | 'unhealthy' | 'ejected' | 'out-of-rotation' | 'slow-start';

export interface BalancerSnapshot {
  algorithm: Algorithm;
  /** Picks during the tick. */
  picks: number;
  /** Attempts since the run began, first attempts and retries. */
  attempts: number;
  retries: number;
  /** Retries refused because the retry budget was spent. */
  retriesRefused: number;
  /** Retries waiting in backoff or in flight now. */
  retriesActive: number;
  healthChecks: boolean;
  outlierDetection: boolean;
  retriesEnabled: boolean;
  slowStartMs: number;
}

export interface DatabaseSnapshot {
  /** The primary's state: "down" from its crash until a replica is promoted or it returns. */
  state: 'up' | 'down';
  /** Reads and writes served by all nodes during the tick, per second. */
  readsPerSec: number;
  writesPerSec: number;
  /** Writes acknowledged to clients since the run began (the clients' ledger). */
  acknowledgedWrites: number;
  layout: DataLayoutName;
  /** The configured replication mode. */
  replicationMode: ReplicationModeName;
  /** The mode in effect: "asynchronous" while a semi-synchronous primary has fallen back. */
  effectiveReplicationMode: ReplicationModeName;
  readYourWrites: boolean;
  automaticFailover: boolean;
  /** The node that takes writes now, and its epoch. */
  primaryNodeId: number;
  epoch: number;
  /** False while no node accepts writes (primary down, failover or switchover in progress). */
  writesAvailable: boolean;
  /** The primary's last committed log position. */
  primaryLsn: number;
  nodes: DatabaseNodeSnapshot[];
  /** Reads that saw data older than their session's last acknowledged write: during the tick per second, and in all. */
  staleReadsPerSec: number;
  staleReads: number;
  /** Writes rejected because of their epoch or a paused primary, in all. */
  fencedWrites: number;
  /** SQLITE_BUSY errors, in all; each also ended a request as an error. */
  busyErrors: number;
  /** Failovers and switchovers so far. */
  failovers: number;
}

export type DatabaseNodeState = 'starting' | 'up' | 'down' | 'rebuilding';

export interface DatabaseNodeSnapshot {
  id: number;
  role: 'primary' | 'replica';
  /** As the engine sees it: "down" once the thread ended or the monitor missed its heartbeats. */
  state: DatabaseNodeState;
  vcpus: number;
  /** Share of vCPU time busy during the tick, 0 to 1. */
  utilization: number;
  readsPerSec: number;
  writesPerSec: number;
  /** Log entries applied from the primary during the tick, per second (replicas). */
  appliedPerSec: number;
  /** The last log position committed (primary) or applied (replica). */
  lsn: number;
  epoch: number;
  /** Replicas only: log positions behind the primary, and milliseconds since the oldest entry it lacks was committed. */
  lagLsn: number;
  lagMs: number;
  /** Replicas only: the link's one-way delay and whether it is cut. */
  delayMs: number;
  linkCut: boolean;
  /** Replicas only, synchronous mode: whether writes wait for this replica. */
  inSyncSet: boolean;
}

/** One failover or switchover, with its timeline in milliseconds since the run started. */
export interface FailoverRecord {
  kind: 'failover' | 'switchover';
  /** How it ended: a promotion, or why there was none. */
  outcome: 'promoted' | 'no-eligible-replica' | 'automatic-failover-off' | 'aborted';
  fromNodeId: number;
  toNodeId: number | null;
  fromEpoch: number;
  toEpoch: number | null;
  replicationMode: ReplicationModeName;
  /** Primary crashed (failover) or writes paused (switchover). */
  lostAtMs: number;
  detectedAtMs: number | null;
  promotedAtMs: number | null;
  /** When a client first got an ok for a write on the new primary. */
  writesResumedAtMs: number | null;
  /** Writes unavailable: from lostAtMs to writesResumedAtMs; null until writes resume. */
  rtoMs: number | null;
  /** The last log position of the lost primary, and the position the new primary took over at. */
  lostPrimaryLsn: number;
  promotedAtLsn: number | null;
  /**
   * Acknowledged writes missing from the new primary: the ids in the clients' ledger, acknowledged
   * before the promotion, that the new primary's data does not contain. Null until checked.
   */
  rpoWrites: number | null;
  /** The missing write ids (at most RPO_IDS_LISTED of them). */
  rpoWriteIds: number[];
  /** Why there was no promotion, when there was none. */
  reason?: string;
}

export interface DatabaseReport {
  layout: DataLayoutName;
  failovers: FailoverRecord[];
  acknowledgedWrites: number;
  staleReads: number;
  fencedWrites: number;
  busyErrors: number;
  /** Writes a returning node held that its new primary lacked, discarded when it was rebuilt. */
  discardedWrites: number;
  /** Of those, the ones that had been acknowledged to clients. */
  discardedAcknowledgedWrites: number;
  /** The largest replication lag any replica showed in a tick. */
  maxLagLsn: number;
  maxLagMs: number;
}

export interface HostSnapshot {
  /** Event-loop utilization of the engine thread during the tick, 0 to 1. */
  engineLoopUtilization: number;
  /** Process CPU time during the tick divided by wall time, in cores (2.0 is two cores fully busy). */
  processCpuCores: number;
  cores: number;
  /** Milliseconds by which the load generator fell behind its schedule at the end of the tick. */
  generatorLagMs: number;
  /** True when the host, not the modelled system, is likely limiting the run. */
  limited: boolean;
}

/** One tick of the run: counts during the tick and cumulative books. */
export interface TickSnapshot {
  tick: number;
  /** Milliseconds since the run started, at the end of the tick. */
  tMs: number;
  tickMs: number;
  offeredRps: number;
  okRps: number;
  errorRps: number;
  errorsRpsByKind: ErrorCounts;
  latency: LatencySummary;
  books: {
    sent: number;
    ok: number;
    errors: ErrorCounts;
    errorsTotal: number;
    inFlight: number;
    /** sent === ok + errorsTotal + inFlight; a run where this is false has a bookkeeping bug. */
    balanced: boolean;
  };
  config: {
    servers: number;
    vcpus: number;
    /**
     * Open model: the rate the load aims at now. Closed model: the rate at which the users thinking
     * now send (thinking users / mean think time), 0 when the think time is 0.
     */
    rateRps: number;
    algorithm: Algorithm;
    /**
     * "closed" marks a run whose users wait for responses before sending more: its load falls when
     * the system stalls, so its latency figures hide stalls that an open-model run shows.
     */
    loadModel: LoadModel;
    /** Concurrent users in the closed model; null in the open model. */
    users: number | null;
  };
  servers: ServerSnapshot[];
  balancer: BalancerSnapshot;
  database: DatabaseSnapshot;
  host: HostSnapshot;
}

export type RunEventKind = 'run' | 'scaling' | 'fault' | 'load' | 'balancer' | 'server' | 'database' | 'failover';

export interface RunEvent {
  /** Milliseconds since the run started. */
  tMs: number;
  kind: RunEventKind;
  message: string;
  serverId?: number;
  /** The database node the event is about. */
  nodeId?: number;
}

export type RunState = 'idle' | 'starting' | 'running' | 'stopping' | 'finished' | 'failed';

export interface HostInfo {
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  totalMemoryMiB: number;
  node: string;
  electron?: string;
}

export interface RunSummary {
  durationMs: number;
  sent: number;
  ok: number;
  errors: ErrorCounts;
  errorsTotal: number;
  inFlightAtEnd: number;
  okRps: number;
  latency: LatencySummary;
  /** True when every tick's books balanced. */
  booksBalanced: boolean;
  acknowledgedWrites: number;
  peakOkRps: number;
  hostLimitedTicks: number;
  /** Attempts the balancer made, first attempts and retries. */
  attempts: number;
  retries: number;
  /** Attempts per request sent: 1.0 means no retries. */
  amplification: number;
}

export interface RunReport {
  format: 'scalelab-report';
  formatVersion: 1;
  createdAt: string;
  scenario: Scenario;
  cpuModel: Scenario['cpuModel'];
  /** "closed" marks a run whose load waited for responses, so its latency figures hide stalls. */
  loadModel: LoadModel;
  ticks: TickSnapshot[];
  events: RunEvent[];
  summary: RunSummary;
  host: HostInfo;
  /** The folder that contains the run's SQLite files. */
  dataDir: string;
  /** The data tier's failovers, lag and write accounting; absent in reports saved before it was recorded. */
  database?: DatabaseReport;
}

export interface RunStatus {
  state: RunState;
  scenarioName: string | null;
  elapsedMs: number;
  cpuModel: Scenario['cpuModel'] | null;
}

// Messages between a host and the engine thread.

export type EngineRequest =
  | { type: 'start'; id: number; scenario: ScenarioInput }
  | { type: 'command'; id: number; command: CommandInput }
  | { type: 'stop'; id: number }
  | { type: 'status'; id: number };

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
}

export type EngineMessage =
  | { type: 'reply'; id: number; ok: true; value?: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError }
  | { type: 'status'; status: RunStatus }
  | { type: 'tick'; tick: TickSnapshot }
  | { type: 'event'; event: RunEvent }
  | { type: 'finished'; report: RunReport };

// Messages between the UI and a host (WebSocket or Electron IPC). Everything from the UI is
// untrusted until these schemas have parsed it.

export const clientRequestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('list-presets'), id: z.number().int().nonnegative() }).strict(),
  z
    .object({
      type: z.literal('start'),
      id: z.number().int().nonnegative(),
      /** A preset's file name, or a whole scenario object. */
      preset: z.string().min(1).max(200).optional(),
      scenario: z.unknown().optional(),
    })
    .strict()
    .refine((request) => (request.preset === undefined) !== (request.scenario === undefined), {
      message: 'expected exactly one of "preset" or "scenario"',
    }),
  z.object({ type: z.literal('command'), id: z.number().int().nonnegative(), command: commandSchema }).strict(),
  z.object({ type: z.literal('stop'), id: z.number().int().nonnegative() }).strict(),
  z.object({ type: z.literal('status'), id: z.number().int().nonnegative() }).strict(),
  z
    .object({
      type: z.literal('save-report'),
      id: z.number().int().nonnegative(),
      /** A plain file name in the host's reports folder; the host checks it further before writing. */
      fileName: z.string().max(1000),
      /** Replace an existing file of that name instead of rejecting the request. */
      overwrite: z.boolean().optional(),
    })
    .strict(),
]);

export type ClientRequest = z.output<typeof clientRequestSchema>;
/** A request as a UI writes it, before validation: command durations are strings with units. */
export type ClientRequestInput = z.input<typeof clientRequestSchema>;

export interface PresetInfo {
  file: string;
  name: string;
  description: string;
  scenario: ScenarioInput;
}

export type ServerPush = Exclude<EngineMessage, { type: 'reply' }>;

/** A reply to a ClientRequest, or a push from the running engine. */
export type HostMessage =
  | { type: 'reply'; id: number; ok: true; value?: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError }
  | ServerPush;

export function emptyErrorCounts(): ErrorCounts {
  return { serverDown: 0, timeout: 0, overloaded: 0, databaseUnavailable: 0, serverError: 0 };
}

export type { Algorithm, Command, CommandInput, LoadModel, RequestKind, Scenario, ScenarioInput };
