import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { DatabaseNodeSnapshot } from '../../main/engine/api/protocol.ts';
import type { Run } from '../../main/engine/run.ts';
import { dbScenario, makeDataRoot, missingFromFile, removeFolder, runScenario, sleep, type FinishedRun } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

function lastLsnInFile(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT MAX(lsn) FROM replication_log').pluck().get() as number;
  } finally {
    db.close();
  }
}

function nodeTicks(run: FinishedRun, nodeId: number): Array<{ tMs: number; tickMs: number; node: DatabaseNodeSnapshot }> {
  return run.ticks.flatMap((tick) => {
    const node = tick.database.nodes.find((candidate) => candidate.id === nodeId);
    return node ? [{ tMs: tick.tMs, tickMs: tick.tickMs, node }] : [];
  });
}

/** Waits until the file of node `nodeId` has the primary's last log position, read twice 100 ms apart. */
async function waitForCatchUp(run: Run, nodeId: number): Promise<void> {
  const files = run.database().nodeFiles();
  let matches = 0;
  for (let waited = 0; matches < 2; waited += 100) {
    if (waited > 10_000) throw new Error(`node ${nodeId} did not reach the primary's log position within 10 s`);
    await sleep(100);
    matches = lastLsnInFile(files.get(nodeId)!) === lastLsnInFile(files.get(1)!) ? matches + 1 : 0;
  }
}

test('set-replicas adds and removes replicas live', async () => {
  let readersAfterAdd: number[] = [];
  let readersAfterRemove: number[] = [];
  // The steps wait for each other rather than for a timeline, because adding a replica (a snapshot
  // and a new thread) can take seconds on a busy host. The run stops once the steps are done.
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '60s',
      load: { model: 'open', rateRps: 300, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0.5, apiWrite: 0.5, static: 0 } },
      database: { replicas: 1, seedUsers: 100 },
    }),
    async (engine, live) => {
      await sleep(600);
      await engine.command({ type: 'set-replicas', count: 3 });
      await live.database().settled();
      readersAfterAdd = [...live.database().route().readNodeIds];
      await sleep(600);
      await engine.command({ type: 'set-replicas', count: 2 });
      await live.database().settled();
      readersAfterRemove = [...live.database().route().readNodeIds];
      await sleep(600);
      // With no more writes, the replica can apply the whole log before the run stops.
      await engine.command({ type: 'set-load', rateRps: 0 });
      await waitForCatchUp(live, 3);
      await engine.stop();
    },
  );

  const messages = run.events.map((event) => event.message);
  expect(messages).toContain('Adding 2 replicas, each from a snapshot of the primary');
  expect(readersAfterAdd).toEqual([2, 3, 4]);

  // Node 3 started from a snapshot: it applied from the log only the entries committed after the
  // snapshot, so its final position less what it applied is the snapshot's position, at least
  // 600 ms of writes (90 at 150 writes/s).
  const added = nodeTicks(run, 3);
  expect(added.length).toBeGreaterThan(0);
  const applied = added.reduce((sum, { node, tickMs }) => sum + (node.appliedPerSec * tickMs) / 1000, 0);
  const primaryFinalLsn = lastLsnInFile(run.nodeFiles.get(1)!);
  const replicaFinalLsn = lastLsnInFile(run.nodeFiles.get(3)!);
  expect(primaryFinalLsn).toBeGreaterThan(250);
  expect(applied).toBeGreaterThan(50);
  expect(replicaFinalLsn - applied).toBeGreaterThan(30);
  expect(added.some(({ node }) => node.readsPerSec > 0)).toBe(true);

  // It caught up from the log: its position reached the primary's and its file contains every acknowledged write.
  expect(replicaFinalLsn).toBe(primaryFinalLsn);
  expect(missingFromFile(run.acknowledged, run.nodeFiles.get(3)!)).toEqual([]);
  expect(added.at(-1)!.node.lagLsn).toBe(0);

  // Removing a replica takes the newest one out of the read route and out of the cluster.
  expect(messages).toContain('Replica 4 removed');
  expect(readersAfterRemove).toEqual([2, 3]);
  expect(run.nodeFiles.has(4)).toBe(false);
  const removedAtMs = run.events.find((event) => event.message === 'Replica 4 removed')!.tMs;
  expect(nodeTicks(run, 4).some(({ node }) => node.readsPerSec > 0)).toBe(true);
  expect(nodeTicks(run, 4).every(({ tMs }) => tMs <= removedAtMs + 250)).toBe(true);
  // The remaining replicas take the reads after the removal.
  const readsAfterRemoval = run.ticks
    .filter((tick) => tick.tMs > removedAtMs)
    .flatMap((tick) => tick.database.nodes)
    .filter((node) => node.id === 2 || node.id === 3)
    .reduce((sum, node) => sum + node.readsPerSec, 0);
  expect(readsAfterRemoval).toBeGreaterThan(0);

  expect(run.report.summary.booksBalanced).toBe(true);
  expect(run.report.summary.errorsTotal).toBe(0);
});
