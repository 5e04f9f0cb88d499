import path from 'node:path';
import { Piscina } from 'piscina';

// The baseline for the engine's throughput: how many no-op tasks per second piscina itself can
// carry on this machine when every call is one task. The pool shape matches what an engine with
// four servers would use if it sent one task per request, so "engine / raw" shows what batching buys.

export interface RawPiscinaOptions {
  pools: number;
  /** Tasks each thread may run at once (piscina's concurrentTasksPerWorker). */
  concurrentTasksPerWorker: number;
  /** Calls kept in flight across all pools; each one starts its next task as soon as the last ends. */
  tasksInFlight: number;
  /** Measuring time, after one warm-up task per pool. */
  durationMs: number;
}

export interface RawPiscinaResult extends RawPiscinaOptions {
  tasks: number;
  elapsedMs: number;
  tasksPerSec: number;
}

const NOOP_WORKER = path.join(import.meta.dirname, 'noop.worker.mjs');

/** Measures no-op tasks per second through `pools` pools of one thread each. */
export async function measureRawPiscina(options: RawPiscinaOptions): Promise<RawPiscinaResult> {
  const pools = Array.from(
    { length: options.pools },
    () =>
      new Piscina({
        filename: NOOP_WORKER,
        minThreads: 1,
        maxThreads: 1,
        concurrentTasksPerWorker: options.concurrentTasksPerWorker,
        idleTimeout: Infinity,
      }),
  );
  try {
    // The first task on each pool waits for its thread to start; that is not the rate being measured.
    await Promise.all(pools.map((pool) => pool.run(0)));

    let tasks = 0;
    let running = true;
    const startMs = performance.now();
    const callLoop = async (pool: Piscina): Promise<void> => {
      while (running) {
        await pool.run(0);
        tasks++;
      }
    };
    const loops = Array.from({ length: options.tasksInFlight }, (_, index) => callLoop(pools[index % pools.length]));
    await new Promise((resolve) => setTimeout(resolve, options.durationMs));
    running = false;
    const elapsedMs = performance.now() - startMs;
    const counted = tasks;
    await Promise.all(loops);
    return { ...options, tasks: counted, elapsedMs, tasksPerSec: (counted * 1000) / elapsedMs };
  } finally {
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}
