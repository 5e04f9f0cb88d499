import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { HostMessage } from '../engine/api/protocol.ts';
import type { EngineClient } from './engine-client.ts';
import { handleClientRequest, type RequestContext } from './client-requests.ts';
import { subsystemLogger } from '../engine/log.ts';
import { ReportStore } from './report-store.ts';

export interface WebHostOptions {
  engine: EngineClient;
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Only the loopback address is accepted: the web host has no authentication beyond its token. */
  host?: '127.0.0.1';
  /** The built renderer, normally out/renderer. */
  staticDir: string;
  /** Folder of preset scenario files (*.json). */
  presetsDir: string;
  /** Folder that save-report requests write to; created on the first save. Default: `reports` in the working directory. */
  reportsDir?: string;
}

export interface WebHost {
  /** The page's address, including the access token. */
  url: string;
  port: number;
  token: string;
  /** Absolute path of the folder that save-report requests write to. */
  reportsDir: string;
  close(): Promise<void>;
}

/** Path of the WebSocket endpoint; the page connects to it with the same token as the page. */
export const WEBSOCKET_PATH = '/ws';

/** Largest WebSocket message accepted from a browser, in bytes. Requests are small JSON objects. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Above this many bytes queued for one browser, tick pushes are dropped until it catches up. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Serves the renderer and a WebSocket carrying the engine API on 127.0.0.1. A random token in
 * the page's URL guards both: HTTP requests without it (or its cookie) get 403 and a WebSocket
 * upgrade without it is rejected, so other local users and web pages cannot drive the engine.
 */
export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') {
    throw new TypeError(`Expected the "host" option to be "127.0.0.1", received ${JSON.stringify(host)}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`Expected the "port" option to be an integer from 0 to 65535, received ${port}`);
  }

  const log = subsystemLogger('web-host');
  const staticRoot = await realpath(resolve(options.staticDir)).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`Static folder ${options.staticDir} is not readable (${error.code}): build the renderer first with "npm run build"`);
  });
  const token = randomBytes(24).toString('base64url');
  const reports = new ReportStore(resolve(options.reportsDir ?? 'reports'), subsystemLogger('reports'));
  const context: RequestContext = { engine: options.engine, presetsDir: options.presetsDir, reports, log };

  const server = createServer();
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  await listen(server, port, host);
  // The store keeps the last finished run's report even when no browser was connected as it finished.
  const stopWatchingReports = reports.watch(options.engine);
  const boundPort = (server.address() as AddressInfo).port;
  const guard = new AccessGuard(token, boundPort);

  server.on('request', (request, response) => {
    serveHttp(request, response, guard, staticRoot).catch((error: unknown) => {
      log.error({ err: error, url: redactToken(request.url) }, 'static file request failed');
      if (!response.headersSent) sendText(response, 500, 'Internal server error');
      else response.destroy();
    });
  });

  server.on('upgrade', (request, socket, head) => {
    const rejection = guard.checkUpgrade(request);
    if (rejection) {
      log.warn({ reason: rejection, origin: request.headers.origin ?? null }, 'rejected a WebSocket upgrade');
      rejectUpgrade(socket, 403, rejection);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => serveWebSocket(ws, context));
  });

  log.info({ port: boundPort, staticDir: staticRoot, reportsDir: reports.reportsDir }, 'web host listening');

  return {
    url: `http://${host}:${boundPort}/?token=${token}`,
    port: boundPort,
    token,
    reportsDir: reports.reportsDir,
    close: () => {
      stopWatchingReports();
      return closeWebHost(server, sockets, log);
    },
  };
}

/** Decides whether an HTTP request or WebSocket upgrade carries the token and comes from this origin. */
class AccessGuard {
  private readonly tokenBytes: Buffer;
  readonly cookieName: string;
  private readonly allowedHosts: Set<string>;

  constructor(token: string, port: number) {
    this.tokenBytes = Buffer.from(token);
    // Cookies are shared across ports, so the name carries the port to keep two hosts apart.
    this.cookieName = `scalelab_token_${port}`;
    this.allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  }

  /** Returns why the request is rejected, or null when it may proceed. */
  checkRequest(request: IncomingMessage, url: URL): string | null {
    if (!this.allowedHosts.has(request.headers.host ?? '')) return 'unexpected Host header';
    if (this.matches(url.searchParams.get('token'))) return null;
    if (this.matches(readCookie(request, this.cookieName))) return null;
    return 'missing or wrong token';
  }

  /** Like checkRequest, but the token must be in the URL and a browser's Origin must be this host. */
  checkUpgrade(request: IncomingMessage): string | null {
    const url = parseRequestUrl(request);
    if (!url) return 'malformed URL';
    if (url.pathname !== WEBSOCKET_PATH) return 'unknown WebSocket path';
    if (!this.allowedHosts.has(request.headers.host ?? '')) return 'unexpected Host header';
    const origin = request.headers.origin;
    if (origin !== undefined && !this.allowedHosts.has(origin.replace(/^http:\/\//, ''))) return 'foreign Origin';
    if (!this.matches(url.searchParams.get('token'))) return 'missing or wrong token';
    return null;
  }

  setCookieHeader(): string {
    return `${this.cookieName}=${this.tokenBytes.toString()}; HttpOnly; SameSite=Strict; Path=/`;
  }

  private matches(candidate: string | null | undefined): boolean {
    if (!candidate) return false;
    const bytes = Buffer.from(candidate);
    return bytes.length === this.tokenBytes.length && timingSafeEqual(bytes, this.tokenBytes);
  }
}

async function serveHttp(
  request: IncomingMessage,
  response: ServerResponse,
  guard: AccessGuard,
  staticRoot: string,
): Promise<void> {
  const url = parseRequestUrl(request);
  if (!url) return sendText(response, 400, 'Malformed URL');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return sendText(response, 405, 'Method not allowed');
  }
  const rejection = guard.checkRequest(request, url);
  if (rejection) return sendText(response, 403, `Forbidden: ${rejection}. Open the address the app printed, with its ?token=.`);

  const file = await resolveStaticFile(staticRoot, url.pathname);
  if (!file) return sendText(response, 404, 'Not found');

  response.statusCode = 200;
  response.setHeader('Content-Type', CONTENT_TYPES[extname(file.path)] ?? 'application/octet-stream');
  response.setHeader('Content-Length', file.size);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Cache-Control', 'no-store');
  if (file.path.endsWith('.html')) {
    response.setHeader('Set-Cookie', guard.setCookieHeader());
    response.setHeader('X-Frame-Options', 'DENY');
  }
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file.path).pipe(response);
}

/**
 * Maps a URL path to a regular file inside `staticRoot`, or null. The decoded path is resolved and
 * then checked against the root again after following symlinks, so "..", encoded separators and
 * links cannot reach files outside the built renderer.
 */
export async function resolveStaticFile(staticRoot: string, pathname: string): Promise<{ path: string; size: number } | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const candidate = resolve(staticRoot, relative);
  if (!isInside(staticRoot, candidate)) return null;

  try {
    const real = await realpath(candidate);
    if (!isInside(staticRoot, real)) return null;
    const info = await stat(real);
    return info.isFile() ? { path: real, size: info.size } : null;
  } catch {
    return null;
  }
}

function serveWebSocket(ws: WebSocket, context: RequestContext): void {
  const { log } = context;
  let droppedTicks = 0;
  log.info('browser connected');

  const unsubscribe = context.engine.subscribe((push) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    // A slow browser must not make the host buffer ticks without bound. Status, events and the
    // final report are always sent, because the UI cannot recompute them.
    if (push.type === 'tick' && ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      droppedTicks += 1;
      if (droppedTicks % 100 === 1) log.warn({ droppedTicks }, 'browser is slow, dropping tick pushes');
      return;
    }
    send(ws, push);
  });

  ws.on('message', (data: RawData, isBinary: boolean) => {
    void answer(ws, data, isBinary, context);
  });
  ws.on('error', (error) => log.warn({ err: error }, 'WebSocket error'));
  ws.on('close', () => {
    unsubscribe();
    log.info({ droppedTicks }, 'browser disconnected');
  });
}

async function answer(ws: WebSocket, data: RawData, isBinary: boolean, context: RequestContext): Promise<void> {
  let raw: unknown;
  try {
    if (isBinary) throw new Error('binary message');
    raw = JSON.parse(rawDataToString(data));
  } catch {
    context.log.warn('rejected a WebSocket message that is not JSON text');
    send(ws, {
      type: 'reply',
      id: -1,
      ok: false,
      error: { name: 'ValidationError', message: 'Invalid request:\n(root): expected a JSON text message', code: 'ERR_INVALID_INPUT' },
    });
    return;
  }
  send(ws, await handleClientRequest(raw, context));
}

function send(ws: WebSocket, message: HostMessage): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

async function closeWebHost(server: ReturnType<typeof createServer>, sockets: WebSocketServer, log: ReturnType<typeof subsystemLogger>): Promise<void> {
  for (const client of sockets.clients) client.close(1001, 'web host closing');
  await new Promise<void>((done) => sockets.close(() => done()));
  server.closeAllConnections();
  await new Promise<void>((done, fail) => server.close((error) => (error ? fail(error) : done())));
  log.info('web host closed');
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
}

function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  const body = `Forbidden: ${reason}`;
  socket.end(
    `HTTP/1.1 ${status} Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.end(text);
}

function parseRequestUrl(request: IncomingMessage): URL | null {
  try {
    return new URL(request.url ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}

function readCookie(request: IncomingMessage, name: string): string | null {
  const header = request.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return null;
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root + sep);
}

function rawDataToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** Removes the token from a URL before it is logged. */
function redactToken(url: string | undefined): string {
  return (url ?? '').replace(/token=[^&]*/g, 'token=REDACTED');
}
