import { expect, test } from 'vitest';
import { repeatedCrashes } from './repeated-crash.ts';

test('synchronous crashes lose no acknowledged write', async () => {
  const results = await repeatedCrashes('synchronous', 30, 1000);
  console.log('synchronous crashes (crash ms, acknowledged, reported RPO, missing in file):', results.map((r) => [r.crashAtMs, r.acknowledged, r.reportedRpo, r.foundMissing]));
  expect(results).toHaveLength(30);
  for (const result of results) {
    expect(result.foundMissing).toBe(0);
    expect(result.reportedRpo).toBe(0);
    expect(result.acknowledged).toBeGreaterThan(0);
  }
}, 240_000);
