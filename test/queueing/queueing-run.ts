import type { ScenarioInput, TickSnapshot } from '../../main/engine/api/protocol.ts';
import { runScenario } from '../support/engine-run.ts';

/** What a steady stretch of a run measured, for checks against queueing theory. */
export interface QueueMeasurement {
  /** Requests that ended ok per second. */
  throughputRps: number;
  /** Mean latency of the requests that ended in the window, in milliseconds. */
  meanLatencyMs: number;
  /** Mean number of requests in the system, from the ticks' in-flight samples. */
  meanInFlight: number;
  /** Requests whose latency the window holds. */
  samples: number;
  errors: number;
}

export interface QueueRunOptions {
  name: string;
  vcpus: number;
  servers?: number;
  arrivalRps: number;
  /** CPU time per request: a constant number or a distribution, as scenario files write it. */
  cpuMs: number | { distribution: 'constant' | 'exponential'; meanMs: number };
  durationMs: number;
  /** Ticks ending before this time are left out, so the run starts from an empty system. */
  warmupMs: number;
  seed?: number;
}

/**
 * Builds a scenario in which only the servers' queues add latency: static requests only (no database),
 * DNS lookups that cost nothing, and a request timeout far longer than any wait.
 */
export function queueScenario(options: QueueRunOptions): ScenarioInput {
  return {
    version: 1,
    name: options.name,
    duration: `${options.durationMs}ms`,
    cpuModel: 'virtual',
    seed: options.seed ?? 1,
    requestTimeout: '600s',
    drainTimeout: '30s',
    load: {
      rateRps: options.arrivalRps,
      arrival: 'poisson',
      mix: { html: 0, apiRead: 0, apiWrite: 0, static: 1 },
      cpuMs: { static: options.cpuMs },
    },
    dns: { lookup: '0ms' },
    servers: { count: options.servers ?? 1, vcpus: options.vcpus },
  };
}

/** Runs a queueing scenario to its end and measures its steady window. */
export async function measureQueue(options: QueueRunOptions): Promise<QueueMeasurement> {
  const { ticks, report } = await runScenario(queueScenario(options));
  const window = ticks.filter((tick) => tick.tMs >= options.warmupMs && tick.tMs <= options.durationMs);
  return { ...summarizeTicks(window), errors: report.summary.errorsTotal };
}

/** Little's law quantities over a run of ticks: throughput, mean latency and mean in flight. */
export function summarizeTicks(window: TickSnapshot[]): Omit<QueueMeasurement, 'errors'> {
  if (window.length === 0) throw new Error('no ticks in the measurement window');
  let windowMs = 0;
  let okCount = 0;
  let latencySumMs = 0;
  let inFlightSum = 0;
  for (const tick of window) {
    windowMs += tick.tickMs;
    okCount += (tick.okRps * tick.tickMs) / 1000;
    latencySumMs += tick.latency.meanMs * tick.latency.count;
    inFlightSum += tick.books.inFlight;
  }
  const samples = window.reduce((sum, tick) => sum + tick.latency.count, 0);
  return {
    throughputRps: (okCount * 1000) / windowMs,
    meanLatencyMs: latencySumMs / samples,
    meanInFlight: inFlightSum / window.length,
    samples,
  };
}
