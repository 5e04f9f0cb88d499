import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '../api/protocol.ts';

/** Latencies are recorded in microseconds, from 1 µs to one hour, to 3 significant digits. */
const LOWEST_US = 1;
const HIGHEST_US = 3_600_000_000;
const SIGNIFICANT_DIGITS = 3;

/**
 * A latency histogram in milliseconds on top of an HDR histogram. Percentiles of several ticks
 * or threads come from merging histograms, never from averaging their percentiles.
 */
export class LatencyHistogram {
  private readonly histogram: hdr.Histogram;

  constructor() {
    this.histogram = hdr.build({
      lowestDiscernibleValue: LOWEST_US,
      highestTrackableValue: HIGHEST_US,
      numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
      autoResize: false,
      bitBucketSize: 32,
    });
  }

  /** Records one latency; values outside the range are clamped to it rather than dropped. */
  record(latencyMs: number): void {
    const us = Math.round(latencyMs * 1000);
    this.histogram.recordValue(us < LOWEST_US ? LOWEST_US : us > HIGHEST_US ? HIGHEST_US : us);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentileMs(percentile: number): number {
    return Math.min(this.histogram.getValueAtPercentile(percentile), this.histogram.maxValue) / 1000;
  }

  /** Adds every value of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  reset(): void {
    this.histogram.reset();
  }

  /** Encodes the histogram (compressed, base64) to send between threads or store in a report. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }

  static decode(encoded: string): LatencyHistogram {
    const result = new LatencyHistogram();
    result.histogram.add(hdr.decodeFromCompressedBase64(encoded));
    return result;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    if (h.totalCount === 0) return { count: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, meanMs: 0 };
    // A percentile is the highest value of its bucket, which can lie above the largest value
    // recorded; no percentile is reported above the maximum.
    const max = h.maxValue;
    const at = (percentile: number): number => Math.min(h.getValueAtPercentile(percentile), max) / 1000;
    return {
      count: h.totalCount,
      p50Ms: at(50),
      p95Ms: at(95),
      p99Ms: at(99),
      p999Ms: at(99.9),
      maxMs: max / 1000,
      meanMs: h.mean / 1000,
    };
  }
}
