import { expect } from 'vitest';
import { Random } from '../../main/engine/random.ts';
import { dbScenario, epochsWithTwoWriters, makeDataRoot, missingFromFile, removeFolder, runScenario } from './run-helper.ts';

export interface CrashRunResult {
  crashAtMs: number;
  acknowledged: number;
  reportedRpo: number | null;
  foundMissing: number;
}

/**
 * Runs `runs` short runs, each crashing the primary at a random time under `mode`, and checks
 * every run against the new primary's file. Returns the per-run figures for the caller's checks.
 */
export async function repeatedCrashes(mode: 'synchronous' | 'asynchronous', runs: number, seed: number): Promise<CrashRunResult[]> {
  const random = new Random(seed);
  const results: CrashRunResult[] = [];
  for (let i = 0; i < runs; i++) {
    const dataRoot = makeDataRoot();
    const crashAtMs = 250 + random.int(600);
    try {
      const run = await runScenario(
        dataRoot,
        dbScenario({
          duration: '1300ms',
          drainTimeout: '2s',
          seed: seed + i,
          load: { model: 'open', rateRps: 300, arrival: 'poisson', clients: 40, mix: { html: 0, apiRead: 0.3, apiWrite: 0.7, static: 0 } },
          database: {
            replicas: 1,
            seedUsers: 40,
            replication: { mode, delay: '30ms' },
            // Three missed beats, not two: under a loaded 2-core host a busy thread can miss two in a row.
            failover: { heartbeatInterval: '50ms', missedHeartbeats: 3 },
          },
          timeline: [{ at: `${crashAtMs}ms`, command: { type: 'crash-primary' } }],
        }),
      );
      const record = run.report.database!.failovers[0];
      expect(record?.outcome, `run ${i}: failover outcome`).toBe('promoted');
      const found = missingFromFile(run.acknowledged, run.nodeFiles.get(run.primaryNodeId)!);
      expect(epochsWithTwoWriters(run), `run ${i}: epochs with two writers`).toEqual([]);
      results.push({ crashAtMs, acknowledged: run.acknowledged.length, reportedRpo: record.rpoWrites, foundMissing: found.length });
    } finally {
      removeFolder(dataRoot);
    }
  }
  return results;
}
