import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { dbScenario, epochsWithTwoWriters, makeDataRoot, missingFromFile, removeFolder, runScenario } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

describe('stalled primary', () => {
  test('is fenced when a replica is promoted in its place', async () => {
    // The primary freezes for 2 s: it misses its heartbeats without crashing, and would take
    // writes at its old epoch again when it wakes unless the failover fences it.
    const run = await runScenario(
      dataRoot,
      dbScenario({
        duration: '4s',
        database: {
          replicas: 1,
          seedUsers: 100,
          replication: { mode: 'synchronous' },
          failover: { heartbeatInterval: '100ms', missedHeartbeats: 3 },
        } as never,
        timeline: [{ at: '1s', command: { type: 'stall-primary', duration: '2s' } }],
      }),
    );
    const failovers = run.report.database!.failovers;
    expect(failovers).toHaveLength(1);
    expect(failovers[0].outcome).toBe('promoted');
    expect(failovers[0].fromNodeId).toBe(1);
    expect(run.primaryNodeId).not.toBe(1);
    expect(run.events.some((event) => /still runs although declared down/.test(event.message))).toBe(true);

    // The old primary never woke to take writes: one writer per epoch, and nothing acknowledged is lost.
    expect(epochsWithTwoWriters(run)).toEqual([]);
    expect(missingFromFile(run.acknowledged, run.nodeFiles.get(run.primaryNodeId)!)).toEqual([]);
    expect(failovers[0].rpoWrites).toBe(0);
    expect(run.report.summary.booksBalanced).toBe(true);
  });
});
