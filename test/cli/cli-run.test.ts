import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../main/engine/api/protocol.ts';
import { makeTempDir, runCli, shortScenario, startCli, writeScenario } from './run-cli.ts';

let dir: string;
let scenarioFile: string;

beforeAll(async () => {
  dir = await makeTempDir();
  scenarioFile = await writeScenario(dir, 'short.json', shortScenario('2s'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readReport(file: string): Promise<RunReport> {
  return JSON.parse(await readFile(file, 'utf8')) as RunReport;
}

describe('scalelab run', () => {
  it('writes a report whose books balance', async () => {
    const out = join(dir, 'balanced.json');
    const result = await runCli(['run', scenarioFile, '--out', out], dir);

    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('offered/s');
    expect(result.stdout).toContain('books      balanced in every tick');

    const report = await readReport(out);
    expect(report.format).toBe('scalelab-report');
    expect(report.scenario.name).toBe('CLI test run');
    expect(report.host.cpus).toBeGreaterThan(0);
    expect(report.events.some((event) => event.kind === 'scaling')).toBe(true);
    expect(report.summary.booksBalanced).toBe(true);
    expect(report.summary.sent).toBeGreaterThan(0);
    expect(report.summary.sent).toBe(report.summary.ok + report.summary.errorsTotal);
    expect(report.ticks.length).toBeGreaterThanOrEqual(8);
    for (const tick of report.ticks) {
      expect(tick.books.balanced, `tick ${tick.tick}`).toBe(true);
      expect(tick.books.sent, `tick ${tick.tick}`).toBe(tick.books.ok + tick.books.errorsTotal + tick.books.inFlight);
    }
  });

  it('writes under reports/ by default', async () => {
    const cwd = await makeTempDir();
    try {
      const result = await runCli(['run', scenarioFile, '--quiet', '--duration', '1s'], cwd);

      expect(result.code).toBe(0);
      const files = await readdir(join(cwd, 'reports'));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^cli-test-run-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.json$/);
      // Quiet mode prints only the report's path.
      expect(result.stdout.trim()).toBe(join(cwd, 'reports', files[0]));
      const report = await readReport(join(cwd, 'reports', files[0]));
      expect(report.scenario.duration).toBe(1000);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('refuses to replace an existing --out file', async () => {
    const out = join(dir, 'existing.json');
    await writeFile(out, '{"keep": true}\n');

    const result = await runCli(['run', scenarioFile, '--out', out], dir);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--out');
    expect(result.stderr).toContain('already exists');
    expect(await readFile(out, 'utf8')).toBe('{"keep": true}\n');
  });

  it('writes the report after Ctrl-C', async () => {
    const out = join(dir, 'interrupted.json');
    const cli = startCli(['run', scenarioFile, '--out', out, '--duration', '30s'], dir);
    await cli.waitFor('Run started');
    cli.kill('SIGINT');
    const result = await cli.done;

    expect(result.code).toBe(130);
    expect(result.stderr).toContain('stopping the run');
    const report = await readReport(out);
    expect(report.summary.booksBalanced).toBe(true);
    expect(report.summary.durationMs).toBeLessThan(30_000);
    expect(report.events.some((event) => event.message.includes('stopped by user'))).toBe(true);
  });
});
