import { describe, expect, it } from 'vitest';
import { cpuBoundLoad, runScenario } from '../support/engine-run.ts';

describe('server comes back', () => {
  it('rejoins the rotation within two health checks of restarting', async () => {
    const { report, ticks, events } = await runScenario({
      version: 1,
      name: 'server 3 comes back',
      duration: '12s',
      load: cpuBoundLoad(400, 2),
      servers: { count: 4, vcpus: 2 },
      dns: { lookup: '0ms' },
      balancer: {
        algorithm: 'round-robin',
        healthCheck: { enabled: true, interval: '1s', timeout: '500ms', fall: 2, rise: 2 },
      },
      timeline: [
        { at: '2s', command: { type: 'crash-server', server: 3 } },
        { at: '7s', command: { type: 'restart-server', server: 3 } },
      ],
    });
    const restarted = events.find((event) => event.serverId === 3 && /up \(pool ready\)/.test(event.message));
    const back = events.find((event) => event.serverId === 3 && /back in rotation/.test(event.message));
    expect(restarted).toBeDefined();
    expect(back).toBeDefined();
    expect(back!.tMs - restarted!.tMs).toBeLessThan(2600);

    const after = ticks.filter((tick) => tick.tMs > back!.tMs + 500 && tick.tMs < 11_800);
    const share = after.reduce((sum, tick) => sum + tick.servers.find((s) => s.id === 3)!.pickShare, 0) / after.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.3);
    expect(report.summary.booksBalanced).toBe(true);
  });

  it('returns a server ejected by passive checks', async () => {
    const { report, ticks, events } = await runScenario({
      version: 1,
      name: 'ejected server returns',
      duration: '9s',
      load: cpuBoundLoad(400, 2),
      servers: { count: 4, vcpus: 2 },
      dns: { lookup: '0ms' },
      balancer: {
        algorithm: 'round-robin',
        outlierDetection: { enabled: true, consecutiveErrors: 5, baseEjectionTime: '2s', maxEjectedPercent: 50 },
      },
      timeline: [
        { at: '2s', command: { type: 'fail-server', server: 3, errorRate: 1 } },
        { at: '3s', command: { type: 'clear-server-faults', server: 3 } },
      ],
    });
    const ejected = events.find((event) => event.serverId === 3 && /ejected for/.test(event.message));
    const returned = events.find((event) => event.serverId === 3 && /returned from ejection/.test(event.message));
    expect(ejected).toBeDefined();
    expect(returned).toBeDefined();
    expect(returned!.tMs - ejected!.tMs).toBeGreaterThan(1900);
    expect(returned!.tMs - ejected!.tMs).toBeLessThan(2600);

    const during = ticks.filter((tick) => tick.tMs > ejected!.tMs + 300 && tick.tMs < returned!.tMs - 300);
    for (const tick of during) {
      expect(tick.servers.find((s) => s.id === 3)!.balancer).toBe('ejected');
      expect(tick.servers.find((s) => s.id === 3)!.pickShare).toBe(0);
    }
    const after = ticks.filter((tick) => tick.tMs > returned!.tMs + 300 && tick.tMs < 8800);
    for (const tick of after) expect(tick.servers.find((s) => s.id === 3)!.pickShare).toBeGreaterThan(0.15);
    // Only the five errors in a row that triggered the ejection reached clients.
    expect(report.summary.errors.serverError).toBeGreaterThanOrEqual(5);
    expect(report.summary.errors.serverError).toBeLessThan(40);
  });
});
