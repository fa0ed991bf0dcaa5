import WebSocket from 'ws';
import type { Ack } from '../../server/protocol/index.js';
import type { WsFrame } from '../../server/protocol/ws.js';

/** A raw `ws` client speaking the hub's JSON framing, for tests and as an example for other languages. */
export class WsClient {
  readonly frames: WsFrame[] = [];
  private nextId = 1;
  private readonly waiters = new Map<string | number, (data: unknown) => void>();
  private readonly handlers = new Map<string, (data: unknown, id?: string | number) => unknown>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as WsFrame;
      this.frames.push(frame);
      if (frame.type === 'ack') {
        this.waiters.get(frame.id)?.(frame.data);
        this.waiters.delete(frame.id);
        return;
      }
      const fn = this.handlers.get(frame.event);
      if (!fn) return;
      const out = fn(frame.data, frame.id);
      if (frame.id !== undefined) this.ws.send(JSON.stringify({ type: 'ack', id: frame.id, data: out }));
    });
  }

  static open(url: string, path: string, token: string | null): Promise<WsClient> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => reject(Object.assign(new Error(body), { status: res.statusCode })));
      });
      ws.once('error', reject);
    });
  }

  /** Answers hub requests (`job:run`) and receives hub events. The return value is the ack. */
  on(event: string, fn: (data: unknown, id?: string | number) => unknown): void {
    this.handlers.set(event, fn);
  }

  request<T = unknown>(event: string, data: unknown): Promise<Ack<T>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiters.set(id, (d) => resolve(d as Ack<T>));
      this.ws.send(JSON.stringify({ type: 'event', event, id, data }));
    });
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  eventsNamed(event: string): unknown[] {
    return this.frames.flatMap((f) => (f.type === 'event' && f.event === event ? [f.data] : []));
  }

  close(): void {
    this.ws.close();
  }
}
