import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowReport } from '../../server/protocol/flowgram.js';
import type { Task } from '../../server/protocol/tasks.js';
import { http, until } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import * as fg from '../helpers/flowgram-schemas.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { openSse } from '../helpers/sse-client.js';

let hub: TestHub;
let model: FakeOpenAI;
/** Holds requests until two have arrived, then answers both: only parallel branches get an answer. */
let pair: { url: string; close(): void; seen: string[] };

beforeAll(async () => {
  model = await startFakeOpenAI();
  hub = await startTestHub({ store: 'memory', llmMaxRetries: 0 });
  const waiting: Array<[string, ServerResponse]> = [];
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    waiting.push([req.url ?? '', res]);
    if (waiting.length < 2) return;
    for (const [url, r] of waiting.splice(0)) r.end(`answer ${url}`);
  });
  const addr = await new Promise<AddressInfo>((r) =>
    server.listen(0, '127.0.0.1', () => r(server.address() as AddressInfo)),
  );
  pair = {
    url: `http://127.0.0.1:${addr.port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
});
afterAll(async () => {
  await hub?.close();
  await model?.close();
  pair?.close();
});

const api = <T>(method: string, path: string, body?: unknown, token: string | null = hub.tokens.operator) =>
  http<T>(hub.url, token, method, path, body);

async function report(taskID: string): Promise<FlowReport> {
  return until(
    async () => {
      const r = await api<FlowReport>('GET', `/api/task/report?taskID=${taskID}`);
      return r.body.workflowStatus?.terminated ? r.body : null;
    },
    20_000,
    'the run to end',
  );
}

const echo = fg.single(
  fg.code('code_0', 'async function main({ params }) { return { result: params.text + "!" }; }', {
    text: ['start_0', 'text', 'string'],
  }),
  'result',
  'string',
  { text: { type: 'string' } },
);

describe('FlowGram API', () => {
  it('runs a schema sent as a string and answers report and result in FlowGram shapes', async () => {
    const run = await api<{ taskID: string }>('POST', '/api/task/run', {
      schema: JSON.stringify(echo),
      inputs: { text: 'hi' },
    });
    expect(run.status).toBe(200);
    expect(Object.keys(run.body)).toEqual(['taskID']);
    const r = await report(run.body.taskID);
    expect(r).toMatchObject({
      id: run.body.taskID,
      inputs: { text: 'hi' },
      outputs: { out: 'hi!' },
      workflowStatus: { status: 'succeeded', terminated: true },
    });
    expect(r.workflowStatus.timeCost).toBeGreaterThanOrEqual(0);
    expect(Object.keys(r.reports).sort()).toEqual(['code_0', 'end_0', 'start_0']);
    expect(r.reports['code_0']?.snapshots[0]).toMatchObject({
      nodeID: 'code_0',
      inputs: { text: 'hi' },
      outputs: { result: 'hi!' },
      data: { script: { language: 'javascript' } },
    });
    expect(Object.keys(r.messages).sort()).toEqual(['debug', 'error', 'info', 'log', 'warning']);
    const result = await api('GET', `/api/task/result?taskID=${run.body.taskID}`);
    expect(result).toEqual({ status: 200, body: { out: 'hi!' } });
  });

  it('starts a run on the native route and streams node events with inputs and outputs', async () => {
    const res = await api<Task>('POST', '/api/v1/flowgram/runs', { schema: echo, inputs: { text: 'yo' } });
    expect(res.status).toBe(201);
    expect(res.body.kind).toBe('flowgram');
    const sse = await openSse(`${hub.url}/api/v1/tasks/${res.body.id}/events`, {
      token: hub.tokens.operator,
    });
    await sse.waitFor(
      (e) => e.event === 'status' && (e.data as { data: { status: string } }).data.status === 'succeeded',
    );
    sse.abort();
    const nodeEvents = sse.events
      .filter((e) => e.event === 'node_start' || e.event === 'node_end')
      .map((e) => [e.event, (e.data as { data: { node: string } }).data]);
    expect(nodeEvents.map(([type, d]) => `${type}:${(d as { node: string }).node}`)).toEqual([
      'node_start:start_0',
      'node_end:start_0',
      'node_start:code_0',
      'node_end:code_0',
      'node_start:end_0',
      'node_end:end_0',
    ]);
    expect(nodeEvents[2]?.[1]).toMatchObject({ nodeType: 'code', title: 'code_0', inputs: { text: 'yo' } });
    expect(nodeEvents[3]?.[1]).toMatchObject({ status: 'succeeded', outputs: { result: 'yo!' } });
    const native = await api<FlowReport>('GET', `/api/v1/flowgram/runs/${res.body.id}/report`);
    expect(native.body.outputs).toEqual({ out: 'yo!' });
  });

  it('starts a run through the generic create-by-kind route too', async () => {
    const res = await api<Task>('POST', '/api/v1/tasks', {
      kind: 'flowgram',
      schema: echo,
      inputs: { text: 'k' },
    });
    expect(res.status).toBe(201);
    expect(res.body.kind).toBe('flowgram');
    const r = await report(res.body.id);
    expect(r.outputs).toEqual({ out: 'k!' });
    const bad = await api<{ error: { field: string } }>('POST', '/api/v1/tasks', {
      kind: 'flowgram',
      inputs: {},
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('schema');
  });

  it('runs parallel branches at the same time and joins them at the end node', async () => {
    const schema = fg.schemaOf(
      [
        fg.start(),
        fg.http('http_a', `${pair.url}/a`),
        fg.http('http_b', `${pair.url}/b`),
        fg.end({ a: ['http_a', 'body', 'string'], b: ['http_b', 'body', 'string'] }),
      ],
      [
        fg.edge('start_0', 'http_a'),
        fg.edge('start_0', 'http_b'),
        fg.edge('http_a', 'end_0'),
        fg.edge('http_b', 'end_0'),
      ],
    );
    const run = await api<{ taskID: string }>('POST', '/api/task/run', {
      schema: JSON.stringify(schema),
      inputs: {},
    });
    const r = await report(run.body.taskID);
    // The server answers only once both requests are in: a sequential engine would wait forever.
    expect(r.workflowStatus.status).toBe('succeeded');
    expect(r.outputs).toEqual({ a: 'answer /a', b: 'answer /b' });
    expect(r.reports['end_0']?.snapshots).toHaveLength(1);
  });

  it('streams llm tokens tagged with the node and keeps the API key out of events and the stored input', async () => {
    model.script({ text: 'one two three' });
    const schema = fg.single(fg.llm('llm_0', model.url, 'say three words'), 'result');
    const run = await api<{ taskID: string }>('POST', '/api/task/run', {
      schema: JSON.stringify(schema),
      inputs: {},
    });
    const r = await report(run.body.taskID);
    expect(r.outputs).toEqual({ out: 'one two three' });
    expect(model.requests.at(-1)?.headers.authorization).toBe('Bearer sk-test-secret-key-123456');
    const events = await hub.hub.ctx.tasks.replay(run.body.taskID, 0);
    const tokens = events.filter((e) => e.type === 'token');
    expect(tokens.map((e) => (e.data as { text: string }).text).join('')).toBe('one two three');
    expect(tokens.every((e) => (e.data as { node?: string }).node === 'llm_0')).toBe(true);
    const stored = JSON.stringify([events, await hub.hub.ctx.tasks.require(run.body.taskID), r]);
    expect(stored).not.toContain('sk-test-secret-key-123456');
    expect(r.reports['llm_0']?.snapshots[0]?.inputs['apiKey']).toBe('[redacted]');
  });

  it('fails a node with a FlowGram message naming it, and the workflow with it', async () => {
    const schema = fg.single(
      fg.code('code_0', 'async function main() { throw new Error("boom"); }'),
      'result',
    );
    const run = await api<{ taskID: string }>('POST', '/api/task/run', {
      schema: JSON.stringify(schema),
      inputs: {},
    });
    const r = await report(run.body.taskID);
    expect(r.workflowStatus.status).toBe('failed');
    expect(r.reports['code_0']).toMatchObject({ status: 'failed' });
    expect(r.reports['code_0']?.snapshots[0]?.error).toBe('Code execution failed: boom');
    expect(r.messages['error']).toEqual([
      expect.objectContaining({ type: 'error', nodeID: 'code_0', message: 'Code execution failed: boom' }),
    ]);
    expect(r.reports['end_0']).toBeUndefined();
    expect((await api('GET', `/api/task/result?taskID=${run.body.taskID}`)).body).toEqual({});
    const task = await hub.hub.ctx.tasks.require(run.body.taskID);
    expect(task.error).toMatchObject({
      field: 'code_0',
      message: 'node code_0: Code execution failed: boom',
    });
  });

  it('refuses bad bodies with errors naming the field, never a 500', async () => {
    const noSchema = await api<{ error: { field: string } }>('POST', '/api/task/run', { inputs: {} });
    expect(noSchema.status).toBe(400);
    expect(noSchema.body.error.field).toBe('schema');
    const notJson = await api<{ error: { field: string; message: string } }>('POST', '/api/task/run', {
      schema: '{nodes:',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toMatchObject({ field: 'schema' });
    expect(notJson.body.error.message).toMatch(/^schema: not valid JSON/);
    const badInputs = await api<{ error: { field: string } }>('POST', '/api/task/run', {
      schema: '{}',
      inputs: 3,
    });
    expect(badInputs.status).toBe(400);
    expect(badInputs.body.error.field).toBe('inputs');
    const unknown = await api<{ error: { field: string } }>('GET', '/api/task/report?taskID=nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.field).toBe('taskID');
    const noId = await api<{ error: { field: string } }>('GET', '/api/task/result');
    expect(noId.status).toBe(400);
    expect(noId.body.error.field).toBe('taskID');
    expect(await api('PUT', '/api/task/cancel', { taskID: 'nope' })).toEqual({
      status: 200,
      body: { success: false },
    });
    const invalid = await api('POST', '/api/task/validate', { schema: 'not json', inputs: {} });
    expect(invalid.status).toBe(200);
    expect(invalid.body).toMatchObject({
      valid: false,
      errors: [expect.stringMatching(/^schema: not valid JSON/)],
    });
  });

  it('starts a task for a schema FlowGram refuses and fails it at once with the reasons in its report', async () => {
    const schema = fg.schemaOf(
      [fg.start({ age: { type: 'number' } }, ['age']), fg.llm('llm_0', model.url, 'hi')],
      [fg.edge('start_0', 'llm_0')],
    );
    const run = await api<{ taskID: string }>('POST', '/api/task/run', {
      schema: JSON.stringify(schema),
      inputs: {},
    });
    expect(run.status).toBe(200);
    const r = await report(run.body.taskID);
    expect(r.workflowStatus).toMatchObject({ status: 'failed', terminated: true, timeCost: 0 });
    expect(r.messages['error']?.map((m) => m.message)).toEqual(['Workflow schema must have an end node']);
    expect(JSON.stringify(await hub.hub.ctx.tasks.require(run.body.taskID))).not.toContain(
      'sk-test-secret-key-123456',
    );
  });

  it('asks for a token like every route, and serves info and docs', async () => {
    expect((await api('POST', '/api/task/run', { schema: '{}' }, null)).status).toBe(401);
    expect((await api('GET', '/api/task/report?taskID=x', undefined, null)).status).toBe(401);
    const info = await api<Record<string, string>>('GET', '/api/info');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ name: 'Switchboard', runtime: 'nodejs' });
    expect(Number.isNaN(Date.parse(info.body['time'] ?? ''))).toBe(false);
    const ui = await fetch(`${hub.url}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
    const doc = (await (await fetch(`${hub.url}/api/docs/json`)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const p of [
      '/api/task/run',
      '/api/task/report',
      '/api/task/result',
      '/api/task/cancel',
      '/api/task/validate',
      '/api/info',
    ])
      expect(doc.paths[p], p).toBeDefined();
    expect((await fetch(`${hub.url}/docs`)).status).toBe(200);
    const alias = (await (await fetch(`${hub.url}/api/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(alias.paths)).toEqual(Object.keys(doc.paths));
  });

  it('lets the FlowGram editor call from its own origin (CORS), still with a token', async () => {
    const origin = 'http://localhost:3000';
    const pre = await fetch(`${hub.url}/api/task/run`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
    expect(pre.headers.get('access-control-allow-methods')).toContain('PUT');
    const info = await fetch(`${hub.url}/api/info`, {
      headers: { origin, authorization: `Bearer ${hub.tokens.viewer}` },
    });
    expect(info.status).toBe(200);
    expect(info.headers.get('access-control-allow-origin')).toBe(origin);
    const denied = await fetch(`${hub.url}/api/task/report?taskID=x`, { headers: { origin } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe(origin);
    const other = await fetch(`${hub.url}/api/v1/tasks`, {
      headers: { origin, authorization: `Bearer ${hub.tokens.viewer}` },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
