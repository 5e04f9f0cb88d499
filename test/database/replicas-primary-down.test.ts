import { afterEach, beforeEach, expect, test } from 'vitest';
import { dbScenario, findEvent, makeDataRoot, missingFromFile, removeFolder, runScenario, sleep, waitForLogMatch } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

const CANNOT_ADD = 'A replica cannot be added while the primary is down';

test('set-replicas declined while primary down', async () => {
  let nodesWhileDown: number[] = [];
  let readersWhileDown: number[] = [];
  let readersAfterRestart: number[] = [];
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '60s',
      load: { model: 'open', rateRps: 200, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0.5, apiWrite: 0.5, static: 0 } },
      database: { replicas: 1, seedUsers: 100, failover: { automatic: false } },
    }),
    async (engine, live) => {
      const cluster = live.database();
      await sleep(500);
      await engine.command({ type: 'crash-primary' });
      // The request comes after the monitor has declared the primary down by missed heartbeats.
      for (let waited = 0; cluster.failoverRecords().length === 0; waited += 20) {
        if (waited > 5000) throw new Error('the primary was not declared down within 5 s');
        await sleep(20);
      }
      await cluster.settled();
      await engine.command({ type: 'set-replicas', count: 2 });
      await cluster.settled();
      nodesWhileDown = [...cluster.nodeFiles().keys()].sort((a, b) => a - b);
      readersWhileDown = [...cluster.route().readNodeIds];

      await engine.command({ type: 'restart-db-node', node: 1 });
      await cluster.settled();
      await engine.command({ type: 'set-replicas', count: 2 });
      await cluster.settled();
      readersAfterRestart = [...cluster.route().readNodeIds].sort((a, b) => a - b);
      await sleep(500);
      await engine.command({ type: 'set-load', rateRps: 0 });
      await waitForLogMatch(live, [2, 3]);
      await engine.stop();
    },
  );

  const failover = run.report.database!.failovers[0];
  expect(failover.outcome).toBe('automatic-failover-off');
  const declined = findEvent(run, CANNOT_ADD);
  expect(declined).toBeDefined();
  const restarted = findEvent(run, 'Primary (node 1) is back at epoch 1; writes resume');
  expect(restarted).toBeDefined();
  expect(declined!.tMs).toBeLessThanOrEqual(restarted!.tMs);
  expect(run.events.filter((event) => event.message === CANNOT_ADD)).toHaveLength(1);
  // The declined request claims nothing it did not do.
  expect(run.events.filter((event) => /^Adding \d+ replicas/.test(event.message) && event.tMs <= declined!.tMs)).toEqual([]);
  expect(findEvent(run, /^Database operation failed/)).toBeUndefined();

  // No node was created for the declined request, and replica 2 kept serving reads.
  expect(nodesWhileDown).toEqual([1, 2]);
  expect(readersWhileDown).toEqual([2]);

  // Once the primary is back, the same request adds node 3, which follows the primary.
  expect(readersAfterRestart).toEqual([2, 3]);
  expect(run.primaryNodeId).toBe(1);
  expect(missingFromFile(run.acknowledged, run.nodeFiles.get(3)!)).toEqual([]);
  expect(run.ticks.at(-1)!.database.nodes.find((node) => node.id === 3)?.state).toBe('up');

  // Writes failed while the primary was down, and the run's books still balance.
  expect(run.report.summary.errors.databaseUnavailable).toBeGreaterThan(0);
  expect(run.report.summary.booksBalanced).toBe(true);
});
