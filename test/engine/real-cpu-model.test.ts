import type { TickSnapshot } from '../../main/engine/api/protocol.ts';
import { describe, expect, it } from 'vitest';
import { cpuBoundLoad, meanOkRps, runScenario } from '../support/engine-run.ts';

/** Runs 4 s of 2 ms requests, offered well above what one core can serve, in the real CPU model. */
async function realRun(vcpus: number) {
  return runScenario({
    version: 1,
    name: `real CPU, ${vcpus} vCPU`,
    duration: '4s',
    cpuModel: 'real',
    load: cpuBoundLoad(1500, 2),
    servers: { count: 1, vcpus },
    dns: { lookup: '0ms' },
    requestTimeout: '2s',
    drainTimeout: '1s',
  });
}

/** Mean process CPU, in cores, over the ticks of the steady part of a run. */
function meanCores(ticks: TickSnapshot[]): number {
  const busy = ticks.filter((tick) => tick.tMs > 1000 && tick.tMs < 3900);
  return busy.reduce((sum, tick) => sum + tick.host.processCpuCores, 0) / busy.length;
}

describe('real CPU model', () => {
  it('serves what the host CPU it burns allows', async () => {
    const one = await realRun(1);
    expect(one.report.cpuModel).toBe('real');

    // One thread burning 2 ms per request serves at most about 500 requests/s, from one core.
    const oneRps = meanOkRps(one.ticks, 1000, 3900);
    expect(oneRps).toBeGreaterThan(250);
    expect(oneRps).toBeLessThan(600);
    expect(meanCores(one.ticks)).toBeGreaterThan(0.7);
    expect(one.report.summary.booksBalanced).toBe(true);
  });

  it('turns each vCPU into a thread that burns its own CPU', async () => {
    const two = await realRun(2);
    // Throughput follows the CPU the process actually got (the tests share this machine), at
    // about 2 ms a request plus the engine's own share. The upper margin allows for a thread
    // that calibrated its loop while its core was busy, and so burns less than 2 ms a request.
    const twoRps = meanOkRps(two.ticks, 1000, 3900);
    const cores = meanCores(two.ticks);
    expect(twoRps).toBeGreaterThan((0.4 * cores) / 0.002);
    expect(twoRps).toBeLessThan((1.5 * cores) / 0.002);
    expect(two.ticks.at(-2)!.servers[0].vcpus).toBe(2);
    expect(two.report.summary.booksBalanced).toBe(true);
  });
});
