import { afterEach, beforeEach, expect, test } from 'vitest';
import { dbScenario, makeDataRoot, removeFolder, runScenario } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

const writes = { model: 'open', rateRps: 200, arrival: 'constant', clients: 20, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } } as const;

test('no eligible replica is reported within the promotion timeout', async () => {
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '2500ms',
      load: writes,
      database: {
        replicas: 1,
        seedUsers: 20,
        replication: { delay: '500ms' },
        failover: { maxLagLsn: 5, promotionTimeout: '400ms', heartbeatInterval: '50ms', missedHeartbeats: 2 },
      },
      timeline: [{ at: '1s', command: { type: 'crash-primary' } }],
    }),
  );
  const record = run.report.database!.failovers[0];
  expect(record.outcome).toBe('no-eligible-replica');
  expect(record.toNodeId).toBeNull();
  expect(record.reason).toMatch(/log positions behind \(maximum 5\)/);
  const event = run.events.find((e) => e.kind === 'failover' && e.message.startsWith('No replica is eligible'));
  expect(event).toBeDefined();
  // Declared down after about 100 ms, then 400 ms of looking: well before the run ends.
  expect(event!.tMs - record.lostAtMs).toBeLessThan(900);
  expect(run.primaryNodeId).toBe(1);
  expect(run.report.summary.errors.databaseUnavailable).toBeGreaterThan(100);
});

test('automatic failover off leaves the outage until the primary restarts', async () => {
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '3s',
      load: writes,
      database: { replicas: 1, seedUsers: 20, failover: { automatic: false } },
      timeline: [
        { at: '800ms', command: { type: 'crash-primary' } },
        { at: '1800ms', command: { type: 'restart-db-node', node: 1 } },
      ],
    }),
  );
  const record = run.report.database!.failovers[0];
  expect(record.outcome).toBe('automatic-failover-off');
  expect(run.primaryNodeId).toBe(1);
  expect(record.writesResumedAtMs).not.toBeNull();
  // Writes were unavailable from the crash until the restart at 1.8 s.
  expect(record.rtoMs!).toBeGreaterThan(900);
  expect(run.events.some((e) => e.message.startsWith('Automatic failover is off'))).toBe(true);
});
