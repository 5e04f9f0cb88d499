import { afterEach, beforeEach, expect, test } from 'vitest';
import {
  dbScenario,
  epochsWithTwoWriters,
  findEvent,
  lastLsnInFile,
  makeDataRoot,
  missingFromFile,
  nodeTicksBetween,
  removeFolder,
  runScenario,
  sleep,
  waitForLogMatch,
  writersByEpoch,
} from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

test('switchover promotes the chosen replica', async () => {
  let primaryAfterSwitchover = 0;
  let readersAfterSwitchover: number[] = [];
  // Node 3 is neither the first replica nor, with equal links, reliably the most advanced one, so
  // only the command's choice makes it the new primary.
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '60s',
      load: { model: 'open', rateRps: 200, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0.5, apiWrite: 0.5, static: 0 } },
      // The 50 ms delay leaves the target behind when writes pause, so the switchover has to wait for it.
      database: { replicas: 3, seedUsers: 100, replication: { mode: 'asynchronous', delay: '50ms' } },
    }),
    async (engine, live) => {
      const cluster = live.database();
      await sleep(600);
      await engine.command({ type: 'switchover', node: 3 });
      await cluster.settled();
      primaryAfterSwitchover = cluster.primaryNodeId();
      readersAfterSwitchover = [...cluster.route().readNodeIds].sort((a, b) => a - b);
      // Writes go on at the new primary, which the other nodes must follow.
      await sleep(800);
      await engine.command({ type: 'set-load', rateRps: 0 });
      await waitForLogMatch(live, [1, 2, 4]);
      await engine.stop();
    },
  );

  expect(primaryAfterSwitchover).toBe(3);
  expect(run.primaryNodeId).toBe(3);
  expect(readersAfterSwitchover).toEqual([1, 2, 4]);

  const failovers = run.report.database!.failovers;
  expect(failovers).toHaveLength(1);
  const record = failovers[0];
  expect(record.kind).toBe('switchover');
  expect(record.outcome).toBe('promoted');
  expect(record.fromNodeId).toBe(1);
  expect(record.toNodeId).toBe(3);
  expect(record.toEpoch).toBe(2);
  expect(record.rpoWrites).toBe(0);
  expect(record.writesResumedAtMs).not.toBeNull();
  expect(findEvent(run, /^Switchover from node 1 to node 3: writes paused$/)).toBeDefined();
  const promoted = findEvent(run, /^Node 3 promoted to primary at epoch 2, log position \d+$/);
  expect(promoted).toBeDefined();

  expect(epochsWithTwoWriters(run)).toEqual([]);
  expect(run.acknowledgedEpochs.filter((epoch) => epoch === 2).length).toBeGreaterThan(50);
  expect(missingFromFile(run.acknowledged, run.nodeFiles.get(3)!)).toEqual([]);

  // Every other node, the old primary included, applied the new primary's writes of epoch 2 and
  // reached its last position with every acknowledged write.
  const newPrimaryLsn = lastLsnInFile(run.nodeFiles.get(3)!);
  for (const nodeId of [1, 2, 4]) {
    const file = run.nodeFiles.get(nodeId)!;
    expect(lastLsnInFile(file), `node ${nodeId}`).toBe(newPrimaryLsn);
    expect(missingFromFile(run.acknowledged, file), `node ${nodeId}`).toEqual([]);
    expect([...(writersByEpoch([file]).get(2) ?? [])], `node ${nodeId}`).toEqual([3]);
  }

  // The replicas kept up while writes went on at the new primary, not only once they stopped.
  for (const nodeId of [2, 4]) {
    const after = nodeTicksBetween(run, nodeId, promoted!.tMs + 300);
    expect(after.length, `node ${nodeId}`).toBeGreaterThan(2);
    expect(after.some((node) => node.appliedPerSec > 0), `node ${nodeId}`).toBe(true);
    expect(Math.max(...after.map((node) => node.lagLsn)), `node ${nodeId}`).toBeLessThan(60);
  }

  expect(run.report.summary.booksBalanced).toBe(true);
});
