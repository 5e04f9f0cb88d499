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
  type ScaleOptionsByType,
} from 'chart.js';
import annotationPlugin, { type AnnotationOptions } from 'chartjs-plugin-annotation';
import type { RunEvent, RunEventKind, TickSnapshot } from '../../../main/engine/api/protocol.ts';

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
  eventCount: number;
}

export interface ChartCanvases {
  throughput: HTMLCanvasElement;
  latency: HTMLCanvasElement;
  utilization: HTMLCanvasElement;
}

const EVENT_COLORS: Record<RunEventKind, string> = {
  run: '#6b7280',
  scaling: '#2563eb',
  fault: '#dc2626',
  load: '#059669',
  balancer: '#7c3aed',
  server: '#d97706',
};

/**
 * Three line charts (throughput, latency, per-server utilization) on one time axis in seconds,
 * with run events drawn as vertical markers. Updates are batched to one redraw per animation
 * frame, without animation, and with pre-parsed {x, y} points, following chart.js's advice for
 * live data.
 */
export class LiveCharts {
  private readonly throughput: LineChart;
  private readonly latency: LineChart;
  private readonly utilization: LineChart;
  private readonly serverDatasets = new Map<number, ChartDataset<'line', Point[]>>();
  private events: RunEvent[] = [];
  private latestSec = 0;
  private lastTick = -1;
  private redrawRequested = false;

  constructor(canvases: ChartCanvases) {
    this.throughput = createChart(canvases.throughput, 'requests per second', [
      lineDataset('ok', '#16a34a'),
      lineDataset('errors', '#dc2626'),
      { ...lineDataset('offered', '#9ca3af'), borderDash: [4, 4] },
    ]);
    this.latency = createChart(canvases.latency, 'latency (ms)', [
      lineDataset('p50', '#0ea5e9'),
      lineDataset('p95', '#f59e0b'),
      lineDataset('p99', '#ef4444'),
    ]);
    this.utilization = createChart(canvases.utilization, 'utilization (%)', []);
    const utilizationY = this.utilization.options.scales!.y as ScaleOptionsByType<'linear'>;
    utilizationY.min = 0;
    utilizationY.max = 100;
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
    this.requestRedraw();
  }

  addEvent(event: RunEvent): void {
    this.events.push(event);
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
      eventCount: this.events.length,
    };
  }

  destroy(): void {
    for (const chart of this.charts()) chart.destroy();
  }

  private charts(): LineChart[] {
    return [this.throughput, this.latency, this.utilization];
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

    for (const chart of this.charts()) {
      for (const dataset of chart.data.datasets) trimBefore(dataset.data, minSec);
      const x = chart.options.scales!.x as ScaleOptionsByType<'linear'>;
      x.min = minSec;
      x.max = maxSec;
      chart.options.plugins!.annotation!.annotations = eventMarkers(this.events, chart === this.throughput);
      chart.update('none');
    }
  }
}

function createChart(canvas: HTMLCanvasElement, yTitle: string, datasets: ChartDataset<'line', Point[]>[]): LineChart {
  return new Chart<'line', Point[]>(canvas, {
    type: 'line',
    data: { datasets },
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

function eventMarkers(events: RunEvent[], withLabels: boolean): Record<string, AnnotationOptions> {
  const markers: Record<string, AnnotationOptions> = {};
  events.forEach((event, index) => {
    const x = event.tMs / 1000;
    markers[`event-${index}`] = {
      type: 'line',
      xMin: x,
      xMax: x,
      borderColor: EVENT_COLORS[event.kind],
      borderWidth: 1,
      borderDash: [3, 3],
      label: {
        display: withLabels,
        content: shorten(event.message, 28),
        position: 'start',
        rotation: 0,
        font: { size: 10 },
        backgroundColor: EVENT_COLORS[event.kind],
        padding: 2,
      },
    };
  });
  return markers;
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
