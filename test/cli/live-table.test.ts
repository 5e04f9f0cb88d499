import { describe, expect, it } from 'vitest';
import { emptyErrorCounts, type TickSnapshot } from '../../main/engine/api/protocol.ts';
import { combineTicks, LiveTable } from '../../main/cli/live-table.ts';

function tick(tickNumber: number, okRps: number, p99Ms: number, limited = false): TickSnapshot {
  return {
    tick: tickNumber,
    tMs: tickNumber * 250,
    tickMs: 250,
    offeredRps: 1000,
    okRps,
    errorRps: 1000 - okRps,
    errorsRpsByKind: { ...emptyErrorCounts(), timeout: 1000 - okRps },
    latency: { count: okRps / 4, p50Ms: 1, p95Ms: 2, p99Ms, p999Ms: p99Ms, maxMs: p99Ms, meanMs: 1 },
    books: { sent: 0, ok: 0, errors: emptyErrorCounts(), errorsTotal: 0, inFlight: tickNumber, balanced: true },
    config: { servers: 2, vcpus: 2, rateRps: 1000, algorithm: 'round-robin' },
    servers: [
      { id: 1, state: 'up', vcpus: 2, utilization: 0.5, inFlight: 0, queue: 0, okRps: 0, errorRps: 0, pickShare: 0.5 },
      { id: 2, state: 'down', vcpus: 2, utilization: 0, inFlight: 0, queue: 0, okRps: 0, errorRps: 0, pickShare: 0.5 },
    ],
    database: { state: 'up', readsPerSec: 0, writesPerSec: 0, acknowledgedWrites: 0 },
    host: { engineLoopUtilization: 0.1, processCpuCores: 0.1, cores: 2, generatorLagMs: 0, limited },
  } as TickSnapshot;
}

describe('live table', () => {
  it('second row averages rates by tick length', () => {
    const row = combineTicks([tick(1, 1000, 5), tick(2, 800, 9), tick(3, 600, 7), tick(4, 1000, 6)]);

    expect(row.okRps).toBe(850);
    expect(row.errorRpsByKind.timeout).toBe(150);
    expect(row.timeS).toBe(1);
  });

  it('second row takes the highest percentile', () => {
    const row = combineTicks([tick(1, 1000, 5), tick(2, 800, 9, true), tick(3, 600, 7)]);

    expect(row.p99Ms).toBe(9);
    expect(row.hostLimited).toBe(true);
    expect(row.inFlight).toBe(3);
    expect(row.serversUp).toBe(1);
    expect(row.servers).toBe(2);
  });

  it('prints one row per second', () => {
    const lines: string[] = [];
    const table = new LiveTable('second', (line) => lines.push(line));
    for (let n = 1; n <= 8; n++) table.add(tick(n, 1000, 5));

    // A note and the column titles, then two rows.
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('ok/s');
    expect(lines[2].trim().startsWith('1.0')).toBe(true);
    expect(lines[3].trim().startsWith('2.0')).toBe(true);
  });

  it('prints one row per tick', () => {
    const lines: string[] = [];
    const table = new LiveTable('tick', (line) => lines.push(line));
    for (let n = 1; n <= 3; n++) table.add(tick(n, 900, 5));

    expect(lines).toHaveLength(5);
    expect(lines[4]).toContain('timeout 100');
  });
});
