import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  dbScenario,
  epochsWithTwoWriters,
  makeDataRoot,
  missingFromFile,
  removeFolder,
  runScenario,
  type FinishedRun,
} from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

/** Writes at `rateRps` against a primary and one replica behind `delay`, primary crashed at `crashAt`. */
function crashRun(mode: string, delay: string, rateRps: number, crashAt: string, duration = '3s'): Promise<FinishedRun> {
  return runScenario(
    dataRoot,
    dbScenario({
      duration,
      load: { model: 'open', rateRps, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } },
      database: { replicas: 1, seedUsers: 100, replication: { mode, delay } } as never,
      timeline: [{ at: crashAt, command: { type: 'crash-primary' } }],
    }),
  );
}

describe('failover RPO against the clients ledger', () => {
  test('crash with unshipped writes reports exact RPO (200 writes/s, 500 ms delay)', async () => {
    const run = await crashRun('asynchronous', '500ms', 200, '1500ms');
    const failovers = run.report.database!.failovers;
    expect(failovers).toHaveLength(1);
    const record = failovers[0];
    expect(record.outcome).toBe('promoted');
    expect(record.toNodeId).toBe(run.primaryNodeId);
    const missing = missingFromFile(run.acknowledged, run.nodeFiles.get(run.primaryNodeId)!);
    // About 500 ms of writes at 200/s were in transit when the primary died.
    expect(missing.length).toBeGreaterThan(50);
    expect(record.rpoWrites).toBe(missing.length);
    expect(new Set(record.rpoWriteIds)).toEqual(new Set(missing));
    expect(record.rtoMs).not.toBeNull();
    expect(record.rtoMs!).toBeGreaterThan(0);
    expect(epochsWithTwoWriters(run)).toEqual([]);
  });

  test('same crash under synchronous replication loses nothing', async () => {
    const run = await crashRun('synchronous', '500ms', 200, '1500ms', '3500ms');
    const record = run.report.database!.failovers[0];
    expect(record.outcome).toBe('promoted');
    expect(missingFromFile(run.acknowledged, run.nodeFiles.get(run.primaryNodeId)!)).toEqual([]);
    expect(record.rpoWrites).toBe(0);
    expect(run.acknowledged.length).toBeGreaterThan(50);
    expect(epochsWithTwoWriters(run)).toEqual([]);
  });

  test('planned switchover under 200 ms delay loses nothing (100 writes/s)', async () => {
    const run = await runScenario(
      dataRoot,
      dbScenario({
        duration: '3s',
        load: { model: 'open', rateRps: 100, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } },
        database: { replicas: 1, seedUsers: 100, replication: { mode: 'asynchronous', delay: '200ms' } },
        timeline: [{ at: '1s', command: { type: 'switchover' } }],
      }),
    );
    const record = run.report.database!.failovers[0];
    expect(record.kind).toBe('switchover');
    expect(record.outcome).toBe('promoted');
    expect(run.primaryNodeId).toBe(2);
    expect(record.rpoWrites).toBe(0);
    expect(missingFromFile(run.acknowledged, run.nodeFiles.get(2)!)).toEqual([]);
    // The old primary follows the new one and catches up on the writes after the switchover.
    expect(missingFromFile(run.acknowledged, run.nodeFiles.get(1)!).length).toBeLessThan(run.acknowledged.length);
    expect(record.writesResumedAtMs).not.toBeNull();
    expect(run.acknowledgedEpochs.filter((epoch) => epoch === 2).length).toBeGreaterThan(50);
    expect(epochsWithTwoWriters(run)).toEqual([]);
  });

  test('failover timeline is in events and report', async () => {
    const run = await crashRun('asynchronous', '100ms', 100, '1s', '2500ms');
    const record = run.report.database!.failovers[0];
    expect(record.detectedAtMs!).toBeGreaterThanOrEqual(record.lostAtMs);
    expect(record.promotedAtMs!).toBeGreaterThanOrEqual(record.detectedAtMs!);
    expect(record.writesResumedAtMs!).toBeGreaterThanOrEqual(record.promotedAtMs!);
    expect(record.rtoMs).toBeCloseTo(record.writesResumedAtMs! - record.lostAtMs, 3);
    const messages = run.events.filter((event) => event.kind === 'failover').map((event) => event.message);
    expect(messages.some((m) => m.includes('declared down'))).toBe(true);
    expect(messages.some((m) => m.includes('promoted to primary'))).toBe(true);
    expect(messages.some((m) => m.includes('Writes resumed'))).toBe(true);
    expect(messages.some((m) => m.startsWith('RPO:'))).toBe(true);
    // The ticks carry each replica's lag for the live chart.
    const lagged = run.ticks.flatMap((tick) => tick.database.nodes).filter((node) => node.role === 'replica' && node.lagLsn > 0);
    expect(lagged.length).toBeGreaterThan(0);
    expect(Math.max(...lagged.map((node) => node.lagMs))).toBeGreaterThan(50);
  });
});
