import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import type { Logger } from 'pino';
import { handleClientRequest, type RequestContext } from '../host/client-requests.ts';
import { PUSH_CHANNEL, REQUEST_CHANNEL } from './api.ts';
import { rejectReason, type TrustedWindow } from './sender-check.ts';

/**
 * Connects the app window to the engine: one invoke channel for requests (each validated with
 * clientRequestSchema by handleClientRequest) and one push channel for ticks and events.
 * Returns a function that removes the handlers and the engine subscription.
 */
export function registerIpc(window: BrowserWindow, pageUrl: string, context: RequestContext): () => void {
  const log: Logger = context.log;
  const trusted: TrustedWindow = { webContentsId: window.webContents.id, pageUrl };

  ipcMain.handle(REQUEST_CHANNEL, async (event: IpcMainInvokeEvent, raw: unknown) => {
    const reason = rejectReason(
      {
        webContentsId: event.sender.id,
        frameUrl: event.senderFrame?.url ?? null,
        isMainFrame: event.senderFrame !== null && event.senderFrame === event.sender.mainFrame,
      },
      trusted,
    );
    if (reason) {
      log.warn({ reason, channel: REQUEST_CHANNEL }, 'rejected an IPC request');
      throw new Error(`IPC request rejected: ${reason}`);
    }
    return handleClientRequest(raw, context);
  });

  // The preload only uses ipcRenderer.invoke on REQUEST_CHANNEL; an invoke on any other channel is
  // rejected by Electron because no handler exists. Messages sent with send/sendSync arrive here
  // and are all unknown, so they are logged and dropped.
  const onUnknownMessage = (_event: unknown, channel: string) => {
    log.warn({ channel }, 'rejected an IPC message on an unknown channel');
  };
  window.webContents.on('ipc-message', onUnknownMessage);
  window.webContents.on('ipc-message-sync', (event, channel) => {
    onUnknownMessage(event, channel);
    event.returnValue = null;
  });

  const unsubscribe = context.engine.subscribe((push) => {
    if (!window.isDestroyed()) window.webContents.send(PUSH_CHANNEL, push);
  });

  return () => {
    unsubscribe();
    ipcMain.removeHandler(REQUEST_CHANNEL);
    if (!window.isDestroyed()) window.webContents.off('ipc-message', onUnknownMessage);
  };
}
