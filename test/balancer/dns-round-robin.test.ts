import { describe, expect, it } from 'vitest';
import { cpuBoundLoad, runScenario } from '../support/engine-run.ts';

describe('DNS round robin without a balancer', () => {
  it('keeps sending to a dead server until the TTL expires', async () => {
    const { ticks, report } = await runScenario({
      version: 1,
      name: 'dns round robin',
      duration: '10s',
      load: { ...cpuBoundLoad(400, 1), clients: 400 },
      servers: { count: 4, vcpus: 2 },
      dns: { target: 'round-robin', ttl: '3s', lookup: '0ms' },
      timeline: [{ at: '2s', command: { type: 'crash-server', server: 2 } }],
    });
    const errorShare = (from: number, to: number): number => {
      const window = ticks.filter((tick) => tick.tMs > from && tick.tMs < to);
      return window.reduce((sum, t) => sum + t.errorRps, 0) / window.reduce((sum, t) => sum + t.offeredRps, 0);
    };
    // Right after the crash, the quarter of clients that cached server 2 fail on every request.
    expect(errorShare(2300, 3300)).toBeGreaterThan(0.12);
    // Once every cached answer has expired, no client uses server 2 any more.
    expect(errorShare(5500, 9800)).toBe(0);
    expect(report.summary.errors.serverDown).toBe(report.summary.errorsTotal);
  });

  it('a single server behind DNS is a full outage when it crashes', async () => {
    const { ticks } = await runScenario({
      version: 1,
      name: 'dns single server',
      duration: '4s',
      load: cpuBoundLoad(200, 1),
      servers: { count: 2, vcpus: 2 },
      dns: { target: 'first-server', lookup: '0ms' },
      timeline: [{ at: '1500ms', command: { type: 'crash-server', server: 1 } }],
    });
    const before = ticks.filter((tick) => tick.tMs > 500 && tick.tMs < 1400);
    for (const tick of before) expect(tick.servers.find((s) => s.id === 2)!.okRps).toBe(0);
    const after = ticks.filter((tick) => tick.tMs > 1800 && tick.tMs < 3900);
    for (const tick of after) expect(tick.okRps).toBe(0);
  });
});
