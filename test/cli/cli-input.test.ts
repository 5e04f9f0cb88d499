import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runCli, shortScenario, writeScenario } from './run-cli.ts';

let dir: string;
let validFile: string;

beforeAll(async () => {
  dir = await makeTempDir();
  validFile = await writeScenario(dir, 'valid.json', shortScenario());
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('invalid scenario files', () => {
  it('schema error names the field', async () => {
    const file = await writeScenario(dir, 'bad-servers.json', { ...shortScenario(), servers: { count: 0 } });

    const result = await runCli(['run', file], dir);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('servers.count');
    expect(result.stderr).toContain('expected an integer from 1 to 64');
  });

  it('bad duration names the field', async () => {
    const file = await writeScenario(dir, 'bad-duration.json', { ...shortScenario(), duration: '10' });

    const result = await runCli(['validate', file], dir);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('duration:');
  });

  it('missing file exits 2', async () => {
    const result = await runCli(['run', 'no-such-file.json'], dir);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Scenario file not found: no-such-file.json');
  });

  it('non-JSON file exits 2', async () => {
    const file = await writeScenario(dir, 'broken.json', '{ "version": 1,');

    const result = await runCli(['run', file], dir);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is not valid JSON');
  });

  it('flag value breaking the schema names both', async () => {
    const file = await writeScenario(dir, 'real.json', { ...shortScenario(), cpuModel: 'real' });

    const result = await runCli(['validate', file], dir);
    expect(result.code).toBe(0);

    const run = await runCli(['run', file, '--vcpus', '32'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('servers.vcpus');
    expect(run.stderr).toContain('--vcpus');
  });

  it('validate accepts a valid file', async () => {
    const result = await runCli(['validate', validFile], dir);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid scenario "CLI test run"');
  });
});

describe('invalid flags', () => {
  const cases: Array<{ args: string[]; flag: string; accepted: string }> = [
    { args: ['--servers', '0'], flag: '--servers', accepted: 'from 1 to 64' },
    { args: ['--servers', '2.5'], flag: '--servers', accepted: 'from 1 to 64' },
    { args: ['--vcpus', '65'], flag: '--vcpus', accepted: 'from 1 to 64' },
    { args: ['--rate', '-1'], flag: '--rate', accepted: 'from 0 to 5000000' },
    { args: ['--rate', 'lots'], flag: '--rate', accepted: 'from 0 to 5000000' },
    { args: ['--duration', '10'], flag: '--duration', accepted: '500ms to 24h' },
    { args: ['--duration', '100ms'], flag: '--duration', accepted: '500ms to 24h' },
    { args: ['--cpu-model', 'fast'], flag: '--cpu-model', accepted: 'virtual, real' },
    { args: ['--seed', '-3'], flag: '--seed', accepted: 'from 0 to 2147483647' },
    { args: ['--rows', 'minute'], flag: '--rows', accepted: 'second, tick' },
  ];

  for (const { args, flag, accepted } of cases) {
    it(`run ${args.join(' ')} exits 2`, async () => {
      const result = await runCli(['run', validFile, ...args], dir);

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(flag);
      expect(result.stderr).toContain(accepted);
    });
  }

  it('web --port 70000 exits 2', async () => {
    const result = await runCli(['web', '--port', '70000'], dir);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--port');
    expect(result.stderr).toContain('from 0 to 65535');
  });

  it('unknown flag exits 2', async () => {
    const result = await runCli(['run', validFile, '--servrs', '3'], dir);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--servrs'");
  });
});
