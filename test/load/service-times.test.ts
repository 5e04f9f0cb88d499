import { describe, expect, it } from 'vitest';
import { parseScenario, serviceTimesByKind } from '../../main/engine/api/scenario.ts';
import { ServiceTimes } from '../../main/engine/load/service-times.ts';
import { Random } from '../../main/engine/random.ts';

const STATIC = 3;
const SAMPLES = 400_000;

/** Mean and coefficient of variation of `SAMPLES` draws of the static kind's CPU time. */
function drawStats(cpuMs: unknown): { mean: number; cv: number; min: number } {
  const scenario = parseScenario({ version: 1, name: 'draws', duration: '1s', load: { rateRps: 1, cpuMs: { static: cpuMs } } });
  const times = new ServiceTimes(serviceTimesByKind(scenario));
  const random = new Random(42);
  let sum = 0;
  let sumSquares = 0;
  let min = Infinity;
  for (let i = 0; i < SAMPLES; i++) {
    const x = times.draw(STATIC, random);
    sum += x;
    sumSquares += x * x;
    min = Math.min(min, x);
  }
  const mean = sum / SAMPLES;
  const variance = sumSquares / SAMPLES - mean * mean;
  return { mean, cv: Math.sqrt(Math.max(0, variance)) / mean, min };
}

describe('service time distributions', () => {
  it('constant draws the same time', () => {
    expect(drawStats(2)).toEqual({ mean: 2, cv: 0, min: 2 });
    expect(drawStats({ distribution: 'constant', meanMs: 3 }).cv).toBe(0);
  });

  it('exponential has mean and cv 1', () => {
    const stats = drawStats({ distribution: 'exponential', meanMs: 2 });
    expect(stats.mean).toBeGreaterThan(2 * 0.99);
    expect(stats.mean).toBeLessThan(2 * 1.01);
    expect(stats.cv).toBeGreaterThan(0.98);
    expect(stats.cv).toBeLessThan(1.02);
  });

  it('lognormal honours a stated cv', () => {
    const stats = drawStats({ distribution: 'lognormal', meanMs: 5, cv: 0.5 });
    expect(stats.mean).toBeGreaterThan(5 * 0.99);
    expect(stats.mean).toBeLessThan(5 * 1.01);
    expect(stats.cv).toBeGreaterThan(0.49);
    expect(stats.cv).toBeLessThan(0.51);
    expect(stats.min).toBeGreaterThan(0);
  });

  it('lognormal honours a stated sigma', () => {
    // cv = sqrt(exp(sigma^2) - 1) = 0.8054 for sigma 0.7.
    const stats = drawStats({ distribution: 'lognormal', meanMs: 1, sigma: 0.7 });
    expect(stats.mean).toBeGreaterThan(0.98);
    expect(stats.mean).toBeLessThan(1.02);
    expect(stats.cv).toBeGreaterThan(0.8054 * 0.97);
    expect(stats.cv).toBeLessThan(0.8054 * 1.03);
  });

  it('replays the same draws for the same seed', () => {
    const scenario = parseScenario({ version: 1, name: 'seed', duration: '1s', load: { rateRps: 1, cpuMs: { static: { distribution: 'lognormal', meanMs: 1, cv: 2 } } } });
    const a = new ServiceTimes(serviceTimesByKind(scenario));
    const randomA = new Random(9);
    const randomB = new Random(9);
    for (let i = 0; i < 1000; i++) expect(a.draw(STATIC, randomA)).toBe(a.draw(STATIC, randomB));
  });
});
