import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunReport, ScenarioInput, TickSnapshot } from '../../main/engine/api/protocol.ts';
import { Engine } from '../../main/engine/engine.ts';
import { startEngine } from '../../main/host/engine-host.ts';
import { bundleThreadFiles } from '../../main/host/thread-bundle.ts';

// Engine benchmarks: completed requests per second for the cheapest possible request, and the
// memory a run costs at several fleet sizes. Both run the TypeScript sources through tsx, as the
// command line does.

export interface StaticThroughputOptions {
  /** Offered load; it must be well above what the engine can complete, so the engine is the limit. */
  rateRps: number;
  durationMs: number;
  /** Ticks that end before this are startup and are not counted. */
  warmupMs: number;
  servers: number;
}

export interface StaticThroughputResult extends StaticThroughputOptions {
  /** Mean ok/s over the steady ticks (weighted by tick length). */
  okRps: number;
  minTickOkRps: number;
  maxTickOkRps: number;
  steadyTicks: number;
  hostLimitedTicks: number;
  booksBalanced: boolean;
  errorsTotal: number;
}

/**
 * Runs static requests with zero modelled CPU time through the engine in its own thread, as a
 * host runs it, and measures ok/s over the ticks between the warm-up and the end of the load.
 */
export async function measureStaticThroughput(options: StaticThroughputOptions): Promise<StaticThroughputResult> {
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'scalelab-bench-'));
  const engine = await startEngine({ dataRoot });
  try {
    const ticks: TickSnapshot[] = [];
    let resolveFinished!: (report: RunReport) => void;
    const finished = new Promise<RunReport>((resolve) => (resolveFinished = resolve));
    engine.subscribe((message) => {
      if (message.type === 'tick') ticks.push(message.tick);
      if (message.type === 'finished') resolveFinished(message.report);
    });
    await engine.start(staticScenario(options));
    const report = await finished;

    // The last tick of a run is taken after the drain, and a tick that ends past the duration
    // includes the drain too: neither is steady state.
    const steady = ticks.filter((tick) => tick.tMs - tick.tickMs >= options.warmupMs && tick.tMs <= options.durationMs);
    const steadyMs = steady.reduce((sum, tick) => sum + tick.tickMs, 0);
    const okRequests = steady.reduce((sum, tick) => sum + (tick.okRps * tick.tickMs) / 1000, 0);
    return {
      ...options,
      okRps: steadyMs > 0 ? (okRequests * 1000) / steadyMs : 0,
      minTickOkRps: Math.min(...steady.map((tick) => tick.okRps)),
      maxTickOkRps: Math.max(...steady.map((tick) => tick.okRps)),
      steadyTicks: steady.length,
      hostLimitedTicks: steady.filter((tick) => tick.host.limited).length,
      booksBalanced: report.summary.booksBalanced,
      errorsTotal: report.summary.errorsTotal,
    };
  } finally {
    await engine.close();
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

function staticScenario(options: StaticThroughputOptions): ScenarioInput {
  return {
    version: 1,
    name: 'Bench: static requests',
    duration: `${options.durationMs}ms`,
    cpuModel: 'virtual',
    load: {
      rateRps: options.rateRps,
      mix: { html: 0, apiRead: 0, apiWrite: 0, static: 1 },
      cpuMs: { static: 0 },
    },
    dns: { lookup: '0ms' },
    servers: { count: options.servers, vcpus: 2 },
    // Short timeouts keep the backlog of an overloaded run, and so its memory, bounded.
    requestTimeout: '2s',
    drainTimeout: '1s',
  };
}

export interface MemoryResult {
  servers: number;
  /** Resident set of the whole process (engine, server pools, database node), in MiB. */
  rssMiB: number;
  /** Heap used by the engine's own thread after a garbage collection, in MiB. */
  heapUsedMiB: number;
  /** The same two figures before the run started (modules loaded, no threads). */
  idleRssMiB: number;
  idleHeapUsedMiB: number;
  booksBalanced: boolean;
}

/**
 * Measures memory after a short run with `servers` servers in the virtual CPU model. The engine
 * runs on this process's main thread, so its heap is this thread's heap. Call it in a fresh
 * process (see the "memory" command below) so that runs do not share garbage.
 */
export async function measureMemory(servers: number, runMs: number): Promise<MemoryResult> {
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'scalelab-bench-'));
  // Bundled thread files, as the command line and the web host use them.
  const files = await bundleThreadFiles();
  let report: RunReport | null = null;
  const engine = new Engine(
    { webServerWorker: files.webServerWorker, dbNodeWorker: files.dbNodeWorker, dataRoot },
    (message) => {
      if (message.type === 'finished') report = message.report;
    },
  );
  try {
    collectGarbage();
    const idle = process.memoryUsage();
    await engine.start({
      version: 1,
      name: `Bench: memory with ${servers} servers`,
      duration: '10m',
      cpuModel: 'virtual',
      load: { rateRps: 200 },
      servers: { count: servers, vcpus: 2 },
    });
    await new Promise((resolve) => setTimeout(resolve, runMs));
    // Measured while the run is still going, so every server pool is alive.
    collectGarbage();
    const running = process.memoryUsage();
    await engine.stop();
    return {
      servers,
      rssMiB: mib(running.rss),
      heapUsedMiB: mib(running.heapUsed),
      idleRssMiB: mib(idle.rss),
      idleHeapUsedMiB: mib(idle.heapUsed),
      booksBalanced: (report as RunReport | null)?.summary.booksBalanced ?? false,
    };
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function mib(bytes: number): number {
  return bytes / 1024 / 1024;
}

// Run as a script ("node --expose-gc --import tsx scripts/bench/engine-bench.ts memory 16 2000"),
// it prints one MemoryResult as JSON on standard output.
if (process.argv[1] === import.meta.filename && process.argv[2] === 'memory') {
  const servers = Number(process.argv[3]);
  const runMs = Number(process.argv[4] ?? 2000);
  const result = await measureMemory(servers, runMs);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
