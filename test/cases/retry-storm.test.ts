import { describe, expect, it } from 'vitest';
import { runScenario } from '../support/engine-run.ts';

describe('retry storm', () => {
  it('keeps attempts within the retry budget', async () => {
    // 10,000 requests/s that each hold a vCPU for 100 ms keep about 1,000 requests in flight.
    const failAll = [1, 2, 3, 4].map((server) => ({ at: '2s', command: { type: 'fail-server' as const, server, errorRate: 1 } }));
    const clearAll = [1, 2, 3, 4].map((server) => ({ at: '7s', command: { type: 'clear-server-faults' as const, server } }));
    const { report, ticks } = await runScenario({
      version: 1,
      name: 'retry storm',
      duration: '9s',
      load: { rateRps: 10_000, mix: { html: 0, apiRead: 0, apiWrite: 0, static: 1 }, cpuMs: { static: 100 } },
      servers: { count: 4, vcpus: 64 },
      dns: { lookup: '0ms' },
      balancer: {
        algorithm: 'round-robin',
        retries: { enabled: true, maxAttempts: 3, backoffBase: '25ms', backoffMax: '500ms', budgetPercent: 20, minRetryConcurrency: 3 },
      },
      timeline: [...failAll, ...clearAll],
    });

    const before = ticks.filter((tick) => tick.tMs > 1000 && tick.tMs < 2000);
    expect(Math.min(...before.map((tick) => tick.books.inFlight))).toBeGreaterThan(700);

    const { sent, attempts, retries, amplification } = report.summary;
    expect(retries).toBeGreaterThan(100);
    expect(attempts).toBe(sent + retries);
    expect(attempts).toBeLessThanOrEqual(1.2 * sent + 10);
    expect(amplification).toBeCloseTo(attempts / sent, 6);
    expect(amplification).toBeLessThanOrEqual(1.2 + 10 / sent);
    // Retries waiting in backoff count against the budget: never more than 20 % of what is in flight.
    for (const tick of ticks) expect(tick.balancer.retriesActive).toBeLessThanOrEqual(Math.max(3, 0.2 * tick.books.inFlight) + 1);
    expect(report.summary.errors.serverError).toBeGreaterThan(0);
    expect(report.summary.booksBalanced).toBe(true);
  });
});
