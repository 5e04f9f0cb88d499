import { z } from 'zod';
import { balancerSchema } from './balancer-config.ts';
import { LIMITS, commandSchema } from './commands.ts';
import { databaseSchema } from './database-config.ts';
import { durationMs, formatDurationMs, intInRange, numberInRange, parseOrThrow } from './units.ts';

export const SCENARIO_VERSION = 1;

export const REQUEST_KINDS = ['html', 'apiRead', 'apiWrite', 'static'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Modelled CPU time per request kind, used when a scenario does not set its own. */
export const DEFAULT_CPU_MS: Record<RequestKind, number> = {
  html: 4,
  apiRead: 1,
  apiWrite: 1.5,
  static: 0.2,
};

const mixSchema = z
  .object({
    html: numberInRange(0, 1_000_000).default(0.2),
    apiRead: numberInRange(0, 1_000_000).default(0.4),
    apiWrite: numberInRange(0, 1_000_000).default(0.1),
    static: numberInRange(0, 1_000_000).default(0.3),
  })
  .strict()
  .refine((mix) => mix.html + mix.apiRead + mix.apiWrite + mix.static > 0, {
    message: 'expected at least one request kind with a weight above 0',
  });

/** Largest modelled CPU time of one request, in milliseconds. */
const MAX_CPU_MS = 10_000;

export const SERVICE_DISTRIBUTIONS = ['constant', 'exponential', 'lognormal'] as const;
export type ServiceDistribution = (typeof SERVICE_DISTRIBUTIONS)[number];

const meanCpuMsSchema = numberInRange(0, MAX_CPU_MS);

/**
 * The CPU time of one request kind: a number of milliseconds (every request takes exactly that),
 * or a distribution each request draws from with the run's seeded generator:
 * - `{ "distribution": "constant", "meanMs": 2 }`: always 2 ms;
 * - `{ "distribution": "exponential", "meanMs": 2 }`: exponential with mean 2 ms (coefficient of variation 1);
 * - `{ "distribution": "lognormal", "meanMs": 2, "cv": 1.5 }` or `{ ..., "sigma": 0.8 }`: lognormal with
 *   mean 2 ms and either the stated coefficient of variation (standard deviation / mean, 0.01 to 100)
 *   or the stated sigma of the underlying normal distribution (0.01 to 3), exactly one of the two.
 */
const serviceTimeSchema = z.union(
  [
    meanCpuMsSchema,
    z.discriminatedUnion(
      'distribution',
      [
        z.object({ distribution: z.literal('constant'), meanMs: meanCpuMsSchema }).strict(),
        z.object({ distribution: z.literal('exponential'), meanMs: meanCpuMsSchema }).strict(),
        z
          .object({
            distribution: z.literal('lognormal'),
            meanMs: meanCpuMsSchema,
            cv: numberInRange(0.01, 100).optional(),
            sigma: numberInRange(0.01, 3).optional(),
          })
          .strict()
          .refine((lognormal) => (lognormal.cv === undefined) !== (lognormal.sigma === undefined), {
            message: 'expected exactly one of "cv" (0.01 to 100) or "sigma" (0.01 to 3) for a lognormal distribution',
            path: ['cv'],
          }),
      ],
      { error: `expected "distribution" to be one of ${SERVICE_DISTRIBUTIONS.join(', ')}` },
    ),
  ],
  {
    error: `expected a CPU time in milliseconds from 0 to ${MAX_CPU_MS}, or an object such as {"distribution": "exponential", "meanMs": 2}`,
  },
);

const costSchema = z
  .object({
    html: serviceTimeSchema.optional(),
    apiRead: serviceTimeSchema.optional(),
    apiWrite: serviceTimeSchema.optional(),
    static: serviceTimeSchema.optional(),
  })
  .strict();

export const LOAD_MODELS = ['open', 'closed'] as const;
export type LoadModel = (typeof LOAD_MODELS)[number];

/**
 * One point of an open-model rate profile. At `at` (from the run's start) the rate reaches
 * `rateRps`: at once for "step", or along a straight line from the previous point (the run's
 * start at `load.rateRps` for the first) for "ramp".
 */
const profilePointSchema = z
  .object({
    at: durationMs(0, 86_400_000),
    rateRps: numberInRange(LIMITS.rateRps.min, LIMITS.rateRps.max),
    transition: z.enum(['ramp', 'step'], { error: 'expected "ramp" or "step"' }).default('ramp'),
  })
  .strict();

const loadSchema = z
  .object({
    /**
     * "open": requests are due at `rateRps` whether or not earlier ones got a response, as from
     * many independent visitors, so a stall shows in full. "closed": `users` each send one request,
     * wait for its response, think for `thinkTime`, and send the next, so a stall also stops the
     * load and hides most of itself from the latency figures.
     */
    model: z.enum(LOAD_MODELS, { error: 'expected "open" or "closed"' }).default('open'),
    /** Open model (required there, rejected in the closed model): requests per second at the start, 0 to 5,000,000. */
    rateRps: numberInRange(LIMITS.rateRps.min, LIMITS.rateRps.max).optional(),
    /** Open model: "poisson" arrivals have exponential gaps; "constant" arrivals are evenly spaced. */
    arrival: z.enum(['poisson', 'constant'], { error: 'expected "poisson" or "constant"' }).default('poisson'),
    /**
     * Open model: rate changes over time, as points with strictly increasing `at`; after the last
     * point the rate stays. Up to 1,000 points. A live set-load command ends the profile.
     */
    profile: z.array(profilePointSchema).max(1000, { error: 'expected at most 1000 profile points' }).default([]),
    /** Closed model (required there): concurrent users, 1 to 1,000,000. */
    users: intInRange(LIMITS.users.min, LIMITS.users.max).optional(),
    /**
     * Closed model (required there): mean time a user waits between a response and its next
     * request, "0ms" to "1h". Latency is measured from the end of the think time.
     */
    thinkTime: durationMs(0, 3_600_000).optional(),
    /** Closed model: "exponential" think times (the default) or "constant" ones; a "0ms" think time is always constant. */
    thinkDistribution: z.enum(['exponential', 'constant'], { error: 'expected "exponential" or "constant"' }).default('exponential'),
    /**
     * Open model: distinct clients, each with its own DNS cache entry, 1 to 1,000,000. In the
     * closed model each user is its own client and this field is ignored.
     */
    clients: intInRange(1, 1_000_000).default(1000),
    mix: mixSchema.prefault({}),
    /** Modelled CPU time per kind, in milliseconds or as a distribution (see serviceTimeSchema). */
    cpuMs: costSchema.prefault({}),
  })
  .strict()
  .superRefine((load, ctx) => {
    if (load.model === 'open') {
      if (load.rateRps === undefined) ctx.addIssue({ code: 'custom', path: ['rateRps'], message: 'expected a rate in requests per second for the open model' });
      for (const field of ['users', 'thinkTime'] as const) {
        if (load[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `"${field}" applies to the closed model only; set "model": "closed" or remove it` });
      }
      checkProfileOrder(load.profile, ctx);
      return;
    }
    if (load.users === undefined) ctx.addIssue({ code: 'custom', path: ['users'], message: `expected a number of users from ${LIMITS.users.min} to ${LIMITS.users.max} for the closed model` });
    if (load.thinkTime === undefined) ctx.addIssue({ code: 'custom', path: ['thinkTime'], message: 'expected a think time such as "1s" for the closed model' });
    if (load.rateRps !== undefined) ctx.addIssue({ code: 'custom', path: ['rateRps'], message: '"rateRps" applies to the open model only; the closed model\'s load follows from "users" and "thinkTime"' });
    if (load.profile.length > 0) ctx.addIssue({ code: 'custom', path: ['profile'], message: '"profile" applies to the open model only; use set-users commands on the timeline instead' });
  })
  // Later code reads the rate as a number; the closed model starts at 0 and reports its own rate.
  .transform((load) => ({ ...load, rateRps: load.rateRps ?? 0 }));

function checkProfileOrder(profile: Array<{ at: number }>, ctx: z.RefinementCtx): void {
  for (let i = 1; i < profile.length; i++) {
    if (profile[i].at <= profile[i - 1].at) {
      ctx.addIssue({
        code: 'custom',
        path: ['profile', i, 'at'],
        message: `expected a time later than the previous point's (${profile[i - 1].at} ms), received ${profile[i].at} ms`,
      });
    }
  }
}

export const DNS_TARGETS = ['balancer', 'first-server', 'round-robin'] as const;
export type DnsTarget = (typeof DNS_TARGETS)[number];

const dnsSchema = z
  .object({
    /** How long a client keeps the answer before it asks again. */
    ttl: durationMs(0, 86_400_000).default(30_000),
    /** What a lookup costs a client whose cached answer is missing or expired. */
    lookup: durationMs(0, 10_000).default(2),
    /**
     * What the site's name resolves to: the load balancer; one server with no balancer in front;
     * or each server in turn (DNS round robin), where clients keep a dead server's address until
     * their TTL runs out.
     */
    target: z.enum(DNS_TARGETS, { error: `expected one of ${DNS_TARGETS.join(', ')}` }).default('balancer'),
  })
  .strict();

const serversSchema = z
  .object({
    count: intInRange(LIMITS.servers.min, LIMITS.servers.max).default(1),
    vcpus: intInRange(LIMITS.vcpus.min, LIMITS.vcpus.max).default(2),
  })
  .strict();

const timelineEntrySchema = z
  .object({
    at: durationMs(0, 86_400_000),
    command: commandSchema,
  })
  .strict();

export const scenarioSchema = z
  .object({
    version: z.literal(SCENARIO_VERSION, { error: `expected ${SCENARIO_VERSION}` }),
    name: z.string({ error: (issue) => (issue.input === undefined ? 'missing: expected a name of 1 to 200 characters' : 'expected a name of 1 to 200 characters') }).min(1).max(200),
    description: z.string().max(4000).default(''),
    duration: durationMs(500, 86_400_000),
    cpuModel: z.enum(['virtual', 'real'], { error: 'expected "virtual" or "real"' }).default('virtual'),
    seed: intInRange(0, 2 ** 31 - 1).default(1),
    /** A request still unanswered this long after it was due ends as a "timeout" error. */
    requestTimeout: durationMs(1, 600_000).default(10_000),
    /** How long a stop or a removal waits for requests in flight before counting them as errors. */
    drainTimeout: durationMs(0, 600_000).default(5_000),
    load: loadSchema,
    dns: dnsSchema.prefault({}),
    servers: serversSchema.prefault({}),
    balancer: balancerSchema.prefault({}),
    database: databaseSchema.prefault({}),
    timeline: z.array(timelineEntrySchema).max(10_000).default([]),
  })
  .strict()
  .superRefine(checkTimeline)
  .superRefine((scenario, ctx) => {
    if (scenario.cpuModel !== 'real') return;
    if (scenario.servers.vcpus > LIMITS.realVcpus.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['servers', 'vcpus'],
        message: `expected at most ${LIMITS.realVcpus.max} vCPUs per server in the real CPU model (one thread each)`,
      });
    }
    if (scenario.servers.vcpus * scenario.servers.count > LIMITS.realThreadsTotal) {
      ctx.addIssue({
        code: 'custom',
        path: ['servers', 'count'],
        message: `expected servers x vCPUs of at most ${LIMITS.realThreadsTotal} in the real CPU model`,
      });
    }
  });

/**
 * Checks the timeline against the rest of the scenario: every command falls within the run, and
 * a command that names a server names one that exists at that time (the servers at the start,
 * changed by earlier set-servers commands; a drained server still exists while it drains), so a
 * mistake is caught before the run rather than logged as a failed event in the middle of it.
 */
function checkTimeline(
  scenario: { duration: number; servers: { count: number }; timeline: Array<{ at: number; command: { type: string; server?: number; count?: number } }> },
  ctx: z.RefinementCtx,
): void {
  const servers = new Set(Array.from({ length: scenario.servers.count }, (_, i) => i + 1));
  const order = scenario.timeline.map((entry, index) => ({ entry, index })).sort((a, b) => a.entry.at - b.entry.at || a.index - b.index);
  for (const { entry, index } of order) {
    const { command } = entry;
    if (entry.at > scenario.duration) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeline', index, 'at'],
        message: `expected a time within the run (up to ${formatDurationMs(scenario.duration)}), received "${formatDurationMs(entry.at)}"`,
      });
    }
    if (command.server !== undefined && !servers.has(command.server)) {
      const ids = [...servers].sort((a, b) => a - b).join(', ') || 'none';
      ctx.addIssue({
        code: 'custom',
        path: ['timeline', index, 'command', 'server'],
        message: `expected a server that exists at ${formatDurationMs(entry.at)} (servers then: ${ids}), received ${command.server}`,
      });
    }
    if (command.type === 'set-servers' && command.count !== undefined) {
      for (let id = 1; servers.size < command.count && id <= LIMITS.servers.max; id++) servers.add(id);
      for (const id of [...servers].sort((a, b) => b - a)) if (servers.size > command.count) servers.delete(id);
    }
  }
}

/** A scenario as written in a file (durations as strings, defaults not yet applied). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario with defaults applied and durations in milliseconds. */
export type Scenario = z.output<typeof scenarioSchema>;

/** Validates an untrusted scenario object, throwing a ValidationError that names each invalid field. */
export function parseScenario(input: unknown): Scenario {
  return parseOrThrow(scenarioSchema, input, 'scenario');
}

/** A request kind's CPU time distribution, resolved from the scenario. */
export interface ServiceTime {
  distribution: ServiceDistribution;
  meanMs: number;
  /** Sigma of the underlying normal distribution; 0 unless lognormal. */
  sigma: number;
}

/** Returns the mean CPU time of each kind, with the scenario's overrides applied. */
export function cpuMsByKind(scenario: Scenario): Record<RequestKind, number> {
  const times = serviceTimesByKind(scenario);
  return { html: times.html.meanMs, apiRead: times.apiRead.meanMs, apiWrite: times.apiWrite.meanMs, static: times.static.meanMs };
}

/** Returns the CPU time distribution of each kind; kinds the scenario leaves out take DEFAULT_CPU_MS, constant. */
export function serviceTimesByKind(scenario: Scenario): Record<RequestKind, ServiceTime> {
  const written = scenario.load.cpuMs;
  const result = {} as Record<RequestKind, ServiceTime>;
  for (const kind of REQUEST_KINDS) result[kind] = resolveServiceTime(written[kind] ?? DEFAULT_CPU_MS[kind]);
  return result;
}

function resolveServiceTime(input: z.output<typeof serviceTimeSchema>): ServiceTime {
  if (typeof input === 'number') return { distribution: 'constant', meanMs: input, sigma: 0 };
  if (input.distribution !== 'lognormal') return { distribution: input.distribution, meanMs: input.meanMs, sigma: 0 };
  // A lognormal's coefficient of variation is sqrt(exp(sigma^2) - 1), so sigma^2 = ln(1 + cv^2).
  const sigma = input.sigma ?? Math.sqrt(Math.log1p(input.cv! * input.cv!));
  return { distribution: 'lognormal', meanMs: input.meanMs, sigma };
}
