import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChartLayout } from '../../renderer/src/charts/live-charts.ts';
import { ensureStopped, lastTime, openBrowserSession, readSeries, resultsDir, startPreset, stopRun, waitForChartSeconds, type BrowserSession } from './browser-session.ts';

// Runs the shipped presets at a laptop's window size (1440x900). Checks that the charts stay
// readable when the topology grows and that every control has an accessible name. Also checks
// that the picker lists the presets from the simplest concept to the most advanced.

const scenariosDir = resolve(import.meta.dirname, '../../scenarios');
const SHIPPED_PRESETS = Object.fromEntries(
  readdirSync(scenariosDir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => [file, JSON.parse(readFileSync(join(scenariosDir, file), 'utf8')) as unknown]),
);

/** Minimum plot height, in CSS pixels, at which a chart's y axis shows several values. */
const MIN_PLOT_HEIGHT_PX = 200;

let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  session = await openBrowserSession(SHIPPED_PRESETS, { width: 1440, height: 900 });
  page = session.page;
});

afterAll(async () => {
  await session?.close();
});

describe('layout at 1440x900', () => {
  it('picker lists presets simplest first', async () => {
    const files = await page.getByTestId('preset-picker').locator('option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value));
    expect(files).toEqual([
      'single-server.json',
      'scale-out.json',
      'vertical-ceiling.json',
      'vertical-vs-horizontal.json',
      'vertical-vs-horizontal-8x1.json',
      'health-checks.json',
      'closed-model.json',
      'read-replicas.json',
      'primary-failover.json',
    ]);
    expect(await page.getByTestId('preset-picker').inputValue()).toBe('single-server.json');
  });

  it('every control has an accessible name', async () => {
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea, button')]
        .filter((element) => {
          const labelled = element.getAttribute('aria-label')?.trim() || element.getAttribute('aria-labelledby');
          const button = element.tagName === 'BUTTON' && element.textContent?.trim();
          return !labelled && !button;
        })
        .map((element) => element.outerHTML.slice(0, 120)),
    );
    expect(unnamed).toEqual([]);
    expect(await page.getByRole('slider', { name: 'Servers', exact: true }).count()).toBe(1);
    expect(await page.getByRole('slider', { name: 'vCPUs per server' }).count()).toBe(1);
    expect(await page.getByRole('slider', { name: 'Rate' }).count()).toBe(1);
    expect(await page.getByRole('combobox', { name: 'Latency axis scale' }).count()).toBe(1);
  });

  it('TTL without unit keeps last valid value', async () => {
    await page.getByTestId('preset-picker').selectOption('single-server.json');
    const ttlBefore = await page.getByTestId('dns-node').textContent();
    expect(ttlBefore).toMatch(/TTL \d+(ms|s|m|h)/);

    await page.getByTestId('dns-ttl').fill('10');
    await page.getByTestId('dns-ttl').press('Enter');
    await expect.poll(() => page.getByTestId('dns-ttl-error').textContent()).toContain('unit');
    expect(await page.getByTestId('dns-node').textContent()).toBe(ttlBefore);

    await page.getByTestId('dns-ttl').fill('10s');
    await page.getByTestId('dns-ttl').press('Enter');
    await expect.poll(() => page.getByTestId('dns-node').textContent()).toContain('TTL 10s');
    expect(await page.getByTestId('dns-ttl-error').count()).toBe(0);
    // Picking the preset again drops the edit.
    await page.getByTestId('preset-picker').selectOption('scale-out.json');
  });

  it('scale-out charts stay readable', async () => {
    await startPreset(page, 'scale-out.json');
    // Three more servers join at 8 s.
    await expect.poll(() => page.getByTestId('servers').locator('[data-testid^="server-"][data-state]').count(), { timeout: 30_000 }).toBe(4);
    await waitForChartSeconds(page, 11);

    await expectReadableCharts(page);
    await saveScreenshots(page, 'layout-scale-out');

    await stopRun(page);
    // After the run the cards drop the stale balancer view, and the sliders show the last run's values apart from the next run's.
    expect(await page.getByTestId('server-1-state').textContent()).toBe('stopped');
    expect(await page.getByTestId('server-1-view').count()).toBe(0);
    expect(await page.getByTestId('last-run-note').textContent()).toContain('4 servers');
    expect(await page.getByTestId('servers-slider-value').textContent()).toBe('1');
    expect(await page.getByTestId('servers-slider-last-run').textContent()).toContain('ended at 4');
    expect(session.pageErrors).toEqual([]);
  });

  it('primary-failover charts stay readable', async () => {
    await ensureStopped(page);
    await startPreset(page, 'primary-failover.json');
    // The primary crashes at 8 s; the failover label appears once writes resume on the new primary.
    await expect.poll(async () => (await readSeries(page)).failovers.length, { timeout: 30_000 }).toBeGreaterThan(0);
    await waitForChartSeconds(page, lastTime(await readSeries(page)) + 2);

    const layout = await expectReadableCharts(page);
    const failoverLabel = (await readSeries(page)).failovers[0].label;
    expect(layout.labels.map((label) => label.text)).toContain(failoverLabel);
    await saveScreenshots(page, 'layout-primary-failover');

    await stopRun(page);
    expect(session.pageErrors).toEqual([]);
  });
});

function readLayout(target: Page): Promise<ChartLayout> {
  return target.evaluate(() => {
    const charts = window.__scalelabCharts;
    if (!charts) throw new Error('window.__scalelabCharts is missing: the charts did not mount');
    return charts.layout();
  });
}

/** Checks plot heights, y axis ticks and that no label covers the plot or another label. */
async function expectReadableCharts(target: Page): Promise<ChartLayout> {
  // The label band is drawn on the next animation frame after the last push.
  await target.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  const layout = await readLayout(target);
  for (const [name, plot] of Object.entries(layout.plots)) {
    expect(plot.height, `${name} plot height`).toBeGreaterThanOrEqual(MIN_PLOT_HEIGHT_PX);
    expect(plot.yTickCount, `${name} y axis ticks`).toBeGreaterThanOrEqual(3);
  }

  const plotTop = layout.plots.throughput.top;
  expect(layout.labels.length).toBeGreaterThan(0);
  for (const label of layout.labels) {
    expect(label.top + label.height, `bottom of label "${label.text}"`).toBeLessThanOrEqual(plotTop);
  }
  for (const [index, a] of layout.labels.entries()) {
    for (const b of layout.labels.slice(index + 1)) {
      const apart = a.left + a.width <= b.left || b.left + b.width <= a.left || a.top + a.height <= b.top || b.top + b.height <= a.top;
      expect(apart, `labels "${a.text}" and "${b.text}" overlap`).toBe(true);
    }
  }
  return layout;
}

/** Saves the window as the user sees it, then with the centre column scrolled down to the last chart. */
async function saveScreenshots(target: Page, name: string): Promise<void> {
  await target.screenshot({ path: join(resultsDir, `${name}.png`) });
  await target.getByTestId('database-chart').scrollIntoViewIfNeeded();
  await target.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  await target.screenshot({ path: join(resultsDir, `${name}-charts.png`) });
  await target.locator('main.centre').evaluate((centre) => centre.scrollTo(0, 0));
}
