import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildHub, type Hub } from '../../server/app.js';
import { createLogger } from '../../server/log.js';
import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { http } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { openSse } from '../helpers/sse-client.js';

const SECRET = 'vault-secret-7f3a9c2e';
const API_KEY = 'sk-request-key-0123456789';

let hub: Hub;
let url: string;
let dir: string;
let model: FakeOpenAI;
const lines: string[] = [];
/** The "weather service" the HTTP tool calls: records requests, answers by path. */
let service: { url: string; seen: IncomingMessage[]; bodies: string[]; close(): void };

beforeAll(async () => {
  model = await startFakeOpenAI();
  const seen: IncomingMessage[] = [];
  const bodies: string[] = [];
  const server = createServer(async (req, res) => {
    seen.push(req);
    let body = '';
    for await (const c of req) body += c;
    bodies.push(body);
    // Never answers: the tool's own timeout must end the call, however long the machine takes to get there.
    if (req.url?.startsWith('/slow')) return;
    if (req.url?.startsWith('/big')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('x'.repeat(5_000));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    // Echoes the auth header back: a careless service must not leak the secret into events.
    res.end(
      JSON.stringify({
        city: new URL(req.url ?? '/', 'http://x').searchParams.get('city'),
        temp_c: 21,
        echo: req.headers['x-api-key'],
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  service = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    bodies,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'sb-wf-tools-'));
  hub = await buildHub(
    {
      port: 0,
      dataDir: dir,
      logLevel: 'debug',
      llmMaxRetries: 0,
      // Room for a loaded CI machine: the timeout test sets a shorter one on its own tool.
      httpToolTimeoutS: 30,
      httpToolMaxBytes: 1000,
    },
    { logger: createLogger('debug', sink) },
  );
  url = await hub.listen();
});
afterAll(async () => {
  await hub?.close();
  await model?.close();
  service?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  model.requests.length = 0;
});

const weatherTool = (path = '/weather', extra: Record<string, unknown> = {}) => ({
  name: 'get_weather',
  description: 'Weather for a city',
  parameter_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  execution_config: {
    url: `${service.url}${path}`,
    method: 'GET',
    headers: { 'x-api-key': '{{vault.weather_key}}' },
    ...extra,
  },
});

async function runToEnd(body: unknown): Promise<{ task: Task; events: TaskEvent[] }> {
  const sse = await openSse(`${url}/v1/run_workflow`, {
    method: 'POST',
    token: hub.ctx.auth.tokens.operator,
    body: JSON.stringify(body),
  });
  await sse.ended;
  const taskId = sse.headers.get('x-task-id')!;
  const task = (await http<Task>(url, hub.ctx.auth.tokens.viewer, 'GET', `/api/v1/tasks/${taskId}`)).body;
  return { task, events: await hub.ctx.tasks.replay(taskId, 0) };
}

describe('the tool loop', () => {
  it('runs a native tool and an HTTP tool (vault header, args as query) and feeds both results back', async () => {
    model.script(
      {
        toolCalls: [
          { id: 't1', name: 'get_time', arguments: {} },
          { id: 't2', name: 'get_weather', arguments: { city: 'Oslo' } },
        ],
      },
      { text: 'It is 21°C in Oslo.' },
    );
    const { task, events } = await runToEnd({
      input: {
        messages: [{ role: 'user', content: 'time and weather in {{place}}?' }],
        variables: { place: 'Oslo' },
      },
      runtime_config: {
        model: {
          model_name: 'fake',
          base_url: model.url,
          api_key: API_KEY,
          temperature: 0.2,
          max_tokens: 300,
        },
        tools: ['get_time', weatherTool()],
        vault: { weather_key: SECRET },
      },
    });
    expect(task.status).toBe('succeeded');
    // The request went out with the secret and the city; the model was called with the request's settings.
    const req = service.seen.at(-1)!;
    expect(req.headers['x-api-key']).toBe(SECRET);
    expect(req.url).toBe('/weather?city=Oslo');
    expect(model.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(model.requests[0]?.body).toMatchObject({ model: 'fake', temperature: 0.2, max_tokens: 300 });
    expect(model.requests[0]?.body.messages[0]).toEqual({
      role: 'user',
      content: 'time and weather in Oslo?',
    });
    const results = events.filter((e) => e.type === 'tool_result');
    expect(results.map((e) => e.data)).toMatchObject([
      { callId: 't1', name: 'get_time', isError: false },
      {
        callId: 't2',
        name: 'get_weather',
        isError: false,
        result: { status: 200, body: { city: 'Oslo', temp_c: 21, echo: '[redacted]' } },
      },
    ]);
    const toolMessages = model.requests[1]?.body.messages.filter((m) => m.role === 'tool') ?? [];
    expect(toolMessages.map((m) => m.tool_call_id)).toEqual(['t1', 't2']);
    expect(String(toolMessages[1]?.content)).not.toContain(SECRET);

    // No secret anywhere: not in events, not in the stored task, not in the store file, not in the logs.
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(JSON.stringify(task)).not.toContain(SECRET);
    expect(JSON.stringify(task)).not.toContain(API_KEY);
    expect(task.input).toMatchObject({
      runtime_config: { vault: { weather_key: '[redacted]' }, model: { api_key: '[redacted]' } },
    });
    await hub.ctx.tasks.log.flush();
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json')) expect(readFileSync(join(dir, f)).includes(SECRET), f).toBe(false);
    }
    const logs = lines.join('\n');
    expect(logs).toContain(task.id);
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain(API_KEY);
  });

  it('puts args where {{args.X}} says and sends a JSON body for POST', async () => {
    model.script({ toolCalls: [{ name: 'post_it', arguments: { city: 'Rome', n: 3 } }] }, { text: 'done' });
    const tool = {
      name: 'post_it',
      parameter_schema: { type: 'object', properties: { city: { type: 'string' }, n: { type: 'number' } } },
      execution_config: {
        url: `${service.url}/cities/{{args.city}}`,
        method: 'POST',
        body: { count: '{{args.n}}', key: '{{vault.k}}' },
      },
    };
    const { task } = await runToEnd({
      message: 'post',
      runtime_config: {
        model: { model_name: 'fake', base_url: model.url },
        tools: [tool],
        vault: { k: SECRET },
      },
    });
    expect(task.status).toBe('succeeded');
    expect(service.seen.at(-1)?.url).toBe('/cities/Rome');
    expect(JSON.parse(service.bodies.at(-1)!)).toEqual({ count: 3, key: SECRET });
  });

  it('reports HTTP tool timeouts, oversized answers, bad JSON arguments and unknown tools to the model as tool errors', async () => {
    model.script(
      {
        toolCalls: [
          { id: 'a', name: 'slow', arguments: {} },
          { id: 'b', name: 'big', arguments: {} },
          { id: 'c', name: 'big', arguments: '{not json' },
          { id: 'd', name: 'no_such_tool', arguments: {} },
        ],
      },
      { text: 'I see.' },
    );
    const { task, events } = await runToEnd({
      message: 'go',
      runtime_config: {
        model: { model_name: 'fake', base_url: model.url },
        tools: [
          { name: 'slow', execution_config: { url: `${service.url}/slow`, timeout: 2 } },
          { name: 'big', execution_config: { url: `${service.url}/big` } },
        ],
      },
    });
    expect(task.status).toBe('succeeded');
    expect(service.seen.some((req) => req.url === '/slow')).toBe(true);
    const results = Object.fromEntries(
      events.flatMap((e) => (e.type === 'tool_result' ? [[e.data.callId, e.data] as const] : [])),
    );
    expect(results['a']).toMatchObject({ isError: true, result: { error: 'timed out after 2s' } });
    expect(results['b']).toMatchObject({ isError: false, result: { status: 200, truncated: true } });
    expect((results['b']?.result as { body?: string } | undefined)?.body?.length).toBe(1000);
    expect(results['c']).toMatchObject({
      isError: true,
      result: { error: expect.stringMatching(/not valid JSON/) },
    });
    expect(results['d']).toMatchObject({ isError: true, result: { error: 'no tool named no_such_tool' } });
  });
});
