import { afterEach, beforeEach, expect, test } from 'vitest';
import {
  acknowledgedAt,
  dbScenario,
  epochsWithTwoWriters,
  findEvent,
  lastLsnInFile,
  makeDataRoot,
  missingFromFile,
  removeFolder,
  runScenario,
} from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

const ABORTED = /^Switchover aborted: node 2 did not reach log position (\d+) in time; writes resume on node 1$/;

test('switchover aborts when the target cannot catch up', async () => {
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '3200ms',
      load: { model: 'open', rateRps: 150, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } },
      // Replica 3 keeps its link, so a switchover that ignored the named target would succeed.
      database: { replicas: 2, seedUsers: 100, failover: { promotionTimeout: '500ms' } },
      timeline: [
        { at: '400ms', command: { type: 'cut-replication', node: 2 } },
        { at: '800ms', command: { type: 'switchover', node: 2 } },
        { at: '2000ms', command: { type: 'restore-replication', node: 2 } },
        // The last 700 ms carry no writes, so replica 2 can apply the whole log before the run stops.
        { at: '2500ms', command: { type: 'set-load', rateRps: 0 } },
      ],
    }),
  );

  const paused = findEvent(run, 'Switchover from node 1 to node 2: writes paused');
  expect(paused).toBeDefined();
  const aborted = findEvent(run, ABORTED, paused!.tMs - 1);
  expect(aborted).toBeDefined();
  // The primary waits the whole promotion timeout before it gives up. The bound of 400 ms leaves room for timer jitter.
  expect(aborted!.tMs - paused!.tMs).toBeGreaterThanOrEqual(400);
  expect(aborted!.nodeId).toBe(1);

  const failovers = run.report.database!.failovers;
  expect(failovers).toHaveLength(1);
  const record = failovers[0];
  expect(record.kind).toBe('switchover');
  expect(record.outcome).toBe('aborted');
  expect(record.toNodeId).toBeNull();
  expect(record.toEpoch).toBeNull();
  expect(record.reason).toBe(aborted!.message);
  expect(findEvent(run, /promoted to primary/)).toBeUndefined();

  // Node 1 stays primary at epoch 1 and takes writes again after the abort.
  expect(run.primaryNodeId).toBe(1);
  expect(run.ticks.every((tick) => tick.database.primaryNodeId === 1 && tick.database.epoch === 1)).toBe(true);
  const restored = findEvent(run, 'Replication link to replica 2 restored')!;
  expect(acknowledgedAt(run, restored.tMs) - acknowledgedAt(run, aborted!.tMs)).toBeGreaterThan(50);
  expect(run.ticks.filter((tick) => tick.tMs > aborted!.tMs + 100).every((tick) => tick.database.writesAvailable)).toBe(true);
  expect(new Set(run.acknowledgedEpochs)).toEqual(new Set([1]));
  expect(epochsWithTwoWriters(run)).toEqual([]);

  // Nothing acknowledged is lost: the primary and both replicas, replica 2 after the restore, hold every write.
  const primaryLsn = lastLsnInFile(run.nodeFiles.get(1)!);
  for (const nodeId of [1, 2, 3]) {
    const file = run.nodeFiles.get(nodeId)!;
    expect(missingFromFile(run.acknowledged, file), `node ${nodeId}`).toEqual([]);
    expect(lastLsnInFile(file), `node ${nodeId}`).toBe(primaryLsn);
  }
  expect(run.report.summary.booksBalanced).toBe(true);
});
