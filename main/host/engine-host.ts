import { Worker } from 'node:worker_threads';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandInput, EngineMessage, EngineRequest, RunReport, RunStatus, ScenarioInput, SerializedError, ServerPush } from '../engine/api/protocol.ts';
import type { EngineOptions } from '../engine/engine.ts';
import type { EngineClient } from './engine-client.ts';
import { threadSources, type ThreadFiles } from './thread-sources.ts';
import { threadEntry } from '../../workers/shared/wire.ts';
import { subsystemLogger } from '../engine/log.ts';

const log = subsystemLogger('engine-host');

/** Where the engine's thread and its workers come from, and where runs keep their files. */
export interface EngineHostOptions {
  /** The engine thread's entry file (TypeScript source by default, or a built .js file). */
  engineThread?: string;
  webServerWorker?: string;
  dbNodeWorker?: string;
  /**
   * The loader every thread starts from so TypeScript sources run directly (workers/ts-entry.mjs
   * by default); null when the thread files are built JavaScript.
   */
  loader?: string | null;
  /** Folder under which each run gets its own data folder (default: a folder in the OS temp dir). */
  dataRoot?: string;
  /** A better-sqlite3 native binding to load instead of node_modules' (Electron needs its own build). */
  nativeBinding?: string;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Returns the thread files as TypeScript sources, with the tsx loader they start from. */
export function sourceWorkerFiles(): ThreadFiles & { loader: string } {
  return { ...threadSources(), loader: path.join(projectRoot, 'workers', 'ts-entry.mjs') };
}

export function defaultDataRoot(): string {
  return path.join(os.tmpdir(), 'scalelab-runs');
}

/**
 * Starts the engine in its own worker thread and returns a client for it. Without thread files
 * in `options`, the TypeScript sources are bundled first (falling back to running them through
 * tsx if bundling fails), so each server thread starts fast and small.
 */
export async function startEngine(options: EngineHostOptions = {}): Promise<EngineClient> {
  if (!options.engineThread && !options.webServerWorker && !options.dbNodeWorker && options.loader === undefined) {
    try {
      const { bundleThreadFiles } = await import('./thread-bundle.ts');
      options = { ...options, ...(await bundleThreadFiles()), loader: null };
    } catch (error) {
      log.warn({ err: error }, 'bundling the thread files failed; running the TypeScript sources through tsx');
    }
  }
  const defaults = sourceWorkerFiles();
  const engineOptions: EngineOptions = {
    webServerWorker: options.webServerWorker ?? defaults.webServerWorker,
    dbNodeWorker: options.dbNodeWorker ?? defaults.dbNodeWorker,
    loader: options.loader === null ? undefined : (options.loader ?? defaults.loader),
    dataRoot: options.dataRoot ?? defaultDataRoot(),
    nativeBinding: options.nativeBinding,
  };
  const entry = threadEntry(options.engineThread ?? defaults.engineThread, engineOptions.loader);
  const worker = new Worker(entry.filename, { workerData: { ...engineOptions, tsEntry: entry.tsEntry } });
  return new ThreadEngineClient(worker);
}

class ThreadEngineClient implements EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Set<(message: ServerPush) => void>();
  private exited: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.on('message', (message: EngineMessage) => this.onMessage(message));
    worker.on('error', (error) => this.onExit(error));
    worker.on('exit', (code) => this.onExit(new Error(`The engine thread exited with code ${code}`)));
  }

  start(scenario: ScenarioInput): Promise<void> {
    return this.request({ type: 'start', id: 0, scenario }) as Promise<void>;
  }

  command(command: CommandInput): Promise<void> {
    return this.request({ type: 'command', id: 0, command }) as Promise<void>;
  }

  stop(): Promise<RunReport | null> {
    return this.request({ type: 'stop', id: 0 }) as Promise<RunReport | null>;
  }

  status(): Promise<RunStatus> {
    return this.request({ type: 'status', id: 0 }) as Promise<RunStatus>;
  }

  subscribe(listener: (message: ServerPush) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.exited) return;
    try {
      await this.stop();
    } finally {
      await this.worker.terminate();
    }
  }

  private request(request: EngineRequest): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  private onMessage(message: EngineMessage): void {
    if (message.type === 'reply') {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(rebuildError(message.error));
      return;
    }
    for (const listener of this.listeners) listener(message);
  }

  private onExit(error: Error): void {
    if (this.exited) return;
    this.exited = error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

/** Rebuilds an error that crossed the thread boundary as plain data. */
export function rebuildError(data: SerializedError): Error {
  const error = new Error(data.message) as Error & { code?: string };
  error.name = data.name;
  if (data.code) error.code = data.code;
  return error;
}
