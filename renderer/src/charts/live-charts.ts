import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
  type ScaleOptionsByType,
  type TooltipItem,
} from 'chart.js';
import annotationPlugin, { type AnnotationOptions } from 'chartjs-plugin-annotation';
import type { RunEvent, RunEventKind, ServerState, TickSnapshot } from '../../../main/engine/api/protocol.ts';
import { describeRtoRpo, type FailoverView } from '../state/failovers.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, annotationPlugin);

/** Seconds of history the charts keep; older points and event markers are dropped. */
export const WINDOW_SECONDS = 600;
/** Width of every y axis in pixels, so that the three charts' time axes line up. */
const Y_AXIS_WIDTH_PX = 64;

type Point = { x: number; y: number };
type LineChart = Chart<'line', Point[]>;
export type LatencyScale = 'linear' | 'logarithmic';

/** The charts' data as plotted, in plain arrays; used by end-to-end tests to read the page. */
export interface ChartSeries {
  tSec: number[];
  okRps: number[];
  errorRps: number[];
  offeredRps: number[];
  p50Ms: number[];
  p95Ms: number[];
  p99Ms: number[];
  /** Utilization in percent, by server id. */
  utilizationPercent: Record<string, number[]>;
  /** Queries per second on all database nodes, and the largest replication lag of any replica. */
  dbReadsPerSec: number[];
  dbWritesPerSec: number[];
  maxLagMs: number[];
  eventCount: number;
  /** Spans in which no server was up, in seconds. */
  noServerUp: Array<{ fromSec: number; toSec: number }>;
  /** Failovers as drawn on every chart: their span and label. */
  failovers: Array<{ lostSec: number; resumedSec: number | null; label: string }>;
  /** Event labels drawn on the throughput chart; events whose label did not fit show only their line. */
  eventLabels: string[];
}

/** A rectangle in CSS pixels of its chart's canvas. */
export interface PixelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A label drawn in the band above the throughput chart's plot area. */
export interface PlacedLabel extends PixelBox {
  text: string;
  /** X coordinate of its marker, in CSS pixels from the canvas's left edge. */
  markerX: number;
}

/** Positions of the charts' plot areas and labels as last drawn; used by end-to-end tests to check the layout. */
export interface ChartLayout {
  plots: Record<keyof ChartCanvases, PixelBox & { yTickCount: number }>;
  labels: PlacedLabel[];
}

export interface ChartCanvases {
  throughput: HTMLCanvasElement;
  latency: HTMLCanvasElement;
  utilization: HTMLCanvasElement;
  database: HTMLCanvasElement;
}

const EVENT_COLORS: Record<RunEventKind, string> = {
  run: '#6b7280',
  scaling: '#2563eb',
  fault: '#dc2626',
  load: '#059669',
  balancer: '#7c3aed',
  server: '#b45309',
  database: '#0f766e',
  failover: '#be123c',
};

/** The engine's server state events: "Server 2 down (crashed by fault injection)". */
const SERVER_STATE_EVENT = /^Server (\d+) (up|down|starting|draining)\b/;

/**
 * Rows of labels in the band reserved above the throughput chart's plot area, so labels never
 * cover a series. A label that fits in no row is left out: its line stays, and hovering the chart
 * near its time lists it in the tooltip.
 */
const LABEL_ROWS = 3;
const LABEL_ROW_HEIGHT_PX = 15;
const LABEL_FONT = '10px system-ui, sans-serif';
const LABEL_PADDING_PX = 3;
/** Minimum horizontal space between two labels in one row. */
const LABEL_GAP_PX = 4;
const LABEL_MAX_CHARS = 30;
/** Event kinds by how much their labels matter, first placed first; the rest keep their lines. */
const LABEL_PRIORITY: readonly RunEventKind[] = ['fault', 'failover', 'database', 'scaling', 'load', 'balancer', 'server', 'run'];
/** Events this close to the hovered time are listed in the tooltip. */
const TOOLTIP_EVENT_RANGE_SEC = 1;

/**
 * Four line charts (throughput, latency, per-server utilization, database) on one time axis in
 * seconds, with run events drawn as vertical markers and failovers as shaded spans on each, and their
 * labels in a band above the throughput chart. Updates are batched to one redraw per animation
 * frame, without animation, and with pre-parsed {x, y} points, following chart.js's advice for
 * live data.
 */
export class LiveCharts {
  private readonly throughput: LineChart;
  private readonly latency: LineChart;
  private readonly utilization: LineChart;
  private readonly database: LineChart;
  private readonly serverDatasets = new Map<number, ChartDataset<'line', Point[]>>();
  private events: RunEvent[] = [];
  private failovers: FailoverView[] = [];
  private noServerUp: Array<{ fromSec: number; toSec: number }> = [];
  /** The span still open while no server is up. */
  private openNoServerUp: { fromSec: number; toSec: number } | null = null;
  /** Each server's last known state, from ticks and from the events between them. */
  private readonly serverStates = new Map<number, ServerState>();
  private eventLabels: string[] = [];
  private placedLabels: PlacedLabel[] = [];
  private latestSec = 0;
  private lastTick = -1;
  private redrawRequested = false;

  constructor(canvases: ChartCanvases) {
    this.throughput = createChart(
      canvases.throughput,
      'requests per second',
      [lineDataset('ok', '#16a34a'), lineDataset('errors', '#dc2626'), { ...lineDataset('offered', '#9ca3af'), borderDash: [4, 4] }],
      [this.labelBandPlugin()],
    );
    // An empty axis above the plot area reserves the band in which the label plugin draws.
    this.throughput.options.scales!.labelBand = {
      type: 'linear',
      axis: 'x',
      position: 'top',
      display: true,
      ticks: { display: false },
      grid: { display: false, drawTicks: false },
      border: { display: false },
      afterFit: (scale) => {
        scale.height = LABEL_ROWS * LABEL_ROW_HEIGHT_PX;
      },
    };
    (this.throughput.options.scales!.y as ScaleOptionsByType<'linear'>).grace = '5%';
    this.latency = createChart(canvases.latency, 'latency (ms)', [
      lineDataset('p50', '#0ea5e9'),
      lineDataset('p95', '#f59e0b'),
      lineDataset('p99', '#ef4444'),
    ]);
    this.utilization = createChart(canvases.utilization, 'utilization (%)', []);
    const utilizationY = this.utilization.options.scales!.y as ScaleOptionsByType<'linear'>;
    utilizationY.min = 0;
    utilizationY.max = 100;

    this.database = createChart(canvases.database, 'queries per second', [
      lineDataset('reads', '#0891b2'),
      lineDataset('writes', '#9333ea'),
      { ...lineDataset('max replication lag', '#e11d48'), yAxisID: 'lag', borderDash: [5, 3] },
    ]);
    this.database.options.scales!.lag = {
      type: 'linear',
      position: 'right',
      beginAtZero: true,
      title: { display: true, text: 'lag (ms)' },
      grid: { drawOnChartArea: false },
      afterFit: (scale) => {
        scale.width = Y_AXIS_WIDTH_PX;
      },
    };

    // The other charts keep an empty right axis of the same width, so all four time axes line up.
    for (const chart of [this.throughput, this.latency, this.utilization]) {
      chart.options.scales!.spacer = {
        type: 'linear',
        position: 'right',
        display: true,
        ticks: { display: false },
        grid: { drawOnChartArea: false, drawTicks: false },
        border: { display: false },
        afterFit: (scale) => {
          scale.width = Y_AXIS_WIDTH_PX;
        },
      };
    }

    for (const chart of this.charts()) {
      chart.options.plugins!.tooltip!.callbacks = { footer: (items) => this.eventsNear(items) };
    }
  }

  addTick(tick: TickSnapshot): void {
    // A tick number that goes back means a new run began: its time axis starts again at zero.
    if (tick.tick <= this.lastTick) this.reset();
    this.lastTick = tick.tick;

    const x = tick.tMs / 1000;
    this.latestSec = x;
    const [ok, errors, offered] = this.throughput.data.datasets;
    ok.data.push({ x, y: tick.okRps });
    errors.data.push({ x, y: tick.errorRps });
    offered.data.push({ x, y: tick.offeredRps });

    // A tick in which no request ended has no latency; NaN leaves a gap instead of a false zero.
    const hasLatency = tick.latency.count > 0;
    const [p50, p95, p99] = this.latency.data.datasets;
    p50.data.push({ x, y: hasLatency ? tick.latency.p50Ms : Number.NaN });
    p95.data.push({ x, y: hasLatency ? tick.latency.p95Ms : Number.NaN });
    p99.data.push({ x, y: hasLatency ? tick.latency.p99Ms : Number.NaN });

    for (const server of tick.servers) {
      this.serverDataset(server.id).data.push({ x, y: server.utilization * 100 });
    }

    const [reads, writes, lag] = this.database.data.datasets;
    reads.data.push({ x, y: tick.database.readsPerSec });
    writes.data.push({ x, y: tick.database.writesPerSec });
    const replicas = tick.database.nodes.filter((node) => node.role === 'replica');
    lag.data.push({ x, y: replicas.length > 0 ? Math.max(...replicas.map((node) => node.lagMs)) : Number.NaN });

    this.serverStates.clear();
    for (const server of tick.servers) this.serverStates.set(server.id, server.state);
    this.trackNoServerUp(x);
    this.requestRedraw();
  }

  /** Sets the failovers to draw; the page rebuilds them from events and, at the end, from the report. */
  setFailovers(failovers: FailoverView[]): void {
    this.failovers = failovers;
    this.requestRedraw();
  }

  addEvent(event: RunEvent): void {
    this.events.push(event);
    // A lone server's restart can be shorter than a tick, so state changes also come from events.
    const change = event.kind === 'server' ? SERVER_STATE_EVENT.exec(event.message) : null;
    if (change) {
      this.serverStates.set(Number(change[1]), change[2] as ServerState);
      this.trackNoServerUp(event.tMs / 1000);
    }
    this.requestRedraw();
  }

  setLatencyScale(scale: LatencyScale): void {
    const y = this.latency.options.scales!.y as ScaleOptionsByType<'linear' | 'logarithmic'>;
    y.type = scale;
    this.requestRedraw();
  }

  /** Clears every series and marker, for a new run. */
  reset(): void {
    for (const chart of this.charts()) {
      for (const dataset of chart.data.datasets) dataset.data = [];
    }
    this.utilization.data.datasets = [];
    this.serverDatasets.clear();
    this.events = [];
    this.failovers = [];
    this.noServerUp = [];
    this.openNoServerUp = null;
    this.serverStates.clear();
    this.eventLabels = [];
    this.placedLabels = [];
    this.latestSec = 0;
    this.lastTick = -1;
    this.requestRedraw();
  }

  series(): ChartSeries {
    const values = (chart: LineChart, index: number) => chart.data.datasets[index].data.map((point) => point.y);
    const utilizationPercent: Record<string, number[]> = {};
    for (const [id, dataset] of this.serverDatasets) utilizationPercent[String(id)] = dataset.data.map((point) => point.y);
    return {
      tSec: this.throughput.data.datasets[0].data.map((point) => point.x),
      okRps: values(this.throughput, 0),
      errorRps: values(this.throughput, 1),
      offeredRps: values(this.throughput, 2),
      p50Ms: values(this.latency, 0),
      p95Ms: values(this.latency, 1),
      p99Ms: values(this.latency, 2),
      utilizationPercent,
      dbReadsPerSec: values(this.database, 0),
      dbWritesPerSec: values(this.database, 1),
      maxLagMs: values(this.database, 2),
      eventCount: this.events.length,
      noServerUp: this.noServerUp.map((span) => ({ ...span })),
      failovers: this.failovers.map((failover) => ({
        lostSec: failover.lostAtMs / 1000,
        resumedSec: failover.writesResumedAtMs === null ? null : failover.writesResumedAtMs / 1000,
        label: failoverLabel(failover),
      })),
      eventLabels: [...this.eventLabels],
    };
  }

  layout(): ChartLayout {
    const plot = (chart: LineChart) => {
      const area = chart.chartArea;
      return { left: area.left, top: area.top, width: area.width, height: area.height, yTickCount: chart.scales.y.ticks.length };
    };
    return {
      plots: {
        throughput: plot(this.throughput),
        latency: plot(this.latency),
        utilization: plot(this.utilization),
        database: plot(this.database),
      },
      labels: this.placedLabels.map((label) => ({ ...label })),
    };
  }

  destroy(): void {
    for (const chart of this.charts()) chart.destroy();
  }

  /**
   * Returns the labels the band above the throughput chart shows, most important first: failovers,
   * spans with no server up, then events by kind and, within a kind, newest first.
   */
  private bandLabels(): BandLabel[] {
    const labels: BandLabel[] = [];
    for (const failover of this.failovers) {
      labels.push({ atSec: failover.lostAtMs / 1000, text: failoverLabel(failover), color: EVENT_COLORS.failover, isEvent: false });
    }
    for (const span of this.noServerUp) labels.push({ atSec: span.fromSec, text: 'no server up', color: '#b91c1c', isEvent: false });
    const events = [...this.events].sort(
      (a, b) => LABEL_PRIORITY.indexOf(a.kind) - LABEL_PRIORITY.indexOf(b.kind) || b.tMs - a.tMs,
    );
    for (const event of events) {
      labels.push({ atSec: event.tMs / 1000, text: shorten(event.message, LABEL_MAX_CHARS), color: EVENT_COLORS[event.kind], isEvent: true });
    }
    return labels;
  }

  /** Builds the plugin that draws the labels in the band above the plot area, each joined to its marker. */
  private labelBandPlugin(): Plugin<'line'> {
    return {
      id: 'scalelabLabelBand',
      afterDraw: (chart) => {
        const ctx = chart.ctx;
        ctx.save();
        ctx.font = LABEL_FONT;
        const placed = placeLabels(this.bandLabels(), chart, (text) => ctx.measureText(text).width + 2 * LABEL_PADDING_PX);
        const area = chart.chartArea;

        // Connectors first, so a label drawn later covers a connector that crosses its row.
        ctx.lineWidth = 1;
        for (const { label, box } of placed) {
          ctx.strokeStyle = label.color;
          ctx.beginPath();
          ctx.moveTo(box.markerX, box.top + box.height);
          ctx.lineTo(box.markerX, area.top);
          ctx.stroke();
        }
        ctx.textBaseline = 'middle';
        for (const { label, box } of placed) {
          ctx.fillStyle = label.color;
          ctx.fillRect(box.left, box.top, box.width, box.height);
          ctx.fillStyle = '#ffffff';
          ctx.fillText(label.text, box.left + LABEL_PADDING_PX, box.top + box.height / 2);
        }
        ctx.restore();

        this.placedLabels = placed.map(({ box }) => box);
        this.eventLabels = placed.filter(({ label }) => label.isEvent).map(({ label }) => label.text);
      },
    };
  }

  /** Lists the events near the hovered time under the tooltip, so a label left out of the band can still be read. */
  private eventsNear(items: TooltipItem<'line'>[]): string[] {
    const atSec = items[0]?.parsed.x;
    if (atSec === undefined || atSec === null) return [];
    return this.events
      .filter((event) => Math.abs(event.tMs / 1000 - atSec) <= TOOLTIP_EVENT_RANGE_SEC)
      .map((event) => `${(event.tMs / 1000).toFixed(1)} s: ${event.message}`);
  }

  private charts(): LineChart[] {
    return [this.throughput, this.latency, this.utilization, this.database];
  }

  /** Opens, extends or closes the span in which no server is up, such as a lone server's restart to resize. */
  private trackNoServerUp(atSec: number): void {
    const anyUp = [...this.serverStates.values()].some((state) => state === 'up');
    if (this.openNoServerUp) this.openNoServerUp.toSec = Math.max(this.openNoServerUp.toSec, atSec);
    if (anyUp || this.serverStates.size === 0) {
      this.openNoServerUp = null;
    } else if (!this.openNoServerUp) {
      this.openNoServerUp = { fromSec: atSec, toSec: atSec };
      this.noServerUp.push(this.openNoServerUp);
    }
  }

  private serverDataset(id: number): ChartDataset<'line', Point[]> {
    let dataset = this.serverDatasets.get(id);
    if (!dataset) {
      dataset = lineDataset(`server ${id}`, serverColor(id));
      this.serverDatasets.set(id, dataset);
      this.utilization.data.datasets.push(dataset);
    }
    return dataset;
  }

  private requestRedraw(): void {
    if (this.redrawRequested) return;
    this.redrawRequested = true;
    requestAnimationFrame(() => {
      this.redrawRequested = false;
      this.redraw();
    });
  }

  private redraw(): void {
    const minSec = Math.max(0, this.latestSec - WINDOW_SECONDS);
    const maxSec = Math.max(this.latestSec, 30);
    this.events = this.events.filter((event) => event.tMs / 1000 >= minSec);
    this.noServerUp = this.noServerUp.filter((span) => span.toSec >= minSec);

    for (const chart of this.charts()) {
      for (const dataset of chart.data.datasets) trimBefore(dataset.data, minSec);
      const x = chart.options.scales!.x as ScaleOptionsByType<'linear'>;
      x.min = minSec;
      x.max = maxSec;
      chart.options.plugins!.annotation!.annotations = {
        ...failoverSpans(this.failovers, this.latestSec),
        ...(chart === this.throughput ? noServerUpSpans(this.noServerUp) : {}),
        ...eventMarkers(this.events),
      };
      chart.update('none');
    }
  }
}

function createChart(canvas: HTMLCanvasElement, yTitle: string, datasets: ChartDataset<'line', Point[]>[], plugins: Plugin<'line'>[] = []): LineChart {
  return new Chart<'line', Point[]>(canvas, {
    type: 'line',
    data: { datasets },
    plugins,
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      maintainAspectRatio: false,
      spanGaps: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0 }, line: { borderWidth: 1.5, tension: 0 } },
      scales: {
        x: { type: 'linear', min: 0, max: 30, title: { display: true, text: 'time (s)' } },
        y: {
          type: 'linear',
          beginAtZero: true,
          title: { display: true, text: yTitle },
          afterFit: (scale) => {
            scale.width = Y_AXIS_WIDTH_PX;
          },
        },
      },
      plugins: {
        legend: { position: 'top', align: 'end', labels: { boxWidth: 12 } },
        annotation: { annotations: {} },
      },
    },
  });
}

function lineDataset(label: string, color: string): ChartDataset<'line', Point[]> {
  return { label, data: [], borderColor: color, backgroundColor: color, pointRadius: 0 };
}

/** Builds a vertical line per event; the labels go in the band above the throughput chart. */
function eventMarkers(events: RunEvent[]): Record<string, AnnotationOptions> {
  const markers: Record<string, AnnotationOptions> = {};
  events.forEach((event, index) => {
    const x = event.tMs / 1000;
    markers[`event-${index}`] = {
      type: 'line',
      xMin: x,
      xMax: x,
      borderColor: EVENT_COLORS[event.kind],
      borderWidth: event.kind === 'failover' ? 1.5 : 1,
      borderDash: event.kind === 'failover' ? [] : [3, 3],
    };
  });
  return markers;
}

/** A text for the label band, pointing at a time on the x axis. */
interface BandLabel {
  atSec: number;
  text: string;
  color: string;
  /** True for a run event, false for a failover or a span with no server up. */
  isEvent: boolean;
}

/**
 * Places labels in the band's rows, first fit in the given order. Each label goes into the lowest
 * row where it overlaps no placed label, starting at its marker, else centred on it, else ending
 * at it, and always inside the plot area's width. A label that fits nowhere, or whose time is off
 * the axis, is left out.
 */
function placeLabels(labels: BandLabel[], chart: Chart<'line'>, widthOf: (text: string) => number): Array<{ label: BandLabel; box: PlacedLabel }> {
  const area = chart.chartArea;
  const x = chart.scales.x;
  const rows: Array<Array<[number, number]>> = Array.from({ length: LABEL_ROWS }, () => []);
  const placed: Array<{ label: BandLabel; box: PlacedLabel }> = [];
  for (const label of labels) {
    const markerX = x.getPixelForValue(label.atSec);
    if (markerX < area.left - 1 || markerX > area.right + 1) continue;
    const width = Math.min(widthOf(label.text), area.width);
    const candidates = [markerX - 1, markerX - width / 2, markerX - width + 1].map((left) => Math.min(Math.max(left, area.left), area.right - width));
    const fits = (spans: Array<[number, number]>, left: number) =>
      spans.every(([from, to]) => left + width + LABEL_GAP_PX <= from || left >= to + LABEL_GAP_PX);
    let row = -1;
    let left = 0;
    for (let index = 0; index < rows.length && row === -1; index += 1) {
      const found = candidates.find((candidate) => fits(rows[index], candidate));
      if (found !== undefined) {
        row = index;
        left = found;
      }
    }
    if (row === -1) continue;
    rows[row].push([left, left + width]);
    // Row 0 sits just above the plot area; each further row one row higher.
    const top = area.top - (row + 1) * LABEL_ROW_HEIGHT_PX + 1;
    placed.push({ label, box: { text: label.text, left, top, width, height: LABEL_ROW_HEIGHT_PX - 2, markerX } });
  }
  return placed;
}

/**
 * Builds a shaded span per failover, from the primary's loss to the first write on the new primary.
 * Its RTO and RPO label goes in the band.
 */
function failoverSpans(failovers: FailoverView[], latestSec: number): Record<string, AnnotationOptions> {
  const spans: Record<string, AnnotationOptions> = {};
  failovers.forEach((failover, index) => {
    const fromSec = failover.lostAtMs / 1000;
    const toSec = failover.writesResumedAtMs === null ? Math.max(latestSec, fromSec) : failover.writesResumedAtMs / 1000;
    spans[`failover-${index}`] = {
      type: 'box',
      xMin: fromSec,
      xMax: toSec,
      backgroundColor: 'rgba(190, 18, 60, 0.12)',
      borderColor: 'rgba(190, 18, 60, 0.6)',
      borderWidth: 1,
    };
  });
  return spans;
}

function failoverLabel(failover: FailoverView): string {
  return `${failover.kind}: ${describeRtoRpo(failover)}`;
}

/** Builds a shaded span where no server was up, so a lone server's downtime shows at a glance; its label goes in the band. */
function noServerUpSpans(spans: Array<{ fromSec: number; toSec: number }>): Record<string, AnnotationOptions> {
  const boxes: Record<string, AnnotationOptions> = {};
  spans.forEach((span, index) => {
    boxes[`no-server-up-${index}`] = {
      type: 'box',
      xMin: span.fromSec,
      xMax: span.toSec,
      backgroundColor: 'rgba(220, 38, 38, 0.10)',
      borderWidth: 0,
    };
  });
  return boxes;
}

/** Removes points older than `minX`; points arrive in time order, so they sit at the front. */
function trimBefore(points: Point[], minX: number): void {
  let drop = 0;
  while (drop < points.length && points[drop].x < minX) drop += 1;
  if (drop > 0) points.splice(0, drop);
}

function serverColor(id: number): string {
  // Golden-angle hue steps keep neighbouring server ids visually apart.
  return `hsl(${(id * 137.5) % 360} 65% 45%)`;
}

function shorten(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
