import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastTime, openBrowserSession, readSeries, resultsDir, waitForChartSeconds, type BrowserSession } from './browser-session.ts';
import type { ChartSeries } from '../../renderer/src/charts/live-charts.ts';

// Drives the real UI in Debian's Chromium against the web host and the real engine: start a run,
// scale out with the servers slider, crash a server, and read the numbers the charts plot.

/**
 * One server with one vCPU and 10 ms of modelled CPU per request serves at most 100 requests per
 * second. The clients offer 250, so the single server is saturated and four servers are not.
 */
const SATURATING_PRESET = {
  version: 1,
  name: 'E2E saturated single server',
  description: 'One small server under more load than it can serve.',
  duration: '5m',
  cpuModel: 'virtual',
  requestTimeout: '2s',
  load: { rateRps: 250, cpuMs: { html: 10, apiRead: 10, apiWrite: 10, static: 10 } },
  servers: { count: 1, vcpus: 1 },
  database: { seedUsers: 100 },
};

let session: BrowserSession;
let page: Page;
let pageErrors: string[];

beforeAll(async () => {
  session = await openBrowserSession({ 'e2e-saturated.json': SATURATING_PRESET }, { width: 1440, height: 900 });
  page = session.page;
  pageErrors = session.pageErrors;
});

afterAll(async () => {
  await session?.close();
});

describe('UI in a browser', () => {
  it('scales out and shows a crash on the charts', async () => {
    await expect.poll(() => page.getByTestId('preset-picker').locator('option').count()).toBe(1);
    await page.getByTestId('preset-picker').selectOption('e2e-saturated.json');
    expect(await page.getByTestId('servers-slider').inputValue()).toBe('1');

    await page.getByTestId('start-button').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('running');

    // A saturated server with an unbounded queue serves at most 100 requests per second, and once
    // its queue is longer than the 2 s request timeout most of those end as timeouts.
    await waitForChartSeconds(page, 4);
    const oneServerOkRps = meanOfLast(await readSeries(page), 'okRps', 4);
    expect(oneServerOkRps).toBeLessThan(130);

    await dragSliderTo(page, page.getByTestId('servers-slider'), 4);
    await expect.poll(() => page.getByTestId('servers-slider-value').textContent()).toBe('4');
    await expect.poll(() => page.getByTestId('servers').locator('[data-testid^="server-"][data-state]').count(), { timeout: 15_000 }).toBe(4);

    // Four servers have 400 requests per second of capacity for the 250 offered.
    await expect.poll(async () => meanOfLast(await readSeries(page), 'okRps', 4), { timeout: 30_000 }).toBeGreaterThan(200);
    const fourServersOkRps = meanOfLast(await readSeries(page), 'okRps', 4);
    expect(fourServersOkRps).toBeGreaterThan(oneServerOkRps + 100);

    // Errors stop once the first server's backlog drains, so errors after the crash come from it.
    await expect.poll(async () => meanOfLast(await readSeries(page), 'errorRps', 4), { timeout: 30_000 }).toBeLessThan(5);
    const crashedAtSec = lastTime(await readSeries(page));
    await page.getByTestId('crash-server-2').click();
    await expect.poll(() => page.getByTestId('server-2').getAttribute('data-state'), { timeout: 10_000 }).toBe('down');
    await expect
      .poll(async () => {
        const series = await readSeries(page);
        return Math.max(0, ...series.errorRps.filter((_, index) => series.tSec[index] > crashedAtSec));
      }, { timeout: 20_000 })
      .toBeGreaterThan(20);
    await expect.poll(async () => (await readSeries(page)).eventCount).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('event-log').locator('li.event').count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('event-log').textContent()).toContain('Server 2');
    // The crash outranks the earlier scaling events for a place in the label band above the plot area.
    await expect.poll(async () => (await readSeries(page)).eventLabels.some((label) => label.startsWith('Server 2 crashed'))).toBe(true);
    const layout = await page.evaluate(() => window.__scalelabCharts!.layout());
    for (const label of layout.labels) expect(label.top + label.height, `bottom of label "${label.text}"`).toBeLessThanOrEqual(layout.plots.throughput.top);

    await page.getByTestId('latency-scale').selectOption('logarithmic');
    await waitForChartSeconds(page, lastTime(await readSeries(page)) + 1);

    await page.screenshot({ path: join(resultsDir, 'ui-e2e.png'), fullPage: true });

    await page.getByTestId('stop-button').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('finished');
    await expect.poll(() => page.getByTestId('run-summary').count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});

function meanOfLast(series: ChartSeries, key: 'okRps' | 'errorRps', count: number): number {
  const values = series[key].slice(-count);
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * Drags a range input's thumb with the mouse from its current value to `value`. Chromium maps
 * the track minus one thumb width linearly onto [min, max]; if rounding lands one step off, arrow
 * keys finish the move.
 */
async function dragSliderTo(target: Page, slider: Locator, value: number): Promise<void> {
  const box = await slider.boundingBox();
  if (!box) throw new Error('The slider is not visible');
  const min = Number(await slider.getAttribute('min'));
  const max = Number(await slider.getAttribute('max'));
  const current = Number(await slider.inputValue());
  const thumbWidthPx = 16;
  const xOf = (v: number) => box.x + thumbWidthPx / 2 + ((v - min) / (max - min)) * (box.width - thumbWidthPx);
  const y = box.y + box.height / 2;

  await target.mouse.move(xOf(current), y);
  await target.mouse.down();
  await target.mouse.move(xOf(value), y, { steps: 10 });
  await target.mouse.up();

  const landed = Number(await slider.inputValue());
  if (landed !== value) {
    await slider.focus();
    const key = landed < value ? 'ArrowRight' : 'ArrowLeft';
    for (let step = 0; step < Math.abs(value - landed); step += 1) await target.keyboard.press(key);
  }
}
