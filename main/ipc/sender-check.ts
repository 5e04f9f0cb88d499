/** The parts of an IPC event's sender that the main process checks. */
export interface IpcSenderInfo {
  /** webContents id of the sender. */
  webContentsId: number;
  /** URL of the frame that sent the message; null when the frame is gone. */
  frameUrl: string | null;
  /** True when the message came from the top frame rather than an iframe. */
  isMainFrame: boolean;
}

/** Identity of the app's own window, as an IPC handler checks it. */
export interface TrustedWindow {
  webContentsId: number;
  /** URL of the app's page (a file: URL of out/renderer/index.html); query and hash are ignored. */
  pageUrl: string;
}

/**
 * Returns why a message must be rejected, or null when it came from the top frame of the app's
 * own window showing the app's own page. A page that navigated elsewhere, an iframe, or another
 * webContents must never reach the engine.
 */
export function rejectReason(sender: IpcSenderInfo, trusted: TrustedWindow): string | null {
  if (sender.webContentsId !== trusted.webContentsId) return `sender ${sender.webContentsId} is not the app window`;
  if (!sender.isMainFrame) return 'sender is not the top frame';
  if (sender.frameUrl === null) return 'sender frame is gone';
  if (stripQueryAndHash(sender.frameUrl) !== stripQueryAndHash(trusted.pageUrl)) return 'sender frame shows a foreign page';
  return null;
}

function stripQueryAndHash(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    return parsed.href;
  } catch {
    return url;
  }
}
