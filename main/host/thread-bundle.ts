import * as esbuild from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { subsystemLogger } from '../engine/log.ts';
import { threadSources, type ThreadFiles } from './thread-sources.ts';

const log = subsystemLogger('engine-host');
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Bundles the thread entries into plain JavaScript with esbuild. A thread that loads TypeScript
 * through tsx runs a loader-hooks thread of its own and transpiles on start, which costs about
 * 35 MiB and a second per server; bundled files start in a fraction of that. The bundles live
 * under node_modules/.cache so that their package imports resolve, one folder per process,
 * removed when the process exits.
 */
export async function bundleThreadFiles(): Promise<ThreadFiles> {
  const sources = threadSources();
  const outdir = path.join(projectRoot, 'node_modules', '.cache', 'scalelab-threads', `${process.pid}-${Date.now()}`);
  mkdirSync(outdir, { recursive: true });
  process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
  await esbuild.build({
    entryPoints: {
      'engine-thread': sources.engineThread,
      'web-server.worker': sources.webServerWorker,
      'db-node.worker': sources.dbNodeWorker,
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outdir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
  });
  log.debug({ outdir }, 'bundled the thread entries');
  return {
    engineThread: path.join(outdir, 'engine-thread.mjs'),
    webServerWorker: path.join(outdir, 'web-server.worker.mjs'),
    dbNodeWorker: path.join(outdir, 'db-node.worker.mjs'),
  };
}
