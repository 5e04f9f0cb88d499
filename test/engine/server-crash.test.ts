import { describe, expect, it } from 'vitest';
import { cpuBoundLoad, createTestEngine, waitFor } from '../support/engine-run.ts';

describe('server crash', () => {
  it('turns only the crashed server requests into errors', async () => {
    const test = createTestEngine();
    await test.engine.start({
      version: 1,
      name: 'crash one of four',
      duration: '8s',
      load: cpuBoundLoad(400, 2),
      servers: { count: 4, vcpus: 2 },
      balancer: { algorithm: 'round-robin' },
      dns: { lookup: '0ms' },
      requestTimeout: '2s',
    });
    await waitFor(() => test.ticks.some((tick) => tick.tMs > 2000), 10_000, 'two seconds of ticks');
    await test.engine.command({ type: 'crash-server', server: 2 });
    const crashedAt = test.ticks.at(-1)!.tMs;
    const report = await test.finished;

    const after = test.ticks.filter((tick) => tick.tMs > crashedAt + 500 && tick.tMs < 7500);
    expect(after.length).toBeGreaterThan(10);
    for (const tick of after) {
      const down = tick.servers.find((server) => server.id === 2)!;
      expect(down.state).toBe('down');
      expect(down.okRps).toBe(0);
      for (const server of tick.servers.filter((s) => s.id !== 2)) {
        expect(server.state).toBe('up');
        expect(server.errorRps).toBe(0);
      }
    }
    // Round robin keeps sending a quarter of the requests to the dead server; the rest succeed.
    const okShare = after.reduce((sum, t) => sum + t.okRps, 0) / after.reduce((sum, t) => sum + t.offeredRps, 0);
    expect(okShare).toBeGreaterThan(0.68);
    expect(okShare).toBeLessThan(0.82);
    expect(report.summary.errors.serverDown).toBeGreaterThan(0);
    expect(report.summary.errors.timeout).toBe(0);
    expect(report.summary.errorsTotal).toBe(report.summary.errors.serverDown);
    expect(report.summary.booksBalanced).toBe(true);
    expect(report.events.some((event) => event.kind === 'fault' && event.serverId === 2)).toBe(true);
  });

  it('brings a restarted server back into service', async () => {
    const test = createTestEngine();
    await test.engine.start({
      version: 1,
      name: 'crash and restart',
      duration: '6s',
      load: cpuBoundLoad(200, 1),
      servers: { count: 1, vcpus: 2 },
      dns: { lookup: '0ms' },
      timeline: [
        { at: '1s', command: { type: 'crash-server', server: 1 } },
        { at: '2s', command: { type: 'restart-server', server: 1 } },
      ],
    });
    const report = await test.finished;
    const outage = test.ticks.filter((tick) => tick.tMs > 1300 && tick.tMs < 1900);
    expect(outage.every((tick) => tick.okRps === 0)).toBe(true);
    expect(test.ticks.filter((tick) => tick.tMs > 4000 && tick.tMs < 5900).every((tick) => tick.okRps > 100)).toBe(true);
    expect(report.summary.booksBalanced).toBe(true);
  });
});
