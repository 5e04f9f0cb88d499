import { readFile } from 'node:fs/promises';
import type { Scenario, ScenarioInput } from '../engine/api/scenario.ts';
import { parseScenario } from '../engine/api/scenario.ts';
import { parseDurationMs, ValidationError } from '../engine/api/units.ts';
import type { CpuModel } from './options.ts';

/** Exit status of invalid input: a bad flag, a missing or invalid scenario file, an existing --out file. */
export const EXIT_USAGE = 2;

/** Input from the user that the command line rejects before any run starts; it exits with EXIT_USAGE. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Scenario fields that run flags replace, in the units a scenario file uses. */
export interface ScenarioOverrides {
  duration?: string;
  rateRps?: number;
  servers?: number;
  vcpus?: number;
  cpuModel?: CpuModel;
  seed?: number;
}

/** The flag that sets each overridable field, so a schema error on it can name the flag too. */
const FLAG_OF_FIELD: Record<string, string> = {
  duration: '--duration',
  'load.rateRps': '--rate',
  'servers.count': '--servers',
  'servers.vcpus': '--vcpus',
  cpuModel: '--cpu-model',
  seed: '--seed',
};

export interface LoadedScenario {
  /** The file's object with the overrides applied, as the engine's start request takes it. */
  input: ScenarioInput;
  /** The same after validation, with defaults applied and durations in milliseconds. */
  scenario: Scenario;
}

/**
 * Reads a scenario file, applies flag overrides and validates the result. Throws a UsageError
 * whose message names the file and, for a schema error, each invalid field.
 */
export async function loadScenarioFile(file: string, overrides: ScenarioOverrides = {}): Promise<LoadedScenario> {
  const raw = await readScenarioJson(file);
  const input = applyOverrides(raw, overrides);
  try {
    return { input: input as ScenarioInput, scenario: parseScenario(input) };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new UsageError(`${file}: ${error.message}${flagNotes(error.message, overrides)}`);
  }
}

async function readScenarioJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`Scenario file not found: ${file}`);
    if (code === 'EISDIR') throw new UsageError(`Scenario path is a folder, expected a .json file: ${file}`);
    throw new UsageError(`Scenario file ${file} could not be read (${code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`Scenario file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Returns a copy of the file's object with the flag values written into their fields. */
function applyOverrides(raw: unknown, overrides: ScenarioOverrides): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const input = structuredClone(raw) as Record<string, unknown>;
  if (overrides.duration !== undefined) {
    input.duration = overrides.duration;
    dropTimelineAfter(input, overrides.duration);
  }
  if (overrides.cpuModel !== undefined) input.cpuModel = overrides.cpuModel;
  if (overrides.seed !== undefined) input.seed = overrides.seed;
  if (overrides.rateRps !== undefined) subObject(input, 'load').rateRps = overrides.rateRps;
  if (overrides.servers !== undefined) subObject(input, 'servers').count = overrides.servers;
  if (overrides.vcpus !== undefined) subObject(input, 'servers').vcpus = overrides.vcpus;
  return input;
}

/**
 * Leaves out the timeline commands that a shorter --duration cuts off, since a run cannot carry
 * them out; entries the schema would reject anyway are kept for it to report.
 */
function dropTimelineAfter(input: Record<string, unknown>, duration: string): void {
  const endMs = parseDurationMs(duration);
  if (endMs === undefined || !Array.isArray(input.timeline)) return;
  input.timeline = input.timeline.filter((entry: unknown) => {
    const at = (entry as { at?: unknown } | null)?.at;
    const atMs = typeof at === 'string' ? parseDurationMs(at) : undefined;
    return atMs === undefined || atMs <= endMs;
  });
}

/** Returns input[key] as an object to write into, creating it when absent; a non-object is left for the schema to reject. */
function subObject(input: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = input[key];
  if (value === undefined) {
    const created: Record<string, unknown> = {};
    input[key] = created;
    return created;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return value as Record<string, unknown>;
}

/** Adds a line for each invalid field that a flag set, such as "(servers.vcpus was set by --vcpus)". */
function flagNotes(message: string, overrides: ScenarioOverrides): string {
  const set: Record<string, unknown> = {
    duration: overrides.duration,
    'load.rateRps': overrides.rateRps,
    'servers.count': overrides.servers,
    'servers.vcpus': overrides.vcpus,
    cpuModel: overrides.cpuModel,
    seed: overrides.seed,
  };
  const notes: string[] = [];
  for (const [field, flag] of Object.entries(FLAG_OF_FIELD)) {
    if (set[field] !== undefined && message.includes(`${field}:`)) notes.push(`(${field} was set by ${flag})`);
  }
  return notes.length > 0 ? `\n${notes.join('\n')}` : '';
}
