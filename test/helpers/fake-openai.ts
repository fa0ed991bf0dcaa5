import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeToolCall {
  id?: string;
  name: string;
  /** An object is sent as its JSON; a string as written (so tests can send broken JSON). */
  arguments: string | Record<string, unknown>;
}

/** One scripted answer. */
export type FakeStep =
  | {
      /** A string is streamed word by word; an array chunk by chunk, as given. */
      text?: string | string[];
      toolCalls?: FakeToolCall[];
      finishReason?: string;
      usage?: { prompt: number; completion: number };
      /** Pause before each chunk (a slow model). */
      chunkDelayMs?: number;
      /** Stream the text, then keep the connection open without finishing (a model that stalls). */
      hang?: boolean;
    }
  | { status: number; message: string; type?: string; headers?: Record<string, string> };

export interface FakeRequest {
  body: {
    model: string;
    messages: Array<{ role: string; content: unknown; tool_calls?: unknown; tool_call_id?: string }>;
    tools?: Array<{ function: { name: string } }>;
    stream?: boolean;
    stream_options?: { include_usage?: boolean };
    temperature?: number;
    max_tokens?: number;
  };
  headers: IncomingMessage['headers'];
  /** The client hung up before the answer was complete (a cancel reached the wire). */
  closedByClient: boolean;
}

type Responder = (request: FakeRequest, index: number) => FakeStep;

export interface FakeOpenAI {
  /** Base URL to give the SDK, ending in `/v1`. */
  url: string;
  requests: FakeRequest[];
  /** Answers the next requests with these steps, in order; after them, "ok". */
  script(...steps: FakeStep[]): void;
  /** Answers every request with whatever `fn` decides. */
  respond(fn: Responder): void;
  close(): Promise<void>;
}

/**
 * A local OpenAI-compatible server speaking the real wire format: `POST /v1/chat/completions`, streamed as
 * SSE `data: {chunk}` lines (content deltas, tool-call deltas split across chunks, a usage chunk when asked,
 * `data: [DONE]`) or answered whole; errors with OpenAI's error body. It records every request and whether
 * the client closed the connection early.
 */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: FakeRequest[] = [];
  let queue: FakeStep[] = [];
  let responder: Responder = () => queue.shift() ?? { text: 'ok' };
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' },
        }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const record: FakeRequest = {
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as FakeRequest['body'],
      headers: req.headers,
      closedByClient: false,
    };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableEnded) record.closedByClient = true;
    });
    const step = responder(record, requests.length - 1);
    if ('status' in step) {
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
      res.end(
        JSON.stringify({ error: { message: step.message, type: step.type ?? 'server_error', code: null } }),
      );
      return;
    }
    if (record.body.stream) await stream(res, record, step);
    else whole(res, record, step);
  }

  const address = await new Promise<AddressInfo>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)),
  );
  return {
    url: `http://127.0.0.1:${address.port}/v1`,
    requests,
    script: (...steps) => {
      queue = steps;
      responder = () => queue.shift() ?? { text: 'ok' };
    },
    respond: (fn) => {
      responder = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type TextStep = Exclude<FakeStep, { status: number }>;

function pieces(text: TextStep['text']): string[] {
  if (text === undefined) return [];
  return Array.isArray(text) ? text : text.split(/(?<= )/);
}

function argsText(call: FakeToolCall): string {
  return typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
}

function usageOf(step: TextStep) {
  const u = step.usage ?? { prompt: 10, completion: 5 };
  return { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion };
}

function finishOf(step: TextStep): string {
  return step.finishReason ?? (step.toolCalls?.length ? 'tool_calls' : 'stop');
}

async function stream(res: ServerResponse, req: FakeRequest, step: TextStep): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model: req.body.model };
  const send = async (chunk: object) => {
    if (step.chunkDelayMs) await new Promise((r) => setTimeout(r, step.chunkDelayMs));
    if (!res.destroyed) res.write(`data: ${JSON.stringify({ ...base, ...chunk })}\n\n`);
  };
  const delta = (d: object, finish: string | null = null) => ({
    choices: [{ index: 0, delta: d, finish_reason: finish, logprobs: null }],
  });
  await send(delta({ role: 'assistant', content: '' }));
  for (const text of pieces(step.text)) await send(delta({ content: text }));
  if (step.hang) return; // left open: the client must abort
  for (const [index, call] of (step.toolCalls ?? []).entries()) {
    const args = argsText(call);
    const third = Math.ceil(args.length / 3);
    const id = call.id ?? `call_${index}_${req.body.messages.length}`;
    await send(
      delta({ tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] }),
    );
    for (let i = 0; i < args.length; i += third || 1) {
      await send(
        delta({ tool_calls: [{ index, function: { arguments: args.slice(i, i + (third || 1)) } }] }),
      );
    }
  }
  await send(delta({}, finishOf(step)));
  if (req.body.stream_options?.include_usage) await send({ choices: [], usage: usageOf(step) });
  if (!res.destroyed) res.end('data: [DONE]\n\n');
}

function whole(res: ServerResponse, req: FakeRequest, step: TextStep): void {
  const calls = (step.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `call_${i}`,
    type: 'function',
    function: { name: c.name, arguments: argsText(c) },
  }));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 1,
      model: req.body.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: pieces(step.text).join('') || null,
            ...(calls.length ? { tool_calls: calls } : {}),
          },
          finish_reason: finishOf(step),
          logprobs: null,
        },
      ],
      usage: usageOf(step),
    }),
  );
}
