/**
 * Fan-out: one host streams output chunks to a task room of N subscribers. Server CPU per delivery (one
 * chunk to one subscriber), against a bare relay doing the same broadcast.
 */
import type WebSocket from 'ws';
import { scriptedExtension } from '../helpers/scripted-extension.js';
import { counter, cpuAcross, createTask, inBatches, rawWs, sio, sleep, TOKENS } from './load.js';
import type { BenchServer } from './proc.js';

const TEXT = `${'x'.repeat(79)}\n`;

/**
 * A host whose job waits for `go`, then streams `chunks` outputs, and reports its result only on `finish`
 * (after the measurement: the bare relays send no status events); resolves with the running task's id.
 */
async function gatedStream(url: string, chunks: number) {
  let go: () => void = () => {};
  let finish: () => void = () => {};
  const gate = new Promise<void>((r) => {
    go = r;
  });
  const end = new Promise<void>((r) => {
    finish = r;
  });
  const ext = await scriptedExtension(url, TOKENS.extension, { name: 'bench' }, async (api) => {
    await api.started();
    await gate;
    for (let i = 0; i < chunks; i++) await api.output(TEXT);
    await end;
    await api.result({ status: 'succeeded', result: null });
  });
  const task = await createTask(url, { code: 'bench()' });
  return {
    taskId: task.id,
    go,
    close: async () => {
      finish();
      await sleep(100);
      ext.close();
    },
  };
}

/** µs of server CPU per delivery over Socket.IO. */
export async function fanoutSocketIo(server: BenchServer, subs: number, chunks: number): Promise<number> {
  const got = counter(subs * chunks);
  if (server.kind === 'hub') {
    const stream = await gatedStream(server.url, chunks);
    const clients = await inBatches(subs, 250, async () => {
      const s = await sio(`${server.url}/monitor`, TOKENS.viewer);
      s.on('task:event', (e: { type: string }) => {
        if (e.type === 'output') got.hit();
      });
      await s.timeout(30_000).emitWithAck('task:subscribe', { taskId: stream.taskId });
      return s;
    });
    await sleep(200);
    const cpu = await cpuAcross(server.cpuMs, async () => {
      stream.go();
      await got.done;
    });
    await stream.close();
    for (const c of clients) c.close();
    return (cpu * 1000) / (subs * chunks);
  }
  const clients = await inBatches(subs, 250, async () => {
    const s = await sio(server.url);
    s.on('event', () => got.hit());
    await s.timeout(30_000).emitWithAck('join', 'r');
    return s;
  });
  const producer = await sio(server.url);
  await sleep(200);
  const cpu = await cpuAcross(server.cpuMs, async () => {
    for (let i = 0; i < chunks; i++)
      await producer.timeout(30_000).emitWithAck('chunk', 'r', i + 3, { stream: 'stdout', text: TEXT });
    await got.done;
  });
  producer.close();
  for (const c of clients) c.close();
  return (cpu * 1000) / (subs * chunks);
}

/** µs of server CPU per delivery to raw WebSocket monitors (bare: `ws` sending one pre-built frame). */
export async function fanoutRawWs(server: BenchServer, subs: number, chunks: number): Promise<number> {
  const got = counter(subs * chunks);
  const count = (ws: WebSocket) =>
    ws.on('message', (raw: Buffer) => {
      if (raw.includes('"output"')) got.hit();
    });
  const ack = (ws: WebSocket, id: number) =>
    new Promise<void>((resolve) => {
      const on = (raw: Buffer) => {
        const f = JSON.parse(raw.toString()) as { type: string; id?: number };
        if (f.type === 'ack' && f.id === id) {
          ws.off('message', on);
          resolve();
        }
      };
      ws.on('message', on);
    });
  if (server.kind === 'hub') {
    const stream = await gatedStream(server.url, chunks);
    const clients = await inBatches(subs, 250, async () => {
      const ws = await rawWs(`${server.url}/ws/monitor?token=${TOKENS.viewer}`);
      count(ws);
      const acked = ack(ws, 1);
      ws.send(
        JSON.stringify({ type: 'event', event: 'task:subscribe', id: 1, data: { taskId: stream.taskId } }),
      );
      await acked;
      return ws;
    });
    await sleep(200);
    const cpu = await cpuAcross(server.cpuMs, async () => {
      stream.go();
      await got.done;
    });
    await stream.close();
    for (const c of clients) c.close();
    return (cpu * 1000) / (subs * chunks);
  }
  const clients = await inBatches(subs, 250, async () => {
    const ws = await rawWs(server.url);
    count(ws);
    const acked = ack(ws, 1);
    ws.send(JSON.stringify({ type: 'join', id: 1 }));
    await acked;
    return ws;
  });
  const producer = await rawWs(server.url);
  await sleep(200);
  const cpu = await cpuAcross(server.cpuMs, async () => {
    for (let i = 0; i < chunks; i++) {
      const acked = ack(producer, i + 2);
      producer.send(
        JSON.stringify({ type: 'chunk', id: i + 2, seq: i + 3, data: { stream: 'stdout', text: TEXT } }),
      );
      await acked;
    }
    await got.done;
  });
  producer.close();
  for (const c of clients) c.close();
  return (cpu * 1000) / (subs * chunks);
}
