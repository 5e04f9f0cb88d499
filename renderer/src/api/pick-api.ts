import type { ScaleLabApi } from '../../../main/ipc/api.ts';
import { WebSocketApi } from './websocket-api.ts';

/**
 * Returns the API of the host this page runs in: the preload's window.scalelab inside Electron,
 * otherwise a WebSocket client to the web host that served the page (its token is in the URL).
 */
export function pickApi(): ScaleLabApi {
  if (window.scalelab) return window.scalelab;

  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${window.location.host}/ws?token=${encodeURIComponent(token)}`;
  return new WebSocketApi(url);
}
