import { ERROR_KINDS, ERROR_LABELS, type ErrorKind, type TickSnapshot } from '../engine/api/protocol.ts';
import type { TableRows } from './options.ts';

/** One printed row: one tick, or the ticks of about one second. */
export interface TableRow {
  /** Seconds since the run started, at the end of the row's last tick. */
  timeS: number;
  offeredRps: number;
  okRps: number;
  errorRps: number;
  errorRpsByKind: Record<ErrorKind, number>;
  inFlight: number;
  /** Latency percentiles in milliseconds; null when no request ended during the row. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  serversUp: number;
  servers: number;
  hostLimited: boolean;
}

/** A row of the second mode covers ticks adding up to at least this many milliseconds. */
const SECOND_ROW_MS = 975;
/** The header is printed again after this many rows, so it stays on screen in a long run. */
const HEADER_EVERY_ROWS = 20;

/**
 * Turns ticks into table rows. In "tick" mode every tick is a row. In "second" mode the rates are
 * exact over the second (counts summed over its ticks), while each latency percentile is the
 * highest of the second's ticks: percentiles cannot be merged from summaries, and the highest
 * value never hides a spike.
 */
export class LiveTable {
  private pending: TickSnapshot[] = [];
  private pendingMs = 0;
  private rowsPrinted = 0;

  constructor(
    private readonly mode: TableRows,
    private readonly write: (line: string) => void,
  ) {}

  /** Adds a tick and prints a row when one is complete. */
  add(tick: TickSnapshot): void {
    this.pending.push(tick);
    this.pendingMs += tick.tickMs;
    if (this.mode === 'tick' || this.pendingMs >= SECOND_ROW_MS) this.flush();
  }

  /** Prints the row of the ticks received since the last row, if any. */
  flush(): void {
    if (this.pending.length === 0) return;
    const row = combineTicks(this.pending);
    this.pending = [];
    this.pendingMs = 0;
    if (this.rowsPrinted % HEADER_EVERY_ROWS === 0) {
      for (const line of headerLines(this.mode)) this.write(line);
    }
    this.write(formatRow(row));
    this.rowsPrinted++;
  }
}

/** Combines consecutive ticks into one row; rates are weighted by each tick's length. */
export function combineTicks(ticks: TickSnapshot[]): TableRow {
  const last = ticks[ticks.length - 1];
  const totalMs = ticks.reduce((sum, tick) => sum + tick.tickMs, 0);
  const rate = (pick: (tick: TickSnapshot) => number): number =>
    ticks.reduce((sum, tick) => sum + pick(tick) * tick.tickMs, 0) / Math.max(1, totalMs);

  const errorRpsByKind = {} as Record<ErrorKind, number>;
  for (const kind of ERROR_KINDS) errorRpsByKind[kind] = rate((tick) => tick.errorsRpsByKind[kind]);

  const measured = ticks.filter((tick) => tick.latency.count > 0);
  const highest = (pick: (tick: TickSnapshot) => number): number | null =>
    measured.length === 0 ? null : Math.max(...measured.map(pick));

  return {
    timeS: last.tMs / 1000,
    offeredRps: rate((tick) => tick.offeredRps),
    okRps: rate((tick) => tick.okRps),
    errorRps: rate((tick) => tick.errorRps),
    errorRpsByKind,
    inFlight: last.books.inFlight,
    p50Ms: highest((tick) => tick.latency.p50Ms),
    p95Ms: highest((tick) => tick.latency.p95Ms),
    p99Ms: highest((tick) => tick.latency.p99Ms),
    serversUp: last.servers.filter((server) => server.state === 'up').length,
    servers: last.servers.length,
    hostLimited: ticks.some((tick) => tick.host.limited),
  };
}

const COLUMNS = [
  { title: 'time s', width: 7 },
  { title: 'offered/s', width: 10 },
  { title: 'ok/s', width: 9 },
  { title: 'errors/s', width: 9 },
  { title: 'in flight', width: 10 },
  { title: 'p50 ms', width: 8 },
  { title: 'p95 ms', width: 8 },
  { title: 'p99 ms', width: 8 },
  { title: 'up', width: 6 },
  { title: 'host', width: 8 },
] as const;

export function headerLines(mode: TableRows): string[] {
  const titles = COLUMNS.map((column) => column.title.padStart(column.width)).join('') + '  errors by kind';
  const note =
    mode === 'second'
      ? "# rates per second over each second; p50/p95/p99: the highest value among that second's ticks"
      : '# one row per tick';
  return [note, titles];
}

export function formatRow(row: TableRow): string {
  const cells = [
    row.timeS.toFixed(1),
    formatCount(row.offeredRps),
    formatCount(row.okRps),
    formatCount(row.errorRps),
    Math.round(row.inFlight).toLocaleString('en-US'),
    formatMs(row.p50Ms),
    formatMs(row.p95Ms),
    formatMs(row.p99Ms),
    `${row.serversUp}/${row.servers}`,
    row.hostLimited ? 'LIMITED' : 'ok',
  ];
  const text = cells.map((cell, index) => cell.padStart(COLUMNS[index].width)).join('');
  return `${text}  ${formatErrorKinds(row.errorRpsByKind)}`.trimEnd();
}

/** Lists the error kinds seen in the row, such as "timeout 120, overloaded 4"; empty when there were none. */
export function formatErrorKinds(errorRpsByKind: Record<ErrorKind, number>): string {
  return ERROR_KINDS.filter((kind) => errorRpsByKind[kind] > 0)
    .map((kind) => `${ERROR_LABELS[kind]} ${formatCount(errorRpsByKind[kind])}`)
    .join(', ');
}

function formatCount(value: number): string {
  if (value > 0 && value < 10) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

function formatMs(value: number | null): string {
  if (value === null) return '-';
  if (value < 10) return value.toFixed(2);
  if (value < 1000) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}
