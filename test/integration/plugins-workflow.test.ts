import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { pluginClient, TEST_PLUGINS_DIR } from '../helpers/plugin-client.js';
import { openSse } from '../helpers/sse-client.js';

/** Plugin tools are workflow tools: the model calls them, each call a child plugin task, progress streamed in. */

let h: TestHub;
let model: FakeOpenAI;

beforeAll(async () => {
  model = await startFakeOpenAI();
  h = await startTestHub({ pluginsDirs: [TEST_PLUGINS_DIR] });
});
beforeEach(() => {
  model.requests.length = 0;
});
afterAll(async () => {
  await h?.close();
  await model?.close();
});

async function start(workflow: string, tools: string[], message = 'go'): Promise<Task> {
  const res = await fetch(`${h.url}/api/v1/workflows/${workflow}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.tokens.operator}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      message,
      runtime_config: {
        model: { model_name: 'fake', base_url: model.url, api_key: 'sk-test-key-000000' },
        tools,
      },
    }),
  });
  const body = (await res.json()) as Task;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

async function eventsOf(taskId: string): Promise<TaskEvent[]> {
  const s = await openSse(`${h.url}/api/v1/tasks/${taskId}/events`, { token: h.tokens.viewer });
  await s.ended;
  return s.events.map((e) => e.data as TaskEvent);
}

async function children(parentId: string): Promise<Task[]> {
  const res = await fetch(`${h.url}/api/v1/tasks?parentId=${parentId}`, {
    headers: { authorization: `Bearer ${h.tokens.viewer}` },
  });
  return ((await res.json()) as { tasks: Task[] }).tasks;
}

describe('plugin tools in workflows', () => {
  it('agent_chat calls a third-party MCP tool and the demo plugin; progress streams into the run', async () => {
    model.script(
      {
        toolCalls: [
          { id: 'c1', name: 'everything__echo', arguments: { message: 'from the model' } },
          {
            id: 'c2',
            name: 'text2image',
            arguments: { prompt: 'wf', width: 32, height: 32, steps: 4, step_delay_ms: 0 },
          },
        ],
      },
      { text: 'All done.' },
    );
    const task = await start('agent_chat', ['everything__echo', 'text2image']);
    const events = await eventsOf(task.id);
    expect(events.at(-1)).toMatchObject({ type: 'status', data: { status: 'succeeded' } });

    // The model was offered both, with the plugin's own argument schema.
    const offered = model.requests[0]?.body.tools?.map((t) => t.function.name);
    expect(offered).toEqual(['everything__echo', 'text2image']);
    const offeredTools = (model.requests[0]?.body.tools ?? []) as unknown as Array<{
      function: { parameters: { properties: Record<string, unknown> } };
    }>;
    const t2i = offeredTools[1];
    expect(Object.keys(t2i?.function.parameters.properties ?? {})).toEqual(
      expect.arrayContaining(['prompt', 'width', 'steps']),
    );

    const results = events
      .filter((e) => e.type === 'tool_result')
      .map((e) => e.data as Record<string, unknown>);
    expect(results[0]).toMatchObject({
      callId: 'c1',
      isError: false,
      result: { status: 'succeeded', text: 'Echo: from the model' },
    });
    expect(results[1]).toMatchObject({
      callId: 'c2',
      isError: false,
      result: { status: 'succeeded', outputs: [{ mime_type: 'image/png' }] },
    });
    const progress = events
      .filter((e) => e.type === 'progress')
      .map((e) => (e.data as { percent?: number }).percent);
    expect(progress).toEqual([25, 50, 75, 100]);

    const kids = await children(task.id);
    expect(kids.map((k) => k.kind)).toEqual(['plugin', 'plugin']);
    expect(kids.every((k) => k.status === 'succeeded' && k.parentId === task.id)).toBe(true);
    // Each child names the tool call it ran for.
    expect(kids.map((k) => k.parentCallId).sort()).toEqual(['c1', 'c2']);
    const toolMessages = model.requests[1]?.body.messages.filter((m) => m.role === 'tool') ?? [];
    expect(String(toolMessages[0]?.content)).toContain('Echo: from the model');
  });

  it('omniverse_agent can call a plugin tool too; a failing call is told to the model', async () => {
    model.script(
      { toolCalls: [{ id: 'k1', name: 'flaky__crash', arguments: {} }] },
      { text: 'The plugin crashed.' },
    );
    const task = await start('omniverse_agent', ['flaky__crash'], 'use the plugin');
    const events = await eventsOf(task.id);
    expect(events.at(-1)).toMatchObject({ type: 'status', data: { status: 'succeeded' } });
    const result = events.find((e) => e.type === 'tool_result')?.data as Record<string, unknown>;
    expect(result).toMatchObject({ name: 'flaky__crash', isError: true, result: { status: 'failed' } });
    expect(String((result['result'] as Record<string, unknown>)['error'])).toMatch(/exited with code 3/);
  });

  it('cancelling the run cancels its plugin call', async () => {
    model.script({ toolCalls: [{ id: 'h1', name: 'flaky__hang', arguments: {} }] });
    const task = await start('agent_chat', ['flaky__hang']);
    const client = pluginClient(h.url, h.tokens.operator);
    let kid: Task | undefined;
    await expect
      .poll(
        async () => {
          kid = (await children(task.id))[0];
          return kid?.status;
        },
        { timeout: 15_000 },
      )
      .toBe('running');
    expect((await client.cancel(task.id)).status).toBe('cancelled');
    expect((await client.waitFor(kid?.id ?? '')).status).toBe('cancelled');
  });

  it('an unknown tool is a 400 naming it', async () => {
    const res = await fetch(`${h.url}/api/v1/workflows/agent_chat/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.tokens.operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'x', runtime_config: { tools: ['no_such_tool'] } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('runtime_config.tools.0');
  });
});
