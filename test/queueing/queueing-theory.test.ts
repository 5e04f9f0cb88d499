import { describe, expect, it } from 'vitest';
import { erlangCResponseMs } from './erlang-c.ts';
import { measureQueue } from './queueing-run.ts';

// Short runs of the virtual CPU model against queueing theory. Tolerances are several standard
// errors of each run's sample mean wide, yet narrower than the gap to the wrong model. With
// constant instead of exponential service, the mean response time is 40 % lower at utilization
// 0.8 (M/D/1 against M/M/1) and 25 % lower at 0.5. `npm run validate-queueing` runs the
// same checks longer, to the 5 % and 10 % targets.

/** One vCPU's mean service time, so that utilization 0.8 means 6,400 requests/s. */
const SERVICE_MS = 0.125;

function relativeError(measured: number, predicted: number): number {
  return Math.abs(measured - predicted) / predicted;
}

describe('virtual CPU queueing', () => {
  it('M/M/1 at utilization 0.5 matches Erlang C', async () => {
    const arrivalRps = (0.5 * 1000) / SERVICE_MS;
    const run = await measureQueue({ name: 'M/M/1 at 0.5', vcpus: 1, arrivalRps, cpuMs: { distribution: 'exponential', meanMs: SERVICE_MS }, durationMs: 8000, warmupMs: 1000 });
    expect(run.errors).toBe(0);
    expect(run.samples).toBeGreaterThan(20_000);
    expect(relativeError(run.meanLatencyMs, erlangCResponseMs(1, arrivalRps, SERVICE_MS))).toBeLessThan(0.08);
  });

  it('M/M/1 at utilization 0.8 matches Erlang C', async () => {
    const arrivalRps = (0.8 * 1000) / SERVICE_MS;
    const run = await measureQueue({ name: 'M/M/1 at 0.8', vcpus: 1, arrivalRps, cpuMs: { distribution: 'exponential', meanMs: SERVICE_MS }, durationMs: 8000, warmupMs: 1000 });
    expect(run.errors).toBe(0);
    expect(relativeError(run.meanLatencyMs, erlangCResponseMs(1, arrivalRps, SERVICE_MS))).toBeLessThan(0.15);
  });

  it('M/M/4 at utilization 0.8 matches Erlang C', async () => {
    const serviceMs = 4 * SERVICE_MS;
    const arrivalRps = (0.8 * 4 * 1000) / serviceMs;
    const run = await measureQueue({ name: 'M/M/4 at 0.8', vcpus: 4, arrivalRps, cpuMs: { distribution: 'exponential', meanMs: serviceMs }, durationMs: 8000, warmupMs: 1000 });
    expect(run.errors).toBe(0);
    expect(relativeError(run.meanLatencyMs, erlangCResponseMs(4, arrivalRps, serviceMs))).toBeLessThan(0.12);
  });

  it('M/D/1 follows Pollaczek-Khinchine, not Erlang C', async () => {
    const arrivalRps = (0.8 * 1000) / SERVICE_MS;
    const run = await measureQueue({ name: 'M/D/1 at 0.8', vcpus: 1, arrivalRps, cpuMs: SERVICE_MS, durationMs: 6000, warmupMs: 1000 });
    // Pollaczek-Khinchine for constant service: W = S + rho S / (2 (1 - rho)) = 3 S at rho 0.8.
    const predictedMs = SERVICE_MS + (0.8 * SERVICE_MS) / (2 * (1 - 0.8));
    expect(relativeError(run.meanLatencyMs, predictedMs)).toBeLessThan(0.05);
    expect(relativeError(run.meanLatencyMs, erlangCResponseMs(1, arrivalRps, SERVICE_MS))).toBeGreaterThan(0.3);
  });

  it("Little's law holds in a steady run", async () => {
    // Eight 64-vCPU servers at utilization 0.8 keep about 400 requests in flight, so the tick
    // samples of the in-flight count average out. Service of 200 ms dwarfs the engine's own
    // delivery delay (about a millisecond), which the in-flight count includes and latency does not.
    const serviceMs = 200;
    const arrivalRps = (0.8 * 8 * 64 * 1000) / serviceMs;
    const run = await measureQueue({ name: "Little's law", vcpus: 64, servers: 8, arrivalRps, cpuMs: { distribution: 'exponential', meanMs: serviceMs }, durationMs: 12_000, warmupMs: 2000 });
    const predictedInFlight = (run.throughputRps * run.meanLatencyMs) / 1000;
    expect(run.errors).toBe(0);
    expect(run.meanInFlight).toBeGreaterThan(300);
    expect(relativeError(run.meanInFlight, predictedInFlight)).toBeLessThan(0.03);
  });
});
