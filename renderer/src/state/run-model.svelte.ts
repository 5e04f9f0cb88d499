import type { RunEvent, RunReport, RunStatus, RunSummary, ServerPush, TickSnapshot } from '../../../main/engine/api/protocol.ts';
import { failoversFromEvents, failoversFromReport, type FailoverView } from './failovers.ts';

/** Events kept for the log; older ones are dropped so a long run keeps a bounded page. */
const MAX_LOGGED_EVENTS = 500;

/** Reactive view of the run for the top bar, controls, topology and event log. */
export class RunModel {
  status = $state<RunStatus>({ state: 'idle', scenarioName: null, elapsedMs: 0, cpuModel: null });
  /** The latest tick; null before the first tick of a run. */
  tick = $state.raw<TickSnapshot | null>(null);
  /** Newest first. */
  events = $state.raw<RunEvent[]>([]);
  /** Failover and database events of the run, oldest first; kept apart so the log's limit never drops a failover phase. */
  private failoverEvents = $state.raw<RunEvent[]>([]);
  summary = $state.raw<RunSummary | null>(null);
  report = $state.raw<RunReport | null>(null);
  /** The last failure of a request to the host, shown in the top bar. */
  error = $state<string | null>(null);

  readonly running = $derived(this.status.state === 'running' || this.status.state === 'starting');

  /** Milliseconds since the run began: from ticks while running, else from the last status. */
  readonly elapsedMs = $derived(this.running && this.tick ? this.tick.tMs : this.status.elapsedMs);

  /** The run's failovers and switchovers: from the report once the run finished, else from its events. */
  readonly failovers = $derived<FailoverView[]>(
    this.report?.database ? failoversFromReport(this.report.database.failovers) : failoversFromEvents(this.failoverEvents),
  );

  apply(push: ServerPush): void {
    switch (push.type) {
      case 'status':
        if (push.status.state === 'starting') this.resetRun();
        this.status = push.status;
        break;
      case 'tick':
        this.tick = push.tick;
        break;
      case 'event':
        this.events = [push.event, ...this.events].slice(0, MAX_LOGGED_EVENTS);
        if (push.event.kind === 'failover' || push.event.kind === 'fault') this.failoverEvents = [...this.failoverEvents, push.event];
        break;
      case 'finished':
        this.summary = push.report.summary;
        this.report = push.report;
        break;
      default: {
        const unhandled: never = push;
        console.warn('ScaleLab: unknown push', unhandled);
      }
    }
  }

  private resetRun(): void {
    this.tick = null;
    this.events = [];
    this.failoverEvents = [];
    this.summary = null;
    this.report = null;
    this.error = null;
  }
}

/** Formats milliseconds since the run began as m:ss.s. */
export function formatRunTime(ms: number): string {
  const totalSeconds = Math.max(0, ms) / 1000;
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = (totalSeconds - minutes * 60).toFixed(1).padStart(4, '0');
  return `${minutes}:${seconds}`;
}
