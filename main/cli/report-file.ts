import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunReport } from '../engine/api/protocol.ts';
import { UsageError } from './scenario-file.ts';

/** The file a run's report goes to, and whether an existing file may be replaced. */
export interface ReportTarget {
  file: string;
  /** True when the user named the file with --out; a generated name never replaces a file. */
  chosen: boolean;
  overwrite: boolean;
}

/**
 * Decides the report file before the run starts, so a name clash is reported at once rather than
 * after the run. The default is reports/<scenario-name>-<timestamp>.json under `cwd`.
 */
export function reportTarget(options: { out?: string; force: boolean; scenarioName: string; cwd: string; now?: Date }): ReportTarget {
  if (options.out !== undefined) {
    const file = path.resolve(options.cwd, options.out);
    if (!options.force && existsSync(file)) {
      throw new UsageError(`--out: ${options.out} already exists; choose another file or pass --force to replace it`);
    }
    return { file, chosen: true, overwrite: options.force };
  }
  const stamp = (options.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const file = path.join(options.cwd, 'reports', `${slug(options.scenarioName)}-${stamp}.json`);
  return { file, chosen: false, overwrite: false };
}

/**
 * Writes the report as JSON and returns the file written. The file is created exclusively unless
 * overwriting was allowed. When another run took a generated name meanwhile, the name gets a "-2"
 * or "-3" suffix. A file named with --out that appeared meanwhile is an error.
 */
export async function writeReport(target: ReportTarget, report: RunReport): Promise<string> {
  await mkdir(path.dirname(target.file), { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  if (target.overwrite) {
    await writeFile(target.file, text);
    return target.file;
  }
  const extension = path.extname(target.file);
  const base = target.file.slice(0, target.file.length - extension.length);
  for (let attempt = 1; attempt <= 100; attempt++) {
    const file = attempt === 1 ? target.file : `${base}-${attempt}${extension}`;
    try {
      await writeFile(file, text, { flag: 'wx' });
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || target.chosen) throw error;
    }
  }
  throw new Error(`No free report file name next to ${target.file} after 100 attempts`);
}

/** Turns a scenario name into a file-name part: "Scale out" becomes "scale-out". */
export function slug(name: string): string {
  const text = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return text || 'run';
}
