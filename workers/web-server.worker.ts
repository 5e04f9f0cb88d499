// A web server thread: one of the threads of a server's piscina pool. It takes batches of
// requests, keeps each on a vCPU for its CPU time, runs API reads and writes against a database
// node over a direct MessagePort, and resolves the batch with one result record per request.
import { workerData } from 'node:worker_threads';
import { DbLink, DbRouter } from './web-server/db-link.ts';
import { burnCpuMs } from './web-server/real-cpu.ts';
import { VirtualCpu } from './web-server/virtual-cpu.ts';
import {
  CONTROL_ERROR_PPM,
  CONTROL_EXIT,
  CONTROL_HANG,
  CONTROL_SLOW_PERMILLE,
  KIND_STATIC,
  KIND_API_WRITE,
  QUERY_OK,
  REQ_ARRIVAL,
  REQ_CLIENT,
  REQ_CPU_MS,
  REQ_ID,
  REQ_KIND,
  REQ_MIN_LSN,
  REQ_STRIDE,
  RES_DB_EPOCH,
  RES_DB_LSN,
  RES_DB_NODE,
  RES_END,
  RES_STATUS,
  RES_STRIDE,
  STATS_SLOT_SIZE,
  STAT_BUSY_MS,
  STAT_BUSY_VCPUS,
  STAT_IN_SERVER,
  STAT_UPDATED_AT,
  STATUS_ABANDONED,
  STATUS_DB_UNAVAILABLE,
  STATUS_OK,
  STATUS_SERVER_ERROR,
  nowMs,
  type ServeTask,
  type WebServerTask,
  type WebServerWorkerData,
} from './shared/wire.ts';

const config = workerData as WebServerWorkerData;
const control = new Int32Array(config.control);
const stats = new Float64Array(config.stats);
/** This thread's stats slot; slot 0 of the buffer contains the counter that threads claim slots from. */
const slot = Atomics.add(new Int32Array(config.stats, 0, 1), 0, 1) + 1;
const slotBase = slot * STATS_SLOT_SIZE;

const cpu = new VirtualCpu(config.vcpusPerThread);
const db = new DbRouter(new DbLink(config.serverId, config.dbTimeoutMs));
cpu.onIdleTick = publishStats;

/** Requests accepted and still without a response, for the stats slot. */
let inServer = 0;
let realBusyMs = 0;

/** Responses held by the "hang" fault, released when the fault clears. */
const held: Array<() => void> = [];
let holdTimer: NodeJS.Timeout | undefined;

export default async function handle(task: WebServerTask): Promise<Float64Array | { slot: number } | boolean> {
  if (task.type === 'ping') return { slot };
  if (task.type === 'health') return answerHealthCheck();
  if (Atomics.load(control, CONTROL_EXIT) !== 0) process.exit(0);
  return config.cpuModel === 'real' ? serveReal(task) : serveVirtual(task);
}

/**
 * Serves a batch in the virtual CPU model. Each request's vCPU start and end times follow from the
 * FIFO multi-server recursion (start = max(arrival, earliest free vCPU)), so queueing matches
 * theory regardless of timer jitter; timers only deliver each response at its modelled end time.
 */
function serveVirtual(task: ServeTask): Promise<Float64Array> {
  return new Promise((resolve) => {
    const batch = new PendingBatch(task.requests, resolve);
    const slowFactor = slowFactorNow();
    for (let i = 0; i < batch.count; i++) {
      const arrivalMs = batch.field(i, REQ_ARRIVAL);
      const deadlineMs = arrivalMs + config.abandonAfterMs;
      const endMs = cpu.schedule(arrivalMs, batch.field(i, REQ_CPU_MS) * slowFactor, deadlineMs);
      if (endMs < 0) batch.finish(i, STATUS_ABANDONED, deadlineMs);
      else cpu.at(endMs, () => afterCpu(task, batch, i, endMs));
    }
    publishStats();
  });
}

/**
 * Serves a batch in the real CPU model: this thread is one vCPU and burns calibrated CPU for each
 * request in turn. Database queries do not hold the vCPU; the batch resolves when every request has its response.
 */
function serveReal(task: ServeTask): Promise<Float64Array> {
  return new Promise((resolve) => {
    const batch = new PendingBatch(task.requests, resolve);
    const slowFactor = slowFactorNow();
    for (let i = 0; i < batch.count; i++) {
      // A batch waits in piscina's queue until this thread is free; its clients may have gone meanwhile.
      const deadlineMs = batch.field(i, REQ_ARRIVAL) + config.abandonAfterMs;
      if (nowMs() >= deadlineMs) {
        batch.finish(i, STATUS_ABANDONED, deadlineMs);
        continue;
      }
      const serviceMs = batch.field(i, REQ_CPU_MS) * slowFactor;
      burnCpuMs(serviceMs);
      realBusyMs += serviceMs;
      afterCpu(task, batch, i, nowMs());
    }
    publishStats();
  });
}

/** Results of one batch, resolved when every request in it has an outcome. */
class PendingBatch {
  readonly count: number;
  private readonly results: Float64Array;
  private remaining: number;

  constructor(
    private readonly requests: Float64Array,
    private readonly resolve: (results: Float64Array) => void,
  ) {
    this.count = requests.length / REQ_STRIDE;
    this.results = new Float64Array(this.count * RES_STRIDE);
    this.remaining = this.count;
    inServer += this.count;
    if (this.count === 0) resolve(this.results);
  }

  field(index: number, field: number): number {
    return this.requests[index * REQ_STRIDE + field];
  }

  finish(index: number, status: number, endMs: number, query?: QueryAnswer): void {
    const base = index * RES_STRIDE;
    this.results[base + RES_STATUS] = status;
    this.results[base + RES_END] = endMs;
    if (query) {
      this.results[base + RES_DB_LSN] = query.lsn;
      this.results[base + RES_DB_EPOCH] = query.epoch;
      this.results[base + RES_DB_NODE] = query.nodeId;
    }
    inServer--;
    if (--this.remaining === 0) this.resolve(this.results);
  }
}

/**
 * Runs the database part of a request once its CPU part ended at `cpuEndMs`, then responds.
 * HTML pages and API reads load the client's feed; API writes insert a post.
 */
function afterCpu(task: ServeTask, batch: PendingBatch, index: number, cpuEndMs: number): void {
  const kind = batch.field(index, REQ_KIND);
  if (kind === KIND_STATIC) {
    respond(batch, index, STATUS_OK, cpuEndMs);
    return;
  }
  const clientId = batch.field(index, REQ_CLIENT);
  const done = (status: number, lsn: number, epoch: number, nodeId: number): void => {
    respond(batch, index, status === QUERY_OK ? STATUS_OK : STATUS_DB_UNAVAILABLE, nowMs(), { lsn, epoch, nodeId });
  };
  if (kind === KIND_API_WRITE) db.write(task.db, clientId, batch.field(index, REQ_ID), done);
  else db.read(task.db, clientId, batch.field(index, REQ_MIN_LSN), done);
}

/** What the database reported for a request's query, returned with the response. */
interface QueryAnswer {
  lsn: number;
  epoch: number;
  nodeId: number;
}

/**
 * Sends a response: now, or when the "hang" fault clears (its end time is then the release
 * time). The error-rate fault turns a share of ok responses into server errors.
 */
function respond(batch: PendingBatch, index: number, status: number, endMs: number, query?: QueryAnswer): void {
  const finalStatus = status === STATUS_OK && shouldFail() ? STATUS_SERVER_ERROR : status;
  if (Atomics.load(control, CONTROL_HANG) !== 0) {
    held.push(() => batch.finish(index, finalStatus, nowMs(), query));
    holdTimer ??= setInterval(releaseIfUnhung, 5);
    return;
  }
  batch.finish(index, finalStatus, endMs, query);
}

/** Responds to a health check, or keeps the response like any other while the server hangs. */
function answerHealthCheck(): Promise<boolean> {
  return new Promise((resolve) => {
    if (Atomics.load(control, CONTROL_HANG) === 0) {
      resolve(true);
      return;
    }
    held.push(() => resolve(true));
    holdTimer ??= setInterval(releaseIfUnhung, 5);
  });
}

function releaseIfUnhung(): void {
  if (Atomics.load(control, CONTROL_HANG) !== 0) return;
  clearInterval(holdTimer);
  holdTimer = undefined;
  const releasing = held.splice(0, held.length);
  for (const send of releasing) send();
  publishStats();
}

function shouldFail(): boolean {
  const ppm = Atomics.load(control, CONTROL_ERROR_PPM);
  return ppm > 0 && Math.random() * 1_000_000 < ppm;
}

function slowFactorNow(): number {
  const permille = Atomics.load(control, CONTROL_SLOW_PERMILLE);
  return permille > 0 ? permille / 1000 : 1;
}

function publishStats(): void {
  const now = nowMs();
  const real = config.cpuModel === 'real';
  stats[slotBase + STAT_BUSY_MS] = real ? realBusyMs : cpu.busyMsUntil(now);
  stats[slotBase + STAT_BUSY_VCPUS] = real ? Math.min(1, inServer) : cpu.busyVcpusAt(now);
  stats[slotBase + STAT_IN_SERVER] = inServer;
  stats[slotBase + STAT_UPDATED_AT] = now;
}
