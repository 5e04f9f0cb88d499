import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { ScenarioInput } from '../../main/engine/api/protocol.ts';
import { parseScenario } from '../../main/engine/api/scenario.ts';
import { formatDurationMs } from '../../main/engine/api/units.ts';
import { dbScenario, makeDataRoot, removeFolder, runScenario, sleep } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

const MODES = 'expected one of asynchronous, semi-synchronous, synchronous';

/** Formats the accepted range of a duration as the error messages write it. */
function durationRange(minMs: number, maxMs: number): string {
  return `${formatDurationMs(minMs)} to ${formatDurationMs(maxMs)}`;
}

/** Checks that `message` names `field` and contains each of `parts` (the accepted range or values). */
function expectNamesField(message: string | undefined, field: string, parts: string[], label: string): void {
  expect(message, label).toContain(`${field}: `);
  for (const part of parts) expect(message, label).toContain(part);
}

describe('database scenario validation', () => {
  // Each row: the `database` section, the field the error must name, and what else it must contain.
  const cases: Array<[string, Record<string, unknown>, string, string[]]> = [
    ['replicas above 8', { replicas: 9 }, 'database.replicas', ['expected an integer from 0 to 8']],
    ['negative replicas', { replicas: -1 }, 'database.replicas', ['expected an integer from 0 to 8']],
    ['fractional replicas', { replicas: 1.5 }, 'database.replicas', ['expected an integer from 0 to 8']],
    ['unknown mode', { replication: { mode: 'quorum' } }, 'database.replication.mode', [MODES]],
    ['negative delay', { replication: { delay: '-5ms' } }, 'database.replication.delay', [durationRange(0, 60_000), '"-5ms"']],
    ['delay above 60 s', { replication: { delay: '2m' } }, 'database.replication.delay', [durationRange(0, 60_000), '"2m"']],
    ['ack timeout below 10 ms', { replication: { ackTimeout: '5ms' } }, 'database.replication.ackTimeout', [durationRange(10, 60_000)]],
    ['unknown layout', { layout: 'document' }, 'database.layout', ['expected one of relational, key-value']],
    ['zero vCPUs', { vcpus: 0 }, 'database.vcpus', ['expected an integer from 1 to 64']],
    ['zero missed heartbeats', { failover: { missedHeartbeats: 0 } }, 'database.failover.missedHeartbeats', ['expected an integer from 1 to 100']],
    ['negative write cost', { cpuMs: { write: -1 } }, 'database.cpuMs.write', ['expected a number from 0 to 10000']],
    ['unknown field', { shards: 2 }, 'database', ['"shards"']],
  ];

  test.each(cases)('rejects %s', (name, database, field, parts) => {
    const scenario = dbScenario({ database: database as ScenarioInput['database'] });
    let message: string | undefined;
    try {
      parseScenario(scenario);
    } catch (error) {
      message = (error as Error).message;
    }
    expectNamesField(message, field, parts, name);
  });

  test('accepts the limits themselves', () => {
    const scenario = parseScenario(dbScenario({ database: { replicas: 8, replication: { mode: 'semi-synchronous', delay: '60s', ackTimeout: '10ms' } } }));
    expect(scenario.database.replicas).toBe(8);
    expect(scenario.database.replication.delay).toBe(60_000);
    expect(scenario.database.replication.ackTimeout).toBe(10);
  });
});

test('invalid database commands leave the run undisturbed', async () => {
  const rejections = new Map<string, string>();
  const run = await runScenario(
    dataRoot,
    dbScenario({
      duration: '1500ms',
      load: { model: 'open', rateRps: 200, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0.5, apiWrite: 0.5, static: 0 } },
      database: { replicas: 1, seedUsers: 100 },
    }),
    async (engine) => {
      await sleep(300);
      const commands: Array<[string, unknown]> = [
        ['node id 0', { type: 'crash-replica', node: 0 }],
        ['missing node id', { type: 'crash-replica' }],
        ['unknown replica', { type: 'crash-replica', node: 7 }],
        ['primary as replica', { type: 'crash-replica', node: 1 }],
        ['9 replicas', { type: 'set-replicas', count: 9 }],
        ['unknown mode', { type: 'set-replication-mode', mode: 'quorum' }],
        ['negative delay', { type: 'set-replication-delay', delay: '-1ms' }],
        ['delay to unknown node', { type: 'set-replication-delay', delay: '100ms', node: 5 }],
        ['cut unknown node', { type: 'cut-replication', node: 3 }],
        ['switchover to unknown node', { type: 'switchover', node: 9 }],
        ['switchover to the primary', { type: 'switchover', node: 1 }],
        ['restart unknown node', { type: 'restart-db-node', node: 9 }],
        ['restart running node', { type: 'restart-db-node', node: 2 }],
        ['stall of 0 ms', { type: 'stall-primary', duration: '0ms' }],
        ['unknown field', { type: 'crash-replica', node: 2, force: true }],
      ];
      for (const [name, command] of commands) {
        try {
          await engine.command(command);
          rejections.set(name, '(accepted)');
        } catch (error) {
          rejections.set(name, (error as Error).message);
        }
      }
    },
  );

  // Commands the schema rejects name the field and the accepted range.
  const invalid: Array<[string, string, string[]]> = [
    ['node id 0', 'node', ['expected an integer from 1 to 1000']],
    ['missing node id', 'node', ['expected an integer from 1 to 1000']],
    ['9 replicas', 'count', ['expected an integer from 0 to 8']],
    ['unknown mode', 'mode', [MODES]],
    ['negative delay', 'delay', [durationRange(0, 60_000), '"-1ms"']],
    ['stall of 0 ms', 'duration', [durationRange(10, 60_000), '"0ms"']],
  ];
  for (const [name, field, parts] of invalid) expectNamesField(rejections.get(name), field, parts, name);
  expect(rejections.get('unknown field')).toContain('"force"');

  // Commands naming a node that does not exist, or one of the wrong kind, are rejected by the cluster.
  const wrongNode: Record<string, string> = {
    'unknown replica': 'node: database node 7 does not exist (nodes now: 1, 2)',
    'primary as replica': 'node: node 1 is the primary; expected a replica',
    'delay to unknown node': 'node: database node 5 does not exist (nodes now: 1, 2)',
    'cut unknown node': 'node: database node 3 does not exist (nodes now: 1, 2)',
    'switchover to unknown node': 'node: database node 9 does not exist (nodes now: 1, 2)',
    'switchover to the primary': 'node: node 1 is the primary; expected a replica',
    'restart unknown node': 'node: database node 9 does not exist (nodes now: 1, 2)',
    'restart running node': 'node: database node 2 is running; only a node that is down can be restarted',
  };
  for (const [name, message] of Object.entries(wrongNode)) expect(rejections.get(name), name).toBe(message);

  // Nothing changed: no fault, no failover, no change of settings, and every request ended ok.
  expect(run.events.filter((event) => event.kind === 'fault' || event.kind === 'failover' || event.kind === 'database')).toEqual([]);
  expect(run.report.database!.failovers).toEqual([]);
  expect(run.primaryNodeId).toBe(1);
  expect([...run.nodeFiles.keys()]).toEqual([1, 2]);
  for (const tick of run.ticks) {
    expect(tick.database.writesAvailable).toBe(true);
    expect(tick.database.epoch).toBe(1);
    expect(tick.database.replicationMode).toBe('asynchronous');
    for (const node of tick.database.nodes) {
      expect(node.state).toBe('up');
      expect(node.delayMs).toBe(0);
      expect(node.linkCut).toBe(false);
    }
  }
  expect(run.report.summary.errorsTotal).toBe(0);
  expect(run.report.summary.ok).toBeGreaterThan(250);
});
