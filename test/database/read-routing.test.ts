import { afterEach, beforeEach, expect, test } from 'vitest';
import { dbScenario, makeDataRoot, removeFolder, runScenario } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

/** Few sessions that write often and read at once, with replicas 300 ms behind. */
function sessionsScenario(readYourWrites: boolean) {
  return dbScenario({
    duration: '2500ms',
    load: { model: 'open', rateRps: 400, arrival: 'poisson', clients: 20, mix: { html: 0, apiRead: 0.6, apiWrite: 0.4, static: 0 } },
    database: { replicas: 2, seedUsers: 20, readYourWrites, replication: { mode: 'asynchronous', delay: '300ms' } },
  });
}

test('reads spread round robin over replicas', async () => {
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '2s',
      load: { model: 'open', rateRps: 600, arrival: 'constant', clients: 100, mix: { html: 0, apiRead: 0.9, apiWrite: 0.1, static: 0 } },
      database: { replicas: 2, seedUsers: 100 },
    }),
  );
  const steady = run.ticks.slice(2, -1).flatMap((tick) => tick.database.nodes);
  const readsOf = (id: number) => steady.filter((node) => node.id === id).reduce((sum, node) => sum + node.readsPerSec, 0);
  expect(readsOf(1)).toBe(0);
  expect(readsOf(2)).toBeGreaterThan(0);
  expect(readsOf(3) / readsOf(2)).toBeGreaterThan(0.8);
  expect(readsOf(3) / readsOf(2)).toBeLessThan(1.25);
});

test('lagging replicas serve stale reads without read-your-writes', async () => {
  const run = await runScenario(dataRoot, sessionsScenario(false));
  expect(run.report.database!.staleReads).toBeGreaterThan(10);
  expect(run.ticks.some((tick) => tick.database.staleReadsPerSec > 0)).toBe(true);
});

test('read-your-writes leaves no stale read', async () => {
  const run = await runScenario(dataRoot, sessionsScenario(true));
  expect(run.report.database!.staleReads).toBe(0);
  expect(run.report.summary.ok).toBeGreaterThan(500);
});
