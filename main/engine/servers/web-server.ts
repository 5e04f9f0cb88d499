import { Piscina } from 'piscina';
import type { ErrorKind, ServerSnapshot, ServerState } from '../api/protocol.ts';
import { subsystemLogger } from '../log.ts';
import {
  CONTROL_ERROR_PPM,
  CONTROL_EXIT,
  CONTROL_FIELDS,
  CONTROL_HANG,
  CONTROL_SLOW_PERMILLE,
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
  STATS_SLOTS,
  STATS_SLOT_SIZE,
  STAT_BUSY_MS,
  STAT_BUSY_VCPUS,
  STATUS_ABANDONED,
  STATUS_DB_UNAVAILABLE,
  STATUS_OK,
  type DbLinkMessage,
  type DbRoute,
  nowMs,
  threadEntry,
  type ServeTask,
  type WebServerWorkerData,
} from '../../../workers/shared/wire.ts';

const log = subsystemLogger('server');

/** How much later than a request's timeout the engine gives up waiting for its batch (one tick). */
const EXPIRY_GRACE_MS = 250;
/** Reused for every request's query outcome, so settling a request allocates nothing. */
const queryOutcome: QueryOutcome = { nodeId: 0, epoch: 0, lsn: 0, minLsn: 0 };

/** Settings and callbacks a server takes from the run it belongs to. */
export interface ServerContext {
  cpuModel: 'virtual' | 'real';
  workerFile: string;
  /** The TypeScript loader threads start from, when running from sources. */
  loader?: string;
  dbTimeoutMs: number;
  requestTimeoutMs: number;
  /** Requests in flight at which the server responds "overloaded" instead of queueing more. */
  queueLimit: number;
  /** The database route that queries take now. */
  dbRoute(): DbRoute;
  onDbLink(message: DbLinkMessage): void;
  /** The log position of the session's last acknowledged write, 0 when it has none; sent with each request. */
  sessionMinLsn(clientId: number): number;
  /** Called once per request attempt when it ends, with "ok" or the error kind; latency counts from `dueMs`. */
  onOutcome(
    server: WebServer,
    outcome: 'ok' | ErrorKind,
    kind: number,
    requestId: number,
    clientId: number,
    dueMs: number,
    latencyMs: number,
    query?: QueryOutcome,
  ): void;
  onStateChange(server: WebServer, state: ServerState, reason: string): void;
}

/**
 * The database's result for a request that ended after a query. The object passed to
 * onOutcome is reused for the next request, so a callee must copy what it keeps.
 */
export interface QueryOutcome {
  nodeId: number;
  epoch: number;
  /** For a write, the log position it committed at; for a read, the log position its node had applied. */
  lsn: number;
  /** The session's last acknowledged write position when the request was sent. */
  minLsn: number;
}

/** Requests dispatched to the server in one task, with what the engine needs to settle each. */
class Batch {
  readonly ids: Float64Array;
  readonly dueMs: Float64Array;
  readonly kinds: Uint8Array;
  readonly clients: Float64Array;
  readonly minLsns: Float64Array;
  readonly settled: Uint8Array;
  unsettled: number;

  constructor(count: number) {
    this.ids = new Float64Array(count);
    this.dueMs = new Float64Array(count);
    this.kinds = new Uint8Array(count);
    this.clients = new Float64Array(count);
    this.minLsns = new Float64Array(count);
    this.settled = new Uint8Array(count);
    this.unsettled = count;
  }
}

/**
 * The engine's side of one web server: its piscina pool, its state, and the requests it has in
 * flight. Requests routed to it in one engine step go out together as one task (a batch), since a
 * task round trip costs far more than the per-request work.
 */
export class WebServer {
  state: ServerState = 'down';
  /** False while the balancer must not send new requests here (draining, resizing, removed). */
  inRotation = true;
  inFlight = 0;
  /** When the server stopped responding (crash, hang, thread exit), for health-check detection times. */
  failingSinceMs: number | null = null;
  tickOk = 0;
  tickErrors = 0;
  tickPicks = 0;

  private pool: Piscina | null = null;
  private generation = 0;
  private readonly control = new SharedArrayBuffer(CONTROL_FIELDS * 4);
  private readonly controlView = new Int32Array(this.control);
  private stats = new SharedArrayBuffer(STATS_SLOTS * STATS_SLOT_SIZE * 8);
  private lastBusyMs = 0;

  private pendingRecords: number[] = [];
  private pendingDue: number[] = [];
  private readonly batches: Batch[] = [];
  private batchHead = 0;
  private drainWaiters: Array<() => void> = [];

  constructor(
    readonly id: number,
    public vcpus: number,
    private readonly context: ServerContext,
  ) {}

  /** Starts a fresh pool; the server is "starting" until a thread has responded to a ping. */
  async start(): Promise<void> {
    const generation = ++this.generation;
    this.controlView.fill(0);
    this.stats = new SharedArrayBuffer(STATS_SLOTS * STATS_SLOT_SIZE * 8);
    this.lastBusyMs = 0;
    this.setState('starting', 'pool starting');
    const real = this.context.cpuModel === 'real';
    const threads = real ? this.vcpus : 1;
    const entry = threadEntry(this.context.workerFile, this.context.loader);
    const workerData: WebServerWorkerData = {
      tsEntry: entry.tsEntry,
      serverId: this.id,
      cpuModel: this.context.cpuModel,
      vcpusPerThread: real ? 1 : this.vcpus,
      stats: this.stats,
      control: this.control,
      dbTimeoutMs: this.context.dbTimeoutMs,
      abandonAfterMs: this.context.requestTimeoutMs,
    };
    const pool = new Piscina({
      filename: entry.filename,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      // In the virtual model one thread keeps every request until its modelled end time; in the
      // real model a thread is a vCPU, so it takes one batch at a time and the rest queue.
      concurrentTasksPerWorker: real ? 1 : 1_000_000,
      atomics: 'disabled',
      recordTiming: false,
      workerData,
    });
    pool.on('error', (error: Error) => {
      log.error({ serverId: this.id, err: error }, 'web server pool error');
      if (generation === this.generation) this.crash(`thread error: ${error.message}`);
    });
    pool.on('message', (message: DbLinkMessage) => {
      if (message?.type === 'db-link') this.context.onDbLink(message);
    });
    this.pool = pool;
    try {
      await pool.run({ type: 'ping' });
    } catch (error) {
      if (generation === this.generation) this.crash(`start failed: ${(error as Error).message}`);
      return;
    }
    if (generation === this.generation) {
      this.failingSinceMs = null;
      this.setState('up', 'pool ready');
    }
  }

  /**
   * Accepts one request routed here by the balancer. A server that is down refuses it at once,
   * as a closed port would; a full server responds "overloaded".
   */
  accept(requestId: number, kind: number, dueMs: number, arrivalMs: number, cpuMs: number, clientId: number): void {
    this.tickPicks++;
    if (this.state !== 'up') {
      this.tickErrors++;
      this.context.onOutcome(this, 'serverDown', kind, requestId, clientId, dueMs, 0);
      return;
    }
    if (this.inFlight >= this.context.queueLimit) {
      this.tickErrors++;
      this.context.onOutcome(this, 'overloaded', kind, requestId, clientId, dueMs, 0);
      return;
    }
    this.inFlight++;
    this.pendingRecords.push(requestId, kind, arrivalMs, cpuMs, clientId, this.context.sessionMinLsn(clientId));
    this.pendingDue.push(dueMs);
  }

  /** Sends the requests accepted since the last flush; the real model splits them across threads. */
  flush(): void {
    const count = this.pendingDue.length;
    if (count === 0 || !this.pool) return;
    const records = this.pendingRecords;
    const due = this.pendingDue;
    this.pendingRecords = [];
    this.pendingDue = [];
    const chunks = this.context.cpuModel === 'real' ? Math.min(this.vcpus, count) : 1;
    const chunkSize = Math.ceil(count / chunks);
    for (let start = 0; start < count; start += chunkSize) {
      this.dispatch(records, due, start, Math.min(count, start + chunkSize));
    }
  }

  /**
   * Ends as "timeout" every request still without a response `requestTimeoutMs` after it was
   * due. A batch comes back when its last request is done, so a request that got its response in
   * time may be reported a little later. Expiry therefore waits EXPIRY_GRACE_MS more, and
   * `complete` judges each request by the end time the server recorded.
   */
  expire(nowMs: number): void {
    const deadline = nowMs - this.context.requestTimeoutMs - EXPIRY_GRACE_MS;
    while (this.batchHead < this.batches.length) {
      const batch = this.batches[this.batchHead];
      if (batch.unsettled > 0 && batch.dueMs[0] > deadline) break;
      for (let i = 0; i < batch.ids.length && batch.unsettled > 0; i++) {
        if (!batch.settled[i] && batch.dueMs[i] <= deadline) this.settle(batch, i, 'timeout', 0);
      }
      if (batch.unsettled > 0) break;
      this.batchHead++;
    }
    this.compactBatches();
  }

  /**
   * Sends a health check probe; resolves true if the server responded within `timeoutMs`. A server
   * that is down refuses at once; a hung one never responds.
   */
  probe(timeoutMs: number): Promise<boolean> {
    const pool = this.pool;
    if (!pool || (this.state !== 'up' && this.state !== 'draining')) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      pool.run({ type: 'health' }).then(
        () => {
          clearTimeout(timer);
          resolve(true);
        },
        () => {
          clearTimeout(timer);
          resolve(false);
        },
      );
    });
  }

  /** Terminates the server's threads; every request it has in flight ends as "server down". */
  crash(reason: string): void {
    if (this.state === 'down' && !this.pool) return;
    this.failingSinceMs ??= nowMs();
    this.generation++;
    const pool = this.pool;
    this.pool = null;
    this.failAll('serverDown');
    this.setState('down', reason);
    if (pool) {
      pool.destroy().catch((error: Error) => log.warn({ serverId: this.id, err: error }, 'pool destroy failed'));
    }
  }

  /**
   * Takes the server out of rotation and waits until its requests in flight have ended or
   * `timeoutMs` has passed; those still in flight then end as "server down".
   */
  async drain(timeoutMs: number): Promise<void> {
    this.inRotation = false;
    if (this.state === 'up') this.setState('draining', 'taken out of rotation');
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.drainWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Stops the server, as after a drain; anything still in flight ends as `leftover` ("server down" by default). */
  async stop(reason: string, leftover: ErrorKind = 'serverDown'): Promise<void> {
    this.generation++;
    const pool = this.pool;
    this.pool = null;
    this.failAll(leftover);
    this.setState('down', reason);
    if (pool) await pool.destroy();
  }

  setHang(on: boolean): void {
    Atomics.store(this.controlView, CONTROL_HANG, on ? 1 : 0);
    if (on) this.failingSinceMs ??= nowMs();
    else if (this.state === 'up') this.failingSinceMs = null;
  }

  setSlowFactor(factor: number): void {
    Atomics.store(this.controlView, CONTROL_SLOW_PERMILLE, Math.round(factor * 1000));
  }

  setErrorRate(share: number): void {
    Atomics.store(this.controlView, CONTROL_ERROR_PPM, Math.round(share * 1_000_000));
  }

  /** Makes the server's threads call process.exit at their next batch, as a crashing process would. */
  exitThreadsOnNextBatch(): void {
    Atomics.store(this.controlView, CONTROL_EXIT, 1);
  }

  clearFaults(): void {
    this.setHang(false);
    this.setSlowFactor(1);
    this.setErrorRate(0);
  }

  /** Reads the tick's figures and clears the tick counters; the balancer adds its own view. */
  snapshot(tickMs: number, totalPicks: number): Omit<ServerSnapshot, 'balancer' | 'weight'> {
    const stats = new Float64Array(this.stats);
    let busyMs = 0;
    let busyVcpus = 0;
    for (let s = 1; s < STATS_SLOTS; s++) {
      busyMs += stats[s * STATS_SLOT_SIZE + STAT_BUSY_MS];
      busyVcpus += stats[s * STATS_SLOT_SIZE + STAT_BUSY_VCPUS];
    }
    const utilization = this.state === 'down' ? 0 : Math.min(1, Math.max(0, (busyMs - this.lastBusyMs) / (tickMs * this.vcpus)));
    this.lastBusyMs = busyMs;
    const snapshot: Omit<ServerSnapshot, 'balancer' | 'weight'> = {
      id: this.id,
      state: this.state,
      vcpus: this.vcpus,
      utilization,
      inFlight: this.inFlight,
      queue: Math.max(0, this.inFlight - busyVcpus),
      okRps: (this.tickOk * 1000) / tickMs,
      errorRps: (this.tickErrors * 1000) / tickMs,
      pickShare: totalPicks > 0 ? this.tickPicks / totalPicks : 0,
    };
    this.tickOk = 0;
    this.tickErrors = 0;
    this.tickPicks = 0;
    return snapshot;
  }

  private dispatch(records: number[], due: number[], from: number, to: number): void {
    const count = to - from;
    const batch = new Batch(count);
    const requests = new Float64Array(count * REQ_STRIDE);
    for (let i = 0; i < count; i++) {
      const src = (from + i) * REQ_STRIDE;
      const dst = i * REQ_STRIDE;
      requests[dst + REQ_ID] = batch.ids[i] = records[src + REQ_ID];
      requests[dst + REQ_KIND] = batch.kinds[i] = records[src + REQ_KIND];
      requests[dst + REQ_ARRIVAL] = records[src + REQ_ARRIVAL];
      requests[dst + REQ_CPU_MS] = records[src + REQ_CPU_MS];
      requests[dst + REQ_CLIENT] = batch.clients[i] = records[src + REQ_CLIENT];
      requests[dst + REQ_MIN_LSN] = batch.minLsns[i] = records[src + REQ_MIN_LSN];
      batch.dueMs[i] = due[from + i];
    }
    this.batches.push(batch);
    const generation = this.generation;
    const task: ServeTask = { type: 'serve', requests, db: this.context.dbRoute() };
    this.pool!.run(task, { transferList: [requests.buffer] }).then(
      (results: Float64Array) => this.complete(batch, results),
      (error: Error) => this.fail(batch, generation, error),
    );
  }

  private complete(batch: Batch, results: Float64Array): void {
    for (let i = 0; i < batch.ids.length && batch.unsettled > 0; i++) {
      if (batch.settled[i]) continue;
      const base = i * RES_STRIDE;
      const status = results[base + RES_STATUS];
      const latencyMs = results[base + RES_END] - batch.dueMs[i];
      // A response that came after the client's timeout is a timeout, whatever status the server returned.
      const outcome = latencyMs > this.context.requestTimeoutMs ? 'timeout' : outcomeOf(status);
      const nodeId = results[base + RES_DB_NODE];
      if (nodeId > 0) {
        queryOutcome.nodeId = nodeId;
        queryOutcome.epoch = results[base + RES_DB_EPOCH];
        queryOutcome.lsn = results[base + RES_DB_LSN];
        queryOutcome.minLsn = batch.minLsns[i];
      }
      this.settle(batch, i, outcome, latencyMs, nodeId > 0 ? queryOutcome : undefined);
    }
    this.compactBatches();
  }

  private fail(batch: Batch, generation: number, error: Error): void {
    if (batch.unsettled > 0) {
      for (let i = 0; i < batch.ids.length; i++) if (!batch.settled[i]) this.settle(batch, i, 'serverDown', 0);
    }
    // A rejection the engine did not cause by destroying the pool means a thread died under load.
    if (generation === this.generation) {
      log.warn({ serverId: this.id, err: error }, 'web server thread failed; marking the server down');
      this.crash(`thread exited: ${error.message}`);
    }
  }

  private settle(batch: Batch, index: number, outcome: 'ok' | ErrorKind, latencyMs: number, query?: QueryOutcome): void {
    batch.settled[index] = 1;
    batch.unsettled--;
    this.inFlight--;
    if (outcome === 'ok') this.tickOk++;
    else this.tickErrors++;
    this.context.onOutcome(this, outcome, batch.kinds[index], batch.ids[index], batch.clients[index], batch.dueMs[index], latencyMs, query);
    if (this.inFlight === 0 && this.drainWaiters.length > 0) {
      for (const wake of this.drainWaiters.splice(0)) wake();
    }
  }

  private failAll(kind: ErrorKind): void {
    for (let b = this.batchHead; b < this.batches.length; b++) {
      const batch = this.batches[b];
      for (let i = 0; i < batch.ids.length && batch.unsettled > 0; i++) {
        if (!batch.settled[i]) this.settle(batch, i, kind, 0);
      }
    }
    this.batches.length = 0;
    this.batchHead = 0;
    // Requests accepted but not yet flushed never reached a thread.
    const records = this.pendingRecords;
    const due = this.pendingDue;
    this.pendingRecords = [];
    this.pendingDue = [];
    for (let i = 0; i < due.length; i++) {
      this.inFlight--;
      this.tickErrors++;
      const base = i * REQ_STRIDE;
      this.context.onOutcome(this, kind, records[base + REQ_KIND], records[base + REQ_ID], records[base + REQ_CLIENT], due[i], 0);
    }
    if (this.inFlight === 0) for (const wake of this.drainWaiters.splice(0)) wake();
  }

  /** Drops settled batches from the front of the queue once enough have piled up. */
  private compactBatches(): void {
    while (this.batchHead < this.batches.length && this.batches[this.batchHead].unsettled === 0) this.batchHead++;
    if (this.batchHead > 1024 && this.batchHead * 2 > this.batches.length) {
      this.batches.splice(0, this.batchHead);
      this.batchHead = 0;
    }
    if (this.batchHead === this.batches.length) {
      this.batches.length = 0;
      this.batchHead = 0;
    }
  }

  private setState(state: ServerState, reason: string): void {
    if (this.state === state) return;
    this.state = state;
    this.context.onStateChange(this, state, reason);
  }
}

function outcomeOf(status: number): 'ok' | ErrorKind {
  switch (status) {
    case STATUS_OK:
      return 'ok';
    case STATUS_DB_UNAVAILABLE:
      return 'databaseUnavailable';
    case STATUS_ABANDONED:
      return 'timeout';
    default:
      return 'serverError';
  }
}
