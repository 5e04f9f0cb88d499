import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatabaseNodeSnapshot, RunEvent, RunReport, ScenarioInput, TickSnapshot } from '../../main/engine/api/protocol.ts';
import { Engine } from '../../main/engine/engine.ts';
import type { Run } from '../../main/engine/run.ts';
import { sourceWorkerFiles } from '../../main/host/engine-host.ts';

/** A finished run with what the tests check: the report, the events, the ticks, the ledger and the node files. */
export interface FinishedRun {
  report: RunReport;
  events: RunEvent[];
  ticks: TickSnapshot[];
  acknowledged: number[];
  acknowledgedEpochs: number[];
  nodeFiles: Map<number, string>;
  primaryNodeId: number;
}

/** Creates a fresh data folder under the OS temp folder; the caller removes it with `removeFolder`. */
export function makeDataRoot(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'scalelab-db-test-'));
}

export function removeFolder(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs a scenario in-process from the TypeScript sources with real worker threads and SQLite
 * files, calls `during` once it runs, and waits for it to finish by itself.
 */
export async function runScenario(
  dataRoot: string,
  scenario: ScenarioInput,
  during?: (engine: Engine, run: Run) => Promise<void> | void,
): Promise<FinishedRun> {
  const files = sourceWorkerFiles();
  const events: RunEvent[] = [];
  const ticks: TickSnapshot[] = [];
  let finished: (report: RunReport) => void = () => {};
  const done = new Promise<RunReport>((resolve) => (finished = resolve));
  const engine = new Engine(
    { webServerWorker: files.webServerWorker, dbNodeWorker: files.dbNodeWorker, loader: files.loader, dataRoot },
    (message) => {
      if (message.type === 'event') events.push(message.event);
      else if (message.type === 'tick') ticks.push(message.tick);
      else if (message.type === 'finished') finished(message.report);
    },
  );
  await engine.start(scenario);
  const run = engine.currentRun()!;
  if (during) await during(engine, run);
  const report = await done;
  const db = run.database();
  return {
    report,
    events,
    ticks,
    acknowledged: [...db.acknowledgedWriteIds()],
    acknowledgedEpochs: [...db.acknowledgedWriteEpochs()],
    nodeFiles: db.nodeFiles(),
    primaryNodeId: db.primaryNodeId(),
  };
}

/** Reads the client write ids that a node's data (not its log) contains, for either layout. */
export function writeIdsInFile(file: string): Set<number> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    if (tables.includes('posts')) {
      return new Set(db.prepare('SELECT write_id FROM posts WHERE write_id IS NOT NULL').pluck().all() as number[]);
    }
    const keys = db.prepare("SELECT key FROM kv WHERE key LIKE 'post:%' AND key NOT LIKE 'post:seed-%'").pluck().all() as string[];
    return new Set(keys.map((key) => Number(key.slice('post:'.length))));
  } finally {
    db.close();
  }
}

/** Returns the acknowledged write ids that `file` does not contain. */
export function missingFromFile(acknowledged: readonly number[], file: string): number[] {
  const present = writeIdsInFile(file);
  return acknowledged.filter((id) => !present.has(id));
}

/**
 * Returns, for every epoch found in the logs of `files`, the nodes that committed writes at it as
 * primary. Each committed write records its epoch and the node that committed it.
 */
export function writersByEpoch(files: Iterable<string>): Map<number, Set<number>> {
  const writers = new Map<number, Set<number>>();
  for (const file of files) {
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare('SELECT DISTINCT epoch, origin_node FROM replication_log').raw().all() as number[][];
      for (const [epoch, origin] of rows) {
        if (!writers.has(epoch)) writers.set(epoch, new Set());
        writers.get(epoch)!.add(origin);
      }
    } finally {
      db.close();
    }
  }
  return writers;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Builds a scenario of writes against one server; `database` and the other fields override the defaults. */
export function dbScenario(overrides: Partial<ScenarioInput> & { database?: ScenarioInput['database'] }): ScenarioInput {
  return {
    version: 1,
    name: 'database test',
    duration: '2s',
    drainTimeout: '3s',
    load: { model: 'open', rateRps: 200, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } },
    servers: { count: 1, vcpus: 4 },
    ...overrides,
  } as ScenarioInput;
}

/** Returns the epochs at which more than one node committed writes, from every node file of a run. */
export function epochsWithTwoWriters(run: FinishedRun): number[] {
  const shared: number[] = [];
  for (const [epoch, nodes] of writersByEpoch(run.nodeFiles.values())) if (nodes.size > 1) shared.push(epoch);
  return shared;
}

/** Returns the highest log position in a node's file. */
export function lastLsnInFile(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT MAX(lsn) FROM replication_log').pluck().get() as number;
  } finally {
    db.close();
  }
}

/**
 * Waits until the files of `nodeIds` hold the current primary's last log position, read twice
 * 100 ms apart. Call it after the load stopped, because the primary keeps moving ahead otherwise.
 */
export async function waitForLogMatch(run: Run, nodeIds: number[], timeoutMs = 10_000): Promise<void> {
  const cluster = run.database();
  let matches = 0;
  for (let waited = 0; matches < 2; waited += 100) {
    if (waited > timeoutMs) throw new Error(`nodes ${nodeIds.join(', ')} did not reach the primary's log position within ${timeoutMs} ms`);
    await sleep(100);
    const files = cluster.nodeFiles();
    const primaryLsn = lastLsnInFile(files.get(cluster.primaryNodeId())!);
    matches = nodeIds.every((id) => lastLsnInFile(files.get(id)!) === primaryLsn) ? matches + 1 : 0;
  }
}

/** Returns the first event after `afterMs` whose message is `pattern` or matches it, or undefined. */
export function findEvent(run: FinishedRun, pattern: RegExp | string, afterMs = -1): RunEvent | undefined {
  const matches = (message: string) => (typeof pattern === 'string' ? message === pattern : pattern.test(message));
  return run.events.find((event) => event.tMs > afterMs && matches(event.message));
}

/** Returns the snapshots of node `nodeId` in every tick whose end falls in [fromMs, toMs). */
export function nodeTicksBetween(run: FinishedRun, nodeId: number, fromMs = 0, toMs = Infinity): DatabaseNodeSnapshot[] {
  return run.ticks
    .filter((tick) => tick.tMs >= fromMs && tick.tMs < toMs)
    .flatMap((tick) => tick.database.nodes.filter((node) => node.id === nodeId));
}

/** Returns the acknowledged writes in the clients' ledger at the last tick at or before `tMs`. */
export function acknowledgedAt(run: FinishedRun, tMs: number): number {
  return run.ticks.filter((tick) => tick.tMs <= tMs).at(-1)?.database.acknowledgedWrites ?? 0;
}
