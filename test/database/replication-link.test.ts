import { afterEach, beforeEach, expect, test } from 'vitest';
import type { DatabaseNodeSnapshot } from '../../main/engine/api/protocol.ts';
import { dbScenario, makeDataRoot, missingFromFile, removeFolder, runScenario, type FinishedRun } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

/** Node `nodeId` in every tick whose end falls in [fromMs, toMs). */
function nodeBetween(run: FinishedRun, nodeId: number, fromMs: number, toMs: number): DatabaseNodeSnapshot[] {
  return run.ticks
    .filter((tick) => tick.tMs >= fromMs && tick.tMs < toMs)
    .flatMap((tick) => tick.database.nodes.filter((node) => node.id === nodeId));
}

test('cut link lag grows and recovers after restore', async () => {
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '2900ms',
      load: { model: 'open', rateRps: 150, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } },
      // Replica 3 keeps its link, as a control for replica 2.
      database: { replicas: 2, seedUsers: 100 },
      timeline: [
        { at: '500ms', command: { type: 'cut-replication', node: 2 } },
        { at: '1400ms', command: { type: 'restore-replication', node: 2 } },
        // The last 700 ms carry no writes, so the replica can apply the whole log before the run stops.
        { at: '2200ms', command: { type: 'set-load', rateRps: 0 } },
      ],
    }),
  );

  const cut = run.events.find((event) => event.message === 'Replication link to replica 2 cut');
  const restored = run.events.find((event) => event.message === 'Replication link to replica 2 restored');
  expect(cut).toBeDefined();
  expect(restored).toBeDefined();

  // While cut, the replica falls further behind at every tick, in log positions and in time.
  const whileCut = nodeBetween(run, 2, cut!.tMs + 1, restored!.tMs);
  expect(whileCut.length).toBeGreaterThanOrEqual(3);
  expect(whileCut.every((node) => node.linkCut)).toBe(true);
  for (let i = 1; i < whileCut.length; i++) expect(whileCut[i].lagLsn).toBeGreaterThan(whileCut[i - 1].lagLsn);
  const peak = whileCut.at(-1)!;
  // About 0.9 s of writes at 150 writes/s were not shipped.
  expect(peak.lagLsn).toBeGreaterThan(80);
  expect(peak.lagMs).toBeGreaterThan(500);
  expect(run.report.database!.maxLagLsn).toBeGreaterThanOrEqual(peak.lagLsn);

  // From 500 ms after the restore the replica is back within a few writes of the primary.
  const recovered = nodeBetween(run, 2, restored!.tMs + 500, Infinity);
  expect(recovered.length).toBeGreaterThanOrEqual(1);
  for (const node of recovered) {
    expect(node.linkCut).toBe(false);
    expect(node.lagLsn).toBeLessThan(peak.lagLsn / 5);
    expect(node.lagMs).toBeLessThan(250);
  }

  // The control replica never fell behind.
  for (const node of nodeBetween(run, 3, 0, Infinity)) expect(node.lagLsn).toBeLessThan(peak.lagLsn / 5);

  expect(missingFromFile(run.acknowledged, run.nodeFiles.get(2)!)).toEqual([]);
  expect(run.report.summary.errorsTotal).toBe(0);
});
