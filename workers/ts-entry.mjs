// Loads a TypeScript thread entry through tsx. Node 20 does not apply loader hooks from a
// worker's execArgv to the worker's own entry file, so TypeScript threads start here and import
// their real entry (workerData.tsEntry, a file URL) once tsx is registered. A piscina pool uses
// this file as its filename; the entry's default export becomes the task handler.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
const entry = await import(workerData.tsEntry);
export default entry.default;
