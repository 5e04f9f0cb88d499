import { z } from 'zod';
import type { Algorithm, Command } from './commands.ts';
import { commandSchema } from './commands.ts';
import type { LoadModel, RequestKind, Scenario, ScenarioInput } from './scenario.ts';

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
}

export interface DatabaseSnapshot {
  state: 'up' | 'down';
  readsPerSec: number;
  writesPerSec: number;
  /** Rows in the posts table that writes acknowledged to clients added since the run began. */
  acknowledgedWrites: number;
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
  database: DatabaseSnapshot;
  host: HostSnapshot;
}

export type RunEventKind = 'run' | 'scaling' | 'fault' | 'load' | 'balancer' | 'server';

export interface RunEvent {
  /** Milliseconds since the run started. */
  tMs: number;
  kind: RunEventKind;
  message: string;
  serverId?: number;
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
}

export interface RunReport {
  format: 'scalelab-report';
  formatVersion: 1;
  createdAt: string;
  scenario: Scenario;
  cpuModel: Scenario['cpuModel'];
  /** "closed" marks a run whose load waited for answers, so its latency figures hide stalls. */
  loadModel: LoadModel;
  ticks: TickSnapshot[];
  events: RunEvent[];
  summary: RunSummary;
  host: HostInfo;
  /** The folder that holds the run's SQLite files. */
  dataDir: string;
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
  | { type: 'command'; id: number; command: Command }
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
]);

export type ClientRequest = z.output<typeof clientRequestSchema>;

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

export type { Algorithm, Command, LoadModel, RequestKind, Scenario, ScenarioInput };
