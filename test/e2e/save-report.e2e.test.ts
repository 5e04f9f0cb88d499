import { readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../main/engine/api/protocol.ts';
import { openBrowserSession, screenshot, type BrowserSession } from './browser-session.ts';

// Finishes a short run in the real UI, saves its report from the top bar, and reads the file the
// web host wrote into its reports folder.

const SHORT_PRESET = {
  version: 1,
  name: 'E2E save report',
  description: 'A short, light run that finishes by itself.',
  duration: '3s',
  cpuModel: 'virtual',
  load: { rateRps: 20 },
  servers: { count: 1, vcpus: 1 },
};

let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  session = await openBrowserSession({ 'e2e-save-report.json': SHORT_PRESET });
  page = session.page;
});

afterAll(async () => {
  await session?.close();
});

describe('save report in a browser', () => {
  it('saves the finished run as JSON', async () => {
    const saveButton = page.getByTestId('save-report-button');
    expect(await saveButton.isDisabled()).toBe(true);

    await page.getByTestId('preset-picker').selectOption('e2e-save-report.json');
    await page.getByTestId('start-button').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('finished');
    await expect.poll(() => page.getByTestId('run-summary').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => saveButton.isEnabled()).toBe(true);

    await saveButton.click();
    const input = page.getByTestId('save-report-file-name');
    const suggested = await input.inputValue();
    expect(suggested).toMatch(/^e2e-save-report-\d{4}-\d{2}-\d{2}-\d{6}\.json$/);

    // A rejected name shows the host's message next to the input and writes nothing.
    await input.fill('../../escape');
    await page.getByTestId('save-report-confirm').click();
    await expect.poll(() => page.getByTestId('save-report-error').textContent()).toContain('Invalid fileName "../../escape"');
    expect(await readdir(session.web.reportsDir).catch(() => [])).toEqual([]);
    await screenshot(page, 'save-report-rejected');

    await input.fill(suggested);
    await page.getByTestId('save-report-confirm').click();
    // The host reports the path after following symlinks, as /tmp may be one.
    const expectedPath = join(await realpath(session.web.reportsDir), suggested);
    await expect.poll(() => page.getByTestId('save-report-path').textContent()).toBe(`saved to ${expectedPath}`);

    const report = JSON.parse(await readFile(expectedPath, 'utf8')) as RunReport;
    expect(report.format).toBe('scalelab-report');
    expect(report.scenario.name).toBe(SHORT_PRESET.name);
    expect(report.summary.sent).toBeGreaterThan(0);
    expect(report.summary.booksBalanced).toBe(true);
    const summaryText = await page.getByTestId('run-summary').textContent();
    expect(summaryText).toContain(`Finished: ${report.summary.ok.toLocaleString('en')} ok,`);
    expect(summaryText).toContain(`${report.summary.errorsTotal.toLocaleString('en')} errors,`);
    expect(summaryText).toContain(`p99 ${report.summary.latency.p99Ms.toFixed(1)} ms`);
    expect(session.pageErrors).toEqual([]);
  });

  it('overwrites an existing name on request', async () => {
    await page.getByTestId('save-report-button').click();
    const input = page.getByTestId('save-report-file-name');
    const [existing] = await readdir(session.web.reportsDir);
    await input.fill(existing);
    await page.getByTestId('save-report-confirm').click();
    await expect.poll(() => page.getByTestId('save-report-error').textContent()).toContain('already exists');

    await page.getByTestId('save-report-overwrite').check();
    await page.getByTestId('save-report-confirm').click();
    await expect.poll(() => page.getByTestId('save-report-path').textContent()).toContain(existing);
    expect(await readdir(session.web.reportsDir)).toEqual([existing]);
  });
});
