// The engine's own worker thread. Hosts start it so that no load generation, routing or
// bookkeeping ever runs on their main thread (in Electron, the window's process).
import { parentPort, workerData } from 'node:worker_threads';
import type { EngineMessage, EngineRequest } from './api/protocol.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { subsystemLogger } from './log.ts';

const log = subsystemLogger('engine-thread');
const port = parentPort!;
const engine = new Engine(workerData as EngineOptions, (message) => port.postMessage(message));

port.on('message', (request: EngineRequest) => {
  void handle(request);
});

async function handle(request: EngineRequest): Promise<void> {
  try {
    const value = await dispatch(request);
    send({ type: 'reply', id: request.id, ok: true, value });
  } catch (error) {
    const e = error as Error & { code?: string };
    log.debug({ requestType: request.type, err: e }, 'request failed');
    send({ type: 'reply', id: request.id, ok: false, error: { name: e.name ?? 'Error', message: e.message ?? String(error), code: e.code } });
  }
}

function dispatch(request: EngineRequest): Promise<unknown> | unknown {
  switch (request.type) {
    case 'start':
      return engine.start(request.scenario);
    case 'command':
      return engine.command(request.command);
    case 'stop':
      return engine.stop();
    case 'status':
      return engine.status();
    default: {
      const unknown: never = request;
      throw new TypeError(`Unknown engine request ${JSON.stringify(unknown)}`);
    }
  }
}

function send(message: EngineMessage): void {
  port.postMessage(message);
}
