import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pino, { type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { HostMessage, RunReport, SerializedError } from '../main/engine/api/protocol.ts';
import type { EngineClient } from '../main/host/engine-client.ts';
import { handleClientRequest, type HostReply } from '../main/host/client-requests.ts';
import { NoReportError, ReportExistsError, ReportFileNameError, ReportStore, type SavedReport } from '../main/host/report-store.ts';
import { startWebHost, type WebHost } from '../main/host/web-host.ts';
import { startBuiltEngine } from './fixtures/built-engine.ts';

// Saving a finished run's report through the web host and the real engine, and the report store's
// checks on file names: nothing may be written outside the reports folder, whatever the name.

/** A run short and light enough to finish within a few seconds on a 2-core machine. */
const SHORT_RUN = { version: 1, name: 'Report store short run', duration: '2s', load: { rateRps: 20 } };

/** Temporary folder for the engine's data, the presets and the static page. */
let workDir: string;
/** Temporary folder that holds only the reports folder and a sibling "outside" folder; it is listed before and after each check. */
let sandbox: string;
/** Three levels below the sandbox, so "../../x" still lands inside the sandbox where the test can see it. */
let reportsDir: string;
let outsideDir: string;
let engine: EngineClient;
let web: WebHost;
let client: TestClient;
/** The report pushed when the short run finished; set by the web host test that runs it. */
let report: RunReport;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'scalelab-report-work-'));
  sandbox = await mkdtemp(join(tmpdir(), 'scalelab-report-sandbox-'));
  reportsDir = join(sandbox, 'home', 'user', 'reports');
  outsideDir = join(sandbox, 'outside');
  await mkdir(reportsDir, { recursive: true });
  await mkdir(outsideDir);

  const staticDir = join(workDir, 'static');
  const presetsDir = join(workDir, 'presets');
  await mkdir(staticDir);
  await mkdir(presetsDir);
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>test page</title>');
  await writeFile(join(presetsDir, 'short.json'), JSON.stringify(SHORT_RUN));

  engine = await startBuiltEngine(join(workDir, 'data'));
  web = await startWebHost({ engine, port: 0, host: '127.0.0.1', staticDir, presetsDir, reportsDir });
  client = await connect(web);
});

afterAll(async () => {
  client?.close();
  await web?.close();
  await engine?.close();
  await rm(workDir, { recursive: true, force: true });
  await rm(sandbox, { recursive: true, force: true });
});

describe('save-report over the web host', () => {
  it('uses the reportsDir option', () => {
    expect(web.reportsDir).toBe(reportsDir);
  });

  it('rejects before any run finished', async () => {
    const before = await listTree(sandbox);
    const reply = await client.request({ type: 'save-report', fileName: 'early.json' });
    expect(errorOf(reply).code).toBe('ERR_NO_REPORT');
    expect(errorOf(reply).message).toContain('No finished run to save yet');
    expect(await listTree(sandbox)).toEqual(before);
  });

  it('saves the finished run as JSON', async () => {
    const started = await client.request({ type: 'start', preset: 'short.json' });
    expect(started.ok).toBe(true);
    report = await client.finished(30_000);

    const reply = await client.request({ type: 'save-report', fileName: 'first-run' });
    const saved = valueOf(reply) as SavedReport;
    const realReportsDir = await realpath(reportsDir);
    expect(saved.fileName).toBe('first-run.json');
    expect(saved.path).toBe(join(realReportsDir, 'first-run.json'));

    const text = await readFile(saved.path, 'utf8');
    expect(Buffer.byteLength(text)).toBe(saved.bytes);
    const written = JSON.parse(text) as RunReport;
    expect(written.format).toBe('scalelab-report');
    expect(written.scenario.name).toBe(SHORT_RUN.name);
    expect(written.summary).toEqual(report.summary);
    expect(written.summary.sent).toBeGreaterThan(0);
    expect(await readdir(reportsDir)).toEqual(['first-run.json']);
  });

  it('rejects an existing name without overwrite', async () => {
    const path = join(reportsDir, 'first-run.json');
    const before = await readFile(path, 'utf8');
    const reply = await client.request({ type: 'save-report', fileName: 'first-run.json' });
    expect(errorOf(reply).code).toBe('ERR_REPORT_EXISTS');
    expect(errorOf(reply).message).toContain('already exists');
    expect(errorOf(reply).message).toContain('overwrite');
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('replaces an existing file with overwrite', async () => {
    const path = join(reportsDir, 'first-run.json');
    await writeFile(path, 'an older report');
    const reply = await client.request({ type: 'save-report', fileName: 'first-run.json', overwrite: true });
    expect(reply.ok).toBe(true);
    expect((JSON.parse(await readFile(path, 'utf8')) as RunReport).summary).toEqual(report.summary);
    expect(await readdir(reportsDir)).toEqual(['first-run.json']);
  });

  it('rejects a traversal name naming fileName', async () => {
    const before = await listTree(sandbox);
    const reply = await client.request({ type: 'save-report', fileName: '../../x' });
    expect(errorOf(reply).code).toBe('ERR_INVALID_REPORT_FILE_NAME');
    expect(errorOf(reply).message).toContain('Invalid fileName "../../x"');
    expect(errorOf(reply).message).toContain('Expected a plain file name');
    expect(await listTree(sandbox)).toEqual(before);
  });

  it('rejects a fileName that is not a string', async () => {
    const reply = await client.request({ type: 'save-report', fileName: 42 });
    expect(errorOf(reply).code).toBe('ERR_INVALID_INPUT');
    expect(errorOf(reply).message).toContain('fileName');
  });

  it('rejects a very long fileName in the schema', async () => {
    const reply = await client.request({ type: 'save-report', fileName: 'a'.repeat(5000) });
    expect(errorOf(reply).code).toBe('ERR_INVALID_INPUT');
    expect(errorOf(reply).message).toContain('fileName');
  });

  it('rejects an unknown field', async () => {
    const reply = await client.request({ type: 'save-report', fileName: 'x.json', path: '/tmp' });
    expect(errorOf(reply).code).toBe('ERR_INVALID_INPUT');
    expect(errorOf(reply).message).toContain('path');
  });
});

/** [case, file name, words the reason contains]. "<outside>" is a placeholder for the absolute path of the sibling folder. */
const HOSTILE_NAMES: [string, string, string][] = [
  ['parent traversal', '../../x', 'path separator'],
  ['deeper traversal with .json', '../../../x.json', 'path separator'],
  ['traversal back into the folder', '../reports/x.json', 'path separator'],
  ['dot dot', '..', 'does not start with a letter or digit'],
  ['dot', '.', 'does not start with a letter or digit'],
  ['slash in the middle', 'sub/x.json', 'path separator'],
  ['backslash', 'sub\\x.json', 'path separator'],
  ['Windows traversal', '..\\..\\x.json', 'path separator'],
  ['absolute POSIX path', '/etc/passwd', 'absolute path'],
  ['Windows drive path', 'C:\\x.json', 'absolute path'],
  ['Windows drive-relative path', 'C:x.json', 'absolute path'],
  ['UNC path', '\\\\server\\share\\x.json', 'absolute path'],
  ['NUL byte', 'x\0.json', 'NUL byte'],
  ['NUL byte before a traversal', 'x.json\0/../../y', 'NUL byte'],
  ['empty name', '', 'is empty'],
  ['name over 255 bytes', 'a'.repeat(251), 'longer than 255 bytes'],
  ['multibyte name over 255 bytes', 'é'.repeat(126), 'longer than 255 bytes'],
  ['hidden file', '.bashrc', 'does not start with a letter or digit'],
  ['leading space', ' x.json', 'does not start with a letter or digit'],
  ['home folder', '~', 'does not start with a letter or digit'],
  ['newline', 'x\n.json', 'not accepted'],
  ['colon stream', 'x.json:stream', 'not accepted'],
  ['wildcard', 'x*.json', 'not accepted'],
  ['Windows device name', 'con', 'device name'],
  ['Windows device name with extension', 'NUL.json', 'device name'],
  ['absolute path into the outside folder', '<outside>/abs.json', 'absolute path'],
];

describe('report store file names', () => {
  for (const [name, fileName, reason] of HOSTILE_NAMES) {
    it(`rejects ${name}`, async () => {
      const target = fileName.replace('<outside>', outsideDir);
      const { store, lines } = storeWithCapturedLog();
      store.remember(report);
      const before = await listTree(sandbox);

      const error = await store.save(target).then(
        () => null,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(ReportFileNameError);
      expect((error as Error).message).toContain('Invalid fileName');
      expect((error as Error).message).toContain(reason);
      expect((error as Error).message).toContain('Expected a plain file name');
      expect(await listTree(sandbox)).toEqual(before);
      expect(lines).toHaveLength(1);
      expect(lines[0].reason).toContain(reason);
    });
  }

  it('accepts letters of other scripts', async () => {
    const { store } = storeWithCapturedLog();
    store.remember(report);
    const saved = await store.save('Bericht über Läufe (1)+Ω');
    expect(saved.fileName).toBe('Bericht über Läufe (1)+Ω.json');
    await rm(saved.path);
  });

  it('accepts a name of exactly 255 bytes', async () => {
    const { store } = storeWithCapturedLog();
    store.remember(report);
    const saved = await store.save(`${'b'.repeat(250)}.json`);
    expect(Buffer.byteLength(saved.fileName)).toBe(255);
    await rm(saved.path);
  });
});

describe('report store symlinks and existing entries', () => {
  it('rejects a symlink pointing outside', async () => {
    const outsideFile = join(outsideDir, 'target.json');
    await writeFile(outsideFile, 'ORIGINAL');
    await symlink(outsideFile, join(reportsDir, 'link.json'));
    const { store, lines } = storeWithCapturedLog();
    store.remember(report);
    const before = await listTree(sandbox);

    for (const overwrite of [false, true]) {
      const error = await store.save('link.json', { overwrite }).catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(ReportFileNameError);
      expect((error as Error).message).toContain('Invalid fileName "link.json"');
      expect((error as Error).message).toContain('resolves outside the reports folder');
    }
    expect(await readFile(outsideFile, 'utf8')).toBe('ORIGINAL');
    expect(await listTree(sandbox)).toEqual(before);
    expect(lines).toHaveLength(2);
    await rm(join(reportsDir, 'link.json'));
  });

  it('rejects a dangling symlink pointing outside', async () => {
    const missing = join(outsideDir, 'missing.json');
    await symlink(missing, join(reportsDir, 'dangling.json'));
    const { store } = storeWithCapturedLog();
    store.remember(report);
    const before = await listTree(sandbox);

    const error = await store.save('dangling.json', { overwrite: true }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ReportFileNameError);
    expect(await listTree(sandbox)).toEqual(before);
    await rm(join(reportsDir, 'dangling.json'));
  });

  it('replaces a symlink inside, not its target', async () => {
    const kept = join(reportsDir, 'kept.json');
    await writeFile(kept, 'KEPT');
    await symlink(kept, join(reportsDir, 'alias.json'));
    const { store } = storeWithCapturedLog();
    store.remember(report);

    const rejection = await store.save('alias.json').catch((failure: unknown) => failure);
    expect(rejection).toBeInstanceOf(ReportExistsError);

    const saved = await store.save('alias.json', { overwrite: true });
    expect(await readFile(kept, 'utf8')).toBe('KEPT');
    expect((JSON.parse(await readFile(saved.path, 'utf8')) as RunReport).summary).toEqual(report.summary);
    await rm(kept);
    await rm(saved.path);
  });

  it('rejects a folder at the name', async () => {
    await mkdir(join(reportsDir, 'folder.json'));
    const { store } = storeWithCapturedLog();
    store.remember(report);
    const error = await store.save('folder.json', { overwrite: true }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ReportExistsError);
    expect((error as Error).message).toContain('folder');
    await rm(join(reportsDir, 'folder.json'), { recursive: true });
  });

  it('writes through a symlinked reports folder', async () => {
    const realFolder = join(sandbox, 'real-reports');
    await mkdir(realFolder);
    const linkedFolder = join(sandbox, 'linked-reports');
    await symlink(realFolder, linkedFolder);
    const store = new ReportStore(linkedFolder, silentLogger());
    store.remember(report);

    const saved = await store.save('linked');
    expect(saved.path).toBe(join(await realpath(realFolder), 'linked.json'));
    await rm(linkedFolder);
    await rm(realFolder, { recursive: true });
  });
});

describe('report store writes', () => {
  it('rejects before any run finished', async () => {
    const { store, lines } = storeWithCapturedLog(join(sandbox, 'never-created'));
    const before = await listTree(sandbox);
    const error = await store.save('x.json').catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(NoReportError);
    expect(await listTree(sandbox)).toEqual(before);
    expect(lines).toHaveLength(1);
    expect(lines[0].code).toBe('ERR_NO_REPORT');
  });

  it('creates a missing reports folder', async () => {
    const folder = join(sandbox, 'new', 'reports');
    const store = new ReportStore(folder, silentLogger());
    store.remember(report);
    const saved = await store.save('created');
    expect(await readdir(folder)).toEqual(['created.json']);
    expect(saved.bytes).toBeGreaterThan(0);
    await rm(join(sandbox, 'new'), { recursive: true });
  });

  it('lets one of two concurrent saves win', async () => {
    const store = new ReportStore(reportsDir, silentLogger());
    store.remember(report);
    const results = await Promise.allSettled([store.save('race.json'), store.save('race.json')]);
    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(ReportExistsError);
    expect((JSON.parse(await readFile(join(reportsDir, 'race.json'), 'utf8')) as RunReport).summary).toEqual(report.summary);
    await rm(join(reportsDir, 'race.json'));
  });

  it('leaves no temporary files', async () => {
    const store = new ReportStore(reportsDir, silentLogger());
    store.remember(report);
    await store.save('tidy');
    await store.save('tidy', { overwrite: true });
    await store.save('tidy').catch(() => null);
    const names = await readdir(reportsDir);
    expect(names.filter((entry) => entry.startsWith('.'))).toEqual([]);
    await rm(join(reportsDir, 'tidy.json'));
  });

  it('logs one line per rejected request', async () => {
    const { store, log, lines } = storeWithCapturedLog();
    store.remember(report);
    const reply = await handleClientRequest({ type: 'save-report', id: 9, fileName: '../../x' }, { engine, presetsDir: workDir, reports: store, log });
    expect(reply.ok).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0].msg).toBe('rejected a report save');
    expect(lines[0].reason).toBe('contains a path separator');

    const invalid = await handleClientRequest({ type: 'save-report', id: 10, fileName: null }, { engine, presetsDir: workDir, reports: store, log });
    expect(invalid.ok).toBe(false);
    expect(lines).toHaveLength(2);
    expect(String(lines[1].reason)).toContain('fileName');
  });
});

/** Lists every entry under `folder` as sorted relative paths, symlinks included but not followed. */
async function listTree(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.map((entry) => relative(folder, join(entry.parentPath, entry.name))).sort();
}

function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Creates a store on `folder` and collects its parsed log lines in `lines`. */
function storeWithCapturedLog(folder = reportsDir): { store: ReportStore; log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (text: string) => lines.push(JSON.parse(text) as Record<string, unknown>) });
  return { store: new ReportStore(folder, log), log, lines };
}

interface TestClient {
  /** Sends a request with a fresh id and waits for its reply. */
  request(body: Record<string, unknown>): Promise<HostReply>;
  /** Waits for the next finished push and returns its report. */
  finished(timeoutMs: number): Promise<RunReport>;
  close(): void;
}

async function connect(host: WebHost): Promise<TestClient> {
  const socket = new WebSocket(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`);
  const waiting = new Map<number, (reply: HostReply) => void>();
  const reports: RunReport[] = [];
  let onReport: (() => void) | null = null;
  let nextId = 1;
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as HostMessage;
    if (message.type === 'reply') waiting.get(message.id)?.(message);
    if (message.type === 'finished') {
      reports.push(message.report);
      onReport?.();
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });

  return {
    request(body) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`No reply to ${String(body.type)} (id ${id}) within 30 s`)), 30_000);
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(reply);
        });
        socket.send(JSON.stringify({ ...body, id }));
      });
    },
    finished(timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`No finished push within ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          const next = reports.shift();
          if (!next) return;
          clearTimeout(timer);
          onReport = null;
          resolve(next);
        };
        onReport = check;
        check();
      });
    },
    close: () => socket.close(),
  };
}

/** Returns the error of a failed reply; throws if the reply succeeded. */
function errorOf(reply: HostReply): SerializedError {
  if (reply.ok) throw new Error(`Expected a failed reply, received ${JSON.stringify(reply)}`);
  return reply.error;
}

/** Returns the value of a successful reply; throws if the reply failed. */
function valueOf(reply: HostReply): unknown {
  if (!reply.ok) throw new Error(`Expected a successful reply, received ${JSON.stringify(reply)}`);
  return reply.value;
}
