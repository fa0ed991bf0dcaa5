/**
 * The server side of a bench, run as its own process (pinned to its own core by the runner) so its CPU can be
 * read from /proc. `argv[2]` picks what it serves: the hub, or one of the bare baselines the hub is measured
 * against. It answers the runner's IPC requests: `ready` (URL and tokens), `gc` (heap after a full GC),
 * `seed` (a task with many events, for replay).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import OpenAI from 'openai';
import { Server, type Socket } from 'socket.io';
import { type WebSocket, WebSocketServer } from 'ws';
import { buildHub } from '../../server/app.js';
import {
  BARE_TASK_ID,
  BENCH_TOKENS,
  type BenchReply,
  type BenchRequest,
  type ServerKind,
} from './protocol.js';

const kind = process.argv[2] as ServerKind;
const llmUrl = process.argv[3];
const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
const reply = (msg: BenchReply) => process.send?.(msg);

/** A bare Socket.IO relay: `join` a room, `chunk` (acked) is broadcast to the room as one event. */
function bareSocketIo(io: Server): void {
  io.on('connection', (s: Socket) => {
    s.on('join', (room: string, ack?: () => void) => {
      void s.join(room);
      ack?.();
    });
    s.on('chunk', (room: string, seq: number, c: unknown, ack: () => void) => {
      io.to(room).emit('event', {
        taskId: BARE_TASK_ID,
        seq,
        ts: new Date().toISOString(),
        type: 'output',
        data: c,
      });
      ack();
    });
    s.on('tokens', async (room: string, n: number, ack: () => void) => {
      // Per-token emit: what a relay without coalescing does with a model stream.
      const client = new OpenAI({ baseURL: llmUrl, apiKey: 'bench', maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: 'bench',
        stream: true,
        messages: [{ role: 'user', content: `${n}` }],
      });
      let seq = 0;
      for await (const chunk of stream) {
        const text = chunk.choices[0]?.delta.content;
        if (text)
          io.to(room).emit('event', {
            taskId: BARE_TASK_ID,
            seq: ++seq,
            ts: new Date().toISOString(),
            type: 'token',
            data: { text },
          });
      }
      ack();
    });
    s.on('replay', (n: number, ack: () => void) => {
      // Bare replay: read the rows in pages and emit each, the same rows the hub reads.
      let after = 0;
      for (;;) {
        const rows = replayRows.all(after, 1000) as Array<{ seq: number; body: string }>;
        for (const r of rows) s.emit('event', JSON.parse(r.body));
        const last = rows.at(-1);
        if (!last || rows.length < 1000) break;
        after = last.seq;
      }
      ack();
      void n;
    });
  });
}

let replayDb: Database.Database | undefined;
let replayRows: Database.Statement;

async function start(): Promise<{ url: string; seed?: (n: number) => string }> {
  if (kind === 'hub') {
    const hub = await buildHub({
      port: 0,
      dataDir,
      logLevel: 'info',
      rateLimitPerMinute: 0,
      ...BENCH_TOKENS,
      ...(llmUrl ? { llmBaseUrl: llmUrl, llmApiKey: 'bench', llmModel: 'bench' } : {}),
      policyMaxCodeBytes: 262_144,
      // Measuring the hub with other settings (e.g. `{"store":"memory"}` to see what the store costs).
      ...(process.env['BENCH_HUB_CONFIG'] ? JSON.parse(process.env['BENCH_HUB_CONFIG']) : {}),
    });
    const url = await hub.listen();
    const seed = (n: number) => {
      const { tasks } = hub.ctx;
      const t = tasks.create({ kind: 'code', input: { code: 'seed' }, timeoutMs: 60_000, maxAttempts: 1 });
      tasks.transition(t.id, 'running', 'started');
      for (let i = 0; i < n; i++) {
        tasks.append(t.id, 'output', { stream: 'stdout', text: `line ${i} ${'x'.repeat(60)}\n` });
        if (i % 1000 === 999) tasks.log.flush();
      }
      tasks.finish(t.id, 'succeeded', { result: null, reason: 'completed' });
      return t.id;
    };
    return { url, seed };
  }
  if (kind === 'fastify') {
    // Bare dispatch: Fastify takes the request, a Socket.IO host answers job:run's ack with the result.
    const app = Fastify();
    const io = new Server(app.server);
    const hosts: Socket[] = [];
    let next = 0;
    io.on('connection', (s) => {
      hosts.push(s);
      s.on('disconnect', () => hosts.splice(hosts.indexOf(s), 1));
    });
    let id = 0;
    app.post('/execute', async (req) => {
      const host = hosts[next++ % hosts.length];
      if (!host) throw new Error('no host');
      const body = req.body as { code: string };
      return host.timeout(10_000).emitWithAck('job:run', { taskId: `t${++id}`, code: body.code });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
  }
  const server = createServer();
  if (kind === 'socket.io') {
    bareSocketIo(new Server(server));
    replayDb = new Database(join(dataDir, 'bare.db'));
    replayDb.pragma('journal_mode = WAL');
    replayDb.exec(
      'CREATE TABLE events (task_id TEXT, seq INTEGER, body TEXT, PRIMARY KEY (task_id, seq)) WITHOUT ROWID',
    );
    replayRows = replayDb.prepare(
      "SELECT seq, body FROM events WHERE task_id = 'r' AND seq > ? ORDER BY seq LIMIT ?",
    );
  } else {
    // Bare ws: each chunk is encoded once and the same frame is sent to every client.
    const wss = new WebSocketServer({ server });
    const clients = new Set<WebSocket>();
    wss.on('connection', (ws) => {
      ws.on('message', (raw) => {
        const msg = JSON.parse(raw.toString()) as { type: string; id?: number; seq?: number; data?: unknown };
        if (msg.type === 'join') clients.add(ws);
        if (msg.type === 'chunk') {
          const frame = JSON.stringify({
            type: 'event',
            event: 'task:event',
            data: {
              taskId: BARE_TASK_ID,
              seq: msg.seq,
              ts: new Date().toISOString(),
              type: 'output',
              data: msg.data,
            },
          });
          for (const c of clients) c.send(frame);
        }
        if (msg.id !== undefined) ws.send(JSON.stringify({ type: 'ack', id: msg.id, data: { ok: true } }));
      });
      ws.on('close', () => clients.delete(ws));
    });
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const seed = (n: number) => {
    const db = replayDb;
    if (!db) throw new Error('no replay db');
    const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= n; i++) {
        const e = {
          taskId: BARE_TASK_ID,
          seq: i,
          ts: new Date().toISOString(),
          type: 'output',
          data: { stream: 'stdout', text: `line ${i} ${'x'.repeat(60)}\n` },
        };
        insert.run('r', i, JSON.stringify(e));
      }
    })();
    return 'r';
  };
  return { url, seed };
}

const started = await start();
process.on('message', (raw) => {
  const req = raw as BenchRequest;
  if (req.cmd === 'gc') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    reply({ cmd: 'gc', heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss });
  } else if (req.cmd === 'seed') {
    reply({ cmd: 'seed', taskId: started.seed?.(req.events) ?? '' });
  } else if (req.cmd === 'exit') {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  }
});
reply({ cmd: 'ready', url: started.url });
