import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { UserDocument } from '../../workers/db-node/schema.ts';
import { dbScenario, makeDataRoot, removeFolder, runScenario, writeIdsInFile, type FinishedRun } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

type Layout = 'relational' | 'key-value';

/** 200 requests/s of one kind against a one-vCPU primary (and one replica for writes), with the layout's default query costs. */
function layoutRun(dataRoot: string, layout: Layout, kind: 'read' | 'write'): Promise<FinishedRun> {
  const mix = kind === 'write' ? { html: 0, apiRead: 0, apiWrite: 1, static: 0 } : { html: 0, apiRead: 1, apiWrite: 0, static: 0 };
  return runScenario(
    dataRoot,
    dbScenario({
      duration: '1500ms',
      load: { model: 'open', rateRps: 200, arrival: 'constant', clients: 50, mix },
      // Reads go to the primary only when no replica is up, so the read runs have none. Synchronous
      // replication with a long ack timeout puts every acknowledged write on the replica too,
      // however slowly the host runs the threads.
      database: {
        layout,
        seedUsers: 100,
        vcpus: 1,
        replicas: kind === 'write' ? 1 : 0,
        replication: { mode: 'synchronous', ackTimeout: '5s' },
      },
    }),
  );
}

/**
 * Returns the node's modelled vCPU milliseconds per query over the whole run, from the ticks'
 * utilization, with the queries counted from the same ticks.
 */
function busyMsPerQuery(run: FinishedRun, nodeId: number, kind: 'read' | 'write'): number {
  let busyMs = 0;
  let queries = 0;
  for (const tick of run.ticks) {
    const node = tick.database.nodes.find((candidate) => candidate.id === nodeId);
    if (!node) continue;
    busyMs += node.utilization * tick.tickMs * node.vcpus;
    queries += ((kind === 'write' ? node.writesPerSec : node.readsPerSec) * tick.tickMs) / 1000;
  }
  expect(queries, `node ${nodeId} served no ${kind}s`).toBeGreaterThan(100);
  return busyMs / queries;
}

/** Returns the key-value feed documents of the followers of the author of the last logged write, and that write's id. */
function followerFeedsOfLastWrite(file: string): { writeId: number; feeds: UserDocument['feed'][] } {
  const db = new Database(file, { readonly: true });
  try {
    const last = db.prepare('SELECT write_id, user_id FROM replication_log ORDER BY lsn DESC LIMIT 1').get() as { write_id: number; user_id: number };
    const author = JSON.parse(db.prepare('SELECT doc FROM kv WHERE key = ?').pluck().get(`user:${last.user_id}`) as string) as UserDocument;
    const feeds = author.followers.map(
      (follower) => (JSON.parse(db.prepare('SELECT doc FROM kv WHERE key = ?').pluck().get(`user:${follower}`) as string) as UserDocument).feed,
    );
    return { writeId: last.write_id, feeds };
  } finally {
    db.close();
  }
}

describe('data layouts on the same load', () => {
  // The write runs serve two tests, so they run once.
  const writeRuns = new Map<Layout, FinishedRun>();
  let writeRoot: string;
  beforeAll(async () => {
    writeRoot = makeDataRoot();
    writeRuns.set('relational', await layoutRun(writeRoot, 'relational', 'write'));
    writeRuns.set('key-value', await layoutRun(writeRoot, 'key-value', 'write'));
  });
  afterAll(() => removeFolder(writeRoot));

  test('key-value writes cost more than relational writes', () => {
    const relational = writeRuns.get('relational')!;
    const keyValue = writeRuns.get('key-value')!;

    // A key-value post updates the feed document of each of its author's followers (about 10 in
    // the seeded graph), so each write keeps the vCPU busy for several documents' worth of time.
    const relationalCost = busyMsPerQuery(relational, 1, 'write');
    const keyValueCost = busyMsPerQuery(keyValue, 1, 'write');
    expect(keyValueCost).toBeGreaterThan(1.5 * relationalCost);
    // The replica applies the same fan-out, so its apply cost follows the primary's.
    const replicaBusyMs = (run: FinishedRun) =>
      run.ticks.flatMap((tick) => tick.database.nodes.filter((node) => node.id === 2).map((node) => node.utilization * tick.tickMs)).reduce((a, b) => a + b, 0);
    expect(replicaBusyMs(keyValue)).toBeGreaterThan(1.5 * replicaBusyMs(relational));

    const { writeId, feeds } = followerFeedsOfLastWrite(keyValue.nodeFiles.get(1)!);
    expect(feeds.length).toBeGreaterThan(0);
    for (const feed of feeds) expect(feed.map(([key]) => key)).toContain(`post:${writeId}`);
  });

  test('relational reads cost more than key-value reads', async () => {
    const relational = await layoutRun(dataRoot, 'relational', 'read');
    const keyValue = await layoutRun(dataRoot, 'key-value', 'read');

    // A relational feed is a join of follows and posts; a key-value feed is one document lookup.
    expect(busyMsPerQuery(relational, 1, 'read')).toBeGreaterThan(2 * busyMsPerQuery(keyValue, 1, 'read'));
    expect(relational.report.summary.ok).toBeGreaterThan(200);
    expect(keyValue.report.summary.ok).toBeGreaterThan(200);
  });

  test.each(['relational', 'key-value'] as const)('%s layout keeps exactly the acknowledged writes', (layout) => {
    const run = writeRuns.get(layout)!;
    expect(run.acknowledged.length).toBeGreaterThan(200);
    expect(run.report.summary.errorsTotal).toBe(0);
    expect(run.events.filter((event) => event.message.includes('left the synchronous set'))).toEqual([]);
    const acknowledged = new Set(run.acknowledged);
    for (const nodeId of [1, 2]) {
      const stored = writeIdsInFile(run.nodeFiles.get(nodeId)!);
      expect(stored, `node ${nodeId}`).toEqual(acknowledged);
    }
  });
});
