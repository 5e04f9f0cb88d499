import { describe, expect, it } from 'vitest';
import { cpuBoundLoad, runScenario } from '../support/engine-run.ts';

describe('draining', () => {
  it('lets a removed server finish its requests in flight', async () => {
    // Server 1 stalls for a second (as in a long pause) while it receives 200 requests/s, so it
    // holds about 200 requests when it is removed; the stall ends within the drain timeout.
    const { report, ticks, events } = await runScenario({
      version: 1,
      name: 'drain server 1',
      duration: '6s',
      load: { ...cpuBoundLoad(800, 5), arrival: 'constant' },
      servers: { count: 4, vcpus: 8 },
      dns: { lookup: '0ms' },
      drainTimeout: '3s',
      requestTimeout: '10s',
      timeline: [
        { at: '2s', command: { type: 'hang-server', server: 1 } },
        { at: '3s', command: { type: 'drain-server', server: 1 } },
        { at: '3500ms', command: { type: 'clear-server-faults', server: 1 } },
      ],
    });

    const draining = events.find((event) => /Draining server 1/.test(event.message));
    const removed = events.find((event) => /Removed server 1/.test(event.message));
    expect(draining).toBeDefined();
    expect(removed).toBeDefined();
    const inFlightAtRemoval = Number(/\((\d+) requests in flight\)/.exec(draining!.message)![1]);
    expect(inFlightAtRemoval).toBeGreaterThanOrEqual(180);

    // No new request reaches server 1 after its removal began.
    const afterRemoval = ticks.filter((tick) => tick.tMs > draining!.tMs + 260);
    for (const tick of afterRemoval) {
      const server = tick.servers.find((s) => s.id === 1);
      if (server) expect(server.pickShare).toBe(0);
    }
    // All of them ended ok, within the drain timeout, and nothing was left pending.
    expect(removed!.tMs - draining!.tMs).toBeLessThan(3000);
    expect(removed!.message).not.toMatch(/ended as errors/);
    expect(ticks.at(-1)!.servers.some((s) => s.id === 1)).toBe(false);
    expect(report.summary.errorsTotal).toBe(0);
    expect(report.summary.sent).toBe(report.summary.ok);
    expect(report.summary.inFlightAtEnd).toBe(0);
    expect(report.summary.booksBalanced).toBe(true);
  });
});
