import type { Algorithm, BalancerConfig, BalancerPatch } from '../api/balancer-config.ts';
import type { BalancerSnapshot, ErrorKind, RunEventKind } from '../api/protocol.ts';
import type { Random } from '../random.ts';
import type { WebServer } from '../servers/web-server.ts';
import { createPicker, type Picker } from './algorithms.ts';
import { Backend } from './backend.ts';
import { RetryBudget } from './retry-budget.ts';

/** Records a run event on behalf of the balancer. */
export type RecordEvent = (kind: RunEventKind, message: string, serverId?: number) => void;

/** Outcomes that count against a server for passive ejection: gateway errors and refused connections. */
const EJECTING: ReadonlySet<ErrorKind> = new Set(['serverDown', 'serverError', 'timeout', 'databaseUnavailable']);
/**
 * Outcomes that come back fast, so that the failing server looks idle to least connections.
 * A timeout comes back slowly and already counted as in flight while it waited.
 */
const FAST_FAILURES: ReadonlySet<ErrorKind> = new Set(['serverDown', 'serverError']);

/**
 * The load balancer, in process with the servers it routes to. It learns about a server only through
 * what it observes: active health checks, the outcomes of requests (passive ejection), and the
 * operator taking a server out of rotation. Without health checks a crashed server keeps
 * receiving its share, and each such request fails as "server down".
 */
export class LoadBalancer {
  readonly retries: RetryBudget;
  private backends: Backend[] = [];
  private readonly byId = new Map<number, Backend>();
  private picker: Picker;
  private healthTimer: NodeJS.Timeout | undefined;
  private readonly probing = new Set<Backend>();
  private tickPicks = 0;

  constructor(
    private config: BalancerConfig,
    private readonly random: Random,
    private readonly record: RecordEvent,
    private readonly now: () => number,
  ) {
    this.picker = createPicker(config.algorithm, random, () => this.config.slowStart);
    this.retries = new RetryBudget(config.retries, random);
  }

  get algorithm(): Algorithm {
    return this.config.algorithm;
  }

  /** Sets the servers behind the balancer; servers new to it start their slow start now. */
  setServers(servers: readonly WebServer[]): void {
    const now = this.now();
    const next: Backend[] = [];
    for (const server of [...servers].sort((a, b) => a.id - b.id)) {
      next.push(this.byId.get(server.id) ?? new Backend(server, now));
    }
    this.byId.clear();
    for (const backend of next) this.byId.set(backend.id, backend);
    this.backends = next;
    this.picker.reset(next);
  }

  setAlgorithm(algorithm: Algorithm): void {
    this.config = { ...this.config, algorithm };
    this.picker = createPicker(algorithm, this.random, () => this.config.slowStart);
    this.picker.reset(this.backends);
  }

  /** Applies a live change of settings; the health checker restarts with the new interval. */
  configure(patch: BalancerPatch): void {
    const config = this.config;
    this.config = {
      ...config,
      slowStart: patch.slowStart ?? config.slowStart,
      queueLimit: patch.queueLimit ?? config.queueLimit,
      healthCheck: { ...config.healthCheck, ...patch.healthCheck },
      outlierDetection: { ...config.outlierDetection, ...patch.outlierDetection },
      retries: { ...config.retries, ...patch.retries },
    };
    this.retries.update(this.config.retries);
    if (!this.config.healthCheck.enabled) {
      for (const backend of this.backends) this.markHealthy(backend, 'health checks turned off');
    }
    if (!this.config.outlierDetection.enabled) {
      for (const backend of this.backends) backend.ejectedUntilMs = 0;
    }
    this.startHealthChecks();
  }

  get queueLimit(): number {
    return this.config.queueLimit;
  }

  setWeight(serverId: number, weight: number): void {
    const backend = this.byId.get(serverId);
    if (backend) backend.weight = weight;
  }

  /** Returns the server for the next request, or null when none is available. */
  pick(clientId: number): WebServer | null {
    const now = this.now();
    let backend = this.picker.pick(this.backends, clientId, now);
    // Slow start for algorithms without weights: a warming backend passes up a share of its picks.
    if (backend && this.config.slowStart > 0 && this.config.algorithm !== 'weighted-round-robin') {
      const factor = backend.slowStartFactor(now, this.config.slowStart);
      if (factor < 1 && this.random.next() > factor) backend = this.picker.pick(this.backends, clientId, now) ?? backend;
    }
    if (!backend) return null;
    this.tickPicks++;
    return backend.server;
  }

  /** Learns from a request's outcome on `server`: passive ejection and least connections' failure penalty. */
  observe(server: WebServer, outcome: 'ok' | ErrorKind): void {
    const backend = this.byId.get(server.id);
    if (!backend) return;
    if (outcome === 'ok') {
      backend.consecutiveErrors = 0;
      return;
    }
    if (!EJECTING.has(outcome)) return;
    const now = this.now();
    if (FAST_FAILURES.has(outcome)) backend.recordFailure(now);
    backend.consecutiveErrors++;
    const detection = this.config.outlierDetection;
    if (detection.enabled && backend.consecutiveErrors >= detection.consecutiveErrors && !backend.isEjected(now)) {
      this.tryEject(backend, now);
    }
  }

  /** Restarts slow start for a server that came back (restart, resize, return from ejection). */
  rejoined(server: WebServer): void {
    const backend = this.byId.get(server.id);
    if (backend) backend.joinedAtMs = this.now();
  }

  /** Starts (or restarts) the active health checker; it does nothing while checks are off. */
  startHealthChecks(): void {
    clearInterval(this.healthTimer);
    this.healthTimer = undefined;
    if (!this.config.healthCheck.enabled) return;
    this.healthTimer = setInterval(() => this.checkAll(), this.config.healthCheck.interval);
  }

  stop(): void {
    clearInterval(this.healthTimer);
    this.healthTimer = undefined;
  }

  /** Returns the balancer's figures for a tick, and returns ejected backends whose time is up. */
  snapshot(): BalancerSnapshot {
    const now = this.now();
    for (const backend of this.backends) {
      if (backend.ejectedUntilMs > 0 && backend.ejectedUntilMs <= now) {
        backend.ejectedUntilMs = 0;
        backend.consecutiveErrors = 0;
        backend.joinedAtMs = now;
        this.record('balancer', `Server ${backend.id} returned from ejection`, backend.id);
      }
    }
    const budget = this.retries;
    const snapshot: BalancerSnapshot = {
      algorithm: this.config.algorithm,
      picks: this.tickPicks,
      attempts: budget.attempts,
      retries: budget.retries,
      retriesRefused: budget.refused,
      retriesActive: budget.active,
      healthChecks: this.config.healthCheck.enabled,
      outlierDetection: this.config.outlierDetection.enabled,
      retriesEnabled: this.config.retries.enabled,
      slowStartMs: this.config.slowStart,
    };
    this.tickPicks = 0;
    return snapshot;
  }

  /** The balancer's view of one server, for its tick snapshot. */
  viewOf(serverId: number): { view: 'in-rotation' | 'unhealthy' | 'ejected' | 'out-of-rotation' | 'slow-start'; weight: number } {
    const backend = this.byId.get(serverId);
    if (!backend) return { view: 'out-of-rotation', weight: 0 };
    const now = this.now();
    let view: 'in-rotation' | 'unhealthy' | 'ejected' | 'out-of-rotation' | 'slow-start' = 'in-rotation';
    if (!backend.server.inRotation) view = 'out-of-rotation';
    else if (!backend.healthy) view = 'unhealthy';
    else if (backend.isEjected(now)) view = 'ejected';
    else if (backend.slowStartFactor(now, this.config.slowStart) < 1) view = 'slow-start';
    return { view, weight: backend.weight };
  }

  private tryEject(backend: Backend, now: number): void {
    const detection = this.config.outlierDetection;
    const ejected = this.backends.filter((b) => b.isEjected(now)).length;
    const limit = Math.floor((detection.maxEjectedPercent / 100) * this.backends.length);
    if (ejected >= limit) {
      this.record('balancer', `Server ${backend.id} not ejected: ${ejected} of ${this.backends.length} servers already are (limit ${detection.maxEjectedPercent}%)`, backend.id);
      backend.consecutiveErrors = 0;
      return;
    }
    backend.ejections++;
    const ejectionMs = detection.baseEjectionTime * backend.ejections;
    backend.ejectedUntilMs = now + ejectionMs;
    this.record(
      'balancer',
      `Server ${backend.id} ejected for ${(ejectionMs / 1000).toFixed(1)} s after ${backend.consecutiveErrors} errors in a row (ejection ${backend.ejections})`,
      backend.id,
    );
  }

  private checkAll(): void {
    const { timeout } = this.config.healthCheck;
    for (const backend of this.backends) {
      if (this.probing.has(backend)) continue;
      this.probing.add(backend);
      void backend.server.probe(timeout).then((passed) => {
        this.probing.delete(backend);
        if (this.byId.get(backend.id) === backend && this.config.healthCheck.enabled) this.onProbe(backend, passed);
      });
    }
  }

  private onProbe(backend: Backend, passed: boolean): void {
    const { rise, fall } = this.config.healthCheck;
    if (passed) {
      backend.consecutiveCheckFailures = 0;
      backend.consecutiveCheckPasses++;
      if (!backend.healthy && backend.consecutiveCheckPasses >= rise) this.markHealthy(backend, `${rise} health checks passed`);
      return;
    }
    backend.consecutiveCheckPasses = 0;
    backend.consecutiveCheckFailures++;
    if (backend.healthy && backend.consecutiveCheckFailures >= fall) {
      backend.healthy = false;
      const since = backend.server.failingSinceMs;
      const detection = since === null ? '' : ` ${((this.now() - since) / 1000).toFixed(1)} s after it stopped answering`;
      this.record('balancer', `Server ${backend.id} marked down: ${fall} health checks failed${detection}`, backend.id);
    }
  }

  private markHealthy(backend: Backend, reason: string): void {
    backend.consecutiveCheckFailures = 0;
    if (backend.healthy) return;
    backend.healthy = true;
    backend.joinedAtMs = this.now();
    this.record('balancer', `Server ${backend.id} back in rotation: ${reason}`, backend.id);
  }
}
