import { afterEach, beforeEach, expect, test } from 'vitest';
import { acknowledgedAt, dbScenario, findEvent, makeDataRoot, missingFromFile, nodeTicksBetween, removeFolder, runScenario } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

const LEFT = /^Replica 2 left the synchronous set: it did not acknowledge log position \d+ within 500 ms$/;
const JOINED = /^Replica 2 joined the synchronous set at log position \d+$/;

test('cut replica leaves and rejoins the synchronous set', async () => {
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '3600ms',
      load: { model: 'open', rateRps: 150, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } },
      // Replica 3 keeps its link and stays in the set, so writes go on waiting for a replica.
      database: { replicas: 2, seedUsers: 100, replication: { mode: 'synchronous', ackTimeout: '500ms' } },
      timeline: [
        { at: '500ms', command: { type: 'cut-replication', node: 2 } },
        { at: '2200ms', command: { type: 'restore-replication', node: 2 } },
      ],
    }),
  );

  const cut = findEvent(run, 'Replication link to replica 2 cut');
  const restored = findEvent(run, 'Replication link to replica 2 restored');
  expect(cut).toBeDefined();
  expect(restored).toBeDefined();
  const left = findEvent(run, LEFT, cut!.tMs - 1);
  expect(left).toBeDefined();
  expect(left!.tMs).toBeLessThan(restored!.tMs);
  expect(left!.nodeId).toBe(1);
  const joined = findEvent(run, JOINED, restored!.tMs - 1);
  expect(joined).toBeDefined();
  // A busy host can make the replica miss the ack timeout before the cut too, so only the events
  // from the cut on must be exactly one departure and one return.
  const setChanges = run.events.filter((event) => event.tMs >= cut!.tMs && (LEFT.test(event.message) || JOINED.test(event.message)));
  expect(setChanges.map((event) => event.message)).toEqual([left!.message, joined!.message]);
  expect(findEvent(run, /^Replica 3 left the synchronous set/)).toBeUndefined();

  // Before the cut both replicas are in the set; after the departure only replica 3 until replica 2 returns.
  const beforeCut = nodeTicksBetween(run, 2, 200, cut!.tMs);
  expect(beforeCut.length).toBeGreaterThan(0);
  expect(beforeCut.some((node) => node.inSyncSet)).toBe(true);
  const whileOut = nodeTicksBetween(run, 2, left!.tMs + 100, restored!.tMs);
  expect(whileOut.length).toBeGreaterThan(2);
  expect(whileOut.every((node) => !node.inSyncSet && node.linkCut)).toBe(true);
  const afterJoin = nodeTicksBetween(run, 2, joined!.tMs + 100);
  expect(afterJoin.length).toBeGreaterThan(0);
  expect(afterJoin.every((node) => node.inSyncSet)).toBe(true);
  expect(nodeTicksBetween(run, 3, left!.tMs + 100).every((node) => node.inSyncSet)).toBe(true);

  // Writes went on being acknowledged while replica 2 was out of the set.
  expect(acknowledgedAt(run, restored!.tMs) - acknowledgedAt(run, left!.tMs)).toBeGreaterThan(50);
  expect(run.report.summary.errorsTotal).toBe(0);

  // Every acknowledged write reached replica 3, which stayed in the set throughout.
  expect(missingFromFile(run.acknowledged, run.nodeFiles.get(3)!)).toEqual([]);
});
