import type { RunReport } from '../engine/api/protocol.ts';
import { ERROR_KINDS, ERROR_LABELS } from '../engine/api/protocol.ts';

/** Formats the end-of-run summary printed after the table. */
export function summaryLines(report: RunReport, reportFile: string): string[] {
  const summary = report.summary;
  const seconds = summary.durationMs / 1000;
  const latency = summary.latency;
  const errorKinds = ERROR_KINDS.filter((kind) => summary.errors[kind] > 0)
    .map((kind) => `${ERROR_LABELS[kind]} ${count(summary.errors[kind])}`)
    .join(', ');
  return [
    '',
    `Run "${report.scenario.name}" (${report.cpuModel} CPU model, ${report.loadModel === 'closed' ? 'closed load model: latency hides stalls' : 'open load model'}): ${seconds.toFixed(1)} s`,
    `  requests   sent ${count(summary.sent)}, ok ${count(summary.ok)}, errors ${count(summary.errorsTotal)}${errorKinds ? ` (${errorKinds})` : ''}, in flight at end ${count(summary.inFlightAtEnd)}`,
    `  throughput ${count(summary.okRps)} ok/s over the run, peak tick ${count(summary.peakOkRps)} ok/s`,
    `  latency    p50 ${ms(latency.p50Ms)}, p95 ${ms(latency.p95Ms)}, p99 ${ms(latency.p99Ms)}, p99.9 ${ms(latency.p999Ms)}, max ${ms(latency.maxMs)}`,
    `  books      ${summary.booksBalanced ? 'balanced in every tick (sent = ok + errors + in flight)' : 'DID NOT BALANCE: this is a bookkeeping bug in the engine'}`,
    `  host       ${summary.hostLimitedTicks} of ${report.ticks.length} ticks limited by this machine rather than by the modelled system`,
    `Report written to ${reportFile}`,
  ];
}

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function ms(value: number): string {
  if (value >= 1000) return `${Math.round(value).toLocaleString('en-US')} ms`;
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}
