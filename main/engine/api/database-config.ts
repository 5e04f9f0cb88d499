import { z } from 'zod';
import { durationMs, intInRange, numberInRange } from './units.ts';

// The data tier's settings: the scenario's `database` section and the commands that change the
// data tier of a running system. Durations are strings with units, as everywhere in scenarios.

export const DATA_LAYOUTS = ['relational', 'key-value'] as const;
export type DataLayoutName = (typeof DATA_LAYOUTS)[number];

export const REPLICATION_MODES = ['asynchronous', 'semi-synchronous', 'synchronous'] as const;
export type ReplicationModeName = (typeof REPLICATION_MODES)[number];

/** One line of help per replication mode, shown next to the picker. */
export const REPLICATION_MODE_HELP: Record<ReplicationModeName, string> = {
  asynchronous: 'A write is acknowledged once the primary committed it; replicas follow when the log reaches them.',
  'semi-synchronous':
    'A write is acknowledged once one replica applied it; after the ack timeout the primary falls back to asynchronous.',
  synchronous: 'A write is acknowledged once every replica in the synchronous set applied it.',
};

export const DATABASE_LIMITS = {
  replicas: { min: 0, max: 8 },
  vcpus: { min: 1, max: 64 },
  /** The largest node id: the primary, replicas, and those added later all draw ids from 1 up. */
  nodeId: { min: 1, max: 1000 },
} as const;

/** Modelled vCPU milliseconds of one query, by layout; a key-value write costs `write` per document it touches. */
export const DEFAULT_DB_CPU_MS: Record<DataLayoutName, { read: number; write: number }> = {
  relational: { read: 0.5, write: 0.3 },
  'key-value': { read: 0.1, write: 0.06 },
};

const layoutSchema = z.enum(DATA_LAYOUTS, { error: `expected one of ${DATA_LAYOUTS.join(', ')}` });
const modeSchema = z.enum(REPLICATION_MODES, { error: `expected one of ${REPLICATION_MODES.join(', ')}` });
const nodeIdSchema = intInRange(DATABASE_LIMITS.nodeId.min, DATABASE_LIMITS.nodeId.max);
const replicaCountSchema = intInRange(DATABASE_LIMITS.replicas.min, DATABASE_LIMITS.replicas.max);
const booleanSchema = z.boolean({ error: 'expected true or false' });

const replicationSchema = z
  .object({
    mode: modeSchema.default('asynchronous'),
    /** One-way network delay from the primary to each replica. */
    delay: durationMs(0, 60_000).default(0),
    /** How long a semi-synchronous or synchronous write waits for replica acknowledgements. */
    ackTimeout: durationMs(10, 60_000).default(1000),
  })
  .strict();

const failoverSchema = z
  .object({
    /** When false, a dead primary stays dead: writes fail until it is restarted. */
    automatic: booleanSchema.default(true),
    heartbeatInterval: durationMs(10, 10_000).default(100),
    /** Missed heartbeats in a row after which the primary is declared down. */
    missedHeartbeats: intInRange(1, 100).default(3),
    /** A replica further behind the lost primary than this many log positions is not promoted. */
    maxLagLsn: intInRange(0, 1_000_000_000).default(1000),
    /** How long the monitor looks for an eligible replica before it reports that none is. */
    promotionTimeout: durationMs(10, 600_000).default(2000),
  })
  .strict();

const dbCpuSchema = z
  .object({
    read: numberInRange(0, 10_000).optional(),
    write: numberInRange(0, 10_000).optional(),
  })
  .strict();

export const databaseSchema = z
  .object({
    /** Users in the seeded social graph; posts and follows scale with it. */
    seedUsers: intInRange(10, 1_000_000).default(1000),
    layout: layoutSchema.default('relational'),
    replicas: replicaCountSchema.default(0),
    /** vCPUs of each database node. */
    vcpus: intInRange(DATABASE_LIMITS.vcpus.min, DATABASE_LIMITS.vcpus.max).default(4),
    /** Modelled vCPU milliseconds per query, overriding the layout's defaults. */
    cpuMs: dbCpuSchema.prefault({}),
    replication: replicationSchema.prefault({}),
    /** When true, a session's reads go only to nodes that have applied its last write. */
    readYourWrites: booleanSchema.default(false),
    failover: failoverSchema.prefault({}),
  })
  .strict();

export type DatabaseConfig = z.output<typeof databaseSchema>;

/** Returns the modelled vCPU milliseconds of a read and a write for the configured layout. */
export function dbCpuMs(config: DatabaseConfig): { read: number; write: number } {
  const defaults = DEFAULT_DB_CPU_MS[config.layout];
  return { read: config.cpuMs.read ?? defaults.read, write: config.cpuMs.write ?? defaults.write };
}

/** Commands for the data tier: faults, replication settings, replicas and failover. */
export const databaseCommandSchemas = [
  /** Terminates the current primary's thread; its file stays on disk. */
  z.object({ type: z.literal('crash-primary') }).strict(),
  /** Freezes the primary's thread for a while: it misses heartbeats although it has not crashed. */
  z.object({ type: z.literal('stall-primary'), duration: durationMs(10, 60_000) }).strict(),
  z.object({ type: z.literal('crash-replica'), node: nodeIdSchema }).strict(),
  /** Starts a crashed node again from its file; a deposed primary rejoins as a replica. */
  z.object({ type: z.literal('restart-db-node'), node: nodeIdSchema }).strict(),
  /** Cuts the replication link to a replica: it keeps serving reads but receives no log. */
  z.object({ type: z.literal('cut-replication'), node: nodeIdSchema }).strict(),
  z.object({ type: z.literal('restore-replication'), node: nodeIdSchema }).strict(),
  /** Sets the one-way delay from the primary to one replica, or to every replica when `node` is left out. */
  z.object({ type: z.literal('set-replication-delay'), delay: durationMs(0, 60_000), node: nodeIdSchema.optional() }).strict(),
  z.object({ type: z.literal('set-replication-mode'), mode: modeSchema }).strict(),
  /** Adds replicas (each from a snapshot of the primary) or removes the newest ones. */
  z.object({ type: z.literal('set-replicas'), count: replicaCountSchema }).strict(),
  z.object({ type: z.literal('set-read-your-writes'), enabled: booleanSchema }).strict(),
  z.object({ type: z.literal('set-automatic-failover'), enabled: booleanSchema }).strict(),
  /** Planned switchover to `node`, or to the most advanced replica when it is left out. */
  z.object({ type: z.literal('switchover'), node: nodeIdSchema.optional() }).strict(),
] as const;

export const DATABASE_COMMAND_TYPES = [
  'crash-primary',
  'stall-primary',
  'crash-replica',
  'restart-db-node',
  'cut-replication',
  'restore-replication',
  'set-replication-delay',
  'set-replication-mode',
  'set-replicas',
  'set-read-your-writes',
  'set-automatic-failover',
  'switchover',
] as const;

export type DatabaseCommandType = (typeof DATABASE_COMMAND_TYPES)[number];
