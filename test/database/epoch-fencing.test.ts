import Database from 'better-sqlite3';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { DatabaseCluster } from '../../main/engine/database/cluster.ts';
import {
  OP_POST,
  OPR_EPOCH,
  OPR_STATUS,
  QUERY_FENCED,
  QUERY_OK,
  type QueryBatch,
  type QueryResults,
} from '../../workers/shared/wire.ts';
import { dbScenario, epochsWithTwoWriters, makeDataRoot, removeFolder, runScenario, sleep, writeIdsInFile } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

/** Write ids far above any request id of these short runs, so they never collide with client writes. */
const PROBE_WRITE_ID = 1_000_000_000;

interface ProbeResult {
  status: number;
  /** The epoch of the node that sent the result. */
  epoch: number;
}

/**
 * Sends one write straight to a node over a link of its own, as a web server thread does, carrying
 * `epoch` as the route's epoch, and returns the node's result.
 */
async function probeWrite(cluster: DatabaseCluster, nodeId: number, writeId: number, epoch: number): Promise<ProbeResult> {
  const channel = new MessageChannel();
  cluster.attach({ type: 'db-link', serverId: 64, nodeId, port: channel.port2 });
  try {
    const answer = new Promise<ProbeResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${nodeId} sent no result for the write within 2 s`)), 2000);
      channel.port1.once('message', (message: QueryResults) => {
        clearTimeout(timer);
        resolve({ status: message.results[OPR_STATUS], epoch: message.results[OPR_EPOCH] });
      });
    });
    const batch: QueryBatch = { type: 'queries', seq: 1, ops: Float64Array.from([OP_POST, 1, writeId, epoch, 0]) };
    channel.port1.postMessage(batch);
    return await answer;
  } finally {
    channel.port1.close();
  }
}

async function waitForPrimary(cluster: DatabaseCluster, nodeId: number): Promise<void> {
  for (let waited = 0; cluster.primaryNodeId() !== nodeId; waited += 20) {
    if (waited > 5000) throw new Error(`node ${nodeId} was not promoted within 5 s`);
    await sleep(20);
  }
  await cluster.settled();
}

function logHasWrite(file: string, writeId: number): boolean {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT 1 FROM replication_log WHERE write_id = ?').pluck().get(writeId) !== undefined;
  } finally {
    db.close();
  }
}

describe('epoch fencing at the node', () => {
  test('new primary rejects a write of the old epoch after a crash', async () => {
    const probes = new Map<string, ProbeResult>();
    let fencedBefore = 0;
    let fencedAfter = 0;
    const run = await runScenario(
      dataRoot,
      dbScenario({
        duration: '2s',
        load: { model: 'open', rateRps: 100, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } },
        database: { replicas: 1, seedUsers: 100 },
        timeline: [{ at: '400ms', command: { type: 'crash-primary' } }],
      }),
      async (_engine, live) => {
        const cluster = live.database();
        await waitForPrimary(cluster, 2);
        fencedBefore = cluster.report().fencedWrites;
        probes.set('old epoch', await probeWrite(cluster, 2, PROBE_WRITE_ID + 1, 1));
        fencedAfter = cluster.report().fencedWrites;
        probes.set('current epoch', await probeWrite(cluster, 2, PROBE_WRITE_ID + 2, 2));
      },
    );

    expect(run.primaryNodeId).toBe(2);
    expect(run.report.database!.failovers[0].toEpoch).toBe(2);
    expect(probes.get('old epoch')).toEqual({ status: QUERY_FENCED, epoch: 2 });
    expect(fencedAfter - fencedBefore).toBe(1);
    expect(run.report.database!.fencedWrites).toBeGreaterThanOrEqual(1);
    // The same write with the current epoch is committed, so the rejection came from the epoch alone.
    expect(probes.get('current epoch')).toEqual({ status: QUERY_OK, epoch: 2 });

    const file = run.nodeFiles.get(2)!;
    expect(writeIdsInFile(file).has(PROBE_WRITE_ID + 1)).toBe(false);
    expect(logHasWrite(file, PROBE_WRITE_ID + 1)).toBe(false);
    expect(writeIdsInFile(file).has(PROBE_WRITE_ID + 2)).toBe(true);
    expect(epochsWithTwoWriters(run)).toEqual([]);
  });

  test('switchover fences the old primary and the old epoch', async () => {
    const probes = new Map<string, ProbeResult>();
    const run = await runScenario(
      dataRoot,
      dbScenario({
        duration: '2500ms',
        load: { model: 'open', rateRps: 200, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } },
        // The 200 ms delay keeps writes paused while the target catches up, so writes that arrive
        // at the old primary in that window are rejected.
        database: { replicas: 1, seedUsers: 100, replication: { mode: 'asynchronous', delay: '200ms' } },
        timeline: [{ at: '600ms', command: { type: 'switchover', node: 2 } }],
      }),
      async (_engine, live) => {
        const cluster = live.database();
        await waitForPrimary(cluster, 2);
        probes.set('old primary, old epoch', await probeWrite(cluster, 1, PROBE_WRITE_ID + 1, 1));
        probes.set('old primary, new epoch', await probeWrite(cluster, 1, PROBE_WRITE_ID + 2, 2));
        probes.set('new primary, old epoch', await probeWrite(cluster, 2, PROBE_WRITE_ID + 3, 1));
        probes.set('new primary, new epoch', await probeWrite(cluster, 2, PROBE_WRITE_ID + 4, 2));
      },
    );

    const record = run.report.database!.failovers[0];
    expect(record.kind).toBe('switchover');
    expect(record.outcome).toBe('promoted');
    expect(record.rpoWrites).toBe(0);
    // The demoted node rejects every write, whatever its epoch; the new primary only the old epoch.
    expect(probes.get('old primary, old epoch')).toEqual({ status: QUERY_FENCED, epoch: 2 });
    expect(probes.get('old primary, new epoch')).toEqual({ status: QUERY_FENCED, epoch: 2 });
    expect(probes.get('new primary, old epoch')).toEqual({ status: QUERY_FENCED, epoch: 2 });
    expect(probes.get('new primary, new epoch')).toEqual({ status: QUERY_OK, epoch: 2 });
    // Client writes that reached the old primary during the pause were rejected too.
    expect(run.report.database!.fencedWrites).toBeGreaterThan(3);

    for (const nodeId of [1, 2]) {
      const file = run.nodeFiles.get(nodeId)!;
      for (const offset of [1, 2, 3]) {
        expect(writeIdsInFile(file).has(PROBE_WRITE_ID + offset), `node ${nodeId}, probe ${offset}`).toBe(false);
        expect(logHasWrite(file, PROBE_WRITE_ID + offset), `node ${nodeId}, probe ${offset}`).toBe(false);
      }
    }
    expect(epochsWithTwoWriters(run)).toEqual([]);
  });
});
