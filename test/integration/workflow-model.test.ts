import { afterEach, describe, expect, it } from 'vitest';
import type { HubConfig } from '../../server/config.js';
import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { openSse } from '../helpers/sse-client.js';

let hub: TestHub | undefined;
let model: FakeOpenAI | undefined;
afterEach(async () => {
  await hub?.close();
  await model?.close();
  hub = undefined;
  model = undefined;
});

async function setup(config: Partial<HubConfig> = {}) {
  model = await startFakeOpenAI();
  hub = await startTestHub({ store: 'memory', llmBaseUrl: model.url, llmModel: 'fake-gpt', ...config });
  return { hub, model };
}

async function start(h: TestHub, body: unknown = { message: 'hi' }, name = 'agent_chat'): Promise<Task> {
  const res = await http<Task>(h.url, h.tokens.operator, 'POST', `/api/v1/workflows/${name}/runs`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function ended(h: TestHub, id: string, ms = 10_000): Promise<Task> {
  return until(
    async () => {
      const t = (await http<Task>(h.url, h.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
      return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(t.status) ? t : null;
    },
    ms,
    `task ${id} to end`,
  );
}

const eventsOf = (h: TestHub, id: string): Promise<TaskEvent[]> => h.hub.ctx.tasks.replay(id, 0);

describe('model calls', () => {
  it('retry on 429 (with Retry-After) and succeed', async () => {
    const { hub, model } = await setup({ llmMaxRetries: 2 });
    model.script(
      {
        status: 429,
        message: 'Rate limit reached',
        type: 'rate_limit_error',
        headers: { 'retry-after-ms': '20' },
      },
      { text: 'after the wait' },
    );
    const task = await ended(hub, (await start(hub)).id);
    expect(task.status).toBe('succeeded');
    expect(model.requests).toHaveLength(2);
    expect(task.result).toMatchObject({ content: 'after the wait' });
  });

  it('a 500 that persists past the retries fails the run with an error event naming the model and status', async () => {
    const { hub, model } = await setup({ llmMaxRetries: 1 });
    model.respond(() => ({ status: 500, message: 'upstream exploded', headers: { 'retry-after-ms': '10' } }));
    const task = await ended(hub, (await start(hub)).id);
    expect(model.requests).toHaveLength(2);
    expect(task.status).toBe('failed');
    expect(task.error).toMatchObject({
      code: 'execution_failed',
      message: 'model fake-gpt answered 500: upstream exploded',
      details: { source: 'model', status: 500 },
    });
    const error = (await eventsOf(hub, task.id)).find((e) => e.type === 'error');
    expect(error?.data).toMatchObject({ message: 'model fake-gpt answered 500: upstream exploded' });
  });

  it('an unreachable model server is a clear error', async () => {
    const { hub } = await setup({ llmMaxRetries: 0, llmBaseUrl: 'http://127.0.0.1:9/v1' });
    const task = await ended(hub, (await start(hub)).id);
    expect(task.status).toBe('failed');
    expect(task.error?.message).toMatch(/^model fake-gpt: cannot reach the model server/);
  });

  it('cancel mid-stream closes the model connection and ends the task cancelled within a second', async () => {
    const { hub, model } = await setup();
    model.script({ text: ['partial ', 'answer '], hang: true });
    const sse = await openSse(`${hub.url}/v1/run_workflow`, {
      method: 'POST',
      token: hub.tokens.operator,
      body: JSON.stringify({ message: 'go' }),
    });
    await sse.waitFor(
      (e) => e.event === 'message_chunk' && (e.data as { content: string }).content.includes('answer'),
    );
    const taskId = sse.headers.get('x-task-id')!;
    const t0 = Date.now();
    const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${taskId}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    await sse.ended;
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(sse.events.at(-1)).toMatchObject({
      event: 'done',
      data: { status: 'cancelled', finish_reason: 'cancelled' },
    });
    await until(() => model.requests[0]?.closedByClient, 1_000, 'the model connection to close');
    // Tokens streamed before the cancel are kept, and nothing comes after the terminal status.
    const events = await eventsOf(hub, taskId);
    expect(
      events
        .filter((e) => e.type === 'token')
        .map((e) => (e.data as { text: string }).text)
        .join(''),
    ).toBe('partial answer ');
    expect(events.at(-1)).toMatchObject({ type: 'status', data: { status: 'cancelled' } });
    // Cancelling again is a conflict, as for any finished task.
    expect((await http(hub.url, hub.tokens.operator, 'POST', `/api/v1/tasks/${taskId}/cancel`)).status).toBe(
      409,
    );
  });

  it('a run past its timeout ends timed_out and stops the model stream', async () => {
    const { hub, model } = await setup();
    model.script({ text: 'stuck ', hang: true });
    const task = await ended(
      hub,
      (await start(hub, { message: 'x', runtime_config: { timeout_ms: 300 } })).id,
    );
    expect(task.status).toBe('timed_out');
    expect(task.error?.message).toMatch(/timeout of 0.3s/);
    await until(() => model.requests[0]?.closedByClient, 1_000, 'the model connection to close');
  });

  it('coalesces many tiny deltas into fewer token events with the text intact', async () => {
    const { hub, model } = await setup({ tokenCoalesceMs: 30 });
    const pieces = Array.from({ length: 300 }, (_, i) => `${i % 10}`);
    model.script({ text: pieces });
    const task = await ended(hub, (await start(hub)).id);
    const tokens = (await eventsOf(hub, task.id)).filter((e) => e.type === 'token');
    expect(tokens.map((e) => (e.data as { text: string }).text).join('')).toBe(pieces.join(''));
    expect(tokens.length).toBeLessThan(pieces.length / 5);
  });

  it('per-tick coalescing (the default) also merges a burst', async () => {
    const { hub, model } = await setup();
    const pieces = Array.from({ length: 200 }, () => 'ab');
    model.script({ text: pieces });
    const task = await ended(hub, (await start(hub)).id);
    const tokens = (await eventsOf(hub, task.id)).filter((e) => e.type === 'token');
    expect(tokens.map((e) => (e.data as { text: string }).text).join('')).toBe(pieces.join(''));
    expect(tokens.length).toBeLessThan(pieces.length);
  });

  it('stops a model that keeps calling tools at the turn limit', async () => {
    const { hub, model } = await setup();
    model.respond(() => ({ toolCalls: [{ name: 'get_time', arguments: {} }] }));
    const task = await ended(
      hub,
      (await start(hub, { message: 'loop', runtime_config: { tools: ['get_time'], max_iterations: 3 } })).id,
    );
    expect(task.status).toBe('succeeded');
    expect(model.requests).toHaveLength(3);
    // The last allowed turn is offered no tools.
    expect(model.requests[2]?.body.tools).toBeUndefined();
    const done = (await eventsOf(hub, task.id)).find((e) => e.type === 'done');
    expect(done?.data).toMatchObject({ finishReason: 'max_iterations' });
  });

  it('a request naming a model with no server anywhere is refused up front', async () => {
    hub = await startTestHub({ store: 'memory' });
    const res = await http<{ error: { field: string } }>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/api/v1/workflows/agent_chat/runs',
      { message: 'x', model: 'gpt-4o' },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('runtime_config.model.base_url');
  });
});

describe('the built-in demo model', () => {
  it('answers with no model configured, streaming text and calling tools', async () => {
    hub = await startTestHub({ store: 'memory' });
    const chat = await ended(hub, (await start(hub, { message: 'hello there' })).id);
    expect(chat.status).toBe('succeeded');
    expect(chat.input).toMatchObject({ model: 'switchboard-demo' });
    expect((chat.result as { content: string }).content).toContain('You said: "hello there"');
    expect((await eventsOf(hub, chat.id)).filter((e) => e.type === 'token').length).toBeGreaterThan(5);

    const calc = await ended(
      hub,
      (
        await start(hub, {
          message: 'what is (2 + 3) * 4?',
          runtime_config: { tools: ['calculator', 'get_time'] },
        })
      ).id,
    );
    const events = await eventsOf(hub, calc.id);
    expect(events.find((e) => e.type === 'tool_result')?.data).toMatchObject({
      name: 'calculator',
      result: { value: 20 },
    });
    expect((calc.result as { content: string }).content).toContain('20');
    expect(events.find((e) => e.type === 'done')?.data).toMatchObject({
      usage: { totalTokens: expect.any(Number) },
    });
  });
});
