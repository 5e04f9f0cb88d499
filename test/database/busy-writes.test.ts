import Database from 'better-sqlite3';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { sourceWorkerFiles } from '../../main/host/engine-host.ts';
import { threadEntry } from '../../workers/shared/wire.ts';
import { dbScenario, makeDataRoot, removeFolder, runScenario, sleep } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

interface WriterResult {
  committed: number;
  busy: number;
  failed: number;
}

function startWriter(file: string, rounds: number, row: number, holdMs: number): Promise<WriterResult> {
  const entry = threadEntry(path.resolve(import.meta.dirname, '../fixtures/read-then-write.worker.ts'), sourceWorkerFiles().loader);
  const worker = new Worker(entry.filename, { workerData: { tsEntry: entry.tsEntry, file, rounds, row, holdMs } });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

test('8 concurrent read-then-write writers with BEGIN IMMEDIATE get no SQLITE_BUSY', async () => {
  const file = path.join(dataRoot, 'counters.sqlite');
  const setup = new Database(file);
  setup.pragma('journal_mode = WAL');
  setup.exec('CREATE TABLE counters (id INTEGER PRIMARY KEY, value INTEGER NOT NULL); INSERT INTO counters VALUES (1, 0), (2, 0);');
  setup.close();

  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => startWriter(file, 200, 1 + (i % 2), 0)));

  expect(results.reduce((sum, r) => sum + r.busy, 0)).toBe(0);
  expect(results.reduce((sum, r) => sum + r.failed, 0)).toBe(0);
  expect(results.reduce((sum, r) => sum + r.committed, 0)).toBe(1600);
  const check = new Database(file, { readonly: true });
  // Every increment survived: no two writers read the same value and wrote over each other.
  expect(check.prepare('SELECT SUM(value) FROM counters').pluck().get()).toBe(1600);
  check.close();
});

test('SQLITE_BUSY on a database node is counted as an error, never swallowed', async () => {
  let blocker: Database.Database | undefined;
  const run = await runScenario(
    dataRoot,
    dbScenario({ duration: '2500ms', load: { model: 'open', rateRps: 50, arrival: 'constant', clients: 10, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } }, database: { seedUsers: 20 } }),
    async (_engine, liveRun) => {
      await sleep(500);
      // Another connection holds the write lock longer than the node's busy_timeout (1 s).
      blocker = new Database(liveRun.database().primaryFile());
      blocker.exec('BEGIN IMMEDIATE');
      await sleep(1300);
      blocker.exec('ROLLBACK');
      blocker.close();
    },
  );
  expect(blocker).toBeDefined();
  const busy = run.report.database!.busyErrors;
  expect(busy).toBeGreaterThan(0);
  // Each busy write ended its request as "database unavailable"; none was acknowledged.
  expect(run.report.summary.errors.databaseUnavailable).toBeGreaterThanOrEqual(busy);
  expect(run.report.summary.booksBalanced).toBe(true);
});
