import { describe, expect, it } from 'vitest';
import { OpenLoad } from '../../main/engine/load/open-load.ts';
import { RateProfile } from '../../main/engine/load/rate-profile.ts';
import { Random } from '../../main/engine/random.ts';

/** Arrivals of an open load due up to `untilMs`, pulled in 1 ms steps as the engine does. */
function arrivals(load: OpenLoad, untilMs: number): number[] {
  const dues: number[] = [];
  for (let now = 0; now <= untilMs; now++) load.pull(now, (dueMs) => dues.push(dueMs));
  return dues;
}

function countBetween(dues: number[], fromMs: number, toMs: number): number {
  return dues.filter((due) => due >= fromMs && due < toMs).length;
}

describe('rate profile', () => {
  it('reports step and ramp rates over time', () => {
    const profile = new RateProfile(0, 100, [
      { atMs: 10_000, rateRps: 300, transition: 'ramp' },
      { atMs: 20_000, rateRps: 50, transition: 'step' },
    ]);
    expect(profile.rateRpsAt(0)).toBeCloseTo(100, 9);
    expect(profile.rateRpsAt(5_000)).toBeCloseTo(200, 9);
    expect(profile.rateRpsAt(19_999)).toBeCloseTo(300, 9);
    expect(profile.rateRpsAt(20_000)).toBeCloseTo(50, 9);
    expect(profile.rateRpsAt(1_000_000)).toBeCloseTo(50, 9);
  });

  it('places arrivals by the integral of the rate', () => {
    // A ramp from 0 to 2 requests/ms over 10 ms amounts to 10 requests; the 10th is due at its end.
    const profile = new RateProfile(0, 0, [{ atMs: 10, rateRps: 2000, transition: 'ramp' }]);
    let t = 0;
    for (let i = 0; i < 10; i++) t = profile.advance(t, 1);
    expect(t).toBeCloseTo(10, 9);
    // The first request is due where the area t^2 / 10 reaches 1.
    expect(new RateProfile(0, 0, [{ atMs: 10, rateRps: 2000, transition: 'ramp' }]).advance(0, 1)).toBeCloseTo(Math.sqrt(10), 9);
  });

  it('never sends while the rate stays at zero', () => {
    const profile = new RateProfile(0, 0);
    expect(profile.advance(0, 1)).toBe(Infinity);
    const stopping = new RateProfile(0, 1000, [{ atMs: 5, rateRps: 0, transition: 'step' }]);
    expect(stopping.advance(0, 5)).toBeCloseTo(5, 9);
    expect(stopping.advance(5, 1)).toBe(Infinity);
  });

  it('drives constant arrivals through a step', () => {
    const load = new OpenLoad(1000, 'constant', 10, new Random(1), 0, [{ atMs: 1000, rateRps: 4000, transition: 'step' }]);
    const dues = arrivals(load, 2000);
    // The first arrival is due one gap after the start, so the 1,000th falls at 1,000 ms give or take rounding.
    expect(countBetween(dues, 0, 1000)).toBeGreaterThanOrEqual(999);
    expect(countBetween(dues, 0, 1000)).toBeLessThanOrEqual(1000);
    expect(countBetween(dues, 1000, 2000)).toBeGreaterThanOrEqual(3999);
    expect(countBetween(dues, 1000, 2000)).toBeLessThanOrEqual(4001);
    expect(load.rateRps).toBe(4000);
  });

  it('drives Poisson arrivals through a ramp', () => {
    const load = new OpenLoad(0, 'poisson', 10, new Random(7), 0, [{ atMs: 10_000, rateRps: 20_000, transition: 'ramp' }]);
    const dues = arrivals(load, 10_000);
    // The rate averages 5,000/s over the first half and 15,000/s over the second.
    expect(countBetween(dues, 0, 5000)).toBeGreaterThan(25_000 * 0.97);
    expect(countBetween(dues, 0, 5000)).toBeLessThan(25_000 * 1.03);
    expect(countBetween(dues, 5000, 10_000)).toBeGreaterThan(75_000 * 0.97);
    expect(countBetween(dues, 5000, 10_000)).toBeLessThan(75_000 * 1.03);
    for (let i = 1; i < dues.length; i++) expect(dues[i]).toBeGreaterThanOrEqual(dues[i - 1]);
  });

  it('ends the profile on a live rate change', () => {
    const load = new OpenLoad(1000, 'constant', 10, new Random(1), 0, [{ atMs: 1000, rateRps: 4000, transition: 'step' }]);
    arrivals(load, 500);
    load.setRate(200, 500);
    const dues: number[] = [];
    for (let now = 500; now < 2500; now++) load.pull(now, (dueMs) => dues.push(dueMs));
    expect(dues.length).toBeGreaterThanOrEqual(399);
    expect(dues.length).toBeLessThanOrEqual(400);
  });
});
