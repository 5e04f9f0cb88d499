import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBuiltEngine } from './fixtures/built-engine.ts';
import type { SerializedError } from '../main/engine/api/protocol.ts';
import type { EngineClient } from '../main/host/engine-client.ts';
import { handleClientRequest, requestIdOf, type HostReply, type RequestContext } from '../main/host/client-requests.ts';

// Requests from the window (IPC) or a browser (WebSocket) are untrusted. Each is parsed with
// clientRequestSchema before it reaches the real engine, and an invalid one names the field.

let workDir: string;
let engine: EngineClient;
let context: RequestContext;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'scalelab-ipc-'));
  engine = await startBuiltEngine(join(workDir, 'data'));
  context = { engine, presetsDir: join(workDir, 'no-presets'), log: pino({ level: 'silent' }) };
});

afterAll(async () => {
  await engine?.close();
  await rm(workDir, { recursive: true, force: true });
});

const hostile: [string, unknown, string][] = [
  ['null', null, '(root)'],
  ['a string', 'status', '(root)'],
  ['an array', [{ type: 'status', id: 1 }], '(root)'],
  ['a missing type', { id: 1 }, 'type'],
  ['an unknown type', { type: 'eval', id: 1, code: '1+1' }, 'type'],
  ['a negative id', { type: 'status', id: -3 }, 'id'],
  ['a fractional id', { type: 'status', id: 1.5 }, 'id'],
  ['an extra field', { type: 'status', id: 1, admin: true }, 'admin'],
  ['a prototype key', JSON.parse('{"type":"status","id":1,"__proto__":{"polluted":true}}'), '__proto__'],
  ['a command without a type', { type: 'command', id: 1, command: {} }, 'command.type'],
  ['too many servers', { type: 'command', id: 1, command: { type: 'set-servers', count: 65 } }, 'command.count'],
  ['a string count', { type: 'command', id: 1, command: { type: 'set-servers', count: '4' } }, 'command.count'],
  ['a negative load', { type: 'command', id: 1, command: { type: 'set-load', rateRps: -1 } }, 'command.rateRps'],
  ['an unknown algorithm', { type: 'command', id: 1, command: { type: 'set-algorithm', algorithm: 'random' } }, 'command.algorithm'],
  ['server 0', { type: 'command', id: 1, command: { type: 'crash-server', server: 0 } }, 'command.server'],
  ['both preset and scenario', { type: 'start', id: 1, preset: 'a.json', scenario: {} }, 'exactly one'],
  ['neither preset nor scenario', { type: 'start', id: 1 }, 'exactly one'],
];

describe('client request validation', () => {
  for (const [name, raw, expected] of hostile) {
    it(`rejects ${name}`, async () => {
      const reply = await handleClientRequest(raw, context);
      expect(reply.ok).toBe(false);
      expect(errorOf(reply).message).toContain(expected);
      expect(errorOf(reply).code).toBe('ERR_INVALID_INPUT');
    });
  }

  it('keeps the id of an invalid request', async () => {
    const reply = await handleClientRequest({ type: 'command', id: 42, command: { type: 'nope' } }, context);
    expect(reply.id).toBe(42);
  });

  it('uses id -1 when there is none', () => {
    expect(requestIdOf({ type: 'status' })).toBe(-1);
    expect(requestIdOf({ id: 'seven' })).toBe(-1);
    expect(requestIdOf(undefined)).toBe(-1);
  });

  it('rejects an invalid scenario naming the field', async () => {
    const reply = await handleClientRequest(
      { type: 'start', id: 2, scenario: { version: 1, name: 'x', duration: '10s', load: { rateRps: 'fast' } } },
      context,
    );
    expect(reply.ok).toBe(false);
    expect(errorOf(reply).message).toContain('load.rateRps');
  });

  it('rejects a preset path outside the folder', async () => {
    const reply = await handleClientRequest({ type: 'start', id: 3, preset: '../../etc/passwd' }, context);
    expect(reply.ok).toBe(false);
    expect(errorOf(reply).code).toBe('ERR_INVALID_PRESET_NAME');
  });

  it('answers a valid status request', async () => {
    const reply = await handleClientRequest({ type: 'status', id: 4 }, context);
    expect(reply).toMatchObject({ type: 'reply', id: 4, ok: true, value: { state: 'idle' } });
  });
});

/** Returns the error of a failed reply; throws if the reply succeeded. */
function errorOf(reply: HostReply): SerializedError {
  if (reply.ok) throw new Error(`Expected a failed reply, received ${JSON.stringify(reply)}`);
  return reply.error;
}
