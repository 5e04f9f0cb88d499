import type { ClientRequestInput, HostMessage, ServerPush } from '../../../main/engine/api/protocol.ts';
import type { ScaleLabApi, StartInput } from '../../../main/ipc/api.ts';

type RequestBody = ClientRequestInput extends infer R ? (R extends ClientRequestInput ? Omit<R, 'id'> : never) : never;

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Milliseconds between reconnection attempts after the web host closed the socket. */
const RECONNECT_DELAY_MS = 2000;

/**
 * The ScaleLabApi over the web host's WebSocket. Requests carry an id and wait for the reply with
 * that id; pushes go to every onPush listener. Calls made before the socket opens are queued.
 */
export class WebSocketApi implements ScaleLabApi {
  private socket: WebSocket | null = null;
  private nextRequestId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly queued: string[] = [];
  private readonly listeners = new Set<(push: ServerPush) => void>();

  constructor(private readonly url: string) {
    this.connect();
  }

  listPresets() {
    return this.request({ type: 'list-presets' }) as ReturnType<ScaleLabApi['listPresets']>;
  }
  start(input: StartInput) {
    return this.request({ type: 'start', ...input }) as Promise<void>;
  }
  command(command: Parameters<ScaleLabApi['command']>[0]) {
    return this.request({ type: 'command', command }) as Promise<void>;
  }
  stop() {
    return this.request({ type: 'stop' }) as ReturnType<ScaleLabApi['stop']>;
  }
  status() {
    return this.request({ type: 'status' }) as ReturnType<ScaleLabApi['status']>;
  }
  saveReport(fileName: string, options?: { overwrite?: boolean }) {
    return this.request({ type: 'save-report', fileName, overwrite: options?.overwrite === true }) as ReturnType<ScaleLabApi['saveReport']>;
  }
  onPush(listener: (push: ServerPush) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private request(body: RequestBody): Promise<unknown> {
    const id = this.nextRequestId++;
    const text = JSON.stringify({ ...body, id });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
      else this.queued.push(text);
    });
  }

  private connect(): void {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener('open', () => {
      for (const text of this.queued.splice(0)) socket.send(text);
    });
    socket.addEventListener('message', (event) => this.receive(event.data));
    socket.addEventListener('close', () => {
      for (const call of this.pending.values()) call.reject(new Error('Connection to the ScaleLab web host closed'));
      this.pending.clear();
      setTimeout(() => this.connect(), RECONNECT_DELAY_MS);
    });
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    const message = JSON.parse(data) as HostMessage;
    if (message.type !== 'reply') {
      for (const listener of this.listeners) listener(message);
      return;
    }
    const call = this.pending.get(message.id);
    if (!call) {
      console.warn('ScaleLab: reply without a matching request', message);
      return;
    }
    this.pending.delete(message.id);
    if (message.ok) call.resolve(message.value);
    else call.reject(new Error(message.error.message));
  }
}
