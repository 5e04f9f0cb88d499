import { describe, expect, it } from 'vitest';
import type { ScenarioInput, TickSnapshot } from '../../main/engine/api/protocol.ts';
import { runScenario, type TestEngine } from '../support/engine-run.ts';

// One server frozen from 5 s to 10 s of a 10 s run: it holds every response and releases them
// all when the fault clears. Eight vCPUs keep a 1 ms service time at 1,000 requests/s far from
// saturation, so the only queueing is the freeze itself.
const frozen: Omit<ScenarioInput, 'name' | 'load'> = {
  version: 1,
  duration: '10s',
  cpuModel: 'virtual',
  requestTimeout: '60s',
  drainTimeout: '5s',
  dns: { lookup: '0ms' },
  servers: { count: 1, vcpus: 8 },
  timeline: [
    { at: '5s', command: { type: 'hang-server', server: 1 } },
    { at: '10s', command: { type: 'clear-server-faults', server: 1 } },
  ],
};

const staticOnly = { html: 0, apiRead: 0, apiWrite: 0, static: 1 };

const openLoad: ScenarioInput = {
  ...frozen,
  name: 'frozen server, open load',
  load: { rateRps: 1000, arrival: 'constant', mix: staticOnly, cpuMs: { static: 1 } },
};

// 1,000 users thinking 1 s on average offer the same 1,000 requests/s while responses are quick.
const closedLoad: ScenarioInput = {
  ...frozen,
  name: 'frozen server, closed load',
  load: { model: 'closed', users: 1000, thinkTime: '1s', mix: staticOnly, cpuMs: { static: 1 } },
};

function sentBetween(ticks: TickSnapshot[], fromMs: number, toMs: number): number {
  const window = ticks.filter((tick) => tick.tMs > fromMs && tick.tMs <= toMs);
  return window.reduce((sum, tick) => sum + (tick.offeredRps * tick.tickMs) / 1000, 0);
}

describe('frozen server', () => {
  it('open load shows the freeze; closed load hides it', async () => {
    const [open, closed] = await Promise.all([runScenario(openLoad), runScenario(closedLoad)]);
    const openLatency = open.report.summary.latency;
    const closedLatency = closed.report.summary.latency;

    // Open model: half the requests were due before the freeze and took the service time. The
    // other half waited from their due time until the release, so their latencies spread evenly over 0 to 5 s.
    expect(open.report.loadModel).toBe('open');
    expect(open.report.summary.errorsTotal).toBe(0);
    expect(open.report.summary.ok).toBeGreaterThan(9900);
    expect(openLatency.p50Ms).toBeGreaterThanOrEqual(0.9);
    expect(openLatency.p50Ms).toBeLessThan(20);
    expect(openLatency.p95Ms).toBeGreaterThan(4000);
    expect(openLatency.maxMs).toBeGreaterThan(4800);
    expect(openLatency.maxMs).toBeLessThan(5300);
    expectNear(openLatency.p99Ms, 4950, 0.05);
    expectNear(p75(open), 2500, 0.1);

    // Closed model: each user sends once into the freeze and then waits, so the load stops and
    // only about one request per user sees the stall.
    expect(closed.report.loadModel).toBe('closed');
    expect(closed.ticks.every((tick) => tick.config.loadModel === 'closed' && tick.config.users === 1000)).toBe(true);
    expect(open.ticks.every((tick) => tick.config.loadModel === 'open' && tick.config.users === null)).toBe(true);
    expect(closed.report.summary.errorsTotal).toBe(0);
    expect(sentBetween(closed.ticks, 5500, 10_000)).toBeLessThan(1000);
    expect(sentBetween(open.ticks, 5500, 10_000)).toBeGreaterThan(4000);
    expect(p75(closed)).toBeLessThan(20);
    expect(p75(open) / p75(closed)).toBeGreaterThan(100);
    // The stalled users still record what they waited, so the maximum is the same 5 s.
    expect(closedLatency.maxMs).toBeGreaterThan(4000);
  });
});

/** Returns the run's p75 from its merged histogram, because the report's summary has no p75. */
function p75(run: TestEngine): number {
  return run.engine.currentRun()!.latencyHistogram().percentileMs(75);
}

function expectNear(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected) / expected).toBeLessThan(tolerance);
}
