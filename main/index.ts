import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, session } from 'electron';
import type { EngineClient } from './host/engine-client.ts';
import { startEngine } from './host/engine-host.ts';
import { subsystemLogger } from './engine/log.ts';
import { registerIpc } from './ipc/register-ipc.ts';
import { ReportStore } from './host/report-store.ts';

// Electron main process. The engine runs in its own worker thread, created by startEngine, so
// this thread only owns the window and relays IPC. The built files sit side by side in out/:
// out/main/index.js (this file), out/main/*.worker.js, out/preload/preload.cjs, out/renderer/.

const log = subsystemLogger('electron-main');
const outDir = join(import.meta.dirname, '..');
const rendererPage = join(outDir, 'renderer', 'index.html');
const presetsDir = app.isPackaged ? join(process.resourcesPath, 'scenarios') : join(app.getAppPath(), 'scenarios');

let engine: EngineClient | null = null;
let removeIpc: (() => void) | null = null;

async function main(): Promise<void> {
  await app.whenReady();
  denyPermissions();

  let started: EngineClient;
  try {
    started = await startEngine({
      engineThread: join(import.meta.dirname, 'engine-thread.js'),
      webServerWorker: join(import.meta.dirname, 'web-server.worker.js'),
      dbNodeWorker: join(import.meta.dirname, 'db-node.worker.js'),
      // The thread files are built JavaScript, so no TypeScript loader is needed.
      loader: null,
      dataRoot: join(app.getPath('userData'), 'runs'),
      nativeBinding: electronSqliteBinding(),
    });
  } catch (error) {
    log.fatal({ err: error }, 'engine failed to start');
    dialog.showErrorBox('ScaleLab could not start its engine', (error as Error).message);
    app.exit(1);
    return;
  }
  engine = started;

  const reports = new ReportStore(join(app.getPath('userData'), 'reports'), subsystemLogger('reports'));
  reports.watch(started);

  const window = createWindow();
  removeIpc = registerIpc(window, pathToFileURL(rendererPage).href, { engine: started, presetsDir, reports, log: subsystemLogger('ipc') });
  await window.loadFile(rendererPage);
  log.info('window loaded');
}

/**
 * Returns the path of the better-sqlite3 binding built for Electron's ABI. scripts/start-electron.js
 * builds it into its own folder and passes the path in SCALELAB_SQLITE_BINDING, because
 * node_modules keeps the Node build that tests and the command line use.
 */
function electronSqliteBinding(): string | undefined {
  const binding = process.env.SCALELAB_SQLITE_BINDING;
  if (!binding) {
    log.warn('SCALELAB_SQLITE_BINDING is not set; the Node build of better-sqlite3 will likely fail to load in Electron');
    return undefined;
  }
  log.info({ binding }, 'using the Electron build of better-sqlite3');
  return binding;
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    title: 'ScaleLab',
    webPreferences: {
      preload: join(outDir, 'preload', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
    },
  });

  // The window shows only the bundled page: links and window.open never load other content in it.
  window.webContents.setWindowOpenHandler(({ url }) => {
    log.warn({ url }, 'blocked window.open');
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    log.warn({ url }, 'blocked navigation');
    event.preventDefault();
  });
  return window;
}

function denyPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_webContents, permission, callback) => {
    log.warn({ permission }, 'denied a permission request');
    callback(false);
  });
}

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !engine) return;
  // Stop the run and end the engine thread before exiting, so SQLite files are closed cleanly.
  event.preventDefault();
  quitting = true;
  removeIpc?.();
  engine
    .close()
    .catch((error: unknown) => log.error({ err: error }, 'engine did not close cleanly'))
    .finally(() => app.quit());
});

app.on('window-all-closed', () => app.quit());

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'ScaleLab failed to start');
  app.exit(1);
});
