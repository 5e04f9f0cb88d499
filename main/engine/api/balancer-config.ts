import { z } from 'zod';
import { durationMs, intInRange, numberInRange } from './units.ts';

export const ALGORITHMS = ['round-robin', 'weighted-round-robin', 'least-connections', 'power-of-two', 'consistent-hash'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** One line of help per balancer algorithm, shown next to the picker. */
export const ALGORITHM_HELP: Record<Algorithm, string> = {
  'round-robin': 'Each server in turn, whatever its load.',
  'weighted-round-robin': 'Each server in turn, in proportion to its weight (its vCPUs unless set).',
  'least-connections': 'The server with the fewest requests in flight; recent failures count against a server.',
  'power-of-two': 'Two servers at random, and the one with fewer requests in flight.',
  'consistent-hash': 'Sticky: each client id always reaches the same server while it is available.',
};

export const algorithmSchema = z.enum(ALGORITHMS, { error: `expected one of ${ALGORITHMS.join(', ')}` });

/** Active health checks: the balancer probes each server every interval. */
const healthCheckFields = {
  enabled: z.boolean({ error: 'expected true or false' }),
  interval: durationMs(50, 60_000),
  /** A probe unanswered for this long counts as failed. */
  timeout: durationMs(10, 60_000),
  /** Passed probes in a row that bring an unhealthy server back. */
  rise: intInRange(1, 20),
  /** Failed probes in a row that take a healthy server out of rotation. */
  fall: intInRange(1, 20),
};

/** Passive ejection (outlier detection): servers whose requests keep failing are ejected for a while. */
const outlierDetectionFields = {
  enabled: z.boolean({ error: 'expected true or false' }),
  consecutiveErrors: intInRange(1, 1000),
  /** Ejection time of a first ejection; each repeat ejects for one more multiple of it. */
  baseEjectionTime: durationMs(100, 600_000),
  /** At most this share of the servers is ejected at once, in percent. */
  maxEjectedPercent: intInRange(0, 100),
};

/** Retries of idempotent requests (HTML pages, API reads, static files) under a retry budget. */
const retriesFields = {
  enabled: z.boolean({ error: 'expected true or false' }),
  /** Attempts per request, the first one included. */
  maxAttempts: intInRange(1, 10),
  /** Backoff before the first retry; it doubles for each further one, with full jitter. */
  backoffBase: durationMs(0, 60_000),
  backoffMax: durationMs(0, 600_000),
  /**
   * Retries, waiting in backoff or in flight, may be at most this percent of the requests in
   * flight, and over the run at most this percent of the requests sent.
   */
  budgetPercent: numberInRange(0, 100),
  /** Retries always allowed at once, whatever the budget, so a quiet system can still retry. */
  minRetryConcurrency: intInRange(0, 1000),
};

export const healthCheckSchema = z
  .object({
    enabled: healthCheckFields.enabled.default(false),
    interval: healthCheckFields.interval.default(1000),
    timeout: healthCheckFields.timeout.default(500),
    rise: healthCheckFields.rise.default(2),
    fall: healthCheckFields.fall.default(3),
  })
  .strict();

export const outlierDetectionSchema = z
  .object({
    enabled: outlierDetectionFields.enabled.default(false),
    consecutiveErrors: outlierDetectionFields.consecutiveErrors.default(5),
    baseEjectionTime: outlierDetectionFields.baseEjectionTime.default(5000),
    maxEjectedPercent: outlierDetectionFields.maxEjectedPercent.default(50),
  })
  .strict();

export const retriesSchema = z
  .object({
    enabled: retriesFields.enabled.default(false),
    maxAttempts: retriesFields.maxAttempts.default(3),
    backoffBase: retriesFields.backoffBase.default(25),
    backoffMax: retriesFields.backoffMax.default(1000),
    budgetPercent: retriesFields.budgetPercent.default(20),
    minRetryConcurrency: retriesFields.minRetryConcurrency.default(3),
  })
  .strict();

/** Patches for live changes: every field optional and without defaults, so a patch changes only what it names. */
export const healthCheckPatchSchema = z.object(healthCheckFields).partial().strict();
export const outlierDetectionPatchSchema = z.object(outlierDetectionFields).partial().strict();
export const retriesPatchSchema = z.object(retriesFields).partial().strict();

export const balancerSchema = z
  .object({
    algorithm: algorithmSchema.default('round-robin'),
    healthCheck: healthCheckSchema.prefault({}),
    outlierDetection: outlierDetectionSchema.prefault({}),
    /** New or returning servers ramp from 10 % to their full share over this time. */
    slowStart: durationMs(0, 600_000).default(0),
    /** Requests in flight per server at which the server answers "overloaded" instead of queueing more. */
    queueLimit: intInRange(1, 1_000_000).default(100_000),
    retries: retriesSchema.prefault({}),
  })
  .strict();

export type BalancerConfig = z.output<typeof balancerSchema>;

/** A live change of balancer settings; fields left out keep their values. */
export const balancerPatchSchema = z
  .object({
    healthCheck: healthCheckPatchSchema.optional(),
    outlierDetection: outlierDetectionPatchSchema.optional(),
    slowStart: durationMs(0, 600_000).optional(),
    queueLimit: intInRange(1, 1_000_000).optional(),
    retries: retriesPatchSchema.optional(),
  })
  .strict();

export type BalancerPatch = z.output<typeof balancerPatchSchema>;
