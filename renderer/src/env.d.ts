/// <reference types="svelte" />
import type { ScaleLabApi } from '../../main/ipc/api.ts';
import type { ChartLayout, ChartSeries } from './charts/live-charts.ts';

declare global {
  interface Window {
    /** Exposed by the Electron preload; absent in a browser. */
    scalelab?: ScaleLabApi;
    /** Read-only view of the charts' data and layout, for end-to-end tests. */
    __scalelabCharts?: { series(): ChartSeries; layout(): ChartLayout };
  }
}
