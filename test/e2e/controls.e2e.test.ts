import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureStopped,
  lastTime,
  openBrowserSession,
  readSeries,
  screenshot,
  setSlider,
  startPreset,
  stopRun,
  valuesAfter,
  waitForChartSeconds,
  type BrowserSession,
} from './browser-session.ts';

// Drives the balancer, server, DNS, load-model and database controls in Debian's Chromium against
// the web host and the real engine. One browser and one engine serve every test, one run at a time.

/** Light load on small servers: 1 ms of modelled CPU per request, so no tier saturates unless a test breaks it. */
const LIGHT_LOAD = { rateRps: 200, cpuMs: { html: 1, apiRead: 1, apiWrite: 1, static: 1 } };

const PRESETS = {
  'three-servers.json': {
    version: 1,
    name: 'E2E three servers',
    duration: '2m',
    requestTimeout: '1s',
    drainTimeout: '1s',
    load: LIGHT_LOAD,
    servers: { count: 3, vcpus: 2 },
    database: { seedUsers: 100 },
  },
  'lone-server.json': {
    version: 1,
    name: 'E2E lone server',
    duration: '2m',
    requestTimeout: '1s',
    drainTimeout: '500ms',
    load: LIGHT_LOAD,
    servers: { count: 1, vcpus: 2 },
    database: { seedUsers: 100 },
  },
  'replicated.json': {
    version: 1,
    name: 'E2E primary and two replicas',
    duration: '2m',
    requestTimeout: '2s',
    load: { ...LIGHT_LOAD, mix: { html: 0, apiRead: 0.5, apiWrite: 0.5, static: 0 } },
    servers: { count: 2, vcpus: 2 },
    database: { seedUsers: 100, replicas: 2, replication: { mode: 'asynchronous' }, failover: { automatic: true } },
  },
};

let session: BrowserSession;

beforeAll(async () => {
  session = await openBrowserSession(PRESETS);
});

afterAll(async () => {
  await session?.close();
});

describe('controls in a browser', () => {
  it('algorithm change reaches tick config', async () => {
    const { page } = session;
    await startPreset(page, 'three-servers.json');
    await expect.poll(() => page.getByTestId('balancer-algorithm').textContent(), { timeout: 10_000 }).toBe('round-robin');

    await page.getByTestId('algorithm-picker').selectOption('least-connections');
    await expect.poll(() => page.getByTestId('balancer-algorithm').textContent(), { timeout: 10_000 }).toBe('least-connections');
    await expect.poll(() => page.getByTestId('algorithm-picker-control').textContent()).toContain('fewest requests in flight');
    await expect.poll(() => page.getByTestId('event-log').textContent()).toContain('least-connections');

    // Weights apply to weighted round robin: server 1 with weight 3 gets about three fifths of the picks.
    await page.getByTestId('algorithm-picker').selectOption('weighted-round-robin');
    await expect.poll(() => page.getByTestId('balancer-algorithm').textContent(), { timeout: 10_000 }).toBe('weighted-round-robin');
    await page.getByTestId('weight-server-1').fill('6');
    await page.getByTestId('weight-server-1').press('Enter');
    await expect.poll(() => page.getByTestId('weight-server-1').inputValue(), { timeout: 10_000 }).toBe('6');
    await expect
      .poll(async () => parseInt((await page.getByTestId('server-1-share').textContent())!.replace(/\D+/g, ''), 10), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(55);

    await screenshot(page, 'controls-algorithm');
    await stopRun(page);
    expect(session.pageErrors).toEqual([]);
  });

  it('health check marks hung server unhealthy', async () => {
    const { page } = session;
    await ensureStopped(page);
    await page.getByTestId('preset-picker').selectOption('three-servers.json');
    // Set before the run: the draft carries these into the scenario the run starts with.
    await page.getByTestId('health-enabled').check();
    await page.getByTestId('health-interval').fill('200ms');
    await page.getByTestId('health-interval').press('Enter');
    await page.getByTestId('health-timeout').fill('100ms');
    await page.getByTestId('health-timeout').press('Enter');
    await page.getByTestId('health-fall').fill('2');
    await page.getByTestId('health-fall').press('Enter');
    await expect.poll(() => page.getByTestId('draft-edited').count()).toBe(1);
    await page.getByTestId('start-button').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('running');
    await expect.poll(() => page.getByTestId('balancer-node').textContent(), { timeout: 10_000 }).toContain('health checks');

    await page.getByTestId('fault-server-2').selectOption('hang');
    await expect.poll(() => page.getByTestId('server-2').getAttribute('data-balancer'), { timeout: 10_000 }).toBe('unhealthy');
    // The true state stays "up": the server runs but sends no responses, and only the balancer's view shows it.
    expect(await page.getByTestId('server-2').getAttribute('data-state')).toBe('up');
    await expect.poll(() => page.getByTestId('server-2-share').textContent(), { timeout: 10_000 }).toBe('picks 0%');

    // A live change with a duration reaches the engine, which parses durations from their written form.
    await page.getByTestId('health-interval').fill('300ms');
    await page.getByTestId('health-interval').press('Enter');
    await expect.poll(() => page.getByTestId('event-log').textContent(), { timeout: 10_000 }).toContain('"interval":300');
    expect(await page.getByTestId('health-interval-error').count()).toBe(0);

    // A live change the command schema rejects shows the host's message next to its control.
    await page.getByTestId('health-interval').fill('fast');
    await page.getByTestId('health-interval').press('Enter');
    await expect.poll(() => page.getByTestId('health-interval-error').textContent(), { timeout: 10_000 }).toContain('interval');

    await screenshot(page, 'controls-health-check');
    await page.getByTestId('fault-server-2').selectOption('clear');
    await stopRun(page);
    expect(session.pageErrors).toEqual([]);
  });

  it('drained server disappears without errors', async () => {
    const { page } = session;
    await startPreset(page, 'three-servers.json');
    await expect.poll(() => page.getByTestId('servers').locator('[data-testid^="server-"][data-state]').count(), { timeout: 15_000 }).toBe(3);
    await waitForChartSeconds(page, 2);
    const drainedAtSec = lastTime(await readSeries(page));

    await page.getByTestId('drain-server-3').click();
    await expect.poll(() => page.getByTestId('server-3').count(), { timeout: 15_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('servers').locator('[data-testid^="server-"][data-state]').count()).toBe(2);
    await waitForChartSeconds(page, drainedAtSec + 3);

    const series = await readSeries(page);
    expect(Math.max(0, ...valuesAfter(series, 'errorRps', drainedAtSec))).toBe(0);
    const okAfter = valuesAfter(series, 'okRps', drainedAtSec + 1);
    expect(okAfter.reduce((sum, value) => sum + value, 0) / okAfter.length).toBeGreaterThan(170);
    await expect.poll(() => page.getByTestId('host-error').count()).toBe(0);

    await screenshot(page, 'controls-drain');
    await stopRun(page);
    expect(session.pageErrors).toEqual([]);
  });

  it('lone server resize shows downtime', async () => {
    const { page } = session;
    await startPreset(page, 'lone-server.json');
    await waitForChartSeconds(page, 3);
    const resizedAtSec = lastTime(await readSeries(page));
    await setSlider(page, page.getByTestId('vcpus-slider'), 4);
    await expect.poll(() => page.getByTestId('event-log').textContent(), { timeout: 20_000 }).toContain('resized to 4 vCPUs');
    await waitForChartSeconds(page, lastTime(await readSeries(page)) + 2);

    const series = await readSeries(page);
    // While the lone server restarts no server is up: the chart shades the span, and requests end as errors or wait.
    expect(series.noServerUp.length).toBeGreaterThan(0);
    expect(series.noServerUp[0].fromSec).toBeGreaterThanOrEqual(resizedAtSec - 1);
    const okAfter = valuesAfter(series, 'okRps', resizedAtSec);
    const errorsAfter = valuesAfter(series, 'errorRps', resizedAtSec);
    expect(Math.min(...okAfter) < 100 || Math.max(...errorsAfter) > 0).toBe(true);
    expect(await page.getByTestId('event-log').textContent()).toMatch(/Server 1 (down|starting)/);
    await expect.poll(() => page.getByTestId('server-1').getAttribute('data-state'), { timeout: 10_000 }).toBe('up');
    expect(await page.getByTestId('server-1').textContent()).toContain('4 vCPU');

    await screenshot(page, 'controls-resize');
    await stopRun(page);
    expect(session.pageErrors).toEqual([]);
  });

  it('closed model and DNS round robin are labelled', async () => {
    const { page } = session;
    await ensureStopped(page);
    await page.getByTestId('preset-picker').selectOption('three-servers.json');
    await page.getByTestId('load-model').selectOption('closed');
    await page.getByTestId('users-input').fill('20');
    await page.getByTestId('users-input').press('Enter');
    await page.getByTestId('think-time').fill('100ms');
    await page.getByTestId('think-time').press('Enter');
    await page.getByTestId('dns-target').selectOption('round-robin');
    await page.getByTestId('start-button').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('running');

    await expect.poll(() => page.getByTestId('load-model-badge').textContent(), { timeout: 10_000 }).toContain('closed model: hides stalls');
    await expect.poll(() => page.getByTestId('closed-model-banner').count()).toBe(1);
    expect(await page.getByTestId('dns-link').textContent()).toContain('straight to servers');
    expect(await page.getByTestId('balancer-node').textContent()).toContain('bypassed');

    await page.getByTestId('users-input').fill('40');
    await page.getByTestId('users-input').press('Enter');
    await expect.poll(() => page.getByTestId('topology').textContent(), { timeout: 10_000 }).toContain('40 users');

    await screenshot(page, 'controls-closed-model');
    await stopRun(page);
    expect(session.pageErrors).toEqual([]);
  });

  it('primary crash shows failover with RTO and RPO', async () => {
    const { page } = session;
    await startPreset(page, 'replicated.json');
    await expect.poll(() => page.getByTestId('database').locator('[data-role="replica"]').count(), { timeout: 20_000 }).toBe(2);
    await waitForChartSeconds(page, 3);
    expect(Math.max(...(await readSeries(page)).dbWritesPerSec)).toBeGreaterThan(0);

    await page.getByTestId('crash-primary').click();
    await expect.poll(() => page.getByTestId('failover-0-rto-rpo').textContent(), { timeout: 20_000 }).toMatch(/RTO [\d,]+ ms, RPO \d+ writes/);
    await expect.poll(async () => (await readSeries(page)).failovers[0]?.label ?? '').toMatch(/failover: RTO [\d,]+ ms, RPO \d+ writes/);
    const failover = (await readSeries(page)).failovers[0];
    expect(failover.resumedSec).toBeGreaterThan(failover.lostSec);
    // The promoted replica is the primary now; the old primary stays down.
    await expect.poll(() => page.getByTestId('database').locator('[data-role="primary"][data-state="up"]').count()).toBe(1);
    await expect.poll(() => page.getByTestId('db-writes').textContent()).toContain('writes available');
    await waitForChartSeconds(page, lastTime(await readSeries(page)) + 1);

    await screenshot(page, 'controls-failover');
    await stopRun(page);
    // The report's exact failover record replaces the figures read from events.
    await expect.poll(() => page.getByTestId('failover-0-rto-rpo').textContent()).toMatch(/RTO [\d,]+ ms, RPO \d+ writes/);
    expect(session.pageErrors).toEqual([]);
  });
});
