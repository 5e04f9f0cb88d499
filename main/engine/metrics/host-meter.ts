import os from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { HostSnapshot } from '../api/protocol.ts';

/** Engine event-loop utilization above which the engine thread itself is the bottleneck. */
const LOOP_LIMIT = 0.9;
/** Share of all cores above which the process is CPU-bound on this host. */
const CPU_LIMIT = 0.9;
/** Generator lag above which arrivals leave later than they were due. */
const LAG_LIMIT_MS = 50;

/**
 * Measures the host's own load: the engine thread's event-loop utilization, the process CPU
 * time across all threads, and how late the load generator ran. A tick where any of them is
 * near its limit is flagged, because the host rather than the modelled system may set the numbers.
 */
export class HostMeter {
  private readonly cores = os.availableParallelism();
  private lastLoop: EventLoopUtilization = performance.eventLoopUtilization();
  private lastCpu = process.cpuUsage();

  reset(): void {
    this.lastLoop = performance.eventLoopUtilization();
    this.lastCpu = process.cpuUsage();
  }

  sample(tickMs: number, generatorLagMs: number): HostSnapshot {
    const loop = performance.eventLoopUtilization(this.lastLoop);
    this.lastLoop = performance.eventLoopUtilization();
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();
    const processCpuCores = (cpu.user + cpu.system) / 1000 / tickMs;
    const engineLoopUtilization = loop.utilization;
    return {
      engineLoopUtilization,
      processCpuCores,
      cores: this.cores,
      generatorLagMs,
      limited: engineLoopUtilization > LOOP_LIMIT || processCpuCores > CPU_LIMIT * this.cores || generatorLagMs > LAG_LIMIT_MS,
    };
  }
}
