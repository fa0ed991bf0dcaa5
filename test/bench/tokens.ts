/**
 * Tokens: a model streams N tokens (an OpenAI-compatible SSE source in the load process, as fast as the
 * loopback takes them) and 100 subscribers follow the run. The hub coalesces tokens per tick; the bare relay
 * emits one event per token. Figure: server CPU per token, reported as bare / hub (a speed-up).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { counter, cpuAcross, inBatches, sio, sleep, TOKENS } from './load.js';
import type { BenchServer } from './proc.js';

/** A model whose answer waits until `release()`, then streams `n` one-word chunks, one write each. */
export async function tokenSource(n: number) {
  let waiting: Array<() => void> = [];
  const requested: Array<() => void> = [];
  const server = createServer((req, res: ServerResponse) => {
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      await new Promise<void>((r) => {
        waiting.push(r);
        requested.shift()?.();
      });
      const base = { id: 'bench', object: 'chat.completion.chunk', created: 1, model: 'bench' };
      for (let i = 0; i < n; i++) {
        res.write(
          `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: `tok${i} ` }, finish_reason: null }] })}\n\n`,
        );
        if (i % 4 === 3) await new Promise((r) => setImmediate(r));
      }
      res.write(
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
      );
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    /** Resolves once a request is waiting for release. */
    requested: () => new Promise<void>((r) => (waiting.length ? r() : requested.push(r))),
    release: () => {
      for (const go of waiting) go();
      waiting = [];
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

export type TokenSource = Awaited<ReturnType<typeof tokenSource>>;

/** µs of server CPU per token, hub or bare. */
export async function tokenStream(
  server: BenchServer,
  source: TokenSource,
  tokens: number,
  subs: number,
): Promise<number> {
  if (server.kind === 'hub') {
    const ended = counter(subs);
    const operator = await sio(`${server.url}/monitor`, TOKENS.operator);
    const started = (await operator
      .timeout(30_000)
      .emitWithAck('workflow:start', { workflow: 'agent_chat', message: 'go' })) as {
      ok: boolean;
      data: { id: string };
    };
    if (!started.ok) throw new Error(`workflow:start: ${JSON.stringify(started)}`);
    const clients = await inBatches(subs, 100, async () => {
      const s = await sio(`${server.url}/monitor`, TOKENS.viewer);
      s.on('task:event', (e: { type: string; data: { status?: string } }) => {
        if (e.type === 'status' && e.data.status === 'succeeded') ended.hit();
      });
      await s.timeout(30_000).emitWithAck('task:subscribe', { taskId: started.data.id });
      return s;
    });
    await source.requested();
    await sleep(100);
    const cpu = await cpuAcross(server.cpuMs, async () => {
      source.release();
      await ended.done;
    });
    operator.close();
    for (const c of clients) c.close();
    return (cpu * 1000) / tokens;
  }
  const got = counter(subs * tokens);
  const clients = await inBatches(subs, 100, async () => {
    const s = await sio(server.url);
    s.on('event', () => got.hit());
    await s.timeout(30_000).emitWithAck('join', 'r');
    return s;
  });
  const producer = await sio(server.url);
  const acked = producer.timeout(120_000).emitWithAck('tokens', 'r', tokens);
  await source.requested();
  await sleep(100);
  const cpu = await cpuAcross(server.cpuMs, async () => {
    source.release();
    await acked;
    await got.done;
  });
  producer.close();
  for (const c of clients) c.close();
  return (cpu * 1000) / tokens;
}
