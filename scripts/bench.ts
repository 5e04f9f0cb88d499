// `npm run bench`: measures, in one run, piscina's raw task rate (the baseline), the engine's
// throughput on static requests against that baseline, the engine's memory at several fleet
// sizes, a closed-model run with a million users, and database reads and writes through the whole
// path against raw better-sqlite3. Prints a table and writes the figures to
// bench-results/latest.json. Budget: about 4 minutes on a 2-core machine.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runDatabaseBench, type DatabaseBenchResult } from './bench/database-bench.ts';
import { measureStaticThroughput, type MemoryResult, type StaticThroughputResult } from './bench/engine-bench.ts';
import { benchMillionUsers, type MillionUsersResult } from './bench/million-users.ts';
import { measureRawPiscina, type RawPiscinaResult } from './bench/piscina-bench.ts';

/** The engine must complete at least this many static requests per raw piscina task: batching is its whole point. */
const MIN_ENGINE_TO_RAW_RATIO = 1.5;
/**
 * Offered load of the throughput run. The engine completed about 1.5M static requests/s on a
 * 2-core Xeon. Far above that (3M/s) its ok/s swung from 0.3M to 1.8M between runs as
 * timeouts and "overloaded" errors took over, so the offered load stays about a third above capacity.
 */
const ENGINE_OFFERED_RPS = 2_000_000;
const MEMORY_SERVER_COUNTS = [1, 16, 64];
const MEMORY_RUN_MS = 2000;
/** A memory child that has not finished by then is stuck; 64 pools start in about 45 s here. */
const MEMORY_CHILD_TIMEOUT_MS = 150_000;

const projectRoot = path.resolve(import.meta.dirname, '..');
const execFileAsync = promisify(execFile);

interface BenchResults {
  createdAt: string;
  host: { cpus: number; cpuModel: string; totalMemoryMiB: number; node: string; platform: string };
  rawPiscina: RawPiscinaResult;
  engineStatic: StaticThroughputResult & { ratioToRaw: number; minRatio: number; pass: boolean };
  memory: Array<MemoryResult & { rssRatioToOneServer: number }>;
  millionUsers: MillionUsersResult;
  database: DatabaseBenchResult;
}

const TOTAL_STAGES = 5;
let stageNumber = 0;

function announce(text: string): void {
  stageNumber++;
  process.stderr.write(`[${stageNumber}/${TOTAL_STAGES}] ${text}\n`);
}

async function main(): Promise<number> {
  const startedMs = performance.now();

  announce('raw piscina: 4 pools x 1 thread, concurrentTasksPerWorker 8, 64 no-op tasks in flight, 5 s');
  const rawPiscina = await measureRawPiscina({ pools: 4, concurrentTasksPerWorker: 8, tasksInFlight: 64, durationMs: 5000 });

  announce(`engine: static requests, 0 ms CPU, 4 servers, ${count(ENGINE_OFFERED_RPS)} requests/s offered, 6 s (1.5 s warm-up)`);
  const engineRun = await measureStaticThroughput({ rateRps: ENGINE_OFFERED_RPS, durationMs: 6000, warmupMs: 1500, servers: 4 });
  const ratioToRaw = engineRun.okRps / rawPiscina.tasksPerSec;
  const engineStatic = { ...engineRun, ratioToRaw, minRatio: MIN_ENGINE_TO_RAW_RATIO, pass: ratioToRaw >= MIN_ENGINE_TO_RAW_RATIO };

  announce(`engine memory: ${MEMORY_SERVER_COUNTS.join(', ')} servers, virtual CPU model, ${MEMORY_RUN_MS / 1000} s run each, one process per size`);
  const memory = await measureMemoryBySize();

  announce('closed model: 1,000,000 users with a 100 s think time, static requests');
  const millionUsers = await benchMillionUsers();

  announce('database: whole-path reads and writes with 0 and 2 replicas, raw better-sqlite3 rates');
  const database = await runDatabaseBench();

  const results: BenchResults = { createdAt: new Date().toISOString(), host: hostSummary(), rawPiscina, engineStatic, memory, millionUsers, database };
  printResults(results);
  const file = await writeResults(results);
  process.stdout.write(`\nFigures written to ${path.relative(process.cwd(), file)}; the bench took ${((performance.now() - startedMs) / 1000).toFixed(0)} s\n`);
  return engineStatic.pass ? 0 : 1;
}

/** Runs each memory measurement in its own process, so one fleet's garbage and threads never count for another. */
async function measureMemoryBySize(): Promise<BenchResults['memory']> {
  const script = path.join(projectRoot, 'scripts', 'bench', 'engine-bench.ts');
  const results: MemoryResult[] = [];
  for (const servers of MEMORY_SERVER_COUNTS) {
    process.stderr.write(`      ${servers} server(s)...\n`);
    const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', '--import', 'tsx', script, 'memory', String(servers), String(MEMORY_RUN_MS)], {
      cwd: projectRoot,
      timeout: MEMORY_CHILD_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    results.push(JSON.parse(stdout.trim().split('\n').pop()!) as MemoryResult);
  }
  const baseline = results[0].rssMiB;
  return results.map((result) => ({ ...result, rssRatioToOneServer: result.rssMiB / baseline }));
}

function printResults(results: BenchResults): void {
  const lines = [
    '',
    `ScaleLab bench, ${results.host.cpus} cores (${results.host.cpuModel}), Node ${results.host.node}`,
    '',
    row('figure', 'value', 'ratio', 'note'),
    row('------', '-----', '-----', '----'),
    ...throughputLines(results.rawPiscina, results.engineStatic),
    ...memoryLines(results.memory),
    ...millionUserLines(results.millionUsers),
    ...databaseLines(results.database),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function throughputLines(rawPiscina: RawPiscinaResult, engineStatic: BenchResults['engineStatic']): string[] {
  const saturation = engineStatic.okRps < 0.95 * engineStatic.rateRps ? 'saturated' : 'NOT saturated: a lower bound';
  const books = engineStatic.booksBalanced ? 'balanced' : 'NOT balanced';
  return [
    row('raw piscina, no-op tasks/s', count(rawPiscina.tasksPerSec), '1.00', 'baseline: one task per call'),
    row(
      'engine static ok/s',
      count(engineStatic.okRps),
      engineStatic.ratioToRaw.toFixed(2),
      `${engineStatic.pass ? 'PASS' : 'FAIL'} (engine/raw >= ${engineStatic.minRatio})`,
    ),
    row(
      '  steady ticks (min..max ok/s)',
      `${engineStatic.steadyTicks}`,
      '',
      `${count(engineStatic.minTickOkRps)}..${count(engineStatic.maxTickOkRps)}; offered ${count(engineStatic.rateRps)}/s; ` +
        `${saturation}; ${count(engineStatic.errorsTotal)} errors; ${engineStatic.hostLimitedTicks} host-limited; books ${books}`,
    ),
  ];
}

function memoryLines(memory: BenchResults['memory']): string[] {
  const lines = memory.map((size) =>
    row(
      `engine memory, ${size.servers} server(s)`,
      `${size.rssMiB.toFixed(0)} MiB RSS`,
      size.rssRatioToOneServer.toFixed(2),
      `engine heap ${size.heapUsedMiB.toFixed(1)} MiB (idle process ${size.idleRssMiB.toFixed(0)} MiB RSS, ${size.idleHeapUsedMiB.toFixed(1)} MiB heap)`,
    ),
  );
  if (memory.length >= 2) {
    const first = memory[0];
    const last = memory[memory.length - 1];
    const perServer = (last.rssMiB - first.rssMiB) / (last.servers - first.servers);
    lines.push(row('  RSS per added server', `${perServer.toFixed(1)} MiB`, '', `from ${first.servers} to ${last.servers} servers`));
  }
  return lines;
}

function millionUserLines(result: MillionUsersResult): string[] {
  const within = Math.abs(1 - result.completedShare) <= 0.05 ? 'PASS' : 'FAIL';
  const memory = result.extraHeapMiB < 200 ? 'PASS' : 'FAIL';
  return [
    row(`closed model, ${count(result.users)} users`, `${count(result.completedRps)} ok/s`, result.completedShare.toFixed(3), `${within} (completed within 5 % of offered ${count(result.offeredRps)}/s)`),
    row('  extra memory for the users', `${result.extraHeapMiB.toFixed(1)} MiB`, '', `${memory} (< 200 MiB); whole process RSS +${result.extraRssMiB.toFixed(0)} MiB`),
  ];
}

function databaseLines(result: DatabaseBenchResult): string[] {
  const path = (label: string, rates: DatabaseBenchResult['reads']['replicas0'], baseline: number): string =>
    row(label, `${count(rates.okRps)} ok/s`, (rates.okRps / baseline).toFixed(3), `offered ${count(rates.offeredRps)}/s, p99 ${rates.p99Ms.toFixed(1)} ms`);
  return [
    row('raw better-sqlite3 point SELECT/s', count(result.rawPointSelectsPerSec), '1.00', 'baseline for the reads below'),
    path('  reads through the path, 0 replicas', result.reads.replicas0, result.rawPointSelectsPerSec),
    path('  reads through the path, 2 replicas', result.reads.replicas2, result.rawPointSelectsPerSec),
    row('raw better-sqlite3 single INSERT/s', count(result.rawSingleInsertsPerSec), '1.00', 'baseline for the writes below'),
    path('  writes through the path, 0 replicas', result.writes.replicas0, result.rawSingleInsertsPerSec),
    path('  writes through the path, 2 replicas', result.writes.replicas2, result.rawSingleInsertsPerSec),
  ];
}

function row(figure: string, value: string, ratio: string, note: string): string {
  return `${figure.padEnd(34)} ${value.padStart(16)} ${ratio.padStart(6)}  ${note}`.trimEnd();
}

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function hostSummary(): BenchResults['host'] {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    totalMemoryMiB: Math.round(os.totalmem() / 1024 / 1024),
    node: process.versions.node,
    platform: process.platform,
  };
}

async function writeResults(results: BenchResults): Promise<string> {
  const folder = path.join(projectRoot, 'bench-results');
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, 'latest.json');
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

process.exitCode = await main();
