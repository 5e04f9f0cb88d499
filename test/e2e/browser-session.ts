import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { ChartSeries } from '../../renderer/src/charts/live-charts.ts';
import type { EngineClient } from '../../main/host/engine-client.ts';
import { startBuiltEngine } from '../fixtures/built-engine.ts';
import { startWebHost, type WebHost } from '../../main/host/web-host.ts';

// One real engine, one web host and one headless Debian Chromium for a test file, with its own
// presets folder and browser profile in a temporary folder.

const repoRoot = resolve(import.meta.dirname, '../..');
const rendererDir = join(repoRoot, 'out/renderer');
const chromiumPath = '/usr/bin/chromium';
export const resultsDir = join(repoRoot, 'test-results');

export interface BrowserSession {
  page: Page;
  web: WebHost;
  /** Uncaught errors of the page, in order. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Starts the engine, the web host with `presets` (file name to scenario) and Chromium on the page. */
export async function openBrowserSession(presets: Record<string, unknown>, viewport = { width: 1600, height: 1300 }): Promise<BrowserSession> {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: install it with apt-get install -y chromium`);
  if (!existsSync(join(rendererDir, 'index.html'))) throw new Error(`${rendererDir} is missing: run "npx electron-vite build" first`);

  const workDir = await mkdtemp(join(tmpdir(), 'scalelab-ui-e2e-'));
  const presetsDir = join(workDir, 'presets');
  await mkdir(presetsDir);
  for (const [file, scenario] of Object.entries(presets)) await writeFile(join(presetsDir, file), JSON.stringify(scenario));
  await mkdir(resultsDir, { recursive: true });

  let engine: EngineClient | undefined;
  let web: WebHost | undefined;
  let context: BrowserContext | undefined;
  const close = async () => {
    await context?.close();
    await engine?.stop().catch(() => null);
    await web?.close();
    await engine?.close();
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    engine = await startBuiltEngine(join(workDir, 'data'));
    // Saved reports stay in the temporary folder instead of the default ./reports of the repository.
    web = await startWebHost({ engine, port: 0, host: '127.0.0.1', staticDir: rendererDir, presetsDir, reportsDir: join(workDir, 'reports') });
    context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: chromiumPath,
      headless: true,
      viewport,
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
  } catch (error) {
    await close();
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') console.error(`[page] ${message.text()}`);
  });
  await page.goto(web.url);
  await page.getByTestId('preset-picker').locator('option').nth(Object.keys(presets).length - 1).waitFor({ state: 'attached' });
  return { page, web, pageErrors, close };
}

/** Picks a preset, starts the run and waits until it runs. */
export async function startPreset(page: Page, file: string): Promise<void> {
  await ensureStopped(page);
  await page.getByTestId('preset-picker').selectOption(file);
  await page.getByTestId('start-button').click();
  await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('running');
}

/** Stops a run that an earlier, failed test left running, so the next test starts from a stopped engine. */
export async function ensureStopped(page: Page): Promise<void> {
  if (await page.getByTestId('stop-button').isEnabled()) await page.getByTestId('stop-button').click();
  await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).not.toMatch(/running|starting|stopping/);
}

/** Stops the run and waits for its summary. */
export async function stopRun(page: Page): Promise<void> {
  await page.getByTestId('stop-button').click();
  await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('finished');
  await expect.poll(() => page.getByTestId('run-summary').count()).toBe(1);
}

export function readSeries(target: Page): Promise<ChartSeries> {
  return target.evaluate(() => {
    const charts = window.__scalelabCharts;
    if (!charts) throw new Error('window.__scalelabCharts is missing: the charts did not mount');
    return charts.series();
  });
}

export async function waitForChartSeconds(target: Page, seconds: number): Promise<void> {
  await expect.poll(async () => lastTime(await readSeries(target)), { timeout: 60_000 }).toBeGreaterThanOrEqual(seconds);
}

export function lastTime(series: ChartSeries): number {
  return series.tSec.at(-1) ?? 0;
}

/** Values of a series after `fromSec`. */
export function valuesAfter(series: ChartSeries, key: 'okRps' | 'errorRps', fromSec: number): number[] {
  return series[key].filter((_, index) => series.tSec[index] > fromSec);
}

/** Sets a range input with arrow keys, which fire the same input and change events a drag does. */
export async function setSlider(target: Page, slider: Locator, value: number): Promise<void> {
  const current = Number(await slider.inputValue());
  await slider.focus();
  const key = current < value ? 'ArrowRight' : 'ArrowLeft';
  for (let step = 0; step < Math.abs(value - current); step += 1) await target.keyboard.press(key);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  // The charts draw on the next animation frame after the last push.
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  await page.screenshot({ path: join(resultsDir, `${name}.png`) });
}
