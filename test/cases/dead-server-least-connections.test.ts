import { describe, expect, it } from 'vitest';
import { cpuBoundLoad, runScenario } from '../support/engine-run.ts';

describe('dead server under least connections', () => {
  it('gets no more than its share until health checks mark it down', async () => {
    const crashAtMs = 3000;
    const { report, ticks, events } = await runScenario({
      version: 1,
      name: 'dead server, least connections',
      duration: '9s',
      load: cpuBoundLoad(500, 2),
      servers: { count: 4, vcpus: 2 },
      dns: { lookup: '0ms' },
      balancer: {
        algorithm: 'least-connections',
        healthCheck: { enabled: true, interval: '1s', timeout: '500ms', fall: 3, rise: 2 },
      },
      timeline: [{ at: '3s', command: { type: 'crash-server', server: 2 } }],
    });

    const markedDown = events.find((event) => event.kind === 'balancer' && event.serverId === 2 && /marked down/.test(event.message));
    expect(markedDown).toBeDefined();
    const detectionMs = markedDown!.tMs - crashAtMs;
    expect(detectionMs).toBeGreaterThan(1500);
    expect(detectionMs).toBeLessThan(3800);

    // Before detection the dead server, which fails fast and so looks idle, takes at most its fair share.
    const undetected = ticks.filter((tick) => tick.tMs > crashAtMs + 250 && tick.tMs <= markedDown!.tMs);
    for (const tick of undetected) expect(tick.servers.find((s) => s.id === 2)!.pickShare).toBeLessThanOrEqual(0.3);
    const detected = ticks.filter((tick) => tick.tMs > markedDown!.tMs + 300 && tick.tMs < 8800);
    expect(detected.length).toBeGreaterThan(10);
    for (const tick of detected) {
      const dead = tick.servers.find((s) => s.id === 2)!;
      expect(dead.pickShare).toBe(0);
      expect(dead.balancer).toBe('unhealthy');
      expect(tick.errorRps).toBe(0);
    }

    // Errors in between: at most about 3 s x 125 requests/s, each counted as "server down".
    expect(report.summary.errors.serverDown).toBeGreaterThan(0);
    expect(report.summary.errors.serverDown).toBeLessThanOrEqual(400);
    expect(report.summary.errorsTotal).toBe(report.summary.errors.serverDown);
    expect(report.summary.booksBalanced).toBe(true);
  });
});
