import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { HostMessage, SerializedError } from '../main/engine/api/protocol.ts';
import type { PresetList } from '../main/host/presets.ts';
import { startBuiltEngine } from './fixtures/built-engine.ts';
import type { EngineClient } from '../main/host/engine-client.ts';
import { startWebHost, type WebHost } from '../main/host/web-host.ts';

// The web host in front of the real engine, with a static folder and presets made for the test.

let workDir: string;
let engine: EngineClient;
let web: WebHost;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'scalelab-web-host-'));
  const staticDir = join(workDir, 'static');
  const presetsDir = join(workDir, 'presets');
  await mkdir(join(staticDir, 'assets'), { recursive: true });
  await mkdir(presetsDir);
  await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>test page</title>');
  await writeFile(join(staticDir, 'assets', 'app.js'), 'console.log("app");');
  // A file next to the static folder that no URL may reach.
  await writeFile(join(workDir, 'secret.txt'), 'SECRET-CONTENT');
  await writeFile(
    join(presetsDir, 'good.json'),
    JSON.stringify({ version: 1, name: 'Good preset', duration: '5s', load: { rateRps: 10 } }),
  );
  await writeFile(join(presetsDir, 'broken.json'), JSON.stringify({ version: 1, name: 'Broken', duration: 'soon', load: { rateRps: 10 } }));

  engine = await startBuiltEngine(join(workDir, 'data'));
  web = await startWebHost({ engine, port: 0, host: '127.0.0.1', staticDir, presetsDir });
});

afterAll(async () => {
  await web?.close();
  await engine?.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('web host access token', () => {
  it('serves the page with the token', async () => {
    const response = await get(`/?token=${web.token}`);
    expect(response.status).toBe(200);
    expect(response.body).toContain('test page');
  });

  it('returns 403 without a token', async () => {
    const response = await get('/');
    expect(response.status).toBe(403);
    expect(response.body).not.toContain('test page');
  });

  it('returns 403 with a wrong token', async () => {
    const response = await get(`/assets/app.js?token=${'x'.repeat(web.token.length)}`);
    expect(response.status).toBe(403);
  });

  it('accepts the cookie set by the page for assets', async () => {
    const page = await get(`/?token=${web.token}`);
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    const asset = await get('/assets/app.js', { cookie });
    expect(asset.status).toBe(200);
    expect(asset.body).toContain('console.log');
  });

  it('returns 403 for a foreign Host header', async () => {
    const response = await get(`/?token=${web.token}`, { host: 'attacker.example' });
    expect(response.status).toBe(403);
  });

  it('rejects a WebSocket upgrade without a token', async () => {
    const outcome = await tryWebSocket(`ws://127.0.0.1:${web.port}/ws`);
    expect(outcome).toBe('rejected 403');
  });

  it('rejects a WebSocket upgrade with a wrong token', async () => {
    const outcome = await tryWebSocket(`ws://127.0.0.1:${web.port}/ws?token=wrong`);
    expect(outcome).toBe('rejected 403');
  });

  it('rejects a WebSocket upgrade from a foreign origin', async () => {
    const outcome = await tryWebSocket(`ws://127.0.0.1:${web.port}/ws?token=${web.token}`, 'http://attacker.example');
    expect(outcome).toBe('rejected 403');
  });

  it('accepts a WebSocket upgrade with the token', async () => {
    const outcome = await tryWebSocket(`ws://127.0.0.1:${web.port}/ws?token=${web.token}`, `http://127.0.0.1:${web.port}`);
    expect(outcome).toBe('open');
  });
});

describe('web host static files', () => {
  const traversals = [
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..%5csecret.txt',
    '/%00/../secret.txt',
    `/${'..%2f'.repeat(8)}etc/passwd`,
  ];

  for (const path of traversals) {
    it(`rejects traversal ${path}`, async () => {
      const separator = path.includes('?') ? '&' : '?';
      const response = await get(`${path}${separator}token=${web.token}`);
      expect(response.status).toBe(404);
      expect(response.body).not.toContain('SECRET-CONTENT');
      expect(response.body).not.toContain('root:');
    });
  }

  it('returns 404 for a missing file', async () => {
    const response = await get(`/missing.js?token=${web.token}`);
    expect(response.status).toBe(404);
  });

  it('returns 405 for POST', async () => {
    const response = await get(`/?token=${web.token}`, {}, 'POST');
    expect(response.status).toBe(405);
  });
});

describe('web host WebSocket requests', () => {
  it('names the invalid field and stays usable', async () => {
    const client = await connect();
    try {
      client.send({ type: 'command', id: 5, command: { type: 'set-servers', count: 999 } });
      const invalid = await client.reply(5);
      expect(invalid.ok).toBe(false);
      expect(errorOf(invalid).message).toContain('command.count');
      expect(errorOf(invalid).message).toContain('expected an integer from 1 to 64');

      client.send({ type: 'status', id: 6 });
      const status = await client.reply(6);
      expect(status.ok).toBe(true);
      expect((valueOf(status) as { state: string }).state).toBe('idle');
    } finally {
      client.close();
    }
  });

  it('answers an unknown request type with an error', async () => {
    const client = await connect();
    try {
      client.send({ type: 'format-disk', id: 7 });
      const reply = await client.reply(7);
      expect(reply.ok).toBe(false);
      expect(errorOf(reply).message).toContain('type');
    } finally {
      client.close();
    }
  });

  it('answers text that is not JSON with id -1', async () => {
    const client = await connect();
    try {
      client.sendRaw('{not json');
      const reply = await client.reply(-1);
      expect(reply.ok).toBe(false);
      client.send({ type: 'status', id: 8 });
      expect((await client.reply(8)).ok).toBe(true);
    } finally {
      client.close();
    }
  });

  it('lists presets and reports a broken one', async () => {
    const client = await connect();
    try {
      client.send({ type: 'list-presets', id: 9 });
      const reply = await client.reply(9);
      expect(reply.ok).toBe(true);
      const list = valueOf(reply) as PresetList;
      expect(list.presets.map((preset) => preset.file)).toEqual(['good.json']);
      expect(list.invalid).toHaveLength(1);
      expect(list.invalid[0].file).toBe('broken.json');
      expect(list.invalid[0].error).toContain('duration');
    } finally {
      client.close();
    }
  });

  it('rejects a preset name with a path', async () => {
    const client = await connect();
    try {
      client.send({ type: 'start', id: 10, preset: '../secret.txt' });
      const reply = await client.reply(10);
      expect(reply.ok).toBe(false);
      expect(errorOf(reply).message).toContain('Invalid preset name');
    } finally {
      client.close();
    }
  });
});

interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Sends a raw request, keeping the path exactly as written (no URL normalization). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port: web.port, path, method, headers: { host: `127.0.0.1:${web.port}`, ...headers } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function tryWebSocket(url: string, origin?: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, origin ? { origin } : {});
    socket.on('open', () => {
      socket.close();
      resolve('open');
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve(`rejected ${response.statusCode}`);
      response.resume();
    });
    socket.on('error', (error) => resolve(`error ${error.message}`));
  });
}

interface TestClient {
  send(message: unknown): void;
  sendRaw(text: string): void;
  reply(id: number): Promise<Extract<HostMessage, { type: 'reply' }>>;
  close(): void;
}

async function connect(): Promise<TestClient> {
  const socket = new WebSocket(`ws://127.0.0.1:${web.port}/ws?token=${web.token}`);
  const replies: Extract<HostMessage, { type: 'reply' }>[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as HostMessage;
    if (message.type !== 'reply') return;
    replies.push(message);
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });

  return {
    send: (message) => socket.send(JSON.stringify(message)),
    sendRaw: (text) => socket.send(text),
    async reply(id) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const found = replies.find((reply) => reply.id === id);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`No reply with id ${id} within 10 s`);
        await new Promise<void>((wake) => {
          waiters.push(wake);
          setTimeout(wake, 200);
        });
      }
    },
    close: () => socket.close(),
  };
}

type Reply = Extract<HostMessage, { type: 'reply' }>;

/** Returns the error of a failed reply; throws if the reply succeeded. */
function errorOf(reply: Reply): SerializedError {
  if (reply.ok) throw new Error(`Expected a failed reply, received ${JSON.stringify(reply)}`);
  return reply.error;
}

/** Returns the value of a successful reply; throws if the reply failed. */
function valueOf(reply: Reply): unknown {
  if (!reply.ok) throw new Error(`Expected a successful reply, received ${JSON.stringify(reply)}`);
  return reply.value;
}
