import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findElectronBinary } from '../../scripts/electron-binary.js';
import { repoRoot } from '../fixtures/built-engine.ts';

// Launches the built app in Electron and checks the window's security settings. Machines without
// the Electron binary (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1) skip this file.

const electron = findElectronBinary();
if (!electron.found) {
  console.warn(`Skipping the Electron end-to-end tests: the Electron binary is absent (${electron.reason}).`);
}

describe.skipIf(!electron.found)('Electron app', () => {
  let userDataDir: string;
  let app: ElectronApplication;
  let appWindow: Page;

  beforeAll(async () => {
    if (!electron.found) return;
    userDataDir = await mkdtemp(join(tmpdir(), 'scalelab-electron-e2e-'));
    const binding = electronSqliteBinding();
    app = await _electron.launch({
      executablePath: electron.path,
      args: [repoRoot, `--user-data-dir=${userDataDir}`],
      env: { ...process.env, ...(binding ? { SCALELAB_SQLITE_BINDING: binding } : {}) },
    });
    appWindow = await app.firstWindow();
    await appWindow.waitForLoadState('domcontentloaded');
  });

  afterAll(async () => {
    await app?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  it('isolates and sandboxes the window', async () => {
    const preferences = await app.evaluate(({ BrowserWindow }) => {
      const [first] = BrowserWindow.getAllWindows();
      // Electron keeps each window's effective preferences but leaves this getter out of its typings.
      const contents = first.webContents as unknown as { getLastWebPreferences?: () => Electron.WebPreferences | null };
      if (!contents.getLastWebPreferences) throw new Error('webContents.getLastWebPreferences() is missing in this Electron version');
      const settings = contents.getLastWebPreferences();
      return {
        contextIsolation: settings?.contextIsolation,
        sandbox: settings?.sandbox,
        nodeIntegration: settings?.nodeIntegration,
      };
    });
    expect(preferences.contextIsolation).toBe(true);
    expect(preferences.sandbox).toBe(true);
    expect(preferences.nodeIntegration).toBe(false);
  });

  it('exposes only the named API to the page', async () => {
    const page = await appWindow.evaluate(() => ({
      apiKeys: Object.keys(window.scalelab ?? {}).sort(),
      hasRequire: typeof (globalThis as { require?: unknown }).require !== 'undefined',
      hasProcess: typeof (globalThis as { process?: unknown }).process !== 'undefined',
    }));
    expect(page.apiKeys).toEqual(['command', 'listPresets', 'onPush', 'start', 'status', 'stop']);
    expect(page.hasRequire).toBe(false);
    expect(page.hasProcess).toBe(false);
  });

  it('answers a status request over IPC', async () => {
    const status = await appWindow.evaluate(() => window.scalelab!.status());
    expect(status.state).toBe('idle');
  });
});

/** Returns the better-sqlite3 binding that scripts/start-electron.js built for Electron, if any. */
function electronSqliteBinding(): string | undefined {
  const nativeRoot = join(repoRoot, '.electron-native');
  if (!existsSync(nativeRoot)) return undefined;
  const folder = readdirSync(nativeRoot).find((name) => name.startsWith(`electron-${electron.version}-`));
  return folder ? join(nativeRoot, folder, 'better_sqlite3.node') : undefined;
}
