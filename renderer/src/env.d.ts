/// <reference types="svelte" />
import type { ScaleLabApi } from '../../main/ipc/api.ts';
import type { ChartSeries } from './charts/live-charts.ts';

declare global {
  interface Window {
    /** Exposed by the Electron preload; absent in a browser. */
    scalelab?: ScaleLabApi;
    /** Read-only view of the charts' data, for end-to-end tests. */
    __scalelabCharts?: { series(): ChartSeries };
  }
}
