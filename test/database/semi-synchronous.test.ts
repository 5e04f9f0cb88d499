import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { RunEvent } from '../../main/engine/api/protocol.ts';
import { dbScenario, makeDataRoot, missingFromFile, removeFolder, runScenario, type FinishedRun } from './run-helper.ts';

let dataRoot: string;
beforeEach(() => {
  dataRoot = makeDataRoot();
});
afterEach(() => removeFolder(dataRoot));

const FALLBACK = /^Semi-synchronous replication fell back to asynchronous: no replica acknowledged log position \d+ within (\d+) ms$/;
const RESUMED = /^Semi-synchronous replication resumed: replica 2 acknowledged log position (\d+) \(the primary was at (\d+) when it fell back\)$/;

/** Returns the first event after `afterMs` whose message is `pattern` or matches it. */
function eventAt(run: FinishedRun, pattern: RegExp | string, afterMs = -1): RunEvent {
  const matches = (message: string) => (typeof pattern === 'string' ? message === pattern : pattern.test(message));
  const event = run.events.find((candidate) => candidate.tMs > afterMs && matches(candidate.message));
  expect(event, `no event after ${afterMs} ms matches ${String(pattern)}`).toBeDefined();
  return event!;
}

/** Acknowledged writes in the clients' ledger at the last tick at or before `tMs`. */
function acknowledgedAt(run: FinishedRun, tMs: number): number {
  return run.ticks.filter((tick) => tick.tMs <= tMs).at(-1)?.database.acknowledgedWrites ?? 0;
}

describe('semi-synchronous replication', () => {
  test('falls back on a cut link and resumes after restore', async () => {
    // The 50 ms delay means an asynchronous primary would have writes in transit when it crashes;
    // a semi-synchronous one acknowledges none of them.
    const run = await runScenario(
      dataRoot,
      dbScenario({
        duration: '3s',
        load: { model: 'open', rateRps: 100, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } },
        database: { replicas: 1, seedUsers: 100, replication: { mode: 'semi-synchronous', delay: '50ms', ackTimeout: '300ms' } },
        timeline: [
          { at: '400ms', command: { type: 'cut-replication', node: 2 } },
          { at: '1400ms', command: { type: 'restore-replication', node: 2 } },
          { at: '2300ms', command: { type: 'crash-primary' } },
        ],
      }),
    );

    // A host busy with other tests can delay an acknowledgement past the timeout before the cut
    // too, so the checks start from the cut.
    const cut = eventAt(run, 'Replication link to replica 2 cut');
    const fallback = eventAt(run, FALLBACK, cut.tMs);
    const restored = eventAt(run, 'Replication link to replica 2 restored');
    const resumed = eventAt(run, RESUMED, restored.tMs - 1);
    const crashed = eventAt(run, 'Primary (node 1) crashed');
    expect(fallback.message.match(FALLBACK)![1]).toBe('300');
    expect(fallback.nodeId).toBe(1);
    // The first write the replica never acknowledged may have been committed shortly before the
    // cut, so the fallback comes up to one ack timeout after the cut.
    expect(fallback.tMs).toBeLessThan(restored.tMs);
    expect(resumed.tMs).toBeLessThan(crashed.tMs);
    const fallbacksWhileCut = run.events.filter((event) => FALLBACK.test(event.message) && event.tMs > cut.tMs && event.tMs < resumed.tMs);
    expect(fallbacksWhileCut).toHaveLength(1);
    expect(run.events.filter((event) => FALLBACK.test(event.message) && event.tMs > resumed.tMs && event.tMs < crashed.tMs)).toEqual([]);

    // The tick carries the configured mode, and the mode in effect: asynchronous between the
    // fallback and the resume, semi-synchronous again once the replica caught up.
    const beforeCrash = run.ticks.filter((tick) => tick.tMs < crashed.tMs);
    expect(beforeCrash.every((tick) => tick.database.replicationMode === 'semi-synchronous')).toBe(true);
    const fallenBack = beforeCrash.filter((tick) => tick.tMs > fallback.tMs + 260 && tick.tMs < restored.tMs - 10);
    expect(fallenBack.length).toBeGreaterThan(0);
    for (const tick of fallenBack) expect(tick.database.effectiveReplicationMode).toBe('asynchronous');
    const resumedTicks = beforeCrash.filter((tick) => tick.tMs > resumed.tMs + 260);
    for (const tick of resumedTicks) expect(tick.database.effectiveReplicationMode).toBe('semi-synchronous');
    // Writes went on being acknowledged while the link was cut, after the fallback.
    expect(acknowledgedAt(run, restored.tMs) - acknowledgedAt(run, fallback.tMs)).toBeGreaterThan(20);
    const cutTicks = beforeCrash.flatMap((tick) => tick.database.nodes).filter((node) => node.id === 2 && node.linkCut);
    expect(cutTicks.length).toBeGreaterThan(1);

    // Semi-synchronous again after the resume: every write acknowledged before the crash had
    // reached the replica, so the failover loses none.
    const failover = run.report.database!.failovers[0];
    expect(failover.outcome).toBe('promoted');
    expect(failover.toNodeId).toBe(2);
    expect(failover.rpoWrites).toBe(0);
    expect(missingFromFile(run.acknowledged, run.nodeFiles.get(2)!)).toEqual([]);
    expect(run.report.summary.errors.timeout).toBe(0);
  });

  test('falls back on a delay beyond the ack timeout', async () => {
    const run = await runScenario(
      dataRoot,
      dbScenario({
        duration: '2700ms',
        load: { model: 'open', rateRps: 100, arrival: 'constant', clients: 50, mix: { html: 0, apiRead: 0, apiWrite: 1, static: 0 } },
        database: { replicas: 1, seedUsers: 100, replication: { mode: 'semi-synchronous', ackTimeout: '200ms' } },
        timeline: [
          { at: '500ms', command: { type: 'set-replication-delay', delay: '500ms', node: 2 } },
          { at: '1500ms', command: { type: 'set-replication-delay', delay: '0ms', node: 2 } },
        ],
      }),
    );

    const delayed = eventAt(run, 'Replication delay set to 500 ms for replica 2');
    const fallback = eventAt(run, FALLBACK, delayed.tMs);
    const undelayed = eventAt(run, 'Replication delay set to 0 ms for replica 2');
    expect(fallback.tMs).toBeLessThan(undelayed.tMs);
    // While the delay lasts the replica may reach the fallback position, bring semi-synchronous
    // replication back and miss the ack timeout again. Once the backlog in transit (500 ms) has
    // arrived after the delay is removed, it stays semi-synchronous.
    const modeEvents = run.events.filter((event) => FALLBACK.test(event.message) || RESUMED.test(event.message));
    expect(RESUMED.test(modeEvents.at(-1)!.message)).toBe(true);
    expect(modeEvents.at(-1)!.tMs).toBeGreaterThan(undelayed.tMs);
    expect(modeEvents.filter((event) => FALLBACK.test(event.message) && event.tMs > undelayed.tMs + 800)).toEqual([]);

    expect(acknowledgedAt(run, undelayed.tMs) - acknowledgedAt(run, fallback.tMs)).toBeGreaterThan(20);
    expect(run.ticks.every((tick) => tick.database.replicationMode === 'semi-synchronous')).toBe(true);
    const delayTicks = run.ticks.flatMap((tick) => tick.database.nodes).filter((node) => node.id === 2 && node.delayMs === 500);
    expect(delayTicks.length).toBeGreaterThan(1);
    expect(run.report.summary.errorsTotal).toBe(0);
    expect(missingFromFile(run.acknowledged, run.nodeFiles.get(2)!)).toEqual([]);
  });
});
