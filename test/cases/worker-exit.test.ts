import { describe, expect, it } from 'vitest';
import { createTestEngine, waitFor } from '../support/engine-run.ts';

describe('web server thread exits mid-load', () => {
  it('fails its requests at once and routes nothing into the dead thread', async () => {
    const test = createTestEngine();
    // 10 requests/s, each holding a vCPU for 1 s: about 10 requests are in flight at any moment.
    await test.engine.start({
      version: 1,
      name: 'worker exit',
      duration: '9s',
      load: { rateRps: 10, arrival: 'constant', mix: { html: 0, apiRead: 0, apiWrite: 0, static: 1 }, cpuMs: { static: 1000 } },
      servers: { count: 1, vcpus: 64 },
      dns: { lookup: '0ms' },
      requestTimeout: '30s',
    });
    await waitFor(() => test.ticks.some((tick) => tick.tMs > 2500), 10_000, 'the run to reach steady state');
    const run = test.engine.currentRun()!;
    const inFlightBefore = test.ticks.at(-1)!.books.inFlight;
    expect(inFlightBefore).toBeGreaterThanOrEqual(9);

    run.exitServerThreads(1);
    await waitFor(() => test.ticks.at(-1)!.servers[0].state === 'down', 2000, 'the server to be marked down');
    const downTick = test.ticks.at(-1)!;
    // Every request the thread held ended as an error within the tick that saw it die.
    expect(downTick.books.inFlight).toBe(0);
    expect(downTick.books.errors.serverDown).toBeGreaterThanOrEqual(inFlightBefore);
    expect(downTick.books.balanced).toBe(true);

    // Later requests fail fast as "server down" instead of waiting in a dead thread.
    await waitFor(() => test.ticks.at(-1)!.tMs > downTick.tMs + 2000, 5000, 'two more seconds of ticks');
    const later = test.ticks.filter((tick) => tick.tMs > downTick.tMs);
    for (const tick of later) {
      expect(tick.books.inFlight).toBe(0);
      expect(tick.okRps).toBe(0);
    }
    expect(later.at(-1)!.books.errors.serverDown).toBeGreaterThan(downTick.books.errors.serverDown);
    expect(later.at(-1)!.books.errors.timeout).toBe(0);

    const report = await test.engine.stop();
    expect(report!.summary.booksBalanced).toBe(true);
    expect(report!.summary.inFlightAtEnd).toBe(0);
    expect(report!.events.some((event) => event.kind === 'server' && /exited/.test(event.message))).toBe(true);
  });
});
