import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { subsystemLogger } from '../engine/log.ts';
import { startEngine } from '../host/engine-host.ts';
import { startWebHost } from '../host/web-host.ts';
import { UsageError } from './scenario-file.ts';

const log = subsystemLogger('cli');

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface WebFlags {
  port: number;
}

/**
 * Serves the built renderer (out/renderer) and the engine API to a browser on 127.0.0.1 until
 * Ctrl-C. It builds nothing itself, so a missing build is a usage error whose message names the build command.
 */
export async function webCommand(flags: WebFlags): Promise<number> {
  const staticDir = path.join(projectRoot, 'out', 'renderer');
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    throw new UsageError(`The built UI is missing (${staticDir}/index.html): run "npm run build" first, then "scalelab web" again`);
  }
  const presetsDir = path.join(projectRoot, 'scenarios');

  const engine = await startEngine();
  let host;
  try {
    host = await startWebHost({ engine, port: flags.port, host: '127.0.0.1', staticDir, presetsDir });
  } catch (error) {
    await engine.close().catch((closeError: unknown) => log.warn({ err: closeError }, 'closing the engine thread failed'));
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`--port: port ${flags.port} on 127.0.0.1 is already in use; choose another or pass --port 0 for a free one`);
    }
    throw error;
  }

  process.stdout.write(`ScaleLab is serving on 127.0.0.1:${host.port}. Open this address (it contains the access token):\n${host.url}\nPress Ctrl-C to stop.\n`);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  process.stderr.write('Stopping the web host and the engine\n');
  await host.close().catch((error: unknown) => log.warn({ err: error }, 'closing the web host failed'));
  await engine.close().catch((error: unknown) => log.warn({ err: error }, 'closing the engine thread failed'));
  return 0;
}
