import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ThreadFiles {
  engineThread: string;
  webServerWorker: string;
  dbNodeWorker: string;
}

/** Returns the TypeScript sources of the engine thread and the workers. */
export function threadSources(): ThreadFiles {
  return {
    engineThread: path.join(projectRoot, 'main', 'engine', 'engine-thread.ts'),
    webServerWorker: path.join(projectRoot, 'workers', 'web-server.worker.ts'),
    dbNodeWorker: path.join(projectRoot, 'workers', 'db-node.worker.ts'),
  };
}
