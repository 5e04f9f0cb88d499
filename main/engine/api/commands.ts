import { z } from 'zod';
import { algorithmSchema, balancerPatchSchema } from './balancer-config.ts';
import { databaseCommandSchemas } from './database-config.ts';
import { intInRange, numberInRange } from './units.ts';

/** Limits of the modelled system; every command and scenario field checks against these. */
export const LIMITS = {
  servers: { min: 1, max: 64 },
  vcpus: { min: 1, max: 64 },
  /** The real CPU model runs one thread per vCPU, so its sizes are bounded by what a host can schedule. */
  realVcpus: { min: 1, max: 16 },
  realThreadsTotal: 64,
  rateRps: { min: 0, max: 5_000_000 },
  /** Concurrent users of the closed load model. */
  users: { min: 1, max: 1_000_000 },
} as const;

export { ALGORITHMS, ALGORITHM_HELP, type Algorithm } from './balancer-config.ts';

const serverIdSchema = intInRange(1, LIMITS.servers.max);

/**
 * Commands change a running system. The same objects arrive from the UI, from the command line's
 * scenario timeline and from tests, and each is validated before the engine applies it.
 */
export const commandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('set-servers'), count: intInRange(LIMITS.servers.min, LIMITS.servers.max) }).strict(),
  z.object({ type: z.literal('set-vcpus'), vcpus: intInRange(LIMITS.vcpus.min, LIMITS.vcpus.max) }).strict(),
  z.object({ type: z.literal('set-load'), rateRps: numberInRange(LIMITS.rateRps.min, LIMITS.rateRps.max) }).strict(),
  z.object({ type: z.literal('set-algorithm'), algorithm: algorithmSchema }).strict(),
  z.object({ type: z.literal('crash-server'), server: serverIdSchema }).strict(),
  z.object({ type: z.literal('restart-server'), server: serverIdSchema }).strict(),
  /** The server accepts requests and responds to none until the fault clears; then it sends every response it kept. */
  z.object({ type: z.literal('hang-server'), server: serverIdSchema }).strict(),
  /** Multiplies the CPU time of requests that arrive from now on. */
  z.object({ type: z.literal('slow-server'), server: serverIdSchema, factor: numberInRange(1, 100) }).strict(),
  /** A share of requests (0 to 1) gets the response "server error". */
  z.object({ type: z.literal('fail-server'), server: serverIdSchema, errorRate: numberInRange(0, 1) }).strict(),
  z.object({ type: z.literal('clear-server-faults'), server: serverIdSchema }).strict(),
  /** Takes one server out of rotation, waits for its requests in flight, and removes it. */
  z.object({ type: z.literal('drain-server'), server: serverIdSchema }).strict(),
  /** Sets a server's weight for weighted round robin. */
  z.object({ type: z.literal('set-weight'), server: serverIdSchema, weight: intInRange(0, 1000) }).strict(),
  /** Changes balancer settings live; fields left out keep their values. */
  balancerPatchSchema.extend({ type: z.literal('set-balancer') }).strict(),
  /** Sets the number of concurrent users of a closed-model run. */
  z.object({ type: z.literal('set-users'), users: intInRange(LIMITS.users.min, LIMITS.users.max) }).strict(),
  ...databaseCommandSchemas,
]);

export type Command = z.output<typeof commandSchema>;
/** A command as written, before validation: durations are strings with units ("1s"). */
export type CommandInput = z.input<typeof commandSchema>;
export type CommandType = Command['type'];
