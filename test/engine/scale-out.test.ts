import { describe, expect, it } from 'vitest';
import { cpuBoundLoad, meanOkRps, runScenario } from '../support/engine-run.ts';

describe('scale out', () => {
  it('raises throughput of a CPU-bound load from 1 to 4 servers', async () => {
    // One 1-vCPU server at 5 ms per request serves 200/s; the load offers 600/s.
    const { report, ticks } = await runScenario({
      version: 1,
      name: 'scale-out test',
      duration: '8s',
      load: cpuBoundLoad(600, 5),
      servers: { count: 1, vcpus: 1 },
      balancer: { algorithm: 'least-connections' },
      dns: { lookup: '0ms' },
      requestTimeout: '2s',
      drainTimeout: '2s',
      timeline: [{ at: '3s', command: { type: 'set-servers', count: 4 } }],
    });

    const before = meanOkRps(ticks, 1000, 3000);
    const after = meanOkRps(ticks, 5000, 8000);
    expect(before).toBeGreaterThan(150);
    expect(before).toBeLessThan(230);
    expect(after).toBeGreaterThan(500);
    expect(after / before).toBeGreaterThan(2.5);
    expect(ticks.at(-2)!.config.servers).toBe(4);
    for (const tick of ticks) expect(tick.books.balanced).toBe(true);
    expect(report.summary.booksBalanced).toBe(true);
    expect(report.summary.sent).toBe(report.summary.ok + report.summary.errorsTotal);
  });
});
