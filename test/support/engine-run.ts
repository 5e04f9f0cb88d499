import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunEvent, RunReport, ScenarioInput, ServerPush, TickSnapshot } from '../../main/engine/api/protocol.ts';
import { Engine } from '../../main/engine/engine.ts';
import { sourceWorkerFiles } from '../../main/host/engine-host.ts';

/** An engine running in the test's own process, with real worker threads and a fresh data folder. */
export interface TestEngine {
  engine: Engine;
  ticks: TickSnapshot[];
  events: RunEvent[];
  dataRoot: string;
  /** Resolves with the report once the run has finished by itself (its duration elapsed). */
  finished: Promise<RunReport>;
}

export function createTestEngine(overrides: { webServerWorker?: string } = {}): TestEngine {
  const files = sourceWorkerFiles();
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'scalelab-test-'));
  const ticks: TickSnapshot[] = [];
  const events: RunEvent[] = [];
  let resolveFinished!: (report: RunReport) => void;
  const finished = new Promise<RunReport>((resolve) => (resolveFinished = resolve));
  const engine = new Engine(
    {
      webServerWorker: overrides.webServerWorker ?? files.webServerWorker,
      dbNodeWorker: files.dbNodeWorker,
      loader: files.loader,
      dataRoot,
    },
    (message: ServerPush) => {
      if (message.type === 'tick') ticks.push(message.tick);
      else if (message.type === 'event') events.push(message.event);
      else if (message.type === 'finished') resolveFinished(message.report);
    },
  );
  return { engine, ticks, events, dataRoot, finished };
}

/** Runs a scenario to its end and returns the test engine with its report. */
export async function runScenario(scenario: ScenarioInput): Promise<TestEngine & { report: RunReport }> {
  const test = createTestEngine();
  await test.engine.start(scenario);
  const report = await test.finished;
  return { ...test, report };
}

/** Waits until `predicate` holds, checking every 20 ms, or throws after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Mean of the ticks' ok/s whose end time lies in [fromMs, toMs). */
export function meanOkRps(ticks: TickSnapshot[], fromMs: number, toMs: number): number {
  const window = ticks.filter((tick) => tick.tMs >= fromMs && tick.tMs < toMs);
  if (window.length === 0) throw new Error(`no ticks between ${fromMs} and ${toMs} ms`);
  return window.reduce((sum, tick) => sum + tick.okRps, 0) / window.length;
}

/** A static-only request mix with a given CPU time, so only the servers' vCPUs limit throughput. */
export function cpuBoundLoad(rateRps: number, cpuMs: number) {
  return {
    rateRps,
    mix: { html: 0, apiRead: 0, apiWrite: 0, static: 1 },
    cpuMs: { static: cpuMs },
  };
}
