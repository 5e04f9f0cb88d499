import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ClientRequestInput, HostMessage, ServerPush } from './engine/api/protocol.ts';
import { PUSH_CHANNEL, REQUEST_CHANNEL, type ScaleLabApi } from './ipc/api.ts';

// Runs sandboxed in the window before the page. It exposes a few named functions and never
// ipcRenderer itself, so the page can send nothing but well-formed requests on one channel.

type RequestBody = ClientRequestInput extends infer R ? (R extends ClientRequestInput ? Omit<R, 'id'> : never) : never;

let nextRequestId = 1;

async function request<T>(body: RequestBody): Promise<T> {
  const reply = (await ipcRenderer.invoke(REQUEST_CHANNEL, { ...body, id: nextRequestId++ })) as HostMessage;
  if (reply.type !== 'reply') throw new Error(`Expected a reply, received a ${reply.type} message`);
  if (!reply.ok) throw new Error(reply.error.message);
  return reply.value as T;
}

const api: ScaleLabApi = {
  listPresets: () => request({ type: 'list-presets' }),
  start: (input) => request({ type: 'start', ...input }),
  command: (command) => request({ type: 'command', command }),
  stop: () => request({ type: 'stop' }),
  status: () => request({ type: 'status' }),
  saveReport: (fileName, options) => request({ type: 'save-report', fileName, overwrite: options?.overwrite === true }),
  onPush: (listener) => {
    const handler = (_event: IpcRendererEvent, push: ServerPush) => listener(push);
    ipcRenderer.on(PUSH_CHANNEL, handler);
    return () => {
      ipcRenderer.off(PUSH_CHANNEL, handler);
    };
  },
};

contextBridge.exposeInMainWorld('scalelab', api);
