import { describe, expect, it } from 'vitest';
import { Books } from '../../main/engine/metrics/books.ts';
import { LatencyHistogram } from '../../main/engine/metrics/latency.ts';

/** The histogram keeps 3 significant digits, so a percentile may be off by up to 0.1 %. */
const PRECISION = 0.001;

function expectWithinPrecision(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * PRECISION);
}

describe('percentiles are not averages', () => {
  it('values 1 to 100 give p95 95 and p50 50', () => {
    const histogram = new LatencyHistogram();
    for (let value = 1; value <= 100; value++) histogram.record(value);
    expectWithinPrecision(histogram.percentileMs(95), 95);
    expectWithinPrecision(histogram.percentileMs(50), 50);
    expect(histogram.summary().maxMs).toBeCloseTo(100, 1);
  });

  it('run percentiles come from merged tick histograms', () => {
    const books = new Books();
    // Tick A: 10,000 requests at 1 ms.
    for (let i = 0; i < 10_000; i++) {
      books.recordSent();
      books.recordOk(1);
    }
    const tickA = books.tickLatency.summary();
    books.closeTick();
    // Tick B: 10 requests at 1 s.
    for (let i = 0; i < 10; i++) {
      books.recordSent();
      books.recordOk(1000);
    }
    const tickB = books.tickLatency.summary();
    books.closeTick();

    expectWithinPrecision(tickA.p999Ms, 1);
    expectWithinPrecision(tickB.p999Ms, 1000);
    const averagedMs = (tickA.p999Ms + tickB.p999Ms) / 2;
    const run = books.runLatency;
    expect(run.count).toBe(10_010);

    // The 10 slow requests are 10 / 10,010 = 0.0999 % of the run, a hair under 0.1 %, so by the
    // usual definition (the smallest value at or above 99.9 % of the requests) the run's p99.9
    // is 1 ms. One more slow request, or any percentile above 99.9001, is 1 s.
    expectWithinPrecision(run.percentileMs(99.9), 1);
    expectWithinPrecision(run.percentileMs(99.91), 1000);
    expectWithinPrecision(run.summary().maxMs, 1000);
    // Averaging the ticks' p99.9 gives about 500 ms, a latency that no request had.
    expect(averagedMs).toBeGreaterThan(400);
    expect(Math.abs(run.percentileMs(99.9) - averagedMs)).toBeGreaterThan(400);
    expect(Math.abs(run.percentileMs(99.91) - averagedMs)).toBeGreaterThan(400);

    books.recordSent();
    books.recordOk(1000);
    books.closeTick();
    expectWithinPrecision(books.runLatency.percentileMs(99.9), 1000);
  });
});
