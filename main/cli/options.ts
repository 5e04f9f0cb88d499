import { InvalidArgumentError } from 'commander';
import { LIMITS } from '../engine/api/commands.ts';
import { parseDurationMs } from '../engine/api/units.ts';

// Parsers for command-line flag values. Each one throws commander's InvalidArgumentError with the
// accepted range, and commander prefixes the message with the flag's name, so a bad value reads
// as "option '--servers <count>' argument '0' is invalid. Expected an integer from 1 to 64".

/** Bounds of the --duration flag; the same as a scenario file's "duration" field. */
export const DURATION_LIMITS_MS = { min: 500, max: 86_400_000 } as const;
const DURATION_RANGE = '500ms to 24h';

export const TABLE_ROWS = ['second', 'tick'] as const;
export type TableRows = (typeof TABLE_ROWS)[number];

export const CPU_MODELS = ['virtual', 'real'] as const;
export type CpuModel = (typeof CPU_MODELS)[number];

/** Returns a parser for an integer flag in [min, max]. */
export function integerFlag(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`Expected an integer from ${min} to ${max}.`);
    }
    return value;
  };
}

/** Returns a parser for a finite number flag in [min, max]. */
export function numberFlag(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
      throw new InvalidArgumentError(`Expected a number from ${min} to ${max}.`);
    }
    return value;
  };
}

/**
 * Parses a duration flag written with a unit ("30s", "500ms", "2m") and returns the text itself,
 * because scenario files carry durations as strings and the engine parses them again.
 */
export function durationFlag(text: string): string {
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    throw new InvalidArgumentError(`Expected a duration with a unit such as "500ms", "30s" or "2m", from ${DURATION_RANGE}.`);
  }
  if (ms < DURATION_LIMITS_MS.min || ms > DURATION_LIMITS_MS.max) {
    throw new InvalidArgumentError(`Expected a duration from ${DURATION_RANGE}.`);
  }
  return text.trim();
}

/** Returns a parser that accepts one of `choices`. */
export function choiceFlag<T extends string>(choices: readonly T[]): (text: string) => T {
  return (text) => {
    if (!(choices as readonly string[]).includes(text)) {
      throw new InvalidArgumentError(`Expected one of ${choices.join(', ')}.`);
    }
    return text as T;
  };
}

export const serversFlag = integerFlag(LIMITS.servers.min, LIMITS.servers.max);
export const vcpusFlag = integerFlag(LIMITS.vcpus.min, LIMITS.vcpus.max);
export const rateFlag = numberFlag(LIMITS.rateRps.min, LIMITS.rateRps.max);
export const seedFlag = integerFlag(0, 2 ** 31 - 1);
/** Port 0 lets the operating system pick a free port. */
export const portFlag = integerFlag(0, 65_535);
export const cpuModelFlag = choiceFlag(CPU_MODELS);
export const tableRowsFlag = choiceFlag(TABLE_ROWS);
