// Database benchmark: raw better-sqlite3 rates on this machine beside what the whole request path
// (load balancer, web server threads, database node threads) delivers with 0 and 2 replicas.
// Budget: about 30 s on a 2-core machine. Run alone with
//   node --import tsx scripts/bench/database-bench.ts
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScenarioInput, TickSnapshot } from '../../main/engine/api/protocol.ts';
import { Engine } from '../../main/engine/engine.ts';
import { sourceWorkerFiles } from '../../main/host/engine-host.ts';
import { configure, seed } from '../../workers/db-node/schema.ts';

export interface PathRates {
  /** Offered load and what ended ok, per second, averaged over the steady ticks. */
  offeredRps: number;
  okRps: number;
  /** Reads or writes the database nodes served per second over the same ticks. */
  databaseOpsPerSec: number;
  p99Ms: number;
}

export interface DatabaseBenchResult {
  rawPointSelectsPerSec: number;
  rawSingleInsertsPerSec: number;
  reads: { replicas0: PathRates; replicas2: PathRates };
  writes: { replicas0: PathRates; replicas2: PathRates };
  notes: string;
}

export interface DatabaseBenchOptions {
  /** Length of each whole-path run. */
  runMs?: number;
  readRateRps?: number;
  writeRateRps?: number;
}

/** Runs every measurement and returns the figures; nothing is printed. */
export async function runDatabaseBench(options: DatabaseBenchOptions = {}): Promise<DatabaseBenchResult> {
  const runMs = options.runMs ?? 3000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scalelab-db-bench-'));
  try {
    const raw = measureRaw(path.join(dir, 'raw.sqlite'), 1000);
    const reads = {
      replicas0: await measurePath(dir, 'apiRead', 0, options.readRateRps ?? 12_000, runMs),
      replicas2: await measurePath(dir, 'apiRead', 2, options.readRateRps ?? 12_000, runMs),
    };
    const writes = {
      replicas0: await measurePath(dir, 'apiWrite', 0, options.writeRateRps ?? 4000, runMs),
      replicas2: await measurePath(dir, 'apiWrite', 2, options.writeRateRps ?? 4000, runMs),
    };
    return {
      rawPointSelectsPerSec: raw.pointSelectsPerSec,
      rawSingleInsertsPerSec: raw.singleInsertsPerSec,
      reads,
      writes,
      notes:
        'Raw rates: one better-sqlite3 connection in this thread, WAL, synchronous=NORMAL, one transaction per insert. ' +
        'Path rates: virtual CPU model, relational layout, 4 database vCPUs per node at the default query costs, 4 servers of 8 vCPUs, open load.',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Point SELECTs by primary key and single-row INSERT transactions on a seeded file, each for about `ms`. */
function measureRaw(file: string, ms: number): { pointSelectsPerSec: number; singleInsertsPerSec: number } {
  const db = new Database(file);
  configure(db);
  seed(db, 'relational', 1000, 1);
  const select = db.prepare('SELECT id, name FROM users WHERE id = ?');
  let selects = 0;
  let start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 1000; i++) select.get(1 + ((selects + i) % 1000));
    selects += 1000;
  }
  const pointSelectsPerSec = (selects * 1000) / (performance.now() - start);
  const insert = db.prepare('INSERT INTO posts (user_id, body, created_at, write_id) VALUES (?, ?, ?, ?)');
  let inserts = 0;
  start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 100; i++) {
      db.exec('BEGIN IMMEDIATE');
      insert.run(1 + (inserts % 1000), 'bench', inserts, inserts + 1);
      db.exec('COMMIT');
      inserts++;
    }
  }
  const singleInsertsPerSec = (inserts * 1000) / (performance.now() - start);
  db.close();
  return { pointSelectsPerSec, singleInsertsPerSec };
}

async function measurePath(dir: string, kind: 'apiRead' | 'apiWrite', replicas: number, rateRps: number, runMs: number): Promise<PathRates> {
  const files = sourceWorkerFiles();
  const ticks: TickSnapshot[] = [];
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  const engine = new Engine(
    { webServerWorker: files.webServerWorker, dbNodeWorker: files.dbNodeWorker, loader: files.loader, dataRoot: dir },
    (message) => {
      if (message.type === 'tick') ticks.push(message.tick);
      else if (message.type === 'finished') finished();
    },
  );
  const mix = { html: 0, apiRead: kind === 'apiRead' ? 1 : 0, apiWrite: kind === 'apiWrite' ? 1 : 0, static: 0 };
  const scenario: ScenarioInput = {
    version: 1,
    name: `database bench ${kind} ${replicas} replicas`,
    duration: `${runMs}ms`,
    requestTimeout: '2s',
    drainTimeout: '2s',
    load: { model: 'open', rateRps, arrival: 'poisson', clients: 1000, mix, cpuMs: { apiRead: 0.1, apiWrite: 0.1 } },
    servers: { count: 4, vcpus: 8 },
    database: { replicas, vcpus: 4 },
  };
  await engine.start(scenario);
  await done;
  // The first second warms up threads and links; the last tick includes the drain.
  const steady = ticks.filter((tick) => tick.tMs > 1000 && tick.tMs <= runMs);
  const mean = (values: number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  return {
    offeredRps: mean(steady.map((tick) => tick.offeredRps)),
    okRps: mean(steady.map((tick) => tick.okRps)),
    databaseOpsPerSec: mean(steady.map((tick) => (kind === 'apiRead' ? tick.database.readsPerSec : tick.database.writesPerSec))),
    p99Ms: mean(steady.map((tick) => tick.latency.p99Ms)),
  };
}

if (process.argv[1] === import.meta.filename) {
  const result = await runDatabaseBench();
  console.log(JSON.stringify(result, null, 2));
}
