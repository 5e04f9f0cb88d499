import { afterEach, beforeEach, expect, test } from 'vitest';
import { dbScenario, findEvent, makeDataRoot, removeFolder, runScenario, sleep } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

test('read-your-writes holds while replicas change', async () => {
  const readerSets: number[][] = [];
  // Few sessions that write often and read at once, with replicas 300 ms behind: without
  // read-your-writes these sessions see dozens of stale reads in a run this long.
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '60s',
      load: { model: 'open', rateRps: 400, arrival: 'poisson', clients: 20, mix: { html: 0, apiRead: 0.6, apiWrite: 0.4, static: 0 } },
      database: { replicas: 1, seedUsers: 20, readYourWrites: true, replication: { mode: 'asynchronous', delay: '300ms' } },
    }),
    async (engine, live) => {
      const cluster = live.database();
      // Each step waits for the previous change to finish, since adding a replica takes a snapshot
      // and starts a thread, which can take seconds on a busy host.
      for (const count of [3, 1, 2]) {
        await sleep(500);
        await engine.command({ type: 'set-replicas', count });
        await cluster.settled();
        readerSets.push([...cluster.route().readNodeIds].sort((a, b) => a - b));
      }
      await sleep(500);
      await engine.stop();
    },
  );

  expect(readerSets).toEqual([[2, 3, 4], [2], [2, 5]]);
  expect(findEvent(run, 'Replica 4 removed')).toBeDefined();
  expect(findEvent(run, 'Replica 3 removed')).toBeDefined();

  expect(run.report.database!.staleReads).toBe(0);
  expect(run.ticks.every((tick) => tick.database.staleReads === 0)).toBe(true);

  // Replicas, the added ones included, served reads, so the check covered them and not only the primary.
  const replicaReads = (id: number) =>
    run.ticks.flatMap((tick) => tick.database.nodes).filter((node) => node.id === id).reduce((sum, node) => sum + node.readsPerSec, 0);
  for (const nodeId of [2, 3, 5]) expect(replicaReads(nodeId), `node ${nodeId}`).toBeGreaterThan(0);

  expect(run.report.summary.ok).toBeGreaterThan(500);
  expect(run.report.summary.errorsTotal).toBe(0);
  expect(run.report.summary.booksBalanced).toBe(true);
});
