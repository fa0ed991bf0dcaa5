import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  MonitorClientToServer,
  MonitorServerToClient,
  TaskEvent,
} from '../../server/protocol/index.js';
import { isTerminal } from '../../server/protocol/index.js';

export type MonitorSocket = Socket<MonitorServerToClient, MonitorClientToServer>;

/** A real `/monitor` Socket.IO client, connected. */
export async function monitorClient(
  url: string,
  token: string,
  opts: { reconnection?: boolean } = {},
): Promise<MonitorSocket> {
  const socket: MonitorSocket = io(`${url}/monitor`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: opts.reconnection ?? false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

/** Emits any event (typed loosely on purpose: bad-input tests send what the types forbid) and returns the ack. */
export async function call<T = unknown>(socket: Socket, event: string, ...args: unknown[]): Promise<Ack<T>> {
  return (await socket.timeout(5_000).emitWithAck(event, ...args)) as Ack<T>;
}

/** Resolves with every event of a task from `task:event` until its terminal status. */
export function eventsUntilEnd(
  socket: MonitorSocket,
  taskId: string,
  timeoutMs = 15_000,
): Promise<TaskEvent[]> {
  const seen: TaskEvent[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('task:event', on);
      reject(
        new Error(`task ${taskId} did not end; saw ${JSON.stringify(seen.map((e) => [e.seq, e.type]))}`),
      );
    }, timeoutMs);
    const on = (e: TaskEvent) => {
      if (e.taskId !== taskId) return;
      seen.push(e);
      if (e.type === 'status' && isTerminal(e.data.status)) {
        clearTimeout(timer);
        socket.off('task:event', on);
        resolve(seen);
      }
    };
    socket.on('task:event', on);
  });
}

/** fetch with the bearer token and JSON in and out. */
export async function http<T = unknown>(
  url: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed as T };
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/** Polls until `fn` returns a truthy value. */
export async function until<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<Truthy<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as Truthy<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
