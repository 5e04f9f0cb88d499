// Benchmark: a closed-model run of 1,000,000 users with a 100 s mean think time offers about
// 10,000 requests/s. Budget: completed throughput within 5 % of offered, and under 200 MiB of
// extra memory for the users, on a 2-core machine. Run alone with
//   node --import tsx scripts/bench/million-users.ts
// or call benchMillionUsers() from another script.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioInput, TickSnapshot } from '../../main/engine/api/protocol.ts';
import { Engine } from '../../main/engine/engine.ts';
import { sourceWorkerFiles } from '../../main/host/engine-host.ts';

export interface MillionUsersOptions {
  users?: number;
  thinkMs?: number;
  durationMs?: number;
  /** Ticks ending before this time are left out of the throughput figures. */
  warmupMs?: number;
}

export interface MillionUsersResult {
  users: number;
  thinkMs: number;
  /** users / think time: what the users offer while responses are quick. */
  nominalRps: number;
  /** Requests the users sent per second in the measured window. */
  offeredRps: number;
  /** Requests that ended ok per second in the measured window. */
  completedRps: number;
  /** completedRps / offeredRps. */
  completedShare: number;
  meanLatencyMs: number;
  errors: number;
  /** Growth of the engine thread's JS heap plus array buffers, where the users live, in MiB. */
  extraHeapMiB: number;
  /** Growth of the whole process's resident memory, server and database threads included, in MiB. */
  extraRssMiB: number;
  hostLimitedTicks: number;
}

const MIB = 1024 * 1024;

/** Runs the benchmark in this process with real worker threads and returns its figures. */
export async function benchMillionUsers(options: MillionUsersOptions = {}): Promise<MillionUsersResult> {
  const users = options.users ?? 1_000_000;
  const thinkMs = options.thinkMs ?? 100_000;
  const durationMs = options.durationMs ?? 20_000;
  const warmupMs = options.warmupMs ?? 2000;
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'scalelab-bench-'));
  const ticks: TickSnapshot[] = [];
  const files = sourceWorkerFiles();
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const engine = new Engine(
    { webServerWorker: files.webServerWorker, dbNodeWorker: files.dbNodeWorker, loader: files.loader, dataRoot },
    (message) => {
      if (message.type === 'tick') {
        ticks.push(message.tick);
        sampleMemory();
      } else if (message.type === 'finished') finished();
    },
  );

  globalThis.gc?.();
  const before = process.memoryUsage();
  let peakHeap = 0;
  let peakRss = 0;
  const sampleMemory = (): void => {
    const now = process.memoryUsage();
    peakHeap = Math.max(peakHeap, now.heapUsed + now.arrayBuffers);
    peakRss = Math.max(peakRss, now.rss);
  };

  try {
    await engine.start(scenario(users, thinkMs, durationMs));
    await done;
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }

  const window = ticks.filter((tick) => tick.tMs >= warmupMs && tick.tMs <= durationMs);
  const windowMs = window.reduce((sum, tick) => sum + tick.tickMs, 0);
  const sent = window.reduce((sum, tick) => sum + (tick.offeredRps * tick.tickMs) / 1000, 0);
  const ok = window.reduce((sum, tick) => sum + (tick.okRps * tick.tickMs) / 1000, 0);
  const latencyCount = window.reduce((sum, tick) => sum + tick.latency.count, 0);
  const latencySum = window.reduce((sum, tick) => sum + tick.latency.meanMs * tick.latency.count, 0);
  const last = ticks.at(-1)!;
  return {
    users,
    thinkMs,
    nominalRps: (users * 1000) / thinkMs,
    offeredRps: (sent * 1000) / windowMs,
    completedRps: (ok * 1000) / windowMs,
    completedShare: ok / sent,
    meanLatencyMs: latencySum / latencyCount,
    errors: last.books.errorsTotal,
    extraHeapMiB: (peakHeap - before.heapUsed - before.arrayBuffers) / MIB,
    extraRssMiB: (peakRss - before.rss) / MIB,
    hostLimitedTicks: window.filter((tick) => tick.host.limited).length,
  };
}

/**
 * Static requests of 1 ms on one server with 32 vCPUs: about 10 vCPUs busy at 10,000 requests/s,
 * so the server has capacity to spare and the users and the engine are what is measured.
 */
function scenario(users: number, thinkMs: number, durationMs: number): ScenarioInput {
  return {
    version: 1,
    name: `${users} users`,
    duration: `${durationMs}ms`,
    cpuModel: 'virtual',
    requestTimeout: '10s',
    drainTimeout: '5s',
    load: {
      model: 'closed',
      users,
      thinkTime: `${thinkMs}ms`,
      thinkDistribution: 'exponential',
      mix: { html: 0, apiRead: 0, apiWrite: 0, static: 1 },
      cpuMs: { static: 1 },
    },
    dns: { lookup: '0ms' },
    servers: { count: 1, vcpus: 32 },
  };
}

function formatResult(result: MillionUsersResult): string {
  const percent = (share: number): string => `${(share * 100).toFixed(1)} %`;
  return [
    `users                 ${result.users.toLocaleString('en-US')} (mean think time ${result.thinkMs / 1000} s)`,
    `nominal rate          ${result.nominalRps.toFixed(0)} requests/s`,
    `offered (measured)    ${result.offeredRps.toFixed(0)} requests/s`,
    `completed             ${result.completedRps.toFixed(0)} requests/s (${percent(result.completedShare)} of offered, budget >= 95 %)`,
    `mean latency          ${result.meanLatencyMs.toFixed(3)} ms`,
    `errors                ${result.errors}`,
    `extra heap + buffers  ${result.extraHeapMiB.toFixed(1)} MiB (budget < 200 MiB)`,
    `extra RSS, all threads ${result.extraRssMiB.toFixed(1)} MiB`,
    `host-limited ticks    ${result.hostLimitedTicks}`,
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await benchMillionUsers();
  console.log(formatResult(result));
  const withinBudget = result.completedShare >= 0.95 && result.extraHeapMiB < 200 && result.errors === 0;
  process.exitCode = withinBudget ? 0 : 1;
}
