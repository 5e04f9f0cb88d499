import { z } from 'zod';

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const MS_PER_UNIT = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Parses a duration string such as "500ms", "2s", "1.5m" or "1h" into milliseconds, or returns undefined. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * MS_PER_UNIT[match[2] as keyof typeof MS_PER_UNIT];
}

/** Formats milliseconds the way scenario files write durations. */
export function formatDurationMs(ms: number): string {
  if (ms >= MS_PER_UNIT.h && ms % MS_PER_UNIT.h === 0) return `${ms / MS_PER_UNIT.h}h`;
  if (ms >= MS_PER_UNIT.m && ms % MS_PER_UNIT.m === 0) return `${ms / MS_PER_UNIT.m}m`;
  if (ms >= MS_PER_UNIT.s && ms % MS_PER_UNIT.s === 0) return `${ms / MS_PER_UNIT.s}s`;
  return `${ms}ms`;
}

/**
 * A duration written with its unit ("250ms", "10s"), bounded to [minMs, maxMs], parsed to milliseconds.
 * Scenario files carry units so that a bare number can never be read in the wrong unit.
 */
export function durationMs(minMs: number, maxMs: number) {
  const range = `${formatDurationMs(minMs)} to ${formatDurationMs(maxMs)}`;
  const expected = `a duration with a unit such as "500ms" or "10s" (${range})`;
  const typeError = (issue: { input?: unknown }): string =>
    issue.input === undefined ? `missing: expected ${expected}` : `expected ${expected}, received ${JSON.stringify(issue.input)}`;
  return z.string({ error: typeError }).transform((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, received "${text}"` });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `expected a duration from ${range}, received "${text}"` });
      return z.NEVER;
    }
    return ms;
  });
}

/** An integer in [min, max], with a message that states the accepted range. */
export function intInRange(min: number, max: number) {
  const message = `expected an integer from ${min} to ${max}`;
  return z.number({ error: (issue) => (issue.input === undefined ? `missing: ${message}` : `${message}, received ${JSON.stringify(issue.input)}`) }).int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

/** A finite number in [min, max], with a message that states the accepted range. */
export function numberInRange(min: number, max: number) {
  const message = `expected a number from ${min} to ${max}`;
  return z.number({ error: (issue) => (issue.input === undefined ? `missing: ${message}` : `${message}, received ${JSON.stringify(issue.input)}`) }).min(min, { error: message }).max(max, { error: message });
}

/** Formats zod issues as "field.path: message" lines, so every error names the field it is about. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
      return `${path}: ${issue.message}`;
    })
    .join('\n');
}

/** A validation failure of input from outside, carrying the field paths in its message. */
export class ValidationError extends Error {
  readonly code = 'ERR_INVALID_INPUT';
  constructor(what: string, error: z.ZodError) {
    super(`Invalid ${what}:\n${describeIssues(error)}`);
    this.name = 'ValidationError';
  }
}

/** Parses `input` with `schema`, throwing a ValidationError that names each invalid field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(what, result.error);
  return result.data;
}
