import { describe, expect, it } from 'vitest';
import { cpuBoundLoad, runScenario } from '../support/engine-run.ts';

describe('abandoned requests', () => {
  it('spend no vCPU time once their client gave up', async () => {
    // One 1-vCPU server at 5 ms per request serves 200/s; 400/s are offered for 4 s, then 100/s.
    const { ticks, report } = await runScenario({
      version: 1,
      name: 'overload then relief',
      duration: '8s',
      load: cpuBoundLoad(400, 5),
      servers: { count: 1, vcpus: 1 },
      dns: { lookup: '0ms' },
      requestTimeout: '1s',
      timeline: [{ at: '4s', command: { type: 'set-load', rateRps: 100 } }],
    });
    // Under twice its capacity the server stays busy, but served first come first served, most
    // requests reach a vCPU only near their deadline: they time out, and goodput collapses.
    const overload = ticks.filter((tick) => tick.tMs > 2000 && tick.tMs < 4000);
    for (const tick of overload) expect(tick.servers[0].utilization).toBeGreaterThan(0.9);
    expect(report.summary.errors.timeout).toBeGreaterThan(500);

    // Without dropping them, the backlog of requests nobody waits for (about 800, 4 s of work)
    // would delay recovery well past the end of the run; dropping them keeps it about one timeout long.
    const recovered = ticks.filter((tick) => tick.tMs > 6200 && tick.tMs < 7900);
    for (const tick of recovered) {
      expect(tick.latency.p99Ms).toBeLessThan(100);
      expect(tick.errorRps).toBe(0);
    }
    expect(report.summary.booksBalanced).toBe(true);
  });
});
