import { expect, test } from 'vitest';
import { repeatedCrashes } from './repeated-crash.ts';

test('asynchronous crashes report the file RPO', async () => {
  const results = await repeatedCrashes('asynchronous', 30, 2000);
  console.log('asynchronous crashes (crash ms, acknowledged, reported RPO, missing in file):', results.map((r) => [r.crashAtMs, r.acknowledged, r.reportedRpo, r.foundMissing]));
  expect(results).toHaveLength(30);
  for (const result of results) expect(result.reportedRpo).toBe(result.foundMissing);
  // With 30 ms of delay at about 210 writes/s, most crashes leave some writes unshipped.
  expect(results.filter((result) => result.foundMissing > 0).length).toBeGreaterThan(15);
}, 240_000);
