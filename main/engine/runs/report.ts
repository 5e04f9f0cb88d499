import os from 'node:os';
import type { HostInfo, RunEvent, RunReport, TickSnapshot } from '../api/protocol.ts';
import type { Scenario } from '../api/scenario.ts';
import type { Books } from '../metrics/books.ts';

export interface ReportInput {
  scenario: Scenario;
  ticks: TickSnapshot[];
  events: RunEvent[];
  books: Books;
  allBalanced: boolean;
  durationMs: number;
  acknowledgedWrites: number;
  attempts: number;
  retries: number;
  dataDir: string;
}

/** Builds a run's report; percentiles come from the run's merged histogram, not from the ticks. */
export function buildReport(input: ReportInput): RunReport {
  const { books, ticks } = input;
  const durationMs = Math.max(1, input.durationMs);
  return {
    format: 'scalelab-report',
    formatVersion: 1,
    createdAt: new Date().toISOString(),
    scenario: input.scenario,
    cpuModel: input.scenario.cpuModel,
    loadModel: input.scenario.load.model,
    ticks,
    events: input.events,
    summary: {
      durationMs,
      sent: books.sent,
      ok: books.ok,
      errors: { ...books.errors },
      errorsTotal: books.errorsTotal,
      inFlightAtEnd: books.inFlight,
      okRps: (books.ok * 1000) / durationMs,
      latency: books.runLatency.summary(),
      booksBalanced: input.allBalanced && books.inFlight === 0,
      acknowledgedWrites: input.acknowledgedWrites,
      peakOkRps: ticks.reduce((max, tick) => Math.max(max, tick.okRps), 0),
      hostLimitedTicks: ticks.filter((tick) => tick.host.limited).length,
      attempts: input.attempts,
      retries: input.retries,
      amplification: books.sent > 0 ? input.attempts / books.sent : 1,
    },
    host: hostInfo(),
    dataDir: input.dataDir,
  };
}

export function hostInfo(): HostInfo {
  const cpus = os.cpus();
  const info: HostInfo = {
    platform: process.platform,
    arch: process.arch,
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryMiB: Math.round(os.totalmem() / 1024 / 1024),
    node: process.versions.node,
  };
  if (process.versions.electron) info.electron = process.versions.electron;
  return info;
}
