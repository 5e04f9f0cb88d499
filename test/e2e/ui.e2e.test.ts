import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChartSeries } from '../../renderer/src/charts/live-charts.ts';
import type { EngineClient } from '../../main/host/engine-client.ts';
import { startBuiltEngine } from '../fixtures/built-engine.ts';
import { startWebHost, type WebHost } from '../../main/host/web-host.ts';

// Drives the real UI in Debian's Chromium against the web host and the real engine: start a run,
// scale out with the servers slider, crash a server, and read the numbers the charts plot.

const repoRoot = resolve(import.meta.dirname, '../..');
const rendererDir = join(repoRoot, 'out/renderer');
const chromiumPath = '/usr/bin/chromium';
const resultsDir = join(repoRoot, 'test-results');

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

let workDir: string;
let engine: EngineClient;
let web: WebHost;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: install it with apt-get install -y chromium`);
  if (!existsSync(join(rendererDir, 'index.html'))) throw new Error(`${rendererDir} is missing: run "npx electron-vite build" first`);

  workDir = await mkdtemp(join(tmpdir(), 'scalelab-ui-e2e-'));
  const presetsDir = join(workDir, 'presets');
  await mkdir(presetsDir);
  await writeFile(join(presetsDir, 'e2e-saturated.json'), JSON.stringify(SATURATING_PRESET));
  await mkdir(resultsDir, { recursive: true });

  engine = await startBuiltEngine(join(workDir, 'data'));
  web = await startWebHost({ engine, port: 0, host: '127.0.0.1', staticDir: rendererDir, presetsDir });

  context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') console.error(`[page] ${message.text()}`);
  });
});

afterAll(async () => {
  await context?.close();
  await engine?.stop().catch(() => null);
  await web?.close();
  await engine?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('UI in a browser', () => {
  it('scales out and shows a crash on the charts', async () => {
    await page.goto(web.url);
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
    await expect.poll(() => page.getByTestId('servers').locator('[data-testid^="server-"]').count(), { timeout: 15_000 }).toBe(4);

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

    await page.getByTestId('latency-scale').selectOption('logarithmic');
    await waitForChartSeconds(page, lastTime(await readSeries(page)) + 1);

    await page.screenshot({ path: join(resultsDir, 'ui-e2e.png'), fullPage: true });

    await page.getByTestId('stop-button').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('finished');
    await expect.poll(() => page.getByTestId('run-summary').count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});

function readSeries(target: Page): Promise<ChartSeries> {
  return target.evaluate(() => {
    const charts = window.__scalelabCharts;
    if (!charts) throw new Error('window.__scalelabCharts is missing: the charts did not mount');
    return charts.series();
  });
}

async function waitForChartSeconds(target: Page, seconds: number): Promise<void> {
  await expect.poll(async () => lastTime(await readSeries(target)), { timeout: 60_000 }).toBeGreaterThanOrEqual(seconds);
}

function lastTime(series: ChartSeries): number {
  return series.tSec.at(-1) ?? 0;
}

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
