import { describe, expect, it } from 'vitest';
import { commandSchema } from '../../main/engine/api/commands.ts';
import { parseScenario } from '../../main/engine/api/scenario.ts';

const base = { version: 1, name: 'schema', duration: '10s' };

function errorOf(load: unknown): string {
  try {
    parseScenario({ ...base, load });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the scenario to be rejected');
}

describe('load schema', () => {
  it('accepts a closed model', () => {
    const scenario = parseScenario({ ...base, load: { model: 'closed', users: 1000, thinkTime: '2s' } });
    expect(scenario.load.model).toBe('closed');
    expect(scenario.load.users).toBe(1000);
    expect(scenario.load.thinkTime).toBe(2000);
    expect(scenario.load.thinkDistribution).toBe('exponential');
    expect(scenario.load.rateRps).toBe(0);
  });

  it('accepts a profile with ramps and steps', () => {
    const scenario = parseScenario({
      ...base,
      load: { rateRps: 100, profile: [{ at: '2s', rateRps: 500 }, { at: '5s', rateRps: 50, transition: 'step' }] },
    });
    expect(scenario.load.profile).toEqual([
      { at: 2000, rateRps: 500, transition: 'ramp' },
      { at: 5000, rateRps: 50, transition: 'step' },
    ]);
  });

  it.each([
    ['open model without a rate', { arrival: 'poisson' }, 'load.rateRps: expected a rate'],
    ['closed model without users', { model: 'closed', thinkTime: '1s' }, 'load.users: expected a number of users from 1 to 1000000'],
    ['closed model without think time', { model: 'closed', users: 5 }, 'load.thinkTime: expected a think time'],
    ['too many users', { model: 'closed', users: 1_000_001, thinkTime: '1s' }, 'load.users: expected an integer from 1 to 1000000'],
    ['a rate in the closed model', { model: 'closed', users: 5, thinkTime: '1s', rateRps: 10 }, 'load.rateRps: "rateRps" applies to the open model only'],
    ['users in the open model', { rateRps: 10, users: 5 }, 'load.users: "users" applies to the closed model only'],
    ['a think time without a unit', { model: 'closed', users: 5, thinkTime: '10' }, 'load.thinkTime: expected a duration with a unit'],
    ['an unknown model', { model: 'half-open', rateRps: 1 }, 'load.model: expected "open" or "closed"'],
    ['profile points out of order', { rateRps: 1, profile: [{ at: '5s', rateRps: 2 }, { at: '5s', rateRps: 3 }] }, 'load.profile.1.at: expected a time later than'],
    ['an unknown transition', { rateRps: 1, profile: [{ at: '5s', rateRps: 2, transition: 'jump' }] }, 'load.profile.0.transition: expected "ramp" or "step"'],
    ['a negative profile rate', { rateRps: 1, profile: [{ at: '5s', rateRps: -2 }] }, 'load.profile.0.rateRps: expected a number from 0 to 5000000'],
    ['a negative CPU time', { rateRps: 1, cpuMs: { html: -1 } }, 'load.cpuMs.html: expected a number from 0 to 10000'],
    ['an unknown distribution', { rateRps: 1, cpuMs: { html: { distribution: 'pareto', meanMs: 1 } } }, 'load.cpuMs.html'],
    ['a lognormal without a spread', { rateRps: 1, cpuMs: { html: { distribution: 'lognormal', meanMs: 1 } } }, 'load.cpuMs.html.cv: expected exactly one of "cv"'],
    ['a lognormal with both spreads', { rateRps: 1, cpuMs: { html: { distribution: 'lognormal', meanMs: 1, cv: 1, sigma: 1 } } }, 'load.cpuMs.html.cv: expected exactly one of "cv"'],
    ['a lognormal cv out of range', { rateRps: 1, cpuMs: { html: { distribution: 'lognormal', meanMs: 1, cv: 500 } } }, 'load.cpuMs.html.cv: expected a number from 0.01 to 100'],
  ])('rejects %s', (_name, load, expected) => {
    expect(errorOf(load)).toContain(expected);
  });

  it('set-users command checks its range', () => {
    expect(commandSchema.safeParse({ type: 'set-users', users: 10 }).success).toBe(true);
    expect(commandSchema.safeParse({ type: 'set-users', users: 0 }).success).toBe(false);
    expect(commandSchema.safeParse({ type: 'set-users', users: 2.5 }).success).toBe(false);
  });
});
