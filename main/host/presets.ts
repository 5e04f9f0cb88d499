import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PresetInfo, ScenarioInput } from '../engine/api/protocol.ts';
import { scenarioSchema } from '../engine/api/scenario.ts';
import { describeIssues } from '../engine/api/units.ts';

/** A preset file that could not be used, with the reason shown to the user. */
export interface InvalidPreset {
  file: string;
  error: string;
}

/** The reply value of a list-presets request. */
export interface PresetList {
  presets: PresetInfo[];
  invalid: InvalidPreset[];
}

/** A preset name that is not a plain *.json file name in the presets folder. */
export class PresetNameError extends Error {
  readonly code = 'ERR_INVALID_PRESET_NAME';
  constructor(name: string) {
    super(`Invalid preset name ${JSON.stringify(name)}: expected a file name such as "single-server.json" without a folder`);
    this.name = 'PresetNameError';
  }
}

/**
 * The shipped presets from the simplest concept to the most advanced, so the picker reads as a
 * course and opens on the single server. Files not listed here follow, sorted by name.
 */
const PRESET_ORDER = [
  'single-server.json',
  'scale-out.json',
  'vertical-ceiling.json',
  'vertical-vs-horizontal.json',
  'vertical-vs-horizontal-8x1.json',
  'health-checks.json',
  'closed-model.json',
  'read-replicas.json',
  'primary-failover.json',
];

/** Compares preset file names by their place in PRESET_ORDER, then by name. */
function comparePresetFiles(a: string, b: string): number {
  const rank = (file: string) => {
    const index = PRESET_ORDER.indexOf(file);
    return index === -1 ? PRESET_ORDER.length : index;
  };
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/**
 * Reads every *.json file in `presetsDir` and validates it as a scenario. A broken file is listed
 * under `invalid` with the field that failed, so one bad preset never hides the others.
 */
export async function listPresets(presetsDir: string): Promise<PresetList> {
  const entries = await readdir(presetsDir, { withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) => entry.name)
    .sort(comparePresetFiles);

  const presets: PresetInfo[] = [];
  const invalid: InvalidPreset[] = [];
  for (const file of files) {
    const result = await readPreset(presetsDir, file);
    if ('error' in result) invalid.push({ file, error: result.error });
    else presets.push(result.preset);
  }
  return { presets, invalid };
}

/**
 * Loads one preset by file name. Rejects names that could leave the presets folder (separators,
 * "..", absolute paths) before touching the file system.
 */
export async function resolvePreset(presetsDir: string, name: string): Promise<PresetInfo> {
  assertPresetName(name);
  const result = await readPreset(presetsDir, name);
  if ('error' in result) throw new Error(`Preset ${name} is invalid: ${result.error}`);
  return result.preset;
}

/** Throws a PresetNameError unless `name` is a bare "*.json" file name. */
export function assertPresetName(name: string): void {
  const plainName = /^[A-Za-z0-9][A-Za-z0-9._-]*\.json$/;
  if (!plainName.test(name) || name.includes('..')) throw new PresetNameError(name);
}

async function readPreset(presetsDir: string, file: string): Promise<{ preset: PresetInfo } | { error: string }> {
  let text: string;
  try {
    text = await readFile(join(presetsDir, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { error: 'file not found' };
    return { error: `could not be read (${code ?? String(error)})` };
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { error: `not valid JSON: ${(error as Error).message}` };
  }

  const parsed = scenarioSchema.safeParse(json);
  if (!parsed.success) return { error: describeIssues(parsed.error) };
  return {
    preset: {
      file,
      name: parsed.data.name,
      description: parsed.data.description,
      scenario: json as ScenarioInput,
    },
  };
}
