import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Task, WorkflowInfo } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { openSse } from '../helpers/sse-client.js';

let hub: TestHub;
let model: FakeOpenAI;

beforeAll(async () => {
  model = await startFakeOpenAI();
  hub = await startTestHub({
    store: 'memory',
    llmBaseUrl: model.url,
    llmModel: 'fake-gpt',
    llmMaxRetries: 0,
    sseKeepaliveS: 0.05,
  });
});
afterAll(async () => {
  await hub?.close();
  await model?.close();
});
beforeEach(() => {
  model.requests.length = 0;
});

const run = (body: unknown, headers: Record<string, string> = {}) =>
  openSse(`${hub.url}/v1/run_workflow`, {
    method: 'POST',
    token: hub.tokens.operator,
    body: JSON.stringify(body),
    headers,
  });

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  task_meta: { workflow_id: 'wf-1', trace_id: 'trace-plane-1', user_id: 'u-1' },
  input: { messages: [{ role: 'user', content }], variables: {} },
  runtime_config: { tools: ['calculator'], ...extra },
});

describe('POST /v1/run_workflow (execution plane SSE)', () => {
  it('streams tool_thinking, tool_start, tool_result, message_chunk and done with usage and finish_reason', async () => {
    model.script(
      {
        text: 'Let me compute. ',
        toolCalls: [{ id: 'c1', name: 'calculator', arguments: { expression: '6 * 7' } }],
        usage: { prompt: 20, completion: 8 },
      },
      { text: 'The answer is 42.', usage: { prompt: 30, completion: 6 } },
    );
    const sse = await run(chat('What is 6 * 7?'));
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    const taskId = sse.headers.get('x-task-id');
    await sse.ended;
    const names = sse.events.map((e) => e.event);
    // Order: the first turn's text, then the tool, then the answer, then done.
    const firstTool = names.indexOf('tool_thinking');
    expect(names.slice(0, firstTool).every((n) => n === 'message_chunk')).toBe(true);
    expect(names.slice(firstTool, firstTool + 3)).toEqual(['tool_thinking', 'tool_start', 'tool_result']);
    expect(names.at(-1)).toBe('done');
    expect(names.filter((n) => n === 'done')).toHaveLength(1);
    const text = sse.events
      .filter((e) => e.event === 'message_chunk')
      .map((e) => (e.data as { content: string }).content);
    expect(text.join('')).toBe('Let me compute. The answer is 42.');
    expect(sse.events.find((e) => e.event === 'tool_start')?.data).toEqual({
      task_id: taskId,
      tool_call_id: 'c1',
      tool_name: 'calculator',
      arguments: { expression: '6 * 7' },
    });
    expect(sse.events.find((e) => e.event === 'tool_result')?.data).toMatchObject({
      tool_name: 'calculator',
      result: { value: 42 },
      is_error: false,
    });
    expect(sse.events.at(-1)?.data).toEqual({
      task_id: taskId,
      status: 'succeeded',
      result: { content: 'The answer is 42.', iterations: 2, toolCalls: 1 },
      usage: { prompt_tokens: 50, completion_tokens: 14, total_tokens: 64 },
      finish_reason: 'stop',
    });
    // Ids are task seqs: increasing integers.
    const ids = sse.events.map((e) => Number(e.id));
    expect(ids.every((n, i) => Number.isInteger(n) && (i === 0 || n > ids[i - 1]!))).toBe(true);
    // The model saw the tool's answer and was streamed with usage asked for.
    expect(model.requests[0]?.body.stream_options).toEqual({ include_usage: true });
    expect(model.requests[0]?.body.tools?.map((t) => t.function.name)).toEqual(['calculator']);
    const toolMessage = model.requests[1]?.body.messages.find((m) => m.role === 'tool');
    expect(toolMessage?.tool_call_id).toBe('c1');
    expect(JSON.parse(String(toolMessage?.content))).toMatchObject({ value: 42 });
    // The same run is a task like any other, with the trace id of task_meta.
    const task = (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${taskId}`)).body;
    expect(task).toMatchObject({ kind: 'workflow', status: 'succeeded', traceId: 'trace-plane-1' });
    expect(task.input).toMatchObject({
      workflow: 'agent_chat',
      model: 'fake-gpt',
      task_meta: { user_id: 'u-1' },
    });
  });

  it('sends keep-alive comments while the model is slow', async () => {
    model.script({ text: ['slow ', 'answer'], chunkDelayMs: 150 });
    const sse = await run(chat('take your time'));
    await sse.ended;
    expect(sse.comments.filter((c) => c === 'keep-alive').length).toBeGreaterThanOrEqual(2);
    expect(sse.events.at(-1)?.event).toBe('done');
  });

  it('resumes after Last-Event-ID with no gap and no duplicate', async () => {
    model.script({ text: ['one ', 'two ', 'three ', 'four ', 'five'], chunkDelayMs: 40 });
    const first = await run({ ...chat('count'), on_disconnect: 'continue' });
    const taskId = first.headers.get('x-task-id')!;
    const seen = await first.waitFor(
      (e) => e.event === 'message_chunk' && (e.data as { content: string }).content === 'two ',
    );
    first.abort();
    // The run goes on without the client.
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${taskId}`)).body.status ===
        'succeeded',
    );
    const resumed = await openSse(`${hub.url}/v1/run_workflow/${taskId}/events`, {
      token: hub.tokens.viewer,
      headers: { 'last-event-id': String(seen.id) },
    });
    await resumed.ended;
    const before = first.events.slice(0, first.events.indexOf(seen) + 1);
    const all = [...before, ...resumed.events];
    const ids = all.map((e) => Number(e.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(Number(resumed.events[0]?.id)).toBeGreaterThan(Number(seen.id));
    const text = all
      .filter((e) => e.event === 'message_chunk')
      .map((e) => (e.data as { content: string }).content);
    expect(text.join('')).toBe('one two three four five');
    expect(all.at(-1)?.event).toBe('done');
  });

  it('ends with error then done (finish_reason error) when the model fails, naming the model and its message', async () => {
    model.script({ status: 400, message: "Invalid value for 'temperature'", type: 'invalid_request_error' });
    const sse = await run(chat('hi'));
    await sse.ended;
    expect(sse.events.map((e) => e.event)).toEqual(['error', 'done']);
    expect((sse.events[0]?.data as { message?: string } | undefined)?.message).toBe(
      "model fake-gpt answered 400: Invalid value for 'temperature'",
    );
    expect(sse.events[1]?.data).toMatchObject({ status: 'failed', finish_reason: 'error', usage: null });
  });
});

describe('workflow bad payloads get a 4xx naming the field', () => {
  const cases: Array<[string, unknown, number, string]> = [
    ['unknown workflow', { workflow: 'nope', message: 'hi' }, 404, 'workflow'],
    ['missing messages', { input: { variables: {} } }, 400, 'input.messages'],
    ['no input at all', { task_meta: {} }, 400, 'input.messages'],
    ['empty messages', { input: { messages: [] } }, 400, 'input.messages'],
    [
      'wrong message type',
      { input: { messages: [{ role: 'user', content: 5 }] } },
      400,
      'input.messages.0.content',
    ],
    ['bad role', { input: { messages: [{ role: 'robot', content: 'x' }] } }, 400, 'input.messages.0.role'],
    [
      'bad temperature',
      { message: 'x', runtime_config: { model: { temperature: 'hot' } } },
      400,
      'runtime_config.model.temperature',
    ],
    [
      'unknown native tool',
      { message: 'x', runtime_config: { tools: ['rm_rf'] } },
      400,
      'runtime_config.tools.0',
    ],
    [
      'malformed tool schema',
      {
        message: 'x',
        runtime_config: {
          tools: [{ name: 'w', parameter_schema: { type: 'array' }, execution_config: { url: 'http://x' } }],
        },
      },
      400,
      'runtime_config.tools.0.parameter_schema.type',
    ],
    [
      'HTTP tool without url',
      { message: 'x', runtime_config: { tools: [{ name: 'w', execution_config: { method: 'GET' } }] } },
      400,
      'runtime_config.tools.0.execution_config.url',
    ],
    ['unknown top-level field', { message: 'x', colour: 'red' }, 400, 'colour'],
    [
      'vault value not a string',
      { message: 'x', runtime_config: { vault: { k: 1 } } },
      400,
      'runtime_config.vault.k',
    ],
  ];
  for (const [what, body, status, field] of cases) {
    it(what, async () => {
      const res = await http<{ error: { field: string; message: string } }>(
        hub.url,
        hub.tokens.operator,
        'POST',
        '/v1/run_workflow',
        body,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.field).toBe(field);
      expect(res.body.error.message).toContain(field);
    });
  }

  it('the native start route answers the same way', async () => {
    const res = await http<{ error: { field: string } }>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/api/v1/workflows/agent_chat/runs',
      {
        input: { messages: [{ role: 'user' }] },
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('input.messages.0.content');
  });

  it('needs an operator token', async () => {
    expect((await http(hub.url, null, 'POST', '/v1/run_workflow', { message: 'x' })).status).toBe(401);
    expect(
      (await http(hub.url, hub.tokens.viewer, 'POST', '/v1/run_workflow', { message: 'x' })).status,
    ).toBe(403);
  });
});

describe('workflow listing and health', () => {
  it('GET /api/v1/workflows lists the workflows with input schemas; GET / and GET /health name them', async () => {
    const list = (await http<WorkflowInfo[]>(hub.url, hub.tokens.viewer, 'GET', '/api/v1/workflows')).body;
    expect(list.map((w) => w.name)).toEqual(['agent_chat', 'omniverse_agent']);
    expect(list[0]?.inputSchema).toMatchObject({ type: 'object', required: ['input'] });
    const info = (
      await http<{ workflows: Array<{ name: string }> }>(hub.url, null, 'GET', '/', undefined, {
        accept: 'application/json',
      })
    ).body;
    expect(info.workflows.map((w) => w.name)).toEqual(['agent_chat', 'omniverse_agent']);
    const health = await http<{ status: string; workflows: string[] }>(hub.url, null, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', workflows: ['agent_chat', 'omniverse_agent'] });
  });
});
