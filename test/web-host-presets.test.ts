import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPresetName, listPresets, resolvePreset } from '../main/host/presets.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scalelab-presets-'));
  await writeFile(join(dir, 'b-single.json'), JSON.stringify({ version: 1, name: 'Single', duration: '30s', load: { rateRps: 50 } }));
  await writeFile(join(dir, 'a-fleet.json'), JSON.stringify({ version: 1, name: 'Fleet', duration: '1m', load: { rateRps: 500 }, servers: { count: 8 } }));
  await writeFile(join(dir, 'not-json.json'), '{ version: 1');
  await writeFile(join(dir, 'bad-servers.json'), JSON.stringify({ version: 1, name: 'Bad', duration: '1m', load: { rateRps: 5 }, servers: { count: 100 } }));
  await writeFile(join(dir, 'notes.txt'), 'not a preset');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('presets', () => {
  it('lists valid presets sorted by file', async () => {
    const list = await listPresets(dir);
    expect(list.presets.map((preset) => preset.file)).toEqual(['a-fleet.json', 'b-single.json']);
    expect(list.presets[0].name).toBe('Fleet');
  });

  it('reports broken presets with the reason', async () => {
    const list = await listPresets(dir);
    const byFile = Object.fromEntries(list.invalid.map((invalid) => [invalid.file, invalid.error]));
    expect(Object.keys(byFile).sort()).toEqual(['bad-servers.json', 'not-json.json']);
    expect(byFile['bad-servers.json']).toContain('servers.count');
    expect(byFile['not-json.json']).toContain('not valid JSON');
  });

  it('resolves a preset by file name', async () => {
    const preset = await resolvePreset(dir, 'b-single.json');
    expect(preset.scenario.load.rateRps).toBe(50);
  });

  it('rejects a missing preset', async () => {
    await expect(resolvePreset(dir, 'missing.json')).rejects.toThrow('file not found');
  });

  const unsafeNames = ['../b-single.json', '/etc/passwd', 'sub/b-single.json', 'sub\\b-single.json', '..json', '.hidden.json', 'b-single', 'b-single.json\0.txt', ''];
  for (const name of unsafeNames) {
    it(`rejects preset name ${JSON.stringify(name)}`, () => {
      expect(() => assertPresetName(name)).toThrow('Invalid preset name');
    });
  }
});
