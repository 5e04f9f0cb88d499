import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Logger } from 'pino';
import type { RunReport, ServerPush } from '../engine/api/protocol.ts';
import { subsystemLogger } from '../engine/log.ts';

/** Reply value of a save-report request. */
export interface SavedReport {
  /** The file name as written, with ".json" added when it was missing. */
  fileName: string;
  /** Absolute path of the written file, after following symlinks to the reports folder. */
  path: string;
  bytes: number;
}

export interface SaveOptions {
  /** Replace a file of the same name. Without it, an existing file makes the save fail. */
  overwrite?: boolean;
}

/**
 * Maximum length of a report file name in UTF-8 bytes, ".json" included. Linux file systems
 * (ext4, XFS, btrfs) allow 255 bytes per name and NTFS and APFS 255 characters, so this fits all.
 */
export const MAX_REPORT_FILE_NAME_BYTES = 255;

/**
 * Letters and digits of any script, then those or spaces, dots, "_", "-", "(", ")" and "+". The
 * first character is never a dot, so no name can be "." or ".." or hide a file, and temporary
 * files (which start with a dot) never collide with a report.
 */
const FILE_NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._()+-]*$/u;

/** Device names that Windows reserves in every folder, with or without an extension. */
const WINDOWS_RESERVED_NAME = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

const ACCEPTED_FILE_NAMES =
  `a plain file name such as "single-server-2025-01-31.json": letters, digits, spaces, ".", "_", "-", "(", ")" or "+", ` +
  `starting with a letter or digit, at most ${MAX_REPORT_FILE_NAME_BYTES} bytes with ".json", and no folder`;

/** A file name that is not a plain name inside the reports folder. */
export class ReportFileNameError extends Error {
  readonly code = 'ERR_INVALID_REPORT_FILE_NAME';
  constructor(
    fileName: string,
    readonly reason: string,
  ) {
    super(`Invalid fileName ${quoteForMessage(fileName)}: it ${reason}. Expected ${ACCEPTED_FILE_NAMES}.`);
    this.name = 'ReportFileNameError';
  }
}

/** The target name is taken and the request did not ask to overwrite it, or it names a folder. */
export class ReportExistsError extends Error {
  readonly code = 'ERR_REPORT_EXISTS';
  constructor(message: string) {
    super(message);
    this.name = 'ReportExistsError';
  }
}

/** A save request arrived before any run finished. */
export class NoReportError extends Error {
  readonly code = 'ERR_NO_REPORT';
  constructor() {
    super('No finished run to save yet: start a run, let it finish or stop it, then save the report.');
    this.name = 'NoReportError';
  }
}

/**
 * Keeps the report of the last finished run in memory and writes it as JSON into one reports
 * folder. Every file it writes lies directly in that folder. Names with separators, "..", NUL
 * bytes or other characters outside a small set are rejected before the file system is touched.
 * A symlink in the folder that resolves elsewhere is rejected too.
 */
export class ReportStore {
  private lastReport: RunReport | null = null;

  constructor(
    /** The folder reports are written to. It is created on the first save. */
    readonly reportsDir: string,
    private readonly log: Logger = subsystemLogger('reports'),
  ) {}

  /** The report of the last finished run, or null before any run finished. */
  get report(): RunReport | null {
    return this.lastReport;
  }

  remember(report: RunReport): void {
    this.lastReport = report;
  }

  /** Keeps each report the engine pushes when a run finishes, and returns the unsubscribe function. */
  watch(engine: { subscribe(listener: (push: ServerPush) => void): () => void }): () => void {
    return engine.subscribe((push) => {
      if (push.type === 'finished') this.remember(push.report);
    });
  }

  /**
   * Writes the last report to `<reportsDir>/<fileName>`, adding ".json" when the name lacks it.
   * Rejects with ReportFileNameError, ReportExistsError or NoReportError, and logs one line with
   * the reason for each rejection.
   */
  async save(fileName: string, options: SaveOptions = {}): Promise<SavedReport> {
    try {
      return await this.write(fileName, options.overwrite === true);
    } catch (error) {
      const loggedName = fileName.slice(0, 300);
      if (error instanceof ReportFileNameError) {
        this.log.warn({ fileName: loggedName, code: error.code, reason: error.reason }, 'rejected a report save');
      } else if (error instanceof ReportExistsError || error instanceof NoReportError) {
        this.log.warn({ fileName: loggedName, code: error.code, reason: error.message }, 'rejected a report save');
      } else {
        this.log.error({ fileName: loggedName, reportsDir: this.reportsDir, err: error }, 'saving a report failed');
      }
      throw error;
    }
  }

  private async write(fileName: string, overwrite: boolean): Promise<SavedReport> {
    const finalName = checkFileName(fileName);
    const report = this.lastReport;
    if (!report) throw new NoReportError();

    const folder = await this.openFolder();
    const target = join(folder, finalName);
    if (!isInside(folder, target)) throw new ReportFileNameError(fileName, 'resolves outside the reports folder');
    await checkTarget(fileName, folder, target, finalName, overwrite);

    const text = `${JSON.stringify(report, null, 2)}\n`;
    const bytes = Buffer.byteLength(text);
    // The report goes to a temporary file first and reaches its name only in one rename or link,
    // so a crash leaves at most a stray temporary file, never a half-written report.
    const temporary = join(folder, `.saving-${randomBytes(8).toString('hex')}.tmp`);
    try {
      await writeDurably(temporary, text);
      if (overwrite) {
        // rename replaces a symlink at the target rather than following it, so a link placed
        // there after the check above still cannot make this write land outside the folder.
        await rename(temporary, target);
      } else {
        await linkWithoutOverwrite(temporary, target, finalName, folder);
      }
    } finally {
      await unlink(temporary).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') this.log.warn({ err: error, path: temporary }, 'could not remove a temporary report file');
      });
    }
    await syncFolder(folder);

    this.log.info({ path: target, bytes, overwrite }, 'saved a report');
    return { fileName: finalName, path: target, bytes };
  }

  /** Creates the reports folder when missing and returns its real path. */
  private async openFolder(): Promise<string> {
    await mkdir(this.reportsDir, { recursive: true });
    const folder = await realpath(this.reportsDir);
    const info = await lstat(folder);
    if (!info.isDirectory()) throw new Error(`Reports folder ${folder} is not a folder: remove the file or choose another folder`);
    return folder;
  }
}

/** Returns the name to write (with ".json"), or throws ReportFileNameError with the reason. */
export function checkFileName(fileName: string): string {
  if (fileName.length === 0) throw new ReportFileNameError(fileName, 'is empty');
  if (fileName.includes('\0')) throw new ReportFileNameError(fileName, 'contains a NUL byte');
  if (fileName.startsWith('/') || /^[A-Za-z]:/.test(fileName) || fileName.startsWith('\\\\')) {
    throw new ReportFileNameError(fileName, 'is an absolute path');
  }
  if (fileName.includes('/') || fileName.includes('\\')) throw new ReportFileNameError(fileName, 'contains a path separator');
  if (!/^[\p{L}\p{N}]/u.test(fileName)) throw new ReportFileNameError(fileName, 'does not start with a letter or digit');
  if (!FILE_NAME_PATTERN.test(fileName)) throw new ReportFileNameError(fileName, 'contains a character that is not accepted');

  const finalName = fileName.toLowerCase().endsWith('.json') ? fileName : `${fileName}.json`;
  if (Buffer.byteLength(finalName) > MAX_REPORT_FILE_NAME_BYTES) {
    throw new ReportFileNameError(fileName, `is longer than ${MAX_REPORT_FILE_NAME_BYTES} bytes in UTF-8 with ".json"`);
  }
  if (WINDOWS_RESERVED_NAME.test(finalName)) throw new ReportFileNameError(fileName, 'is a device name that Windows reserves');
  return finalName;
}

/**
 * Rejects a target that is a folder, a symlink leading outside the reports folder (even with
 * `overwrite`), or, without `overwrite`, any existing entry.
 */
async function checkTarget(fileName: string, folder: string, target: string, finalName: string, overwrite: boolean): Promise<void> {
  let info;
  try {
    info = await lstat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (info.isSymbolicLink()) {
    const real = await realpath(target).catch(() => null);
    if (real === null || !isInside(folder, real)) {
      throw new ReportFileNameError(fileName, 'names a symbolic link that resolves outside the reports folder');
    }
  }
  if (info.isDirectory()) throw new ReportExistsError(`A folder named "${finalName}" already exists in ${folder}: choose another fileName`);
  if (!overwrite) {
    throw new ReportExistsError(`Report file "${finalName}" already exists in ${folder}: choose another fileName, or set overwrite to replace it`);
  }
}

/**
 * Gives the temporary file its final name only if that name is free. link fails with EEXIST
 * atomically, so a file created between the check and this call is never replaced.
 */
async function linkWithoutOverwrite(temporary: string, target: string, finalName: string, folder: string): Promise<void> {
  try {
    await link(temporary, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new ReportExistsError(`Report file "${finalName}" already exists in ${folder}: choose another fileName, or set overwrite to replace it`);
    }
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
    // NOTE: file systems without hard links (FAT, some network shares) fall back to check then
    // rename, which can replace a file created by another process in between.
    const existing = await lstat(target).catch(() => null);
    if (existing) throw new ReportExistsError(`Report file "${finalName}" already exists in ${folder}: choose another fileName, or set overwrite to replace it`);
    await rename(temporary, target);
  }
}

/** Writes `text` to a new file (failing if the path exists) and flushes it to disk before closing. */
async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Flushes the folder entry so the new name survives a power loss. Windows cannot open folders and
 * some file systems reject fsync on them. The report is complete either way, so failures are ignored.
 */
async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(folder, 'r').catch(() => null);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // The file itself was synced before it got its name, so only the folder entry may be lost.
  } finally {
    await handle.close();
  }
}

function isInside(folder: string, candidate: string): boolean {
  const prefix = folder.endsWith(sep) ? folder : folder + sep;
  return candidate.startsWith(prefix) && candidate.length > prefix.length;
}

/** Quotes a user-supplied name for an error message, escaping control characters and cutting long names. */
function quoteForMessage(fileName: string): string {
  const truncated = fileName.length > 80 ? `${fileName.slice(0, 80)}…` : fileName;
  return JSON.stringify(truncated);
}
