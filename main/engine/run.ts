import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { LIMITS, type Command } from './api/commands.ts';
import type { ErrorKind, RunEvent, RunEventKind, RunReport, RunStatus, ServerPush, ServerState, TickSnapshot } from './api/protocol.ts';
import { serviceTimesByKind, type Scenario } from './api/scenario.ts';
import { LoadBalancer } from './balancer/balancer.ts';
import { DatabaseCluster } from './database/cluster.ts';
import { BALANCER_ANSWER, DnsResolver } from './dns/resolver.ts';
import { createLoadGenerator, dnsClientCount, type LoadGenerator } from './load/load-generator.ts';
import { RequestMix } from './load/request-mix.ts';
import { ServiceTimes } from './load/service-times.ts';
import { subsystemLogger } from './log.ts';
import { Books } from './metrics/books.ts';
import { HostMeter } from './metrics/host-meter.ts';
import type { LatencyHistogram } from './metrics/latency.ts';
import { TickLog } from './metrics/tick-log.ts';
import { Random } from './random.ts';
import { buildReport } from './runs/report.ts';
import { WebServer, type QueryOutcome, type ServerContext } from './servers/web-server.ts';
import { KIND_API_WRITE, nowMs } from '../../workers/shared/wire.ts';

const log = subsystemLogger('run');

export const TICK_MS = 250;
/** The engine wakes at least this often while load is due, so a batch spans about this long. */
const STEP_MS = 1;
/** Due time one step generates at most. */
const MAX_STEP_SPAN_MS = 5;

const DB_TIMEOUT_MS = 2000;

export interface RunOptions {
  webServerWorker: string;
  dbNodeWorker: string;
  /** The TypeScript loader every thread starts from, when running from sources. */
  loader?: string;
  /** Folder under which each run gets its own data folder. */
  dataRoot: string;
  nativeBinding?: string;
  emit(message: ServerPush): void;
}

/** A request waiting for its client's DNS lookup before it can reach the balancer. */
interface DelayedRequest {
  /** The address DNS gave the client: a server id, or BALANCER_ANSWER. */
  answer: number;
  id: number;
  kind: number;
  dueMs: number;
  arrivalMs: number;
  cpuMs: number;
  clientId: number;
}

/**
 * One run of a scenario: the database node, the servers behind the balancer, the load, the
 * timeline of commands, and the books and ticks that measure it all.
 */
export class Run {
  readonly dataDir: string;
  private state: RunStatus['state'] = 'starting';
  private startMs = 0;
  private readonly books = new Books();
  private readonly random: Random;
  private readonly mix: RequestMix;
  private readonly serviceTimes: ServiceTimes;
  private readonly dns: DnsResolver;
  private readonly balancer: LoadBalancer;
  private load!: LoadGenerator;
  private readonly servers = new Map<number, WebServer>();
  private db!: DatabaseCluster;
  private readonly serverContext: ServerContext;
  private vcpus: number;
  private nextRequestId = 1;
  private readonly delayed: DelayedRequest[] = [];
  /** Attempt number of requests that are being retried (absent means the first attempt). */
  private readonly retryAttempts = new Map<number, number>();
  /** Retries waiting out their backoff. */
  private readonly backoff = new Map<NodeJS.Timeout, { requestId: number; kind: number; clientId: number; dueMs: number }>();
  private delayedHead = 0;
  private readonly events: RunEvent[] = [];
  private readonly ticks = new TickLog();
  private readonly hostMeter = new HostMeter();
  private tickNumber = 0;
  private lastTickMs = 0;
  private allBalanced = true;
  private generating = false;
  private stepTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private scheduledStepMs = 0;
  /** Due time up to which arrivals have been generated. */
  private pulledUntilMs = 0;
  private maxLagMs = 0;
  /** Serializes operations that take time (resizes, scale-in), so two never interleave. */
  private operations: Promise<void> = Promise.resolve();
  private stopping: Promise<RunReport> | undefined;

  constructor(
    readonly scenario: Scenario,
    private readonly options: RunOptions,
  ) {
    this.random = new Random(scenario.seed);
    this.mix = new RequestMix(scenario.load.mix);
    this.serviceTimes = new ServiceTimes(serviceTimesByKind(scenario));
    this.dns = new DnsResolver(dnsClientCount(scenario.load, LIMITS.users.max), scenario.dns.ttl, scenario.dns.lookup, scenario.dns.target);
    this.balancer = new LoadBalancer(scenario.balancer, this.random, (kind, message, serverId) => this.record(kind, message, serverId), nowMs);
    const balancer = this.balancer;
    this.vcpus = scenario.servers.vcpus;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.dataDir = path.join(options.dataRoot, `run-${stamp}-${process.pid}-${Math.floor(Math.random() * 1e6)}`);
    this.serverContext = {
      cpuModel: scenario.cpuModel,
      workerFile: options.webServerWorker,
      loader: options.loader,
      dbTimeoutMs: DB_TIMEOUT_MS,
      requestTimeoutMs: scenario.requestTimeout,
      get queueLimit() {
        return balancer.queueLimit;
      },
      dbRoute: () => this.db.route(),
      onDbLink: (message) => this.db.attach(message),
      sessionMinLsn: (clientId) => this.db.sessionMinLsn(clientId),
      onOutcome: (server, outcome, kind, requestId, clientId, dueMs, latencyMs, query) =>
        this.onOutcome(server, outcome, kind, requestId, clientId, dueMs, latencyMs, query),
      onStateChange: (server, state, reason) => this.onServerState(server, state, reason),
    };
  }

  /** Starts the database and the servers, then the load, the ticks and the timeline. */
  async start(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    this.emitStatus();
    this.db = new DatabaseCluster(this.scenario.database, {
      dataDir: this.dataDir,
      workerFile: this.options.dbNodeWorker,
      loader: this.options.loader,
      seed: this.scenario.seed,
      nativeBinding: this.options.nativeBinding,
      onEvent: (kind, message, nodeId) => this.record(kind, message, undefined, nodeId),
    });
    await this.db.start();
    for (let id = 1; id <= this.scenario.servers.count; id++) this.servers.set(id, new WebServer(id, this.vcpus, this.serverContext));
    this.updateBackends();
    await Promise.all([...this.servers.values()].map((server) => server.start()));
    this.updateDnsRecords();

    this.startMs = nowMs();
    this.db.setRunStart(this.startMs);
    this.lastTickMs = this.startMs;
    this.hostMeter.reset();
    this.load = createLoadGenerator(this.scenario.load, this.random, this.startMs);
    this.generating = true;
    this.state = 'running';
    this.record('run', `Run started: ${this.scenario.name}`);
    this.emitStatus();
    this.scheduledStepMs = this.startMs;
    this.pulledUntilMs = this.startMs;
    this.step();
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.balancer.startHealthChecks();
    for (const entry of this.scenario.timeline) {
      this.timers.push(setTimeout(() => this.applyTimelineCommand(entry.command), entry.at));
    }
    this.timers.push(setTimeout(() => void this.stop('duration reached'), this.scenario.duration));
  }

  status(): RunStatus {
    return {
      state: this.state,
      scenarioName: this.scenario.name,
      elapsedMs: this.startMs > 0 ? nowMs() - this.startMs : 0,
      cpuModel: this.scenario.cpuModel,
    };
  }

  /** Applies a live change; rejects with a RangeError when it names a server that does not exist. */
  async command(command: Command): Promise<void> {
    if (this.state !== 'running') throw new Error(`No run is in progress (the run is ${this.state})`);
    switch (command.type) {
      case 'set-servers':
        this.enqueueOperation(() => this.setServerCount(command.count));
        return;
      case 'set-vcpus':
        this.checkVcpus(command.vcpus);
        this.enqueueOperation(() => this.resizeAll(command.vcpus));
        return;
      case 'set-load':
        this.load.setRate(command.rateRps, nowMs());
        this.record('load', `Load set to ${command.rateRps} requests/s`);
        return;
      case 'set-users':
        this.load.setUsers(command.users, nowMs());
        this.record('load', `Load set to ${command.users} users`);
        return;
      case 'set-algorithm':
        this.balancer.setAlgorithm(command.algorithm);
        this.record('balancer', `Balancer algorithm set to ${command.algorithm}`);
        return;
      case 'crash-server': {
        const server = this.server(command.server);
        this.record('fault', `Server ${server.id} crashed`, server.id);
        server.crash('crashed by fault injection');
        return;
      }
      case 'restart-server': {
        const server = this.server(command.server);
        if (server.state !== 'down') throw new Error(`Server ${server.id} is ${server.state}; only a server that is down can be restarted`);
        this.record('fault', `Server ${server.id} restarting`, server.id);
        void server.start();
        return;
      }
      case 'hang-server':
        this.server(command.server).setHang(true);
        this.record('fault', `Server ${command.server} hangs (accepts requests, responds to none)`, command.server);
        return;
      case 'slow-server':
        this.server(command.server).setSlowFactor(command.factor);
        this.record('fault', `Server ${command.server} slowed: CPU time x${command.factor}`, command.server);
        return;
      case 'fail-server':
        this.server(command.server).setErrorRate(command.errorRate);
        this.record('fault', `Server ${command.server} answers ${Math.round(command.errorRate * 100)}% of requests with a server error`, command.server);
        return;
      case 'drain-server': {
        const server = this.server(command.server);
        if (this.servers.size === 1) throw new RangeError('server: the last server cannot be drained; add another first');
        this.enqueueOperation(() => this.removeServers([server]));
        return;
      }
      case 'set-weight':
        this.server(command.server);
        this.balancer.setWeight(command.server, command.weight);
        this.record('balancer', `Server ${command.server} weight set to ${command.weight}`, command.server);
        return;
      case 'set-balancer': {
        const { type: _type, ...patch } = command;
        this.balancer.configure(patch);
        this.record('balancer', `Balancer settings changed: ${JSON.stringify(patch)}`);
        return;
      }
      case 'clear-server-faults':
        this.server(command.server).clearFaults();
        this.record('fault', `Server ${command.server} faults cleared`, command.server);
        return;
      case 'crash-primary':
      case 'stall-primary':
      case 'crash-replica':
      case 'restart-db-node':
      case 'cut-replication':
      case 'restore-replication':
      case 'set-replication-delay':
      case 'set-replication-mode':
      case 'set-replicas':
      case 'set-read-your-writes':
      case 'set-automatic-failover':
      case 'switchover':
        return this.db.command(command);
      default: {
        const unknown: never = command;
        throw new TypeError(`Unknown command ${JSON.stringify(unknown)}`);
      }
    }
  }

  /**
   * Stops the load, waits up to the drain timeout for requests in flight, ends the rest as
   * "timeout", stops every thread, and returns the report. Calling it again returns the same report.
   */
  stop(reason: string): Promise<RunReport> {
    this.stopping ??= this.finish(reason);
    return this.stopping;
  }

  /** The run's latency histogram, merged over every closed tick, for percentiles the summary leaves out. */
  latencyHistogram(): LatencyHistogram {
    return this.books.runLatency;
  }

  /** Makes a server's threads exit by themselves at their next batch (used by crash tests). */
  exitServerThreads(serverId: number): void {
    this.server(serverId).exitThreadsOnNextBatch();
  }

  /** The run's data tier, for checks against its files. */
  database(): DatabaseCluster {
    return this.db;
  }

  private async finish(reason: string): Promise<RunReport> {
    if (this.state === 'starting') throw new Error('The run is still starting; stop it once it runs');
    this.state = 'stopping';
    this.emitStatus();
    this.generating = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.record('run', `Load stopped: ${reason}`);
    await this.waitForDrain(this.scenario.drainTimeout);
    for (const server of this.servers.values()) server.flush();
    clearTimeout(this.stepTimer);
    clearInterval(this.tickTimer);
    // A request still without a response after the drain timeout will not get one.
    const stuck = this.books.inFlight;
    // The last tick shows the servers still up unless requests had to be cut off below.
    if (stuck === 0) this.tick();
    await this.operations;
    await Promise.all([...this.servers.values()].map((server) => server.stop('run ended', 'timeout')));
    this.settleDelayed('timeout');
    this.settleBackoff('timeout');
    this.balancer.stop();
    if (stuck > 0) this.record('run', `${stuck} requests still in flight after the drain timeout ended as errors`);
    if (stuck > 0 || this.books.tickSent > 0 || this.books.tickOk > 0) this.tick();
    await this.db.stop();
    this.state = 'finished';
    this.record('run', 'Run finished');
    const report = buildReport({
      scenario: this.scenario,
      ticks: this.ticks.all(),
      events: this.events,
      books: this.books,
      allBalanced: this.allBalanced,
      durationMs: nowMs() - this.startMs,
      acknowledgedWrites: this.db.acknowledgedWriteIds().length,
      attempts: this.balancer.retries.attempts,
      retries: this.balancer.retries.retries,
      dataDir: this.dataDir,
    });
    report.database = this.db.report();
    this.emitStatus();
    this.options.emit({ type: 'finished', report });
    return report;
  }

  private waitForDrain(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const deadline = nowMs() + timeoutMs;
      const check = (): void => {
        if (this.books.inFlight === 0 || nowMs() >= deadline) resolve();
        else setTimeout(check, 10);
      };
      check();
    });
  }

  /** One engine step: generate due arrivals, route them, send batches, expire old requests. */
  private step(): void {
    const now = nowMs();
    // One step generates at most MAX_STEP_SPAN_MS of arrivals, so an offered load beyond what the
    // host can generate makes the generator fall behind (the tick reports the lag) instead of blocking
    // ticks, timeouts and health checks behind one endless step.
    const pullUntil = this.generating ? Math.min(now, this.pulledUntilMs + MAX_STEP_SPAN_MS) : now;
    const lag = Math.max(now - this.scheduledStepMs, now - pullUntil);
    if (lag > this.maxLagMs) this.maxLagMs = lag;
    if (this.generating) this.load.pull(pullUntil, (dueMs, clientId) => this.arrive(dueMs, clientId, now));
    this.pulledUntilMs = pullUntil;
    this.routeDelayed(now);
    for (const server of this.servers.values()) {
      server.flush();
      server.expire(now);
    }
    const nextDue = this.generating ? this.load.peekDueMs() : Infinity;
    const nextDelayed = this.delayedHead < this.delayed.length ? this.delayed[this.delayedHead].arrivalMs : Infinity;
    // Sleep until the next arrival, but wake at least every 50 ms to expire timed-out requests;
    // a generator that is behind goes on at once.
    const behind = this.generating && pullUntil < now;
    const wakeMs = behind ? now : Math.min(Math.max(now + STEP_MS, Math.min(nextDue, nextDelayed)), now + 50);
    this.scheduledStepMs = wakeMs;
    // A closed-model request ending during this step may already have armed an earlier step.
    clearTimeout(this.stepTimer);
    this.stepTimer = setTimeout(() => this.step(), wakeMs - now);
  }

  /**
   * Brings the next step forward when a closed-model user who just got a response is due to send
   * before the step the engine sleeps until (short think times). Otherwise it would wait up to 50 ms.
   */
  private wakeForArrival(now: number): void {
    const dueMs = this.load.peekDueMs();
    if (!this.generating || dueMs >= this.scheduledStepMs - STEP_MS) return;
    const wakeMs = Math.max(now, dueMs);
    this.scheduledStepMs = wakeMs;
    clearTimeout(this.stepTimer);
    this.stepTimer = setTimeout(() => this.step(), wakeMs - now);
  }

  private arrive(dueMs: number, clientId: number, now: number): void {
    const id = this.nextRequestId++;
    const kind = this.mix.pick(this.random);
    this.books.recordSent();
    this.balancer.retries.onRequest();
    const arrivalMs = dueMs + this.dns.resolve(clientId, dueMs);
    const answer = this.dns.answer;
    const cpuMs = this.serviceTimes.draw(kind, this.random);
    if (arrivalMs > now) {
      this.delayed.push({ answer, id, kind, dueMs, arrivalMs, cpuMs, clientId });
      return;
    }
    this.route(answer, id, kind, dueMs, arrivalMs, cpuMs, clientId);
  }

  /**
   * Sends a request where DNS pointed its client: through the balancer, or straight to one
   * server. A client whose answer names a server that is gone gets "server down".
   */
  private route(answer: number, id: number, kind: number, dueMs: number, arrivalMs: number, cpuMs: number, clientId: number): void {
    let server: WebServer | null | undefined;
    if (answer !== BALANCER_ANSWER) server = this.servers.get(answer);
    else if (this.dns.target === 'balancer') server = this.balancer.pick(clientId);
    if (!server) {
      this.onOutcome(null, 'serverDown', kind, id, clientId, dueMs, 0);
      return;
    }
    server.accept(id, kind, dueMs, arrivalMs, cpuMs, clientId);
  }

  /** Routes requests whose DNS lookup has finished; lookups take equal time, so the queue stays in order. */
  private routeDelayed(now: number): void {
    while (this.delayedHead < this.delayed.length && this.delayed[this.delayedHead].arrivalMs <= now) {
      const r = this.delayed[this.delayedHead++];
      this.route(r.answer, r.id, r.kind, r.dueMs, r.arrivalMs, r.cpuMs, r.clientId);
    }
    if (this.delayedHead === this.delayed.length) {
      this.delayed.length = 0;
      this.delayedHead = 0;
    }
  }

  private settleDelayed(kind: ErrorKind): void {
    while (this.delayedHead < this.delayed.length) {
      const r = this.delayed[this.delayedHead++];
      this.onOutcome(null, kind, r.kind, r.id, r.clientId, r.dueMs, 0);
    }
    this.delayed.length = 0;
    this.delayedHead = 0;
  }

  /**
   * Ends one attempt of a request. A failed idempotent request may go back to the balancer after
   * a backoff, within the retry budget. It stays in flight meanwhile, and its latency still counts
   * from its first due time. Otherwise the request ends here, ok or with the attempt's error.
   */
  private onOutcome(
    server: WebServer | null,
    outcome: 'ok' | ErrorKind,
    kind: number,
    requestId: number,
    clientId: number,
    dueMs: number,
    latencyMs: number,
    query?: QueryOutcome,
  ): void {
    if (server) this.balancer.observe(server, outcome);
    const attempt = this.retryAttempts.get(requestId) ?? 1;
    if (attempt > 1) this.balancer.retries.release();
    if (outcome !== 'ok' && this.mayRetry(kind, outcome, attempt)) {
      this.scheduleRetry(requestId, kind, clientId, dueMs, attempt + 1);
      return;
    }
    if (attempt > 1) this.retryAttempts.delete(requestId);
    const now = nowMs();
    this.load.onRequestEnd(clientId, now);
    if (this.load.model === 'closed') this.wakeForArrival(now);
    if (outcome === 'ok') {
      this.books.recordOk(latencyMs);
      if (kind === KIND_API_WRITE) this.db.acknowledgeWrite(requestId, clientId, query);
      else if (query) this.db.recordRead(query);
    } else {
      this.books.recordError(outcome);
    }
  }

  private mayRetry(kind: number, outcome: ErrorKind, attempt: number): boolean {
    if (!this.generating || this.dns.target !== 'balancer') return false;
    return this.balancer.retries.tryAcquire(kind, outcome, attempt, this.books.inFlight);
  }

  /** Sends a request back to the balancer after its backoff; it stays in flight meanwhile. */
  private scheduleRetry(requestId: number, kind: number, clientId: number, dueMs: number, attempt: number): void {
    this.retryAttempts.set(requestId, attempt);
    const timer = setTimeout(() => {
      this.backoff.delete(timer);
      const cpuMs = this.serviceTimes.draw(kind, this.random);
      this.route(BALANCER_ANSWER, requestId, kind, dueMs, nowMs(), cpuMs, clientId);
    }, this.balancer.retries.backoffMs(attempt - 1));
    this.backoff.set(timer, { requestId, kind, clientId, dueMs });
  }

  /** Ends retries still waiting in backoff when the run stops. */
  private settleBackoff(kind: ErrorKind): void {
    for (const [timer, retry] of this.backoff) {
      clearTimeout(timer);
      this.balancer.retries.release();
      this.retryAttempts.delete(retry.requestId);
      this.onOutcome(null, kind, retry.kind, retry.requestId, retry.clientId, retry.dueMs, 0);
    }
    this.backoff.clear();
  }

  private tick(): void {
    const now = nowMs();
    const tickMs = Math.max(1, now - this.lastTickMs);
    this.lastTickMs = now;
    const snapshot = this.buildTick(now, tickMs);
    this.books.closeTick();
    this.maxLagMs = 0;
    if (!snapshot.books.balanced) {
      this.allBalanced = false;
      log.error({ tick: snapshot.tick, books: snapshot.books }, 'books do not balance');
    }
    this.ticks.push(snapshot);
    this.options.emit({ type: 'tick', tick: snapshot });
  }

  private buildTick(now: number, tickMs: number): TickSnapshot {
    const books = this.books;
    const perSecond = 1000 / tickMs;
    const errorsRpsByKind = { ...books.tickErrors };
    let tickErrorsTotal = 0;
    for (const key of Object.keys(errorsRpsByKind) as ErrorKind[]) {
      tickErrorsTotal += errorsRpsByKind[key];
      errorsRpsByKind[key] *= perSecond;
    }
    const servers = [...this.servers.values()];
    const totalPicks = servers.reduce((sum, server) => sum + server.tickPicks, 0);
    const inFlight = books.inFlight;
    return {
      tick: ++this.tickNumber,
      tMs: now - this.startMs,
      tickMs,
      offeredRps: books.tickSent * perSecond,
      okRps: books.tickOk * perSecond,
      errorRps: tickErrorsTotal * perSecond,
      errorsRpsByKind,
      latency: books.tickLatency.summary(),
      books: {
        sent: books.sent,
        ok: books.ok,
        errors: { ...books.errors },
        errorsTotal: books.errorsTotal,
        inFlight,
        balanced: inFlight >= 0 && books.sent === books.ok + books.errorsTotal + inFlight && inFlight === this.countInFlight(),
      },
      config: {
        servers: servers.length,
        vcpus: this.vcpus,
        rateRps: this.load.rateRps,
        algorithm: this.balancer.algorithm,
        loadModel: this.load.model,
        users: this.load.users,
      },
      servers: servers.map((server) => {
        const view = this.balancer.viewOf(server.id);
        return { ...server.snapshot(tickMs, totalPicks), balancer: view.view, weight: view.weight };
      }),
      balancer: this.balancer.snapshot(),
      database: this.db.snapshot(tickMs),
      host: this.hostMeter.sample(tickMs, this.maxLagMs),
    };
  }

  /** Counts requests in flight from the servers' own records, to check the books against. */
  private countInFlight(): number {
    let count = this.delayed.length - this.delayedHead + this.backoff.size;
    for (const server of this.servers.values()) count += server.inFlight;
    return count;
  }

  private async setServerCount(count: number): Promise<void> {
    const current = [...this.servers.keys()].sort((a, b) => a - b);
    if (count > current.length) {
      const added: WebServer[] = [];
      for (let id = 1; added.length < count - current.length && id <= LIMITS.servers.max; id++) {
        if (this.servers.has(id)) continue;
        const server = new WebServer(id, this.vcpus, this.serverContext);
        this.servers.set(id, server);
        added.push(server);
      }
      this.record('scaling', `Scaling out: ${current.length} to ${count} servers`);
      // A new server joins the rotation only once its pool is ready.
      for (const server of added) server.inRotation = false;
      await Promise.all(added.map((server) => server.start()));
      for (const server of added) server.inRotation = true;
      this.updateBackends();
      this.record('scaling', `${count} servers in rotation`);
    } else if (count < current.length) {
      this.record('scaling', `Scaling in: ${current.length} to ${count} servers`);
      await this.removeServers(current.slice(count).map((id) => this.servers.get(id)!));
    }
  }

  /**
   * Drains servers and removes them: they leave the rotation at once, their requests in flight
   * get the drain timeout to finish, and whatever is left then ends as "server down".
   */
  private async removeServers(removed: WebServer[]): Promise<void> {
    const ids = removed.map((server) => server.id).join(', ');
    this.record('scaling', `Draining server ${ids} (${removed.reduce((sum, s) => sum + s.inFlight, 0)} requests in flight)`);
    for (const server of removed) server.inRotation = false;
    this.updateDnsRecords();
    await Promise.all(removed.map((server) => server.drain(this.scenario.drainTimeout)));
    const leftover = removed.reduce((sum, server) => sum + server.inFlight, 0);
    await Promise.all(removed.map((server) => server.stop('removed')));
    for (const server of removed) this.servers.delete(server.id);
    this.updateBackends();
    this.record('scaling', `Removed server ${ids}${leftover > 0 ? `; ${leftover} requests still in flight at the drain timeout ended as errors` : ''}; ${this.servers.size} servers remain`);
  }

  /**
   * Resizes servers one at a time: each drains, stops, and restarts with the new size, so a
   * lone server is down while it grows and a fleet keeps serving on the others.
   */
  private async resizeAll(vcpus: number): Promise<void> {
    if (vcpus === this.vcpus) return;
    const from = this.vcpus;
    this.vcpus = vcpus;
    this.record('scaling', `Resizing servers from ${from} to ${vcpus} vCPUs, one at a time`);
    for (const server of [...this.servers.values()]) {
      if (!this.servers.has(server.id) || this.state !== 'running') continue;
      await server.drain(this.scenario.drainTimeout);
      await server.stop('resizing');
      server.vcpus = vcpus;
      await server.start();
      server.inRotation = true;
      this.record('scaling', `Server ${server.id} resized to ${vcpus} vCPUs`, server.id);
    }
  }

  private checkVcpus(vcpus: number): void {
    if (this.scenario.cpuModel !== 'real') return;
    if (vcpus > LIMITS.realVcpus.max || vcpus * this.servers.size > LIMITS.realThreadsTotal) {
      throw new RangeError(
        `vcpus: expected at most ${LIMITS.realVcpus.max} per server and ${LIMITS.realThreadsTotal} in all in the real CPU model, received ${vcpus}`,
      );
    }
  }

  private enqueueOperation(operation: () => Promise<void>): void {
    this.operations = this.operations.then(operation).catch((error: Error) => {
      log.error({ err: error }, 'scaling operation failed');
      this.record('scaling', `Scaling operation failed: ${error.message}`);
    });
  }

  private applyTimelineCommand(command: Command): void {
    this.command(command).catch((error: Error) => {
      log.warn({ command, err: error }, 'timeline command failed');
      this.record('run', `Timeline command ${command.type} failed: ${error.message}`);
    });
  }

  private server(id: number): WebServer {
    const server = this.servers.get(id);
    if (!server) {
      const ids = [...this.servers.keys()].sort((a, b) => a - b);
      throw new RangeError(`server: server ${id} does not exist (servers now: ${ids.join(', ') || 'none'})`);
    }
    return server;
  }

  private updateBackends(): void {
    const servers = [...this.servers.values()];
    this.balancer.setServers(servers);
    this.updateDnsRecords();
  }

  /**
   * Points the site's name at the servers that answer: DNS round robin here is health-checked,
   * as managed DNS services do it, yet clients keep a removed address until their TTL runs out.
   */
  private updateDnsRecords(): void {
    const ids = [...this.servers.values()]
      .filter((server) => this.dns.target === 'first-server' || (server.state === 'up' && server.inRotation))
      .map((server) => server.id);
    this.dns.setRecords(ids);
  }

  private onServerState(server: WebServer, state: ServerState, reason: string): void {
    if (this.state === 'starting' || this.state === 'finished') return;
    if (state === 'up') this.balancer.rejoined(server);
    this.updateDnsRecords();
    this.record('server', `Server ${server.id} ${state} (${reason})`, server.id);
  }

  private record(kind: RunEventKind, message: string, serverId?: number, nodeId?: number): void {
    const event: RunEvent = { tMs: this.startMs > 0 ? Math.max(0, nowMs() - this.startMs) : 0, kind, message };
    if (serverId !== undefined) event.serverId = serverId;
    if (nodeId !== undefined) event.nodeId = nodeId;
    this.events.push(event);
    log.info({ tMs: event.tMs, kind, serverId }, message);
    this.options.emit({ type: 'event', event });
  }

  private emitStatus(): void {
    this.options.emit({ type: 'status', status: this.status() });
  }
}
