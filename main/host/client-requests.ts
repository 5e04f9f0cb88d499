import type { Logger } from 'pino';
import type { ClientRequest, CommandInput, HostMessage, RunSummary, SerializedError } from '../engine/api/protocol.ts';
import { clientRequestSchema } from '../engine/api/protocol.ts';
import { describeIssues } from '../engine/api/units.ts';
import type { EngineClient } from './engine-client.ts';
import { listPresets, resolvePreset } from './presets.ts';
import type { ReportStore } from './report-store.ts';

/** A reply to one request from the UI. */
export type HostReply = Extract<HostMessage, { type: 'reply' }>;

/** Dependencies of a host that serves UI requests: the engine, the presets folder, the report store and a logger. */
export interface RequestContext {
  engine: EngineClient;
  presetsDir: string;
  /** Saves finished runs' reports. A host without one rejects save-report requests. */
  reports?: ReportStore;
  log: Logger;
}

/** Reply value of a stop request: the finished run's summary, or null when nothing ran. */
export type StopResult = RunSummary | null;

/**
 * Validates one untrusted message from the UI with clientRequestSchema and carries it out.
 * Never rejects: every failure becomes an ok:false reply whose message names the invalid field,
 * so one bad message does not end the connection it came on.
 */
export async function handleClientRequest(raw: unknown, context: RequestContext): Promise<HostReply> {
  const parsed = clientRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const id = requestIdOf(raw);
    const message = `Invalid request:\n${describeIssues(parsed.error)}`;
    context.log.warn({ requestId: id, reason: describeIssues(parsed.error) }, 'rejected an invalid request');
    return { type: 'reply', id, ok: false, error: { name: 'ValidationError', message, code: 'ERR_INVALID_INPUT' } };
  }

  const request = parsed.data;
  try {
    const value = await carryOut(request, context, raw);
    return { type: 'reply', id: request.id, ok: true, value };
  } catch (error) {
    // The report store logs each rejected save with its reason, so it is not logged twice here.
    const loggedByStore = request.type === 'save-report' && context.reports !== undefined;
    if (!loggedByStore) context.log.warn({ requestId: request.id, requestType: request.type, err: error }, 'request failed');
    return { type: 'reply', id: request.id, ok: false, error: serializeError(error) };
  }
}

/**
 * Returns the id of a request that failed validation, so the client can match the error to its
 * call, or -1 when the message has no usable id.
 */
export function requestIdOf(raw: unknown): number {
  if (typeof raw !== 'object' || raw === null) return -1;
  const id = (raw as { id?: unknown }).id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : -1;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

async function carryOut(request: ClientRequest, context: RequestContext, raw: unknown): Promise<unknown> {
  const { engine } = context;
  switch (request.type) {
    case 'list-presets':
      return listPresets(context.presetsDir);
    case 'start': {
      const scenario =
        request.preset !== undefined ? (await resolvePreset(context.presetsDir, request.preset)).scenario : request.scenario;
      context.log.info({ preset: request.preset ?? null }, 'starting a run');
      await engine.start(scenario as Parameters<EngineClient['start']>[0]);
      return undefined;
    }
    case 'command':
      context.log.info({ command: request.command }, 'command');
      // The parsed command has durations in milliseconds, but the engine parses every command
      // again from its written form ("1s"), so it gets the command as the client sent it.
      await engine.command((raw as { command: CommandInput }).command);
      return undefined;
    case 'stop': {
      context.log.info('stopping the run');
      const report = await engine.stop();
      if (report) context.reports?.remember(report);
      const result: StopResult = report ? report.summary : null;
      return result;
    }
    case 'status':
      return engine.status();
    case 'save-report':
      if (!context.reports) throw new Error('This host has no reports folder, so it cannot save reports');
      return context.reports.save(request.fileName, { overwrite: request.overwrite ?? false });
    default: {
      const unhandled: never = request;
      throw new Error(`Unhandled request type ${JSON.stringify((unhandled as { type: unknown }).type)}`);
    }
  }
}
