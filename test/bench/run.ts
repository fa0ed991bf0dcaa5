/**
 * `npm run bench`: how much the hub costs over bare Socket.IO for its hot path, an extension's output streamed
 * to every subscriber of a task room. Each figure is a ratio against a baseline measured in the same run.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';
import type { Task } from '../../server/protocol/index.js';
import { call, http, monitorClient } from '../helpers/clients.js';
import { startTestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';
import { benchFlowgram } from './flowgram.js';

const CHUNKS = Number(process.env['BENCH_CHUNKS'] ?? 3000);
const SUBSCRIBERS = Number(process.env['BENCH_SUBSCRIBERS'] ?? 4);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const TEXT = 'x'.repeat(80);

/** Baseline: a bare Socket.IO server relays the same chunks from one client to a room of subscribers. */
async function baseline(): Promise<number> {
  const server = createServer();
  const io = new Server(server);
  io.on('connection', (s) => {
    s.on('join', () => s.join('room'));
    s.on('chunk', (c: unknown, ack: () => void) => {
      io.to('room').emit('event', { seq: 1, ts: new Date().toISOString(), type: 'output', data: c });
      ack();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const subs = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, async () => {
      const s = connect(url, { transports: ['websocket'], forceNew: true });
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.emit('join');
      return s;
    }),
  );
  const producer = connect(url, { transports: ['websocket'], forceNew: true });
  await new Promise<void>((r) => producer.once('connect', () => r()));
  await new Promise((r) => setTimeout(r, 50));
  const start = performance.now();
  const done = Promise.all(
    subs.map(
      (s) =>
        new Promise<void>((resolve) => {
          let n = 0;
          s.on('event', () => {
            n += 1;
            if (n === CHUNKS) resolve();
          });
        }),
    ),
  );
  for (let i = 0; i < CHUNKS; i++) await producer.emitWithAck('chunk', { stream: 'stdout', text: TEXT });
  await done;
  const ms = performance.now() - start;
  producer.close();
  for (const s of subs) s.close();
  io.close();
  return ms;
}

/** The hub: a real extension streams the chunks as job output; subscribers follow the task room. */
async function hubRun(): Promise<number> {
  const hub = await startTestHub();
  let go: () => void = () => {};
  const gate = new Promise<void>((r) => {
    go = r;
  });
  const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'bench' }, async (api) => {
    await api.started();
    await gate;
    for (let i = 0; i < CHUNKS; i++) await api.output(TEXT);
    await api.result({ status: 'succeeded', result: null });
  });
  const task = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'bench' }))
    .body;
  const subs = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, () => monitorClient(hub.url, hub.tokens.viewer)),
  );
  const done = Promise.all(
    subs.map(
      (s) =>
        new Promise<void>((resolve) => {
          let n = 0;
          s.on('task:event', (e) => {
            if (e.type !== 'output') return;
            n += 1;
            if (n === CHUNKS) resolve();
          });
        }),
    ),
  );
  for (const s of subs) await call(s, 'task:subscribe', { taskId: task.id });
  await new Promise((r) => setTimeout(r, 50));
  const start = performance.now();
  go();
  await done;
  const ms = performance.now() - start;
  for (const s of subs) s.close();
  ext.close();
  await hub.close();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const base: number[] = [];
const hub: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  base.push(await baseline());
  hub.push(await hubRun());
}
const b = median(base);
const h = median(hub);
console.log(`output fan-out: ${CHUNKS} chunks x ${SUBSCRIBERS} subscribers, median of ${ROUNDS} rounds`);
console.log(
  `  baseline (bare Socket.IO relay): ${b.toFixed(0)} ms (${((CHUNKS / b) * 1000).toFixed(0)} chunks/s)`,
);
console.log(
  `  hub (validate, seq, SQLite, rooms): ${h.toFixed(0)} ms (${((CHUNKS / h) * 1000).toFixed(0)} chunks/s)`,
);
console.log(`  ratio hub/baseline: ${(h / b).toFixed(2)}x`);
await benchFlowgram();
process.exit(0);
