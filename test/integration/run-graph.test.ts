import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunGraph, Task, TaskWaiting } from '../../server/protocol/index.js';
import { call, http, type MonitorSocket, monitorClient } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { loopSchema } from '../helpers/flowgram-loop.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

let hub: TestHub;
let model: FakeOpenAI;
let socket: MonitorSocket;

beforeAll(async () => {
  model = await startFakeOpenAI();
  hub = await startTestHub({ store: 'memory' });
  socket = await monitorClient(hub.url, hub.tokens.viewer);
});
afterAll(async () => {
  socket?.disconnect();
  await hub?.close();
  await model?.close();
});

const get = <T>(path: string, token: string | null = hub.tokens.viewer) =>
  http<T>(hub.url, token, 'GET', path);
const edgesOf = (g: RunGraph) =>
  g.edges.map((e) => `${e.source}->${e.target}${e.conditional ? '?' : ''}`).sort();

describe('run graphs', () => {
  it("GET /api/v1/workflows/{name}/graph gives the agent loop from LangGraph's own graph", async () => {
    for (const name of ['agent_chat', 'omniverse_agent']) {
      const res = await get<RunGraph>(`/api/v1/workflows/${name}/graph`);
      expect(res.status).toBe(200);
      expect(res.body.source).toBe('langgraph');
      expect(res.body.name).toBe(name);
      expect(res.body.nodes.map((n) => n.id).sort()).toEqual(['__end__', '__start__', 'agent', 'tools']);
      expect(edgesOf(res.body)).toEqual([
        '__start__->agent',
        'agent->__end__?',
        'agent->tools?',
        'tools->agent',
      ]);
    }
  });

  it('answers an unknown workflow with 404 naming it, and an anonymous caller with 401', async () => {
    const res = await get<{ error: { code: string; message: string } }>('/api/v1/workflows/nope/graph');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('"nope"');
    expect((await get('/api/v1/workflows/agent_chat/graph', null)).status).toBe(401);
  });

  it("GET /api/v1/tasks/{id}/graph gives a FlowGram task's nodes (blocks under their loop) and edges", async () => {
    const run = await http<{ taskID: string }>(hub.url, hub.tokens.operator, 'POST', '/api/task/run', {
      schema: JSON.stringify(loopSchema()),
      inputs: { items: [1, 2] },
    });
    expect(run.status).toBe(200);
    const res = await get<RunGraph>(`/api/v1/tasks/${run.body.taskID}/graph`);
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('flowgram');
    const byId = new Map(res.body.nodes.map((n) => [n.id, n]));
    expect([...byId.keys()]).toEqual([
      'start_0',
      'loop_0',
      'block_start_0',
      'code_0',
      'block_end_0',
      'end_0',
    ]);
    expect(byId.get('code_0')).toMatchObject({ label: 'Double', type: 'code', parent: 'loop_0' });
    expect(byId.get('loop_0')?.parent).toBeUndefined();
    expect(edgesOf(res.body)).toEqual(
      expect.arrayContaining([
        'start_0->loop_0',
        'loop_0->end_0',
        'block_start_0->code_0',
        'code_0->block_end_0',
      ]),
    );
    // The socket gives the same graph.
    const ack = await call<RunGraph>(socket, 'task:graph', { taskId: run.body.taskID });
    expect(ack).toEqual({ ok: true, data: res.body });
  });

  it("a workflow task's graph is its workflow's; a code task has none (404 that says why)", async () => {
    model.script({ text: 'hello' });
    const started = await http<Task>(
      hub.url,
      hub.tokens.operator,
      'POST',
      '/api/v1/workflows/agent_chat/runs',
      {
        message: 'hi',
        runtime_config: { model: { model_name: 'fake', base_url: model.url, api_key: 'sk-test-key-000000' } },
      },
    );
    expect(started.status).toBe(201);
    const graph = await get<RunGraph>(`/api/v1/tasks/${started.body.id}/graph`);
    expect(graph.body.name).toBe('agent_chat');
    expect(graph.body.nodes.map((n) => n.id)).toContain('tools');

    const code = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
      code: 'print(1)',
    });
    expect(code.status).toBe(201);
    const none = await get<{ error: { message: string } }>(`/api/v1/tasks/${code.body.id}/graph`);
    expect(none.status).toBe(404);
    expect(none.body.error.message).toMatch(/code task/);
    const ack = await call(socket, 'task:graph', { taskId: code.body.id });
    expect(ack).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const bad = await call(socket, 'task:graph', { taskId: 42 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(socket.connected).toBe(true);
  });

  it('the feed says why a queued task waits', async () => {
    const feed = await monitorClient(hub.url, hub.tokens.viewer);
    try {
      await call(feed, 'feed:subscribe', {});
      const notes: TaskWaiting[] = [];
      feed.on('task:waiting', (n) => notes.push(n));
      const code = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', {
        code: 'print(2)',
        target: { label: 'gpu' },
      });
      expect(code.status).toBe(201);
      await expect
        .poll(() => notes.find((n) => n.taskId === code.body.id), { timeout: 10_000 })
        .toMatchObject({
          reason: 'no_extension',
          message: 'no extension is connected (the task needs the label gpu)',
        });
    } finally {
      feed.disconnect();
    }
  });
});
