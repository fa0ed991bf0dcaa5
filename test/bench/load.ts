/** Load-side helpers shared by the scenarios: many clients, connected in batches, counting what they get. */
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { Task } from '../../server/protocol/index.js';
import { BENCH_TOKENS } from './protocol.js';

export const TOKENS = {
  operator: BENCH_TOKENS.operatorToken,
  viewer: BENCH_TOKENS.viewerToken,
  extension: BENCH_TOKENS.extensionToken,
};

/** Opens `n` things `batch` at a time, so thousands of handshakes do not all time out together. */
export async function inBatches<T>(n: number, batch: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => open(i + j)))));
  }
  return out;
}

export function sio(url: string, token?: string): Promise<Socket> {
  const s = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    ...(token ? { auth: { token } } : {}),
  });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

export function rawWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** A promise resolved when `count()` reaches `n` across all clients; `hit()` counts one. */
export function counter(n: number): { hit: () => void; done: Promise<void> } {
  let seen = 0;
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    hit: () => {
      seen += 1;
      if (seen === n) resolve();
    },
    done,
  };
}

export async function postJson<T>(url: string, token: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const createTask = (url: string, body: object) =>
  postJson<Task>(url, TOKENS.operator, '/api/v1/tasks', body);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Measures the server's CPU (ms) across `work`. */
export async function cpuAcross(cpuMs: () => number, work: () => Promise<void>): Promise<number> {
  const before = cpuMs();
  await work();
  return cpuMs() - before;
}
