import { z } from 'zod';
import { ALGORITHMS, LIMITS, commandSchema } from './commands.ts';
import { durationMs, intInRange, numberInRange, parseOrThrow } from './units.ts';

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

const costSchema = z
  .object({
    html: numberInRange(0, 10_000).optional(),
    apiRead: numberInRange(0, 10_000).optional(),
    apiWrite: numberInRange(0, 10_000).optional(),
    static: numberInRange(0, 10_000).optional(),
  })
  .strict();

const loadSchema = z
  .object({
    model: z.literal('open', { error: 'expected "open"' }).default('open'),
    rateRps: numberInRange(LIMITS.rateRps.min, LIMITS.rateRps.max),
    arrival: z.enum(['poisson', 'constant'], { error: 'expected "poisson" or "constant"' }).default('poisson'),
    /** Distinct clients; each keeps its own DNS cache entry. */
    clients: intInRange(1, 1_000_000).default(1000),
    mix: mixSchema.prefault({}),
    /** Modelled CPU time per kind, in milliseconds. */
    cpuMs: costSchema.prefault({}),
  })
  .strict();

const dnsSchema = z
  .object({
    ttl: durationMs(0, 86_400_000).default(30_000),
    lookup: durationMs(0, 10_000).default(2),
  })
  .strict();

const serversSchema = z
  .object({
    count: intInRange(LIMITS.servers.min, LIMITS.servers.max).default(1),
    vcpus: intInRange(LIMITS.vcpus.min, LIMITS.vcpus.max).default(2),
  })
  .strict();

const balancerSchema = z
  .object({
    algorithm: z.enum(ALGORITHMS, { error: `expected one of ${ALGORITHMS.join(', ')}` }).default('round-robin'),
  })
  .strict();

const databaseSchema = z
  .object({
    /** Users in the seeded social graph; posts and follows scale with it. */
    seedUsers: intInRange(10, 1_000_000).default(1000),
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
    name: z.string().min(1).max(200),
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

/** A scenario as written in a file (durations as strings, defaults not yet applied). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario with defaults applied and durations in milliseconds. */
export type Scenario = z.output<typeof scenarioSchema>;

/** Validates an untrusted scenario object, throwing a ValidationError that names each invalid field. */
export function parseScenario(input: unknown): Scenario {
  return parseOrThrow(scenarioSchema, input, 'scenario');
}

/** Returns the CPU time of each kind, with the scenario's overrides applied. */
export function cpuMsByKind(scenario: Scenario): Record<RequestKind, number> {
  return { ...DEFAULT_CPU_MS, ...stripUndefined(scenario.load.cpuMs) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
